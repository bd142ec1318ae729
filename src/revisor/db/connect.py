"""Connections with errors translated into revisor's own (never showing a password)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from revisor.db.url import DatabaseUrl, redact
from revisor.errors import AuthenticationFailed, DatabaseError, DatabaseUnreachable


def translate_connect_error(url: DatabaseUrl, exc: BaseException) -> DatabaseError:
    """Turn a driver's connection error into a one-line revisor error."""
    orig = getattr(exc, "orig", None) or exc
    text = redact(str(orig)).strip()
    if "password authentication failed" in text or "no password supplied" in text:
        return AuthenticationFailed(url.masked, url.user)
    if 'database "' in text and "does not exist" in text:
        return DatabaseError(
            f"Database {url.database!r} does not exist on {url.masked}.",
            hint="Create it first (createdb) or fix the database name in the URL.",
        )
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reason = lines[0].removeprefix("connection failed: ") if lines else type(orig).__name__
    return DatabaseUnreachable(url.masked, reason)


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
    except (sa.exc.OperationalError, sa.exc.InterfaceError, psycopg.Error) as exc:
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
