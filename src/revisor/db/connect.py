"""Connections with errors translated into revisor's own (never showing a password)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from revisor.db.sqlstate import (
    INVALID_PARAMETER_VALUE,
    INVALID_PASSWORD,
    UNDEFINED_DATABASE,
    UNDEFINED_OBJECT,
    sqlstate,
)
from revisor.db.url import LIBPQ_OPTIONS_HINT, DatabaseUrl, redact
from revisor.errors import (
    AuthenticationFailed,
    DatabaseError,
    DatabaseUnreachable,
    InvalidDatabaseUrl,
    RevisorError,
)

# libpq's own words (client side, before any server is contacted) for an option value it
# refuses: `invalid sslmode value: "x"`, `invalid port number: "99999"`, `bad value for
# connect_timeout: 'abc'`, `invalid connection option "x"`. What the server refuses
# (options=-c name=value) is told by asking it, see _refusal.
_BAD_OPTION_VALUE = re.compile(
    r"^(?:connection is bad: )?(?:invalid [\w ]*(?:value|number)\b|bad value for |"
    r"invalid connection option )"
)
_PROBE_TIMEOUT = 5  # seconds; libpq's minimum is 2


def translate_connect_error(url: DatabaseUrl, exc: BaseException) -> RevisorError:
    """Turn a driver's connection error into a one-line revisor error: a value libpq
    refuses is a bad URL (InvalidDatabaseUrl, exit 2), the rest a DatabaseError (exit 3).

    The server's refusal is classified without reading its message, which it writes in
    its own language: by the error's SQLSTATE when the driver has one, else by asking
    the server (`_refusal`)."""
    orig = getattr(exc, "orig", None) or exc
    text = redact(str(orig)).strip()
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    shown = first.removeprefix("connection is bad: ").removeprefix("connection failed: ")
    if _BAD_OPTION_VALUE.search(first):
        return InvalidDatabaseUrl(url.masked, shown, source=url.source, hint=LIBPQ_OPTIONS_HINT)
    state = sqlstate(orig) or _refusal(url, orig)
    if state == INVALID_PASSWORD:
        return AuthenticationFailed(url.masked, url.user)
    if state == UNDEFINED_DATABASE:
        return DatabaseError(
            f"Database {url.database!r} does not exist on {url.masked}.",
            hint="Create it first (createdb) or fix the database name in the URL.",
        )
    if state in (INVALID_PARAMETER_VALUE, UNDEFINED_OBJECT):
        return InvalidDatabaseUrl(url.masked, shown, source=url.source, hint=LIBPQ_OPTIONS_HINT)
    error = DatabaseUnreachable(url.masked, shown or type(orig).__name__)
    if not (url.url.host or url.url.query.get("host") or url.url.query.get("hostaddr")):
        error.hint = (
            "The URL names no host, so libpq tried the local socket: add it "
            "(postgresql://USER@HOST:5432/DBNAME, or ?host=/socket/dir). Without --url and "
            "DATABASE_URL revisor uses its embedded PostgreSQL."
        )
    return error


def _refusal(url: DatabaseUrl, orig: BaseException) -> str | None:
    """Why the server refused a connection, as the SQLSTATE it sent: libpq keeps that code
    to itself during connection startup and hands over only the (translated) message.
    So revisor asks: a password none was given for is INVALID_PASSWORD; otherwise it
    connects once more with the same credentials to the maintenance database, without
    `options`, and reads pg_database. That connection failing after a password exchange
    means the password is wrong; succeeding means the database is missing
    (UNDEFINED_DATABASE) or, when it exists, the URL's `options` were refused
    (INVALID_PARAMETER_VALUE). None when nothing tells (e.g. the server is unreachable).
    Side effect: one short read-only connection to the same server."""
    pgconn = getattr(orig, "pgconn", None)
    if pgconn is None:
        return None
    if pgconn.needs_password:
        return INVALID_PASSWORD
    params = url.libpq_kwargs()
    database = str(params.get("dbname") or params.get("user") or "")
    params.pop("options", None)
    given = str(params.get("connect_timeout") or "")
    timeout = min(int(given), _PROBE_TIMEOUT) if given.isdigit() else _PROBE_TIMEOUT
    params.update(
        dbname="template1" if database == "postgres" else "postgres",
        connect_timeout=str(max(timeout, 2)),
    )
    try:
        with psycopg.connect(**params, autocommit=True) as conn:  # type: ignore[arg-type]
            row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            exists = row.fetchone() is not None
    except psycopg.Error as refused:
        probe = getattr(refused, "pgconn", None)
        if pgconn.used_password and probe is not None and probe.used_password:
            return INVALID_PASSWORD  # the server took the password and still refused, twice
        return None
    if database and not exists:
        return UNDEFINED_DATABASE
    if url.libpq_kwargs().get("options"):
        return INVALID_PARAMETER_VALUE
    return None


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
