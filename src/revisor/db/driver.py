"""revisor's own queries on a migration connection, whatever driver env.py's engine uses.

revisor reads the catalog between migration steps on env.py's connection (uncommitted DDL
is only visible there), through psycopg 3's `execute(query, params, prepare=...)`. An
env.py with an asyncpg, psycopg2 or pg8000 engine hands revisor a connection of that
driver: `driver_connection` then returns an adapter with the same method, which runs the
query through SQLAlchemy (so each driver gets its own parameter style, and an async
driver is driven through SQLAlchemy's greenlet bridge).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import psycopg
from sqlalchemy import TextClause, text

# psycopg's placeholders: %(name)s, %s, and %% for a literal percent sign.
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%s|%%")


def driver_connection(connection: Any) -> Any:
    """Something with psycopg's `execute(query, params=None, prepare=None)`: the psycopg
    connection under a SQLAlchemy Connection (or a psycopg connection itself), else a
    `ForeignDriver` for the SQLAlchemy Connection. The same object for the same
    connection, so callers may key caches on it."""
    if isinstance(connection, psycopg.Connection | ForeignDriver):
        return connection
    driver = getattr(getattr(connection, "connection", None), "driver_connection", None)
    if isinstance(driver, psycopg.Connection):
        return driver
    adapter = _adapters.get(connection)
    if adapter is None:
        adapter = _adapters[connection] = ForeignDriver(connection)
    return adapter


class ForeignDriver:
    """psycopg's `execute` on a SQLAlchemy Connection whose DBAPI is not psycopg 3."""

    def __init__(self, connection: Any) -> None:
        self._connection = weakref.proxy(connection)

    def execute(
        self,
        query: str,
        params: Sequence[Any] | Mapping[str, Any] | None = None,
        prepare: bool | None = None,
    ) -> Any:
        """Run `query` (psycopg placeholders); return SQLAlchemy's result, which has
        fetchone()/fetchall() like a psycopg cursor. `prepare` is psycopg's alone."""
        if params is None or isinstance(params, Mapping):
            return self._connection.execute(_as_text(query), dict(params or {}))
        values = {f"p{i}": value for i, value in enumerate(params)}
        return self._connection.execute(_as_text(query), values)


_adapters: weakref.WeakKeyDictionary[Any, ForeignDriver] = weakref.WeakKeyDictionary()


@lru_cache(maxsize=512)
def _as_text(query: str) -> TextClause:
    """The query as a text() construct: %(name)s → :name, %s → :p0, :p1, …; every colon
    of the query itself escaped, so casts and literals stay as written."""
    positions = iter(range(1_000_000))

    def bind(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "%%":
            return "%"
        if match.group(1):
            return f":{match.group(1)}"
        return f":p{next(positions)}"

    return text(_PLACEHOLDER.sub(bind, query.replace(":", "\\:")))
