"""`revisor deploy`."""

from __future__ import annotations

import re
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
    XOption,
    run,
)

if TYPE_CHECKING:
    from revisor.db.url import DatabaseUrl
    from revisor.project import Project

_MAX_MS = 2_147_483_647
_UNITS = {"": 1.0, "ms": 0.001, "s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0}


def parse_duration(text: str, option: str, *, postgres: bool = True) -> float:
    """Seconds in `text`: a plain number is seconds; units ms, s, min, h. `postgres`: it
    becomes a PostgreSQL timeout, so at most INT_MAX milliseconds."""
    from revisor.errors import ConfigError

    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*", text.lower())
    if not match or match.group(2) not in _UNITS:
        raise ConfigError(
            f"{option} {text!r} is not a duration.",
            hint="Give seconds (60, 2.5) or a number with a unit: 500ms, 5s, 2min.",
        )
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if postgres and seconds * 1000 > _MAX_MS:  # PostgreSQL's timeouts: int ms
        raise ConfigError(
            f"{option} {text!r} is too long: PostgreSQL's limit is {_MAX_MS} ms (about 24 days).",
            hint="Give a shorter duration; --lock-timeout 0 waits forever.",
        )
    return seconds


_NOT_EMBEDDED_HINT = {
    "DatabaseUnreachable": "Is the server running and the host/port right? deploy migrates "
    "only the database given by --url, $DATABASE_URL or sqlalchemy.url.",
    "UnsupportedDatabase": "Pass a postgresql:// URL with --url or DATABASE_URL, or fix "
    "sqlalchemy.url in the Alembic config (deploy never uses the embedded PostgreSQL).",
}


@app.command(cls=JsonErrorsCommand)
def deploy(
    config: ConfigOption = None,
    name: NameOption = "alembic",
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="The database to migrate (default: $DATABASE_URL, then sqlalchemy.url; "
            "never the embedded PostgreSQL).",
            show_default=False,
        ),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Revision to reach (default: the head; with several heads name one, or "
            "'heads' for all).",
            show_default=False,
        ),
    ] = None,
    wait: Annotated[
        str, typer.Option("--wait", help="How long to wait for another deploy's lock.")
    ] = "60s",
    lock_timeout: Annotated[
        str,
        typer.Option(
            "--lock-timeout",
            help="lock_timeout for the migrations' session: a statement waiting longer for "
            "a table lock fails (and is retried) instead of blocking the traffic queued "
            "behind it. 0 waits forever.",
        ),
    ] = "5s",
    statement_timeout: Annotated[
        str | None,
        typer.Option("--statement-timeout", help="statement_timeout for the migrations' session."),
    ] = None,
    retries: Annotated[
        int,
        typer.Option("--retries", min=0, help="Retries of a revision whose lock_timeout expired."),
    ] = 3,
    retry_delay: Annotated[
        str,
        typer.Option("--retry-delay", help="Pause before the first retry; doubled each time."),
    ] = "2s",
    no_review: Annotated[
        bool,
        typer.Option("--no-review", help="Deploy even when the review finds errors."),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show the plan and the review; migrate nothing."),
    ] = False,
    show_sql: Annotated[
        bool,
        typer.Option(
            "--sql",
            help="With --dry-run: print the SQL of the pending revisions on stdout "
            "(alembic's offline mode; the plan goes to stderr).",
        ),
    ] = False,
    output_format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    x_arg: XOption = None,
    app_path: AppOption = None,
    debug: DebugOption = False,
) -> None:
    """Upgrade a real database safely: the pre-deploy command.

    Takes revisor's advisory lock (a second deploy waits, then finds nothing to do),
    reviews the pending revisions, applies them one transaction each with a lock_timeout
    and retries, and says where the database is after a failure. `--dry-run --sql`
    prints the pending revisions' SQL instead (alembic's offline mode). Exit 0 applied
    or nothing to do, 1 refused by the review, 2 usage, 4 migration failed (or cannot
    be rendered offline), 6 database at an unknown revision, 7 lock busy.
    """
    common = Common(
        config=config,
        name=name,
        url=url,
        debug=debug,
        x_args=x_arg,
        app=app_path,
        output_format=output_format,
    )

    def body() -> int:
        from revisor.deploy import DeployOptions
        from revisor.deploy import deploy as run_deploy
        from revisor.errors import (
            ConfigError,
            DatabaseUnreachable,
            RevisorError,
            UnsupportedDatabase,
        )
        from revisor.fix_commands import FixCommands
        from revisor.report.deploy import DeployReporter

        if output_format not in ("text", "json"):
            raise ConfigError(f"Unknown --format {output_format!r}.", hint="Use text or json.")
        if show_sql and not dry_run:
            raise ConfigError(
                "--sql only renders SQL, so it needs --dry-run.",
                hint="Run revisor deploy --dry-run --sql to see the SQL; deploy without "
                "--sql to apply it.",
            )
        try:
            options = DeployOptions(
                to=to,
                wait=parse_duration(wait, "--wait"),
                lock_timeout=parse_duration(lock_timeout, "--lock-timeout"),
                statement_timeout=parse_duration(statement_timeout, "--statement-timeout")
                if statement_timeout
                else None,
                retries=retries,
                retry_delay=parse_duration(retry_delay, "--retry-delay", postgres=False),
                review=not no_review,
                dry_run=dry_run,
                sql=show_sql,
            )
            project = common.project()
            target = _target_url(common, project)
            reporter = DeployReporter(
                project.root,
                target.source,
                FixCommands.for_project(project, target),
                json=output_format == "json",
                sql=show_sql,
            )
            result = run_deploy(project, target, options, on_event=reporter.event)
        except RevisorError as exc:
            if isinstance(exc, DatabaseUnreachable | UnsupportedDatabase):
                # Their hints offer the embedded PostgreSQL, which deploy never uses.
                exc.hint = _NOT_EMBEDDED_HINT[type(exc).__name__]
            raise
        reporter.finish(result)
        return int(result.exit_code)

    run(common, body)


def _target_url(common: Common, project: Project) -> DatabaseUrl:
    """--url > $DATABASE_URL (or [tool.revisor] url-env) > what env.py computes >
    sqlalchemy.url (`revisor.db.resolve`); never the embedded development server: raises
    NoTargetDatabase (exit 2)."""
    from revisor.db.resolve import resolve_database
    from revisor.deploy.errors import NoTargetDatabase
    from revisor.fix_commands import FixCommands

    url = resolve_database(project, common.url).url
    if url.source == "embedded":
        error = NoTargetDatabase("deploy", project.url_env)
        upgrade = FixCommands.for_project(project).upgrade_to("heads")
        error.hint = (
            f"{error.hint} Your dev database here is revisor's embedded one: "
            f"{upgrade.quoted} upgrades it."
        )
        raise error
    return url
