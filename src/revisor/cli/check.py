"""`revisor check`."""

from __future__ import annotations

import sys
from importlib.util import find_spec
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
    ScratchOption,
    ScratchUrlOption,
    XOption,
    run,
    scratch_server,
    stderr_console,
)
from revisor.codes import Command
from revisor.exit_codes import ExitCode
from revisor.report import FORMATS, render


def output_format(requested: str) -> tuple[str, str | None]:
    """(format to render, note): SARIF falls back to JSON until report/sarif.py exists."""
    if requested == "sarif" and find_spec("revisor.report.sarif") is None:
        return "json", "SARIF output is not available in this build; writing JSON instead"
    return requested, None


@app.command(cls=JsonErrorsCommand)
def check(
    config: ConfigOption = None,
    name: NameOption = "alembic",
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="Check this database in place (nothing is migrated) instead of a scratch "
            "database: "
            "exit 5 if it is behind head, 6 if at an unknown revision, 1 on drift.",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Review migrations changed since this git ref (default: the merge-base "
            "with the default branch).",
            show_default=False,
        ),
    ] = None,
    no_review: Annotated[
        bool, typer.Option("--no-review", help="Skip reviewing changed migrations.")
    ] = False,
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", help=f"Output format: {', '.join(FORMATS)}."),
    ] = "text",
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the scratch database for inspection.")
    ] = False,
    scratch_url: ScratchUrlOption = None,
    scratch: ScratchOption = "auto",
    x_arg: XOption = None,
    app_path: AppOption = None,
    debug: DebugOption = False,
) -> None:
    """Fail when models and migrations disagree: the CI gate.

    Without --url: migrates a scratch database (on the project's database's server, see
    --scratch-url) to head and compares it with the models, checks the history
    has one head, and reviews the migrations changed on the branch. Exit 0 clean, 1 findings.
    """
    common = Common(
        config=config,
        name=name,
        url=url,
        debug=debug,
        x_args=x_arg,
        app=app_path,
        output_format=fmt,
    )
    err = stderr_console()

    def body() -> int:
        from revisor.check import run_check
        from revisor.db.url import parse_url
        from revisor.errors import RevisorError

        if fmt not in FORMATS:
            raise RevisorError(
                f"Unknown --format {fmt!r}.", hint=f"Choose one of {', '.join(FORMATS)}."
            )
        rendered_as, note = output_format(fmt)
        project = common.project()
        if url:
            result = run_check(
                project,
                url=parse_url(url, source="--url"),
                since=since,
                review=not no_review,
            )
        else:
            server = scratch_server(common, project, scratch_url, scratch)
            result = run_check(project, server=server, since=since, review=not no_review, keep=keep)
        sys.stdout.write(render(result.findings, rendered_as, root=project.root))
        sys.stdout.flush()
        where = "database" if result.in_place else "a scratch database at head"
        what = "checked models against" if result.compared else "checked the history on"
        err.print(
            f"[dim]{what} {where} on {escape(result.database)} "
            f"({result.revisions} revisions, head {', '.join(result.heads) or '-'})[/]",
            highlight=False,
        )
        for line in [note, *result.notes]:
            if line:
                err.print(f"[dim]note:[/] {escape(line)}")
        return ExitCode.FINDINGS if Command.CHECK.fails(result.findings) else ExitCode.OK

    run(common, body)
