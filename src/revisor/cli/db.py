"""`revisor db …`: the project's database from outside revisor's other commands.

The database is the one every command resolves (--url > $DATABASE_URL > sqlalchemy.url >
revisor's embedded dev database). upgrade, downgrade, stamp and current are alembic's
commands run in-process through env.py on that database (revisor.migrate); url, start and
shell make the embedded dev database reachable by other tools.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

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

if TYPE_CHECKING:
    from revisor.db.url import DatabaseUrl
    from revisor.project import Project

db_app = typer.Typer(
    name="db",
    help="The project's database: its URL, psql, and alembic's upgrade/downgrade/stamp/"
    "current on it; `db start` keeps revisor's embedded PostgreSQL up for other tools.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(db_app, name="db")

# `revisor db downgrade -1`: a relative revision looks like an option to click.
_RELATIVE_REVISIONS = {"ignore_unknown_options": True}


def _describe(database: DatabaseUrl) -> str:
    """`<masked URL> (where it comes from)` for the line each command starts with."""
    from rich.markup import escape

    from revisor.db.resolve import SOURCE_NAMES

    where = (
        "revisor's embedded dev database"
        if database.source == "embedded"
        else SOURCE_NAMES.get(database.source, f"${database.source}")
    )
    return f"{escape(database.shown(driver=_driver(database)))} ({escape(where)})"


def _database(common: Common) -> tuple[Project, DatabaseUrl]:
    project = common.project()
    database = common.database_url(project)
    stderr_console().print(f"database: {_describe(database)}")
    return project, database


def _show_heads(project: Project, heads: tuple[str, ...]) -> str:
    known = {script.revision for script in project.revisions}
    shown = []
    for rev in heads:
        if rev not in known:
            shown.append(f"{rev} (not in the history)")
        else:
            shown.append(f"{rev} (head)" if rev in project.heads else rev)
    return ", ".join(shown) or "no revision (base)"


# --- url, start, shell -------------------------------------------------------------------


@db_app.command("url")
def url_command(
    config: ConfigOption = None,
    name: NameOption = "alembic",
    url: UrlOption = None,
    show_password: Annotated[
        bool, typer.Option("--show-password", help="Print the password instead of ***.")
    ] = False,
    libpq: Annotated[
        bool,
        typer.Option(
            "--libpq",
            help="Print libpq's postgresql:// form (for psql and other tools) instead of "
            "SQLAlchemy's postgresql+DRIVER://.",
        ),
    ] = False,
    x_arg: XOption = None,
    app_path: AppOption = None,
    debug: DebugOption = False,
) -> None:
    """Print the URL of the project's database (the one revisor's commands use).

    For revisor's embedded dev database the URL works while the server runs: `revisor db
    start` keeps it up. Exit 3 when it is not running (nothing is started).
    """
    common = Common(config=config, name=name, url=url, debug=debug, x_args=x_arg, app=app_path)

    def body() -> int:
        from revisor.db.embedded import server_state
        from revisor.errors import EmbeddedServerStopped
        from revisor.fix_commands import FixCommands

        project = common.project()
        commands = FixCommands.for_project(project)
        try:
            database = common.database_url(project, start_embedded=False)
        except EmbeddedServerStopped as exc:
            exc.hint = (
                f"Keep it up with {commands.start().quoted} in another terminal (Ctrl-C stops "
                f"it), then ask again; {commands.revisor('db', 'shell').quoted} opens psql "
                "on it meanwhile."
            )
            raise
        err = stderr_console()
        err.print(f"database: {_describe(database)}")
        if database.source == "embedded":
            state = server_state()
            if state.keeper is not None:
                err.print(f"kept up by `revisor db start` (pid {state.keeper})")
            else:
                err.print(
                    "[yellow]note:[/] the embedded server is up only while the revisor "
                    f"process(es) using it run (pid {', '.join(map(str, state.users)) or '?'}); "
                    f"{commands.start().quoted} keeps it up."
                )
        driver = None if libpq else _driver(database)
        text = database.shown(driver=driver, show_password=show_password)
        _write_unredacted(text + "\n") if show_password else stdout_console().print(text)
        return 0

    run(common, body)


def _driver(database: DatabaseUrl) -> str | None:
    """The driver to print: the one the user's URL names; psycopg (revisor's own, so
    installed) for the embedded server."""
    if database.source == "embedded":
        return "psycopg"
    return database.original_driver


def _write_unredacted(text: str) -> None:
    """Write to the real stdout, past the password redaction (--show-password asked)."""
    from revisor.cli.common import RedactingStream

    stream = sys.stdout
    raw = stream.unredacted if isinstance(stream, RedactingStream) else stream
    raw.write(text)
    raw.flush()


@db_app.command("start")
def start_command(
    config: ConfigOption = None,
    name: NameOption = "alembic",
    x_arg: XOption = None,
    app_path: AppOption = None,
    debug: DebugOption = False,
) -> None:
    """Start revisor's embedded PostgreSQL and keep it up until Ctrl-C.

    Prints the project's dev database URL and an export line to paste into another
    terminal; alembic, your app and psql can use it while this runs. Other revisor
    processes that use the server meanwhile never stop it. Exit 0 on Ctrl-C.
    """
    common = Common(config=config, name=name, debug=debug, x_args=x_arg, app=app_path)

    def body() -> int:
        import os
        import signal
        import time

        import psutil
        from rich.markup import escape

        from revisor.db.embedded import data_dir, kept_up, server_state
        from revisor.db.resolve import embedded_dev_database
        from revisor.errors import ConfigNotFound, DatabaseError, EmbeddedServerStopped

        out = stdout_console()
        err = stderr_console()
        try:
            project: Project | None = common.project()
        except ConfigNotFound:
            project = None  # no project here: the server alone, its `postgres` database
        resolved = None
        if project is not None:
            try:
                resolved = common.database_url(project, start_embedded=False)
            except EmbeddedServerStopped:
                resolved = None  # the embedded dev database, once started

        def stop(signum: int, frame: object) -> None:
            raise KeyboardInterrupt

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
        try:
            with kept_up() as (server, other):
                dev = embedded_dev_database(project.name, server) if project else server
                env_var = project.url_env if project else "DATABASE_URL"
                shown = dev.shown(driver="psycopg")
                pid = server_state().pid
                try:
                    err.print(
                        f"revisor's embedded PostgreSQL 18 is up ({data_dir()}); it stays up "
                        "until Ctrl-C here" + (f" (also kept up by pid {other})" if other else "")
                    )
                    if resolved is not None and not _same_server(resolved, server):
                        err.print(
                            f"[yellow]note:[/] revisor's commands here use "
                            f"{_describe(resolved)}, not this server."
                        )
                    out.print(f"url: {escape(shown)}")
                    out.print(f"export {env_var}={escape(_shell_quote(shown))}")
                    out.print(f"psql: {escape(dev.shown(driver=None))}")
                    sys.stdout.flush()
                    while pid is None or psutil.pid_exists(pid):
                        time.sleep(0.5)
                except KeyboardInterrupt:
                    others = [p for p in server_state().users if p != os.getpid()]
                    if others:
                        err.print(
                            "stopped keeping it up; the server stays up while "
                            f"{len(others)} other revisor process(es) use it."
                        )
                    else:
                        err.print("stopping the embedded PostgreSQL.")
                    return 0
            raise DatabaseError(
                f"The embedded PostgreSQL (pid {pid}) stopped while `revisor db start` "
                "was keeping it up.",
                hint=f"See its log at {data_dir() / 'log'}; run `revisor db start` again.",
            )
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    run(common, body)


def _same_server(url: DatabaseUrl, server: DatabaseUrl) -> bool:
    """Whether `url` reaches `server` (same socket directory or host, same port)."""
    return (url.url.host, url.url.port, url.url.query.get("host")) == (
        server.url.host,
        server.url.port,
        server.url.query.get("host"),
    )


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


@db_app.command("shell")
def shell_command(
    psql_args: Annotated[
        list[str] | None,
        typer.Argument(
            help="psql's own arguments, after -- (e.g. -- -c 'SELECT 1').", show_default=False
        ),
    ] = None,
    config: ConfigOption = None,
    name: NameOption = "alembic",
    url: UrlOption = None,
    x_arg: XOption = None,
    app_path: AppOption = None,
    debug: DebugOption = False,
) -> None:
    """Open psql on the project's database (the embedded server stays up while it runs).

    Exit 0 when psql succeeds, 3 when it cannot connect, 1 when psql reports an error.
    """
    common = Common(config=config, name=name, url=url, debug=debug, x_args=x_arg, app=app_path)

    def body() -> int:
        import signal
        import subprocess
        import threading

        from revisor.db.connect import raw_connect
        from revisor.db.shell import psql_command

        _, database = _database(common)
        with raw_connect(database):
            pass  # unreachable, wrong password: revisor's one-line error, before psql
        command = psql_command(database, psql_args or ())
        # Ctrl-C belongs to psql (it cancels the query); revisor waits for it to exit.
        # (Signal handlers can only be set from the main thread.)
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
        try:
            code = subprocess.call(command.argv, env=command.env)
        finally:
            if main:
                signal.signal(signal.SIGINT, previous)
        if code == 0:
            return 0
        stderr_console().print(f"psql exited with {code}.")
        return 3 if code == 2 else 1  # psql: 2 = the connection failed or was lost

    run(common, body)


# --- alembic's commands on the resolved database ------------------------------------------


@db_app.command("upgrade", context_settings=_RELATIVE_REVISIONS)
def upgrade_command(
    revision: Annotated[
        str, typer.Argument(help="Target: a revision, head, heads, +N.", show_default=True)
    ] = "heads",
    config: ConfigOption = None,
    name: NameOption = "alembic",
    url: UrlOption = None,
    x_arg: XOption = None,
    app_path: AppOption = None,
    debug: DebugOption = False,
) -> None:
    """Upgrade the project's database (alembic upgrade, through env.py, in-process).

    Exit 0 done, 4 a migration failed (its transaction rolled back), 2 unknown revision.
    """
    _migrate(
        Common(config=config, name=name, url=url, debug=debug, x_args=x_arg, app=app_path),
        "upgrade",
        revision,
    )


@db_app.command("downgrade", context_settings=_RELATIVE_REVISIONS)
def downgrade_command(
    revision: Annotated[str, typer.Argument(help="Target: a revision, base, -N.")],
    config: ConfigOption = None,
    name: NameOption = "alembic",
    url: UrlOption = None,
    x_arg: XOption = None,
    app_path: AppOption = None,
    debug: DebugOption = False,
) -> None:
    """Downgrade the project's database (alembic downgrade, through env.py, in-process).

    Exit 0 done, 4 a migration failed (its transaction rolled back), 2 unknown revision.
    """
    _migrate(
        Common(config=config, name=name, url=url, debug=debug, x_args=x_arg, app=app_path),
        "downgrade",
        revision,
    )


def _migrate(common: Common, direction: str, target: str) -> None:
    def body() -> int:
        from rich.markup import escape

        from revisor import migrate

        project, database = _database(common)
        if direction == "upgrade":
            applied = migrate.upgrade(project, database, target).applied
        else:
            applied = migrate.downgrade(project, database, target).applied
        out = stdout_console()
        for revision, _ in applied:
            doc = (project.revision(revision).doc or "").strip().splitlines()
            out.print(f"{direction} {revision}" + (f": {escape(doc[0])}" if doc else ""))
        now = _show_heads(project, migrate.database_heads(project, database))
        out.print(f"at: {now}" if applied else f"nothing to {direction}: at {now}")
        return 0

    run(common, body)


@db_app.command("stamp")
def stamp_command(
    revisions: Annotated[
        list[str], typer.Argument(help="The revision(s) to record: ids, heads, or base.")
    ],
    purge: Annotated[
        bool,
        typer.Option(
            "--purge",
            help="Empty the version table first (replaces revisions the history lacks).",
        ),
    ] = False,
    config: ConfigOption = None,
    name: NameOption = "alembic",
    url: UrlOption = None,
    x_arg: XOption = None,
    app_path: AppOption = None,
    debug: DebugOption = False,
) -> None:
    """Record revisions in the version table without running them (alembic stamp).

    Exit 0 done, 2 unknown revision (or a recorded one the history lacks: use --purge).
    """
    common = Common(config=config, name=name, url=url, debug=debug, x_args=x_arg, app=app_path)

    def body() -> int:
        from revisor import migrate

        project, database = _database(common)
        before = migrate.database_heads(project, database)
        migrate.stamp(project, database, revisions, purge=purge)
        after = migrate.database_heads(project, database)
        was = ", ".join(before) or "no revision"
        stdout_console().print(f"stamped: {_show_heads(project, after)} (was: {was})")
        return 0

    run(common, body)


@db_app.command("current")
def current_command(
    config: ConfigOption = None,
    name: NameOption = "alembic",
    url: UrlOption = None,
    x_arg: XOption = None,
    app_path: AppOption = None,
    debug: DebugOption = False,
) -> None:
    """Print the revision(s) the project's database is stamped with (alembic current).

    Exit 0, or 6 when a recorded revision is not in the history (`revisor doctor` explains).
    """
    common = Common(config=config, name=name, url=url, debug=debug, x_args=x_arg, app=app_path)

    def body() -> int:
        from revisor import migrate
        from revisor.exit_codes import ExitCode
        from revisor.fix_commands import FixCommands

        project, database = _database(common)
        heads = migrate.database_heads(project, database)
        stdout_console().print(_show_heads(project, heads))
        known = {script.revision for script in project.revisions}
        if any(rev not in known for rev in heads):
            doctor = FixCommands.for_project(project, database).doctor()
            stderr_console().print(f"[dim]hint:[/] {doctor.quoted} explains.")
            return ExitCode.UNKNOWN_REVISION
        return 0

    run(common, body)


@db_app.command("history")
def history_command(
    config: ConfigOption = None,
    name: NameOption = "alembic",
    x_arg: XOption = None,
    app_path: AppOption = None,
    debug: DebugOption = False,
) -> None:
    """List the revisions, newest first (alembic history); no database is used."""
    common = Common(config=config, name=name, debug=debug, x_args=x_arg, app=app_path)

    def body() -> int:
        from rich.markup import escape

        project = common.project()
        out = stdout_console()
        for script in reversed(project.revisions):
            out.print(
                escape(
                    script.cmd_format(
                        False,
                        include_branches=True,
                        include_doc=True,
                        include_parents=True,
                        tree_indicators=True,
                    )
                )
            )
        return 0

    run(common, body)


@db_app.command("reset")
def reset_command(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    config: ConfigOption = None,
    name: NameOption = "alembic",
    url: UrlOption = None,
    x_arg: XOption = None,
    app_path: AppOption = None,
    debug: DebugOption = False,
) -> None:
    """Empty revisor's embedded dev database (drop it, create it again).

    Only the embedded dev database: revisor never drops your own. Exit 0 done, 2 when the
    database is not the embedded one (or no --yes without a terminal to ask on).
    """
    common = Common(config=config, name=name, url=url, debug=debug, x_args=x_arg, app=app_path)

    def body() -> int:
        from revisor.db.resolve import reset_embedded_dev_database
        from revisor.errors import ConfigError

        _, database = _database(common)
        if database.source != "embedded":
            raise ConfigError(
                f"{database.masked} is your own database: revisor db reset only empties "
                "revisor's embedded dev database, and never drops yours.",
                hint="Drop and recreate it yourself (dropdb/createdb) if you mean to.",
            )
        if not yes:
            if not sys.stdin.isatty():
                raise ConfigError(
                    f"revisor db reset would drop {database.database} and every row in it.",
                    hint="Pass --yes to confirm.",
                )
            typer.confirm(f"Drop {database.database} and every row in it?", abort=True)
        reset_embedded_dev_database(database)
        stdout_console().print(f"reset: {database.database} is empty.")
        return 0

    run(common, body)
