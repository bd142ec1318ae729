"""Queries run many times on one connection between migration steps, kept as PL/pgSQL
functions in the session's temporary schema so that their plans survive.

Why: psycopg deallocates every prepared statement of a connection after each DROP or
ALTER it runs (psycopg/_preparing.py, so that a recreated object cannot break a stale
plan), so a catalog query run between migration steps is planned again at nearly every
call, and planning a catalog join costs about as much as running it. PL/pgSQL keeps the
plan of each of its statements for the session, and creating, altering or dropping user
tables does not invalidate a plan over pg_catalog (measured: the schema fingerprint went
from about 10 ms to 5 ms per call at 45 tables, on PostgreSQL 18).

Side effect on the database: one function per `TempFunction` and session, in `pg_temp`
(outside every migrated scope, as all `pg_*` schemas are), created on the first call on a
connection and gone at disconnect. A function created in a transaction that is then rolled
back is gone too, while the object still takes it as created: use one object per
connection, or call `forget()` after a rollback. Sessions that cannot create temporary
objects (no TEMPORARY privilege on the database, a hot standby) get the plain query.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from revisor.db.driver import driver_connection

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_QUOTE_TAG = "$revisor_fn$"

# Per driver connection: may it create temporary functions (one round trip to find out).
_allowed: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def temp_functions_allowed(connection: Any) -> bool:
    """Whether this session may create functions in pg_temp: the TEMPORARY privilege on
    the database and not a hot standby. Asked once per connection. Read-only."""
    driver = driver_connection(connection)
    known = _allowed.get(driver)
    if known is None:
        row = driver.execute(
            "SELECT has_database_privilege(current_database(), 'TEMPORARY') "
            "AND NOT pg_is_in_recovery()",
            prepare=False,
        ).fetchone()
        known = _allowed[driver] = bool(row and row[0])
    return known


def sql_literal(value: str) -> str:
    """A quoted SQL string literal (standard_conforming_strings, the default since 9.1)."""
    return "'" + value.replace("'", "''") + "'"


class TempFunction:
    """A PL/pgSQL function in pg_temp, created once per driver connection.

    `arguments` are the SQL types of its parameters ($1, $2, ... in `body`); `returns` is
    its return type (a scalar type, or "SETOF record" with `columns`, the SQL types of the
    rows, given at each call); `body` is the PL/pgSQL block ([DECLARE ...] BEGIN ... END).
    `generic_plans`: plan each statement once, not for the argument values of each call.
    The name is `prefix` and a digest of the whole definition, so a session never calls a
    stale one.
    """

    def __init__(
        self,
        prefix: str,
        body: str,
        *,
        returns: str,
        arguments: Sequence[str] = (),
        columns: Sequence[str] = (),
        volatility: str = "STABLE",
        generic_plans: bool = False,
    ) -> None:
        if _QUOTE_TAG in body:
            raise ValueError(f"the function body must not contain {_QUOTE_TAG}")
        if (returns.upper() == "SETOF RECORD") != bool(columns):
            raise ValueError("columns go with RETURNS SETOF record, and only with it")
        self.arguments = tuple(arguments)
        self.columns = tuple(columns)
        # With arguments PostgreSQL may re-plan a statement at each call, for the values at
        # hand; a catalog read is better served by one plan.
        options = (
            f"{volatility} SET plan_cache_mode = force_generic_plan"
            if generic_plans
            else volatility
        )
        signature = f"({', '.join(self.arguments)}) RETURNS {returns} {options} {body}"
        digest = hashlib.md5(signature.encode()).hexdigest()[:16]
        self.name = f"{prefix}_{digest}"
        # No SET search_path: the catalog deparsers qualify names by the caller's
        # search_path, so a function must answer as the same query run plainly would.
        self._create = (
            f"CREATE OR REPLACE FUNCTION pg_temp.{self.name}({', '.join(self.arguments)}) "
            f"RETURNS {returns} LANGUAGE plpgsql {options} "
            f"AS {_QUOTE_TAG} {body} {_QUOTE_TAG}"
        )
        call_args = ", ".join(f"%s::{t}" for t in self.arguments)
        if self.columns:
            defs = ", ".join(f"c{i} {t}" for i, t in enumerate(self.columns))
            self._call = f"SELECT * FROM pg_temp.{self.name}({call_args}) AS f({defs})"
        else:
            self._call = f"SELECT pg_temp.{self.name}({call_args})"
        self._ready: weakref.ref[Any] | None = None

    def available(self, connection: Any) -> bool:
        """Create the function on this connection unless it was created already; False
        (and nothing created) when the session cannot have temporary functions.
        Side effect: CREATE FUNCTION in pg_temp, in the connection's transaction."""
        driver = driver_connection(connection)
        if self._ready is not None and self._ready() is driver:
            return True
        if not temp_functions_allowed(driver):
            return False
        driver.execute(self._create, prepare=False)
        self._ready = weakref.ref(driver)
        return True

    def forget(self) -> None:
        """Take the function as gone (after a rollback of the transaction that created it):
        the next call creates it again."""
        self._ready = None

    def call(self, connection: Any, *args: Any) -> list[tuple[Any, ...]]:
        """Run the function (created by `available()` first) with `args`; its rows."""
        driver = driver_connection(connection)
        # Not prepared: planning a function call is trivial, and psycopg would
        # deallocate it at the next DROP anyway.
        return [tuple(r) for r in driver.execute(self._call, args, prepare=False).fetchall()]


class TempQuery:
    """A read-only query, written with psycopg's %(name)s placeholders, run through a
    function in pg_temp (see the module docstring), or as a plain prepared statement where
    the session cannot have one. Placeholders in `constants` are written into the function
    as literals; those in `arguments` ({name: SQL type}) are passed at each call. With
    `columns` (the SQL types of its columns, exactly as the query yields them) the query
    returns rows; without, it must yield one row of one value of type `scalar`.
    """

    def __init__(
        self,
        prefix: str,
        query: str,
        *,
        columns: Sequence[str] = (),
        scalar: str | None = None,
        arguments: Mapping[str, str] | None = None,
        constants: Mapping[str, str] | None = None,
    ) -> None:
        if bool(columns) == (scalar is not None):
            raise ValueError("give either columns (rows) or scalar (one value)")
        self.query = query
        self.constants = dict(constants or {})
        self.argument_names = tuple(arguments or {})
        positions = {name: f"${i + 1}" for i, name in enumerate(self.argument_names)}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in self.constants:
                return sql_literal(self.constants[name])
            if name in positions:
                return positions[name]
            raise ValueError(f"placeholder %({name})s is neither a constant nor an argument")

        body = _PLACEHOLDER.sub(substitute, query).replace("%%", "%")
        if columns:
            self.function = TempFunction(
                prefix,
                f"BEGIN RETURN QUERY {body}; END",
                returns="SETOF record",
                arguments=tuple((arguments or {}).values()),
                columns=columns,
                generic_plans=bool(self.argument_names),
            )
        else:
            self.function = TempFunction(
                prefix,
                f"BEGIN RETURN ({body}); END",
                returns=str(scalar),
                arguments=tuple((arguments or {}).values()),
                generic_plans=bool(self.argument_names),
            )

    @property
    def name(self) -> str:
        """The function's name in pg_temp."""
        return self.function.name

    def __call__(
        self, connection: Any, params: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """The query's rows (one row of one value for a scalar query), on the connection's
        transaction. Read-only, apart from creating the function on a connection's first
        call."""
        params = dict(params or {})
        if self.function.available(connection):
            return self.function.call(connection, *(params[n] for n in self.argument_names))
        return self.plain(connection, params)

    def plain(self, connection: Any, params: Mapping[str, Any] | None = None) -> list[Any]:
        """The same rows from the query itself, as a prepared statement. Read-only."""
        values = {**self.constants, **(params or {})}
        driver = driver_connection(connection)
        return [tuple(r) for r in driver.execute(self.query, values, prepare=True).fetchall()]

    def forget(self) -> None:
        """See `TempFunction.forget`."""
        self.function.forget()
