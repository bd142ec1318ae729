"""Which database a live connection is on, asked of the server itself.

The guard compares this with the database revisor chose before any statement of a
migration runs, so it holds whatever env.py did to build its connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import URL

# The database name plus the server's start time in microseconds: two servers started in the
# same microsecond are not a case to plan for, and revisor's scratch names are random. Cast
# to text so every driver returns the same thing, and taken from the epoch so the session's
# TimeZone and DateStyle (env.py may set them) cannot change it.
_IDENTITY_SQL = (
    "SELECT current_database(), "
    "(extract(epoch FROM pg_postmaster_start_time()) * 1000000)::bigint::text, "
    "current_user, coalesce(host(inet_server_addr()), ''), "
    "coalesce(inet_server_port()::text, '')"
)


@dataclass(frozen=True)
class DatabaseIdentity:
    """One database on one running server, and who is connected to it (for messages)."""

    database: str
    server_started: str
    user: str = ""
    host: str = ""
    port: str = ""

    def same_database(self, other: DatabaseIdentity) -> bool:
        return (self.database, self.server_started) == (other.database, other.server_started)

    def describe(self) -> str:
        """E.g. `database "app" as user "app" on 127.0.0.1:5432` (never a password)."""
        where = f" on {self.host}:{self.port}" if self.host else " on a local socket"
        return f'database "{self.database}" as user "{self.user}"{where}'


def identify(dbapi_connection: Any) -> DatabaseIdentity:
    """Ask the server behind a DBAPI connection (any PostgreSQL driver SQLAlchemy wraps)
    which database it is. Runs one read-only SELECT; leaves a transaction the driver may
    have opened for it open (the caller decides whether to roll it back)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(_IDENTITY_SQL)
        row = cursor.fetchone()
    finally:
        cursor.close()
    return DatabaseIdentity(*(str(value) for value in row))


def identify_connection(connection: Any) -> DatabaseIdentity:
    """`identify` for a SQLAlchemy Connection (revisor's own, on the chosen database)."""
    return identify(connection.connection.dbapi_connection)


def url_of_connection(dbapi_connection: Any) -> URL | None:
    """Where a live DBAPI connection went, from the driver's own record of it (no query):
    psycopg 3 and 2, and asyncpg under SQLAlchemy's adapter. None for other drivers."""
    info = getattr(dbapi_connection, "info", None)
    inner = getattr(dbapi_connection, "_connection", None)
    if info is not None and hasattr(info, "dbname"):  # psycopg 3 or psycopg2
        driver = (
            "psycopg" if type(dbapi_connection).__module__.startswith("psycopg.") else ("psycopg2")
        )
        host, port = info.host, info.port
        user, database, password = info.user, info.dbname, info.password
    elif inner is not None and hasattr(inner, "_params"):  # asyncpg
        driver = "asyncpg"
        address = inner._addr
        host, port = address if isinstance(address, tuple) else (address, None)
        params = inner._params
        user, database, password = params.user, params.database, params.password
    else:
        return None
    query: dict[str, str] = {}
    if isinstance(host, str) and host.startswith("/"):
        # a socket: libpq names the directory, asyncpg the socket file itself
        query["host"] = host.rsplit("/.s.PGSQL.", 1)[0]
        host = None
    from revisor.db.redaction import register_secret

    register_secret(password if isinstance(password, str) else None)
    return URL.create(
        f"postgresql+{driver}",
        username=user or None,
        password=password or None,
        host=host or None,
        port=int(port) if port else None,
        database=database or None,
        query=query,
    )
