"""Throwaway databases on the same server, so migrations are tested away from the dev DB."""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from revisor.db.connect import raw_connect
from revisor.db.url import DatabaseUrl
from revisor.errors import DatabaseError, ScratchNotPermitted

SCRATCH_PREFIX = "revisor_scratch_"


def create_database(server: DatabaseUrl, name: str, *, template: str | None = None) -> DatabaseUrl:
    """CREATE DATABASE `name` (optionally from `template`); return its URL."""
    maintenance = server.with_database("postgres")
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with raw_connect(maintenance) as conn:
        try:
            conn.execute(statement)
        except psycopg.errors.InsufficientPrivilege:
            raise ScratchNotPermitted(server.user) from None
        except psycopg.errors.ObjectInUse as exc:
            raise DatabaseError(
                f"Cannot copy template database {template!r}: it has open connections.",
                hint="Close other sessions on it and try again.",
            ) from exc
    return server.with_database(name)


def create_scratch_database(
    server: DatabaseUrl, name: str, *, template: str | None = None
) -> DatabaseUrl:
    """`create_database` for a scratch database (a name revisor made up): when Ctrl-C
    interrupts it, the database is dropped before KeyboardInterrupt goes on."""
    try:
        return create_database(server, name, template=template)
    except KeyboardInterrupt:
        # psycopg cancels the statement on Ctrl-C but waits for it, and CREATE DATABASE
        # mostly completes anyway: drop what it may have left (the name is ours).
        with contextlib.suppress(Exception):
            drop_database(server, name)
        raise


def drop_database(server: DatabaseUrl, name: str) -> None:
    """DROP DATABASE IF EXISTS `name`, disconnecting other sessions (PostgreSQL ≥ 13)."""
    maintenance = server.with_database("postgres")
    with raw_connect(maintenance) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def database_exists(server: DatabaseUrl, name: str) -> bool:
    with raw_connect(server.with_database("postgres")) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


@contextmanager
def scratch_database(
    server: DatabaseUrl, *, template: str | None = None, keep: bool = False, label: str = ""
) -> Iterator[DatabaseUrl]:
    """Yield the URL of a new empty database; drop it afterwards unless `keep`."""
    suffix = f"{label}_" if label else ""
    name = f"{SCRATCH_PREFIX}{suffix}{secrets.token_hex(4)}"
    url = create_scratch_database(server, name, template=template)
    try:
        yield url
    finally:
        if not keep:
            drop_database(server, name)


class PendingDatabase:
    """A scratch database being created in a background thread, so that the server's
    CREATE DATABASE (50 ms to several hundred on a busy server) overlaps the caller's own
    start-up work (importing alembic, loading the project and its revisions).

    Exactly one owner drops it: whoever `claim()`s it (and must then drop it, or keep it),
    else `release()`, which the creator calls in a `finally`. An error of the creation is
    raised by `claim()`. Only the main thread is interrupted by Ctrl-C, and `release()`
    waits for the CREATE to finish before dropping, so no database is left behind.
    """

    def __init__(self, server: DatabaseUrl, *, label: str = "") -> None:
        suffix = f"{label}_" if label else ""
        self.server = server
        self.name = f"{SCRATCH_PREFIX}{suffix}{secrets.token_hex(4)}"
        self._url: DatabaseUrl | None = None
        self._error: BaseException | None = None
        self._claimed = False
        self._thread = threading.Thread(target=self._create, name=f"create {self.name}")
        self._thread.start()

    def _create(self) -> None:
        try:
            self._url = create_database(self.server, self.name)
        except BaseException as exc:  # handed to the thread that claims it
            self._error = exc

    def claim(self) -> tuple[DatabaseUrl, str]:
        """Wait for the database; return (its URL, its name). The caller now owns it.
        Raises what the creation raised (DatabaseError subclasses)."""
        self._thread.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        assert self._url is not None
        self._claimed = True
        return self._url, self.name

    @contextmanager
    def claimed(self, *, keep: bool = False) -> Iterator[DatabaseUrl]:
        """`claim()` it for a with-block that drops it at the end (unless `keep`)."""
        url, name = self.claim()
        try:
            yield url
        finally:
            if not keep:
                drop_database(self.server, name)

    def release(self) -> None:
        """Drop the database unless it was claimed (waits for the creation first).
        Idempotent; an error of the creation is not raised here."""
        if self._claimed:
            return
        self._thread.join()
        self._claimed = True
        if self._url is not None:
            drop_database(self.server, self.name)
