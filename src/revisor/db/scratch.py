"""Throwaway databases on the same server, so migrations are tested away from the dev DB."""

from __future__ import annotations

import secrets
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
    url = create_database(server, name, template=template)
    try:
        yield url
    finally:
        if not keep:
            drop_database(server, name)
