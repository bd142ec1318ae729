"""`revisor test`: round-trip every revision on a scratch database and compare schemas."""

from __future__ import annotations

import gc
import os
from contextlib import ExitStack
from typing import TYPE_CHECKING, Annotated

import typer

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
    UrlOption,
    XOption,
    run,
    scratch_server,
    stderr_console,
    stdout_console,
)
from revisor.errors import ConfigError, RevisorError
from revisor.exit_codes import ExitCode

if TYPE_CHECKING:
    from revisor.db.scratch import PendingDatabase
    from revisor.db.url import DatabaseUrl
    from revisor.project import Project
    from revisor.testing.roundtrip import Progress as Step


@app.command("test", cls=JsonErrorsCommand)
def test_command(
    config: ConfigOption = None,
    name: NameOption = "alembic",
    url: UrlOption = None,
    in_place: Annotated[
        bool,
        typer.Option(
            "--in-place",
            help="Run on the --url database itself instead of a scratch copy on its server "
            "(it is migrated; no downgrade to base).",
        ),
    ] = False,
    last: Annotated[
        int | None, typer.Option("--last", help="Test only the last N revisions.")
    ] = None,
    from_rev: Annotated[
        str | None, typer.Option("--from", help="First revision to test (inclusive).")
    ] = None,
    to_rev: Annotated[
        str | None, typer.Option("--to", help="Last revision to test (inclusive).")
    ] = None,
    no_data: Annotated[
        bool, typer.Option("--no-data", help="Do not insert rows before each step.")
    ] = False,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the scratch database(s) for inspection.")
    ] = False,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="Output format: text, json, github or sarif.")
    ] = "text",
    exit_first: Annotated[
        bool, typer.Option("--exitfirst", help="Stop at the first failing revision.")
    ] = False,
    locks: Annotated[
        bool,
        typer.Option(
            "--locks",
            help="Report statements that read or rewrite an existing table while holding a "
            "lock that blocks its writes, in upgrades and downgrades, with their durations.",
        ),
    ] = False,
    rows: Annotated[
        int | None,
        typer.Option(
            "--rows",
            help="Sample rows per table (default 2): more make --locks durations telling.",
            min=1,
        ),
    ] = None,
    scratch_url: ScratchUrlOption = None,
    scratch: ScratchOption = "auto",
    x_arg: XOption = None,
    app_path: AppOption = None,
    debug: DebugOption = False,
) -> None:
    """Upgrade, downgrade and re-upgrade every revision; the schema must match each time.

    Exit codes: 0 every revision round-trips, 1 findings, 2 configuration, 3 database.
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
    out = stdout_console()
    err = stderr_console()

    def body() -> int:
        from revisor.db.scratch import PendingDatabase
        from revisor.report import FORMATS

        if fmt not in FORMATS:
            raise ConfigError(f"Unknown format {fmt!r}.", hint=f"Use {', '.join(FORMATS)}.")
        if rows is not None and (no_data or in_place):
            raise ConfigError(
                f"--rows cannot be combined with {'--no-data' if no_data else '--in-place'}.",
                hint="--rows sets how many rows revisor inserts into each table of its "
                "scratch database; --in-place uses the database's own rows, --no-data none.",
            )
        if last is not None and (from_rev or to_rev):
            raise ConfigError("--last cannot be combined with --from/--to.")
        if in_place and not url:
            raise ConfigError(
                "--in-place needs an explicit --url: revisor never migrates a database you "
                "did not name on the command line.",
            )
        with ExitStack() as cleanup:
            # The scratch database is created in the background while alembic, the project
            # and its revisions load, when its server is known before the project
            # (--scratch-url or --url). Whatever happens next, release() drops it unless
            # round_trip took it over.
            early = None if in_place else _early_scratch(scratch_url or url)
            if early is not None:
                cleanup.callback(early.release)
            project = common.project()
            if in_place:
                return _run(project, common.database_url(project), None)
            server = scratch_server(common, project, scratch_url, scratch)
            pending = early if early is not None and early.server.url == server.url else None
            if pending is None:
                pending = PendingDatabase(server, label="test")
                cleanup.callback(pending.release)
            return _run(project, server, pending)

    def _run(project: Project, server: DatabaseUrl, pending: PendingDatabase | None) -> int:
        from revisor.report import render
        from revisor.testing.plan import make_plan
        from revisor.testing.roundtrip import RoundTripOptions, round_trip

        plan = make_plan(project, last=last, from_rev=from_rev, to_rev=to_rev)
        options = RoundTripOptions(
            data=not no_data, locks=locks, fail_fast=exit_first, keep=keep, rows=rows
        )
        total = len(plan.tested)
        err.print(
            f"revisor test: {total} revision(s) on "
            f"{server.masked if in_place else 'a scratch database on ' + server.server_masked}"
        )
        # What is loaded by now (alembic, SQLAlchemy, the revisions) stays until the end:
        # frozen, the garbage collector stops re-walking it during the run (about 0.1 s
        # at 150 revisions). Unfrozen after, so an in-process caller's memory is unchanged
        # (and a caller that froze objects itself is left alone).
        freeze = gc.get_freeze_count() == 0
        if freeze:
            gc.freeze()
        try:
            with _progress(err, total) as report:
                result = round_trip(
                    project,
                    plan,
                    server,
                    options,
                    database=server if in_place else None,
                    on_progress=report,
                    first_database=pending,
                )
        finally:
            if freeze:
                gc.unfreeze()
        root = project.root
        if result.findings:
            out.print(render(result.findings, fmt, root=root), end="", markup=False)
        elif fmt != "text":
            out.print(render([], fmt, root=root), end="", markup=False)
        for name_kept in result.databases_kept:
            err.print(f"kept scratch database {name_kept}")
        status = "ok" if result.ok else "FAILED"
        err.print(
            f"{status}: {len(result.tested)} tested, {len(result.skipped)} skipped, "
            f"{result.steps} steps in {result.seconds:.2f}s"
        )
        return ExitCode.OK if result.ok else ExitCode.FINDINGS

    run(common, body)


def _early_scratch(url: str | None) -> PendingDatabase | None:
    """Start creating the scratch database on the --url server, or None without a usable
    --url (a malformed one is then reported where it always was, after the project)."""
    if not url:
        return None
    from revisor.db.scratch import PendingDatabase
    from revisor.db.url import parse_url

    try:
        server = parse_url(url, source="--url")
    except RevisorError:
        return None
    return PendingDatabase(server, label="test")


def _progress(err: object, total: int):  # type: ignore[no-untyped-def]
    """A rich progress bar on a terminal; one line per revision in CI or a pipe."""
    from contextlib import contextmanager

    from rich.console import Console

    assert isinstance(err, Console)
    interactive = err.is_terminal and not os.environ.get("CI")

    @contextmanager
    def bar():  # type: ignore[no-untyped-def]
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        with Progress(
            TextColumn("round-trip"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            console=err,
            transient=True,
        ) as progress:
            task = progress.add_task("", total=total)

            def report(step: Step) -> None:
                progress.update(task, completed=step.done, description=step.revision or "")

            yield report

    @contextmanager
    def lines():  # type: ignore[no-untyped-def]
        def report(step: Step) -> None:
            if step.revision is not None:
                mark = "ok" if step.ok else "FAIL"
                err.print(f"[{step.done}/{step.total}] {step.revision} {mark}", markup=False)

        yield report

    return bar() if interactive else lines()
