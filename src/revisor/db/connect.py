"""Connections with errors translated into revisor's own (never showing a password)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from revisor.db.url import LIBPQ_OPTIONS_HINT, DatabaseUrl, redact
from revisor.errors import (
    AuthenticationFailed,
    DatabaseError,
    DatabaseUnreachable,
    InvalidDatabaseUrl,
    RevisorError,
)

# libpq's and psycopg's words for an option value it refuses before connecting
# (`invalid sslmode value: "x"`, `invalid port number: "99999"`, `bad value for
# connect_timeout: 'abc'`), and the server's for a bad `options=-c name=value`.
_BAD_OPTION_VALUE = re.compile(
    r"^(?:connection is bad: )?(?:invalid [\w ]*(?:value|number)\b|bad value for |"
    r"invalid connection option )|invalid value for parameter "
)


def translate_connect_error(url: DatabaseUrl, exc: BaseException) -> RevisorError:
    """Turn a driver's connection error into a one-line revisor error: a value libpq
    refuses is a bad URL (InvalidDatabaseUrl, exit 2), the rest a DatabaseError (exit 3)."""
    orig = getattr(exc, "orig", None) or exc
    text = redact(str(orig)).strip()
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if _BAD_OPTION_VALUE.search(first):
        reason = first.removeprefix("connection is bad: ").rpartition("FATAL:  ")[2]
        return InvalidDatabaseUrl(url.masked, reason, source=url.source, hint=LIBPQ_OPTIONS_HINT)
    if "password authentication failed" in text or "no password supplied" in text:
        return AuthenticationFailed(url.masked, url.user)
    if 'database "' in text and "does not exist" in text:
        return DatabaseError(
            f"Database {url.database!r} does not exist on {url.masked}.",
            hint="Create it first (createdb) or fix the database name in the URL.",
        )
    reason = first.removeprefix("connection failed: ") or type(orig).__name__
    error = DatabaseUnreachable(url.masked, reason)
    if not (url.url.host or url.url.query.get("host") or url.url.query.get("hostaddr")):
        error.hint = (
            "The URL names no host, so libpq tried the local socket: add it "
            "(postgresql://USER@HOST:5432/DBNAME, or ?host=/socket/dir). Without --url and "
            "DATABASE_URL revisor uses its embedded PostgreSQL."
        )
    return error


def create_engine(url: DatabaseUrl, **kwargs: object) -> Engine:
    """A NullPool engine: revisor's runs are short and must not keep idle connections."""
    return sa.create_engine(url.sqlalchemy_url, poolclass=NullPool, **kwargs)  # type: ignore[arg-type]


# One engine per URL for the process: an engine's first connection runs the dialect's
# initialisation (server version, string quoting, type lookups), about 15-20 ms that
# every later connection of the same engine skips. NullPool: nothing stays connected.
_engines: dict[str, Engine] = {}


@contextmanager
def connect(url: DatabaseUrl, *, autocommit: bool = False) -> Iterator[Connection]:
    """Yield a SQLAlchemy connection; raise `DatabaseError` subclasses on failure to connect."""
    key = url.sqlalchemy_url
    engine = _engines.get(key)
    if engine is None:
        engine = _engines[key] = create_engine(url)
    try:
        conn = engine.connect()
    except (sa.exc.DBAPIError, psycopg.Error) as exc:  # e.g. a bad option value
        raise translate_connect_error(url, exc) from None
    try:
        if autocommit:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn
    finally:
        conn.close()


@contextmanager
def raw_connect(
    url: DatabaseUrl, *, autocommit: bool = True, **options: object
) -> Iterator[psycopg.Connection]:
    """Yield a plain psycopg connection (for CREATE DATABASE and catalog reads); `options`
    are libpq's (e.g. connect_timeout)."""
    try:
        params = {**url.libpq_kwargs(), **options}
        conn = psycopg.connect(**params, autocommit=autocommit)  # type: ignore[arg-type]
    except psycopg.Error as exc:
        raise translate_connect_error(url, exc) from None
    try:
        yield conn
    finally:
        conn.close()
