"""`revisor review`, and `revisor rules` / `revisor rule CODE` (every command's codes)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from revisor.cli import app
from revisor.cli.common import (
    AppOption,
    Common,
    ConfigOption,
    DebugOption,
    JsonErrorsCommand,
    NameOption,
    XOption,
    run,
    stderr_console,
    stdout_console,
)
from revisor.codes import Command
from revisor.errors import ConfigError
from revisor.exit_codes import ExitCode
from revisor.report import FORMATS, render


@app.command(cls=JsonErrorsCommand)
def review(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Revision files or folders to review (default: every file of the history)."
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only files added or changed since this git ref."),
    ] = None,
    fix: Annotated[bool, typer.Option("--fix", help="Apply the safe fixes to the files.")] = False,
    unsafe_fixes: Annotated[
        bool,
        typer.Option("--unsafe-fixes", help="With --fix or --diff, include unsafe fixes."),
    ] = False,
    diff: Annotated[
        bool,
        typer.Option("--diff", help="Print the fixes as a unified diff; change no file."),
    ] = False,
    output_format: Annotated[
        str, typer.Option("--format", "-f", help="text, json, github or sarif.")
    ] = "text",
    select: Annotated[
        list[str] | None,
        typer.Option("--select", help="Only these rules (codes or prefixes, e.g. RV3)."),
    ] = None,
    ignore: Annotated[
        list[str] | None, typer.Option("--ignore", help="Skip these rules (codes or prefixes).")
    ] = None,
    migrations_only: Annotated[
        bool,
        typer.Option(
            "--migrations-only",
            help="Skip the PATHS that are not revision files of the history "
            "(pre-commit passes every changed file).",
        ),
    ] = False,
    config: ConfigOption = None,
    name: NameOption = "alembic",
    x_arg: XOption = None,
    app_path: AppOption = None,
    debug: DebugOption = False,
) -> None:
    """Review migration files: the mandatory review checklist, lock safety, history.

    Exit 0 when nothing is at error level, 1 when something is, 2 on a usage error.
    """
    common = Common(
        config=config,
        name=name,
        debug=debug,
        x_args=x_arg,
        app=app_path,
        output_format=output_format,
    )

    def body() -> int:
        from revisor.review import review as run_review

        if output_format not in FORMATS:
            raise ConfigError(
                f"Unknown --format {output_format!r}.", hint=f"Use one of {', '.join(FORMATS)}."
            )
        if unsafe_fixes and not (fix or diff):
            raise ConfigError("--unsafe-fixes only makes sense with --fix or --diff.")
        if fix and diff:
            raise ConfigError("--fix writes the fixes and --diff only shows them: pick one.")
        project = common.project()
        result = run_review(
            project,
            paths or (),
            since=since,
            fix=fix,
            unsafe_fixes=unsafe_fixes,
            select=select or (),
            ignore=ignore or (),
            migrations_only=migrations_only,
        )
        err = stderr_console()
        for note in result.notes:
            err.print(f"[yellow]note:[/] {escape(note)}")
        if fix:
            fixed_files = sorted({str(e.path) for f in result.fixed for e in f.fix.edits})  # type: ignore[union-attr]
            err.print(
                f"Fixed {len(result.fixed)} finding(s) in {len(fixed_files)} file(s)."
                if result.fixed
                else "Nothing to fix."
            )
            if not unsafe_fixes and result.unsafe_fixable:
                # As ruff does: say that fixes exist which change behaviour on failure.
                err.print(
                    f"{result.unsafe_fixable} more fix(es) with --fix --unsafe-fixes "
                    "(see each rule's Fix safety)."
                )
        # Paths relative to the working directory when the project is below it (a CI job
        # at the repository root: GitHub annotations and SARIF need repository paths),
        # else relative to the project.
        cwd = Path.cwd().resolve()
        root = cwd if project.root.resolve().is_relative_to(cwd) else project.root
        if diff:
            from revisor.review.fix import fixes_diff

            patch = fixes_diff(result.findings, unsafe=unsafe_fixes, root=root)
            sys.stdout.write(patch)
            return ExitCode.FINDINGS if patch else ExitCode.OK
        if output_format == "text" and sys.stdout.isatty():
            from revisor.report.excerpt import print_excerpts

            print_excerpts(result.findings, stdout_console(), root=root)
        elif output_format == "text":
            from revisor.report.excerpt import render_excerpts

            sys.stdout.write(render_excerpts(result.findings, root=root))
        else:
            sys.stdout.write(render(result.findings, output_format, root=root))
        return ExitCode.FINDINGS if Command.REVIEW.fails(result.findings) else ExitCode.OK

    run(common, body)


@app.command()
def rules(
    write_docs: Annotated[
        Path | None,
        typer.Option("--write-docs", help="Write docs/rules/<CODE>.md pages into this folder."),
    ] = None,
    debug: DebugOption = False,
) -> None:
    """List every finding code, by the command that reports it (code, name, severity)."""
    common = Common(debug=debug)
    out = stdout_console()

    def body() -> int:
        from revisor.codes import codes_by_command
        from revisor.codes.docs import write_docs as write
        from revisor.report.codes_table import column_widths, render_codes

        if write_docs is not None:
            pages = write(write_docs)
            out.print(f"wrote {len(pages)} pages to {write_docs}")
            return 0
        sections = list(codes_by_command())
        widths = column_widths([entry for _, codes in sections for entry in codes])
        for number, (command, codes) in enumerate(sections):
            if number:
                out.print()
            out.print(
                f"[bold]revisor {command}[/]: {escape(command.title)} "
                f"(fails on {command.fails_on})",
                highlight=False,
                soft_wrap=False,  # wrapped at words to the terminal, as the table is
            )
            out.out(render_codes(codes, out.width, widths), end="", highlight=False)
        return 0

    run(common, body)


@app.command()
def rule(
    code: Annotated[
        str,
        typer.Argument(
            help="A finding code of any command (RV101, RV621, RT103, DR105) or its name."
        ),
    ],
    debug: DebugOption = False,
) -> None:
    """Show the documentation of one finding code."""
    common = Common(debug=debug)
    out = stdout_console()

    def body() -> int:
        from revisor.codes import get_code
        from revisor.codes.docs import code_markdown

        found = get_code(code)
        if found is None:
            raise ConfigError(f"Unknown code {code!r}.", hint="`revisor rules` lists them all.")
        text = code_markdown(found)
        if sys.stdout.isatty():
            from rich.markdown import Markdown

            out.print(Markdown(text))
        else:
            sys.stdout.write(text)
        return 0

    run(common, body)
