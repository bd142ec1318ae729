"""`revisor draft`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from revisor.cli import app
from revisor.cli.common import (
    AppOption,
    Common,
    ConfigOption,
    DebugOption,
    NameOption,
    UrlOption,
    XOption,
    run,
    stderr_console,
    stdout_console,
)
from revisor.exit_codes import ExitCode

if TYPE_CHECKING:
    from revisor.draft import DraftResult
    from revisor.review.engine import ReviewResult


@app.command()
def draft(
    message: Annotated[
        str, typer.Option("--message", "-m", help="What the migration does (its file slug).")
    ],
    config: ConfigOption = None,
    name: NameOption = "alembic",
    url: UrlOption = None,
    rename_label: Annotated[
        list[str] | None,
        typer.Option(
            "--rename-label",
            metavar="TYPE:OLD=NEW",
            # no word longer than the help column at 80 columns (tests/test_cli_help.py)
            help="Rename an enum label in place (repeatable), e.g. status:ACTIVE=active.",
        ),
    ] = None,
    no_rename_guess: Annotated[
        bool,
        typer.Option(
            "--no-rename-guess",
            help="Only case-only and declared label renames; a same-position replacement "
            "is then a removal plus an addition.",
        ),
    ] = False,
    allow_drop: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-drop",
            metavar="TABLE[.COLUMN]",
            help="Keep this drop in the draft (repeatable); others are left out.",
        ),
    ] = None,
    rev_id: Annotated[
        str | None, typer.Option("--rev-id", help="Revision id to use instead of a random one.")
    ] = None,
    no_review: Annotated[
        bool, typer.Option("--no-review", help="Do not run revisor review on the new file.")
    ] = False,
    exit_code_on_empty: Annotated[
        bool,
        typer.Option("--exit-code-on-empty", help="Exit 1 when no changes are detected (for CI)."),
    ] = False,
    x_arg: XOption = None,
    app_path: AppOption = None,
    debug: DebugOption = False,
) -> None:
    """Autogenerate a migration that needs no hand edits: names, enums, guarded drops."""
    common = Common(config=config, name=name, url=url, debug=debug, x_args=x_arg, app=app_path)
    err = stderr_console()

    def body() -> int:
        from revisor.draft import draft as run_draft
        from revisor.drafting import DraftOptions
        from revisor.errors import MultipleHeads

        project = common.project()
        if len(project.heads) > 1:  # before the embedded dev database is upgraded to both
            raise MultipleHeads(project.heads)
        common.given_url(project)  # a malformed URL is reported as such, not as env.py failing
        options = DraftOptions.build(
            rename_label or [],
            allow_drop or [],
            settings=project.settings.raw,
            source_roots=[project.root],
            guess_renames=False if no_rename_guess else None,
        )
        _ = project.metadata  # no models, no draft: say so before touching any database
        db = common.database_url(project)
        if db.source == "embedded":
            # revisor's own dev database: the history is the truth, so bring it to head
            # first instead of refusing (the user cannot easily `alembic upgrade` it).
            from revisor import migrate

            applied = migrate.upgrade(project, db, "heads").applied
            if applied:
                err.print(
                    f"[cyan]note:[/] upgraded the embedded dev database to head first "
                    f"({len(applied)} revision(s))"
                )
        result = run_draft(project, db, message, options, rev_id=rev_id)
        show_draft(result)
        if result.empty:
            return ExitCode.FINDINGS if exit_code_on_empty else ExitCode.OK
        if no_review or result.path is None:
            return ExitCode.OK
        return _review(common, result.path)

    run(common, body)


def _review(common: Common, path: Path) -> int:
    """Run `revisor review` on the new file (the project reloaded: the history grew).
    Exit 1 when it reports something at error level."""
    from revisor.review import review

    project = common.project()
    return show_review(review(project, [path]), project.root)


def show_review(reviewed: ReviewResult, root: Path) -> int:
    """Print a review of a new draft; 1 when it reports something at error level."""
    from revisor.findings import has_errors
    from revisor.report.excerpt import render_excerpts

    out = stdout_console()
    if not reviewed.findings:
        out.print("review: no findings")
        return ExitCode.OK
    out.print("review:")
    out.out(render_excerpts(reviewed.findings, root=root), end="", highlight=False)
    for note in reviewed.notes:
        stderr_console().print(f"[dim]review note:[/] {escape(note)}")
    return ExitCode.FINDINGS if has_errors(reviewed.findings) else ExitCode.OK


def show_draft(result: DraftResult) -> None:
    """Print what a draft wrote (or that nothing changed) and what revisor rewrote or left
    out; `revisor redo` prints its new draft the same way."""
    out = stdout_console()
    err = stderr_console()
    report = result.report
    if result.empty:
        out.print("No changes detected: no migration written.")
    else:
        out.print(f"[bold green]Wrote[/] {_shown(result.path)} (revision {result.revision})")
        out.print("upgrade:")
        for line in result.operations:
            out.print(f"  {escape(line)}")
    if report.rewrites:
        out.print("revisor rewrote:")
        for line in report.rewrites:
            out.print(f"  - {escape(line)}")
    for left in report.left_out:
        err.print(
            f"[yellow]left out:[/] drop of {left.kind} {escape(left.name)}: {escape(left.cause)}"
        )
    if report.left_out:
        err.print("[dim]hint:[/] pass --allow-drop NAME to keep a drop on purpose.")
    for mismatch in report.mismatches:
        err.print(
            f"[yellow]enum {escape(mismatch.name)}:[/] the database stores "
            f"{escape(', '.join(mismatch.db_labels))} (the Python values) but the model "
            f"stores member names ({escape(', '.join(mismatch.model_labels))}); no "
            "conversion was drafted."
        )
        err.print(f"[dim]hint:[/] use {escape(mismatch.fix)}")
    for note in report.notes:
        err.print(f"[cyan]note:[/] {escape(note)}")


def _shown(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
