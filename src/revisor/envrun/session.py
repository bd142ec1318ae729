"""One run of a project's env.py under revisor: the only place revisor executes env.py.

Every command that needs env.py (its options, its URL, a migration, an autogenerate)
comes through `run_env_py`, so the same rules hold for all of them: alembic's logging
stays quiet, a Flask app's context is pushed, `-x` arguments reach `get_x_argument()`,
env.py cannot move `sqlalchemy.url` away from revisor's database, every connection goes
where revisor chose (`redirect.Redirect`), and env.py migrates one database per run.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.util import load_python_file
from sqlalchemy.engine import URL

from revisor import alembic_api
from revisor.db.url import DatabaseUrl
from revisor.envrun.identity import identify_connection
from revisor.envrun.redirect import Redirect, _CaptureStop
from revisor.errors import UnsupportedEnv


@dataclass
class EnvPySession:
    """What one env.py run did, as revisor saw it."""

    redirect: Redirect
    probe: bool = False  # run_migrations() does nothing: only env.py's options are wanted
    configured: list[dict[str, Any]] = field(default_factory=list)
    migration_runs: int = 0
    url_set_by_env_py: str | None = None  # config.set_main_option("sqlalchemy.url", ...)
    module_globals: dict[str, Any] = field(default_factory=dict)  # env.py's, once it ran
    # probe only: the schema env.py's session puts new tables in, when env.py changed the
    # search_path (schema per tenant): alembic's version table goes there
    search_path_schema: str | None = None

    @property
    def options(self) -> dict[str, Any]:
        """The keyword arguments of env.py's (last) context.configure() call."""
        return dict(self.configured[-1]) if self.configured else {}

    def check_one_database(self) -> None:
        """Refuse a second migration run, or connections to several databases, in one
        env.py run (alembic's multidb template, a loop over tenants): revisor checks,
        deploys and compares one database at a time."""
        databases = {
            url.set(password=None).render_as_string(hide_password=True)
            for url in self.redirect.attempted
        }
        if self.migration_runs > 1 or len(databases) > 1:
            detail = (
                f"it connects to {len(databases)} databases"
                if len(databases) > 1
                else f"it calls context.run_migrations() {self.migration_runs} times"
            )
            raise several_databases(detail)


def several_databases(detail: str) -> UnsupportedEnv:
    return UnsupportedEnv(
        f"env.py migrates several databases or schemas in one run ({detail}); revisor "
        "runs a history on one database at a time, and stopped before migrating anything.",
        hint="Make env.py migrate one database or schema per run, chosen with an -x "
        "argument (context.get_x_argument()), and run revisor once per database with "
        "-x KEY=VALUE.",
    )


class RevisorEnvironmentContext(EnvironmentContext):
    """alembic's `context` while env.py runs under revisor: records configure(), and runs
    the migrations only when env.py migrates one database."""

    def __init__(self, config: Config, script: Any, session: EnvPySession, **kw: Any) -> None:
        super().__init__(config, script, **kw)
        self._revisor_session = session

    def configure(self, *args: Any, **kw: Any) -> None:
        session = self._revisor_session
        session.configured.append(dict(kw))
        super().configure(*args, **kw)
        connection = kw.get("connection")
        if session.probe and connection is not None:
            session.search_path_schema = _search_path_schema(connection, session.redirect)

    def run_migrations(self, **kw: Any) -> None:
        session = self._revisor_session
        session.migration_runs += 1
        session.check_one_database()
        if session.probe:
            return
        session.redirect.inert = False  # from here on the statements are the migration's
        super().run_migrations(**kw)


# env.py's `from alembic import context` is a module that alembic fills with the methods of
# the entered EnvironmentContext, looked up by class: share EnvironmentContext's entry.
alembic_api.share_context_module(RevisorEnvironmentContext)


def run_env_py(
    project: Any,
    fn: Callable[..., Any],
    *,
    target: DatabaseUrl | None = None,
    connection: Any = None,
    url_for_env_py: DatabaseUrl | str | None = None,
    override_env: bool = True,
    read_only: bool = False,
    inert: bool = False,
    probe: bool = False,
    as_sql: bool = False,
    **context_options: Any,
) -> EnvPySession:
    """Run `project`'s env.py once, with `fn` as alembic's migration function.

    With `target` (and `connection`, revisor's own connection to it): every connection
    env.py makes goes to `target` and is verified first (`WrongDatabase` otherwise), and
    env.py sees `target` as sqlalchemy.url, in the URL environment variable and as
    config.attributes["connection"]. Without `target`: capture mode, no connection is
    allowed (the first attempt raises `_CaptureStop`, recorded in the session).
    `url_for_env_py` points env.py at a URL without connecting there (offline runs).
    `inert`: env.py's own statements before the migration function starts are skipped
    unless they only read (revisor reads options or compares models, and changes
    nothing). `probe`: run_migrations() does nothing.

    Raises whatever env.py raised (callers translate it), but a WrongDatabase or an
    UnsupportedEnv first. Side effects: what `fn` and env.py do on `target`.
    """
    refuse_multidb(project)
    identity = identify_connection(connection) if target is not None else None
    redirect = Redirect(target, identity, read_only=read_only, inert=inert)
    session = EnvPySession(redirect, probe=probe)
    _execute(
        project,
        session,
        fn,
        connection=connection,
        pointed=target if target is not None else url_for_env_py,
        override_env=override_env,
        as_sql=as_sql,
        **context_options,
    )
    return session


def _execute(
    project: Any,
    session: EnvPySession,
    fn: Callable[..., Any],
    *,
    connection: Any,
    pointed: DatabaseUrl | str | None,
    override_env: bool,
    as_sql: bool,
    **context_options: Any,
) -> None:
    from revisor.alembic_api import quiet_alembic_logging

    keep = session.redirect.target is not None
    with ExitStack() as stack:
        stack.enter_context(quiet_alembic_logging())
        stack.enter_context(project.app_context())
        if pointed is not None:
            stack.enter_context(
                project.pointed_at(pointed, connection=connection, override=override_env)
            )
        stack.enter_context(_watch_config_url(project.config, session, keep=keep))
        stack.enter_context(session.redirect.installed())
        if as_sql:
            context_options.setdefault("output_buffer", io.StringIO())
        try:
            with RevisorEnvironmentContext(
                project.config, project.script, session, fn=fn, as_sql=as_sql, **context_options
            ):
                # alembic's ScriptDirectory.run_env(), keeping the module: env.py's own
                # `target_metadata` variable serves when configure() is not given it
                module = load_python_file(project.script.dir, "env.py")
                session.module_globals = vars(module)
        except BaseException as exc:
            if session.redirect.violation is not None:
                raise session.redirect.violation from exc
            raise
    if session.redirect.violation is not None:  # env.py caught it and went on
        raise session.redirect.violation


@dataclass
class CapturedUrl:
    """The database env.py would connect to, found without connecting."""

    url: URL | None  # None: env.py made no connection attempt revisor could read
    custom_creator: bool = False  # the engine connects through its own creator= function
    error: BaseException | None = None  # what env.py raised before it tried to connect
    url_set_by_env_py: str | None = None


def capture_url(project: Any) -> CapturedUrl:
    """Run env.py online, stop it at its first connection attempt, and return the URL of
    that attempt: the database `alembic upgrade` would use. Nothing connects (an engine
    with its own creator= cannot be read without connecting: `custom_creator`)."""

    def never(*_: Any) -> list[Any]:
        return []

    refuse_multidb(project)
    session = EnvPySession(Redirect(None))
    error: BaseException | None = None
    try:
        _execute(
            project,
            session,
            never,
            connection=None,
            pointed=None,
            override_env=False,
            as_sql=False,
        )
    except _CaptureStop:
        pass
    except (Exception, SystemExit) as exc:  # env.py failed before connecting
        error = exc
    attempted = session.redirect.attempted
    return CapturedUrl(
        url=attempted[-1] if attempted else None,
        custom_creator=session.redirect.custom_creator,
        error=error if not attempted else None,
        url_set_by_env_py=session.url_set_by_env_py,
    )


def refuse_multidb(project: Any) -> None:
    """alembic's multidb template names its databases in alembic.ini (`databases = engine1,
    engine2`) and migrates each in turn, offline too (writing one .sql file each): refuse
    before running it."""
    names = [n for n in (project.config.get_main_option("databases") or "").split(",") if n]
    if len(names) > 1:
        raise several_databases(f"alembic.ini's databases = {', '.join(n.strip() for n in names)}")


def _search_path_schema(connection: Any, redirect: Redirect) -> str | None:
    """The schema env.py's session creates tables in, when env.py set its own search_path
    (schema per tenant); None when the session has the database's default. Read on the
    DBAPI connection, so SQLAlchemy's transaction state stays as env.py left it."""
    dbapi = connection.connection.dbapi_connection
    cursor = dbapi.cursor()
    try:
        cursor.execute(
            "SELECT current_setting('search_path'), current_user, "
            "(SELECT reset_val FROM pg_settings WHERE name = 'search_path')"
        )
        row = cursor.fetchone()
    finally:
        cursor.close()
    path, user, default = (str(v) for v in row)
    if path == default:
        return None
    for entry in path.split(","):
        name = entry.strip().strip('"')
        if name == "$user":
            name = user
        if name:
            return name
    return None


@contextmanager
def _watch_config_url(config: Config, session: EnvPySession, *, keep: bool) -> Iterator[None]:
    """Record env.py's `config.set_main_option("sqlalchemy.url", ...)`; with `keep`,
    revisor's URL stays (the value env.py computed is only recorded). The option is
    restored afterwards: the Config outlives this run."""
    before = config.get_main_option("sqlalchemy.url")
    original_section = config.set_section_option

    def set_section_option(section: str, name: str, value: str) -> None:
        if section == config.config_ini_section and name == "sqlalchemy.url":
            session.url_set_by_env_py = value.replace("%%", "%")
            if keep:
                return
        original_section(section, name, value)

    def set_main_option(name: str, value: str) -> None:
        set_section_option(config.config_ini_section, name, value)

    config.set_main_option = set_main_option  # type: ignore[method-assign]
    config.set_section_option = set_section_option  # type: ignore[method-assign]
    try:
        yield
    finally:
        del config.set_main_option
        del config.set_section_option
        if not keep:
            if before is None:
                config.remove_main_option("sqlalchemy.url")
            else:
                config.set_main_option("sqlalchemy.url", before.replace("%", "%%"))
