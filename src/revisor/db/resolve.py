"""Which database a command uses, and where its scratch databases go.

The project's database is the one `alembic upgrade head` would migrate, unless the user
names another:

1. `--url`;
2. `$DATABASE_URL` (or the variable `[tool.revisor] url-env` names): set for revisor, or
   read by env.py itself, it is the one the user means;
3. what env.py computes: revisor runs env.py and stops it at its first connection attempt
   (nothing connects), so a URL built from a settings object, another environment
   variable or a Flask app's config is found as alembic would find it;
4. `sqlalchemy.url` in the Alembic config, when env.py could not tell (it failed before
   connecting, or connects through its own `creator=` function);
5. revisor's embedded PostgreSQL (a dev database per project).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from revisor.db.embedded import embedded_server_url, running_server_url
from revisor.db.scratch import create_database, database_exists, drop_database
from revisor.db.url import DatabaseUrl, parse_url
from revisor.errors import DatabaseError, RevisorError, UnsupportedDatabase

if TYPE_CHECKING:
    from revisor.project import Project

# The embedded server's development database, created on first use.
EMBEDDED_DEV_PREFIX = "revisor_dev_"

# How each source is named in `revisor status` and in notes.
SOURCE_NAMES = {
    "--url": "--url",
    "env.py": "env.py (what `alembic upgrade` would use)",
    "sqlalchemy.url": "sqlalchemy.url in the Alembic config",
    "embedded": "revisor's embedded PostgreSQL (no URL configured)",
}


@dataclass
class ResolvedDatabase:
    """The project's database and how revisor found it."""

    url: DatabaseUrl
    notes: list[str] = field(default_factory=list)

    @property
    def source(self) -> str:
        return self.url.source

    def describe_source(self) -> str:
        return SOURCE_NAMES.get(self.url.source, f"${self.url.source}")


def given_url(
    cli_url: str | None, *, config_url: str | None = None, env_var: str = "DATABASE_URL"
) -> DatabaseUrl | None:
    """The URL the user wrote down (--url > $env_var > sqlalchemy.url), parsed; None when
    they wrote none. Runs no env.py and starts nothing, so a malformed URL is reported as
    such before anything else; raises InvalidDatabaseUrl / UnsupportedDatabase."""
    if cli_url:
        return parse_url(cli_url, source="--url")
    from_env = os.environ.get(env_var)
    if from_env:
        return parse_url(from_env, source=env_var)
    if usable_config_url(config_url):
        assert config_url is not None
        return parse_url(config_url, source="sqlalchemy.url")
    return None


def resolve_database(
    project: Project | None, cli_url: str | None, *, start_embedded: bool = True
) -> ResolvedDatabase:
    """The project's database (see the module docstring); for the embedded server, the
    server's `postgres` database (`project_database` gives the dev database). Reading
    env.py's URL runs env.py once, connecting nowhere. With `start_embedded=False` the
    embedded server is neither started nor joined: its URL is returned only while it
    runs (EmbeddedServerStopped otherwise)."""
    embedded = embedded_server_url if start_embedded else running_server_url
    env_var = project.url_env if project else "DATABASE_URL"
    config_url = project.config.get_main_option("sqlalchemy.url") if project else None
    given = given_url(cli_url, config_url=config_url, env_var=env_var)
    if given is not None and given.source != "sqlalchemy.url":
        return ResolvedDatabase(given)
    if project is None:
        return ResolvedDatabase(embedded())
    notes: list[str] = []
    usable = given is not None
    captured = project.env_py_url()
    if captured.custom_creator:
        notes.append(
            "env.py's engine connects through its own creator= function: revisor can run "
            "migrations only on the database that function connects to"
        )
    if captured.url is not None:
        try:
            url = parse_url(captured.url.render_as_string(hide_password=False), source="env.py")
        except UnsupportedDatabase as exc:
            notes.append(
                f"env.py would use a {exc.dialect} database, which revisor does not support"
            )
        else:
            if usable and _same_database(url, config_url):
                url = DatabaseUrl(url.url, "sqlalchemy.url", url.original_driver)
            return ResolvedDatabase(url, notes)
    elif captured.error is not None:
        first = str(captured.error).strip().splitlines()[:1]
        notes.append(
            "env.py stopped before connecting "
            f"({type(captured.error).__name__}{': ' + first[0] if first else ''})"
        )
    if given is not None:
        return ResolvedDatabase(given, notes)
    return ResolvedDatabase(embedded(), notes)


def project_database(
    project: Project | None, cli_url: str | None, *, start_embedded: bool = True
) -> DatabaseUrl:
    """`resolve_database`'s URL, with the embedded server's per-project dev database
    (`start_embedded` as there)."""
    url = resolve_database(project, cli_url, start_embedded=start_embedded).url
    if url.source == "embedded":
        return embedded_dev_database(project.name if project else "default", server=url)
    return url


def _same_database(url: DatabaseUrl, config_url: str | None) -> bool:
    try:
        other = parse_url(config_url or "", source="sqlalchemy.url")
    except RevisorError:
        return False
    return url.url.set(drivername="x") == other.url.set(drivername="x")


def usable_config_url(config_url: str | None) -> bool:
    """Whether alembic.ini's sqlalchemy.url names a database: not empty, not built by
    interpolation (env.py fills it in), and not `alembic init`'s placeholder
    (driver://user:pass@localhost/dbname), which most projects never edit because env.py
    reads the URL from the environment."""
    if not config_url or "%(" in config_url:
        return False
    return not config_url.strip().startswith("driver://")


def dev_database_name(project_name: str) -> str:
    """The name of the project's development database on the embedded server."""
    return EMBEDDED_DEV_PREFIX + re.sub(r"[^a-z0-9_]", "_", project_name.lower())[:40]


def embedded_dev_database(project_name: str, server: DatabaseUrl | None = None) -> DatabaseUrl:
    """The embedded server's persistent database for this project (created if missing) on
    `server` (default: the embedded server, started or joined)."""
    server = server or embedded_server_url()
    name = dev_database_name(project_name)
    if not database_exists(server, name):
        create_database(server, name)
    return server.with_database(name)


def reset_embedded_dev_database(dev: DatabaseUrl) -> None:
    """Drop the embedded dev database `dev` (its sessions are disconnected) and create it
    again, empty. Side effect: every table and row in it is gone."""
    name = dev.database
    assert name and name.startswith(EMBEDDED_DEV_PREFIX), name
    drop_database(dev, name)
    create_database(dev, name)


# --- scratch databases -----------------------------------------------------------------


@dataclass
class ScratchServer:
    """Where scratch databases go, and why there when it is not the obvious place."""

    url: DatabaseUrl
    note: str | None = None


def scratch_server(
    project: Project | None,
    cli_url: str | None,
    *,
    scratch_url: str | None = None,
    embedded: bool = False,
) -> ScratchServer:
    """The server for test/check/doctor's scratch databases: `--scratch-url`, or the
    embedded one when asked (`--scratch embedded`), else the project's database's server
    when its role may create databases there (so a history that needs an extension the
    embedded server lacks runs where it exists), else the embedded server, with a note.
    An explicit `--url` that cannot be reached is an error; an implicit one falls back."""
    if scratch_url:
        return ScratchServer(parse_url(scratch_url, source="--scratch-url"))
    if embedded:
        return ScratchServer(embedded_server_url())
    resolved = resolve_database(project, cli_url)
    server = resolved.url
    if server.source == "embedded":
        return ScratchServer(server)
    try:
        refusal = creation_refused(server)
    except DatabaseError as exc:
        if server.source == "--url":
            raise
        refusal = exc.message
    if refusal is None:
        return ScratchServer(server)
    return ScratchServer(
        embedded_server_url(),
        note=f"scratch databases on revisor's embedded PostgreSQL: {refusal} "
        "(--scratch-url URL chooses another server)",
    )


def creation_refused(server: DatabaseUrl) -> str | None:
    """Why the role of `server` may not create databases there, or None when it may.
    Raises DatabaseError when the server cannot be reached."""
    from revisor.db.connect import raw_connect

    with raw_connect(server.with_database("postgres"), connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
    if row and row[0]:
        return None
    return f"role {server.user!r} on {server.masked} may not create databases"
