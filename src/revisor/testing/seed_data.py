"""Put a few rows in every table before a migration step runs, as production has.

A migration that only works on empty tables (a NOT NULL column without a default, a type
change that cannot cast existing values) then fails in the round trip instead of in a
deploy. Rows are typed from the catalog: enum labels, sized strings, dates, uuids, foreign
keys pointing at rows of the referenced table (tables are filled parents first). Columns
with a default, identity or generated columns are left to PostgreSQL. A table that cannot
be filled (a CHECK revisor cannot satisfy, an exotic NOT NULL type) is skipped: it only
loses the extra coverage.
"""

from __future__ import annotations

from typing import Any

from revisor.db.driver import driver_connection
from revisor.db.temp_function import TempFunction
from revisor.testing.seed_catalog import (
    Column,
    ForeignKey,
    Table,
    TableCatalog,
    foreign_keys,
)

__all__ = ["ROWS_PER_TABLE", "Column", "DataSeeder", "ForeignKey", "Table"]

ROWS_PER_TABLE = 2

# All the INSERTs of one seed() in one round trip. $1 holds two attempts per table, in
# order (parents first): all columns, then the required ones only. Each attempt runs in a
# block with an exception handler (a subtransaction, as a savepoint would be), so a table
# refusing rows leaves the transaction usable. query_canceled is caught too (OTHERS leaves
# it out): a statement_timeout set by a migration skips the table, as it skipped one
# INSERT when each ran on its own. Returns per table 1 or 2 for the attempt that worked,
# 0 if none did.
_INSERT_BODY = """
DECLARE
  outcome integer[] := '{}';
  worked integer;
BEGIN
  FOR i IN 1 .. coalesce(array_length($1, 1), 0) / 2 LOOP
    worked := 0;
    BEGIN
      EXECUTE $1[2 * i - 1];
      worked := 1;
    EXCEPTION WHEN OTHERS OR query_canceled THEN
      BEGIN
        EXECUTE $1[2 * i];
        worked := 2;
      EXCEPTION WHEN OTHERS OR query_canceled THEN
        worked := 0;
      END;
    END;
    outcome := outcome || worked;
  END LOOP;
  RETURN outcome;
END
"""


def _exec(conn: Any, statement: str, params: dict[str, Any] | None = None) -> Any:
    # psycopg reads % as a placeholder marker even without parameters.
    if params is None:
        statement = statement.replace("%", "%%")
    return conn.exec_driver_sql(statement, params or ())


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class DataSeeder:
    """Fills tables that are empty or gained columns since revisor last filled them."""

    def __init__(self, rows: int = ROWS_PER_TABLE) -> None:
        # More rows than ROWS_PER_TABLE (`revisor test --rows`) are added to each table
        # revisor fills for the first time, with one INSERT … SELECT over generate_series.
        self.rows = max(rows, ROWS_PER_TABLE)
        self._seeded: dict[int, tuple[Any, ...]] = {}
        self._filled: set[tuple[Any, ...]] = set()  # signatures of tables revisor filled
        self._counter = 0
        self.skipped: set[str] = set()
        self._catalogs: dict[str, TableCatalog] = {}
        self._inserter = TempFunction(
            "revisor_seed_rows",
            _INSERT_BODY,
            returns="integer[]",
            arguments=("text[]",),
            volatility="VOLATILE",
        )

    def tables(self, conn: Any, version_table: str = "alembic_version") -> list[Table]:
        """The user's tables with their columns and whether they hold rows. Read-only.
        Only tables whose columns changed since the last call are read in full."""
        catalog = self._catalogs.get(version_table)
        if catalog is None:
            catalog = self._catalogs[version_table] = TableCatalog(version_table)
        tables = catalog.read(conn)
        # A table revisor filled (same oid, same columns) is taken to still hold its rows;
        # the others are asked, in one round trip (catalog statistics lag behind
        # uncommitted inserts).
        unknown = []
        for table in tables.values():
            if table.signature in self._filled:
                table.has_rows = True
            else:
                unknown.append(table)
        if unknown:
            probe = " UNION ALL ".join(
                f"SELECT {t.oid} WHERE EXISTS (SELECT FROM {t.sql_name})" for t in unknown
            )
            driver = driver_connection(conn)
            for (oid,) in driver.execute(probe, prepare=False).fetchall():
                tables[oid].has_rows = True
        return list(tables.values())

    def table_columns(
        self, conn: Any, version_table: str = "alembic_version"
    ) -> dict[str, set[str]]:
        """{table: column names} for every user table. Read-only."""
        return {t.name: {c.name for c in t.columns} for t in self.tables(conn, version_table)}

    def populated_columns(
        self, conn: Any, version_table: str = "alembic_version"
    ) -> dict[str, set[str]]:
        """{table: column names} for the tables that hold at least one row. Read-only."""
        return {
            t.name: {c.name for c in t.columns}
            for t in self.tables(conn, version_table)
            if t.has_rows
        }

    def seed(
        self,
        conn: Any,
        *,
        version_table: str = "alembic_version",
        tables: list[Table] | None = None,
    ) -> list[Table]:
        """Insert ROWS_PER_TABLE rows into each table that needs them, parents first.
        `tables` is the current `tables()` if the caller just read it. Returns the tables,
        `has_rows` updated. Side effect: INSERTs, each table's in a subtransaction (so a
        table that refuses rows leaves the transaction usable): all in one call of a
        function in pg_temp, or one savepoint per table where the session cannot have
        temporary functions."""
        if tables is None:
            tables = self.tables(conn, version_table)
        todo = {
            t.oid: t for t in tables if not t.has_rows or self._seeded.get(t.oid) != t.signature
        }
        if not todo:
            return tables
        by_oid = {t.oid: t for t in tables}
        keys = [k for t in todo.values() for k in foreign_keys(t, by_oid)]
        by_name = {t.name: t for t in tables}
        planned: list[tuple[Table, list[list[str]]]] = []
        owned: dict[int, list[ForeignKey]] = {}
        for table in _parents_first(list(todo.values()), keys):
            self._seeded[table.oid] = table.signature
            own = [k for k in keys if k.table == table.oid] + _implied_keys(table, by_name)
            owned[table.oid] = own
            planned.append((table, self._attempts(table, own)))
        worked = self._run(conn, planned)
        more = []
        for (table, _), ok in zip(planned, worked, strict=True):
            if ok:
                if not table.has_rows and self.rows > ROWS_PER_TABLE:
                    more.append((table, self._bulk_attempts(table, owned[table.oid])))
                table.has_rows = True
                self._filled.add(table.signature)
            else:
                self.skipped.add(table.name)
        if more:
            self._run(conn, more)  # a table refusing them keeps its first rows
        return tables

    def _run(self, conn: Any, planned: list[tuple[Table, list[list[str]]]]) -> list[bool]:
        if self._inserter.available(conn):
            return self._insert_at_once(conn, planned)
        return [self._insert(conn, attempts) for _, attempts in planned]

    def _bulk_attempts(self, table: Table, keys: list[ForeignKey]) -> list[list[str]]:
        """The statements adding `rows - ROWS_PER_TABLE` rows: all columns, then the
        required ones only, each row numbered by the series."""
        count = self.rows - ROWS_PER_TABLE
        series = f"generate_series({self._counter + 1}, {self._counter + count}) AS s(n)"
        self._counter += count
        attempts = []
        for required_only in (False, True):
            values = self._row(table, keys, "s.n", required_only=required_only)
            if values is None:
                return []
            columns = ", ".join(_ident(name) for name, _ in values)
            exprs = ", ".join(v for _, v in values)
            attempts.append(
                [f"INSERT INTO {table.sql_name} ({columns}) SELECT {exprs} FROM {series}"]
                if values
                else [f"INSERT INTO {table.sql_name} SELECT FROM {series}"]
            )
        return attempts

    def _attempts(self, table: Table, keys: list[ForeignKey]) -> list[list[str]]:
        """The statements of each attempt to fill the table: all columns, then the
        required ones only; none if a required column has no value revisor can make."""
        attempts = []
        for required_only in (False, True):
            rows = []
            for _ in range(ROWS_PER_TABLE):
                self._counter += 1
                values = self._row(table, keys, str(self._counter), required_only=required_only)
                if values is None:
                    return []
                rows.append(values)
            names = [name for name, _ in rows[0]]
            if names:
                columns = ", ".join(_ident(n) for n in names)
                tuples = ", ".join("(" + ", ".join(v for _, v in row) + ")" for row in rows)
                attempts.append([f"INSERT INTO {table.sql_name} ({columns}) VALUES {tuples}"])
            else:
                attempts.append([f"INSERT INTO {table.sql_name} DEFAULT VALUES"] * ROWS_PER_TABLE)
        return attempts

    def _insert_at_once(
        self, conn: Any, planned: list[tuple[Table, list[list[str]]]]
    ) -> list[bool]:
        """Every table's attempts in one call of the pg_temp function; which tables got
        rows (a table without attempts gets none)."""
        flat = [
            "; ".join(statements) for _, attempts in planned if attempts for statements in attempts
        ]
        outcome = iter(self._inserter.call(conn, flat)[0][0] if flat else [])
        return [bool(attempts) and next(outcome) > 0 for _, attempts in planned]

    def _insert(self, conn: Any, attempts: list[list[str]]) -> bool:
        """The attempts one by one, each in a savepoint; whether one worked."""
        for statements in attempts:
            try:
                with conn.begin_nested():
                    for statement in statements:
                        _exec(conn, statement)
                return True
            except Exception:
                continue
        return False

    def _row(
        self, table: Table, keys: list[ForeignKey], n: str, *, required_only: bool
    ) -> list[tuple[str, str]] | None:
        by_column: dict[str, tuple[ForeignKey, int]] = {}
        for key in keys:  # declared keys first: implied ones never override them
            for i, c in enumerate(key.columns):
                by_column.setdefault(c, (key, i))
        values: list[tuple[str, str]] = []
        for column in table.columns:
            if column.defaulted:
                continue
            if required_only and not column.not_null:
                continue
            if column.name in by_column:
                key, i = by_column[column.name]
                order = ", ".join(key.referenced_columns)
                ref = key.referenced_columns[i]
                values.append(
                    (
                        column.name,
                        f"coalesce((SELECT {ref} FROM {key.referenced_sql} ORDER BY {order} "
                        f"LIMIT 1 OFFSET ({n}) % {ROWS_PER_TABLE}), (SELECT {ref} FROM "
                        f"{key.referenced_sql} ORDER BY {order} LIMIT 1))",
                    )
                )
                continue
            value = _value(column, n)
            if value is None:
                if column.not_null:
                    return None
                continue
            values.append((column.name, value))
        return values


def _implied_keys(table: Table, by_name: dict[str, Table]) -> list[ForeignKey]:
    """`tenant_id` without a foreign key yet (added NOT VALID later, say) still gets an id
    from `tenants`, so a later VALIDATE CONSTRAINT does not fail on revisor's rows."""
    found = []
    for column in table.columns:
        if not column.name.endswith("_id") or column.category != "N":
            continue
        stem = column.name[:-3]
        for candidate in (stem, stem + "s", stem + "es", stem[:-1] + "ies"):
            ref = by_name.get(candidate)
            if (
                ref is not None
                and ref.oid != table.oid
                and any(c.name == "id" for c in ref.columns)
            ):
                found.append(ForeignKey(table.oid, ref.oid, ref.sql_name, [column.name], ["id"]))
                break
    return found


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _value(column: Column, n: str) -> str | None:
    """A SQL expression of the column's type for row number n (itself a SQL integer
    expression: a number, or the series of a bulk insert), or None if revisor has none."""
    cast = f"::{column.type}"
    base, category = column.base, column.category
    if column.labels:
        labels = ", ".join(_literal(label) for label in column.labels)
        return f"(ARRAY[{labels}])[({n}) % {len(column.labels)} + 1]{cast}"
    if base == "uuid":
        return f"md5(({n})::text)::uuid{cast}"
    if base in ("json", "jsonb"):
        return "'{}'" + cast
    if base == "bytea":
        return f"decode(lpad(to_hex(({n}) % 256), 2, '0'), 'hex'){cast}"
    if base == "tsvector":
        return "'revisor'" + cast
    if category == "N":
        return f"(({n}) % 30000 + 1){cast}"
    if category == "S":
        text = f"('rv' || ({n}))"
        if column.length is not None:
            text = f"right({text}, {column.length})"
        return text + cast
    if category == "B":
        return "true" + cast
    if category == "D":
        return f"(timestamp '2024-01-01' + interval '1 minute' * ({n})){cast}"
    if category == "T":
        return f"(interval '1 minute' * ({n})){cast}"
    if category == "A":
        return "'{}'" + cast
    if category == "I":
        return (
            f"('10.' || ({n}) / 65536 % 256 || '.' || ({n}) / 256 % 256 || '.' || ({n}) % 256)"
            f"::inet{cast}"
        )
    return None


def _parents_first(tables: list[Table], keys: list[ForeignKey]) -> list[Table]:
    """Tables ordered so a referenced table comes before the tables referencing it."""
    oids = {t.oid for t in tables}
    parents = {t.oid: {k.referenced for k in keys if k.table == t.oid} & oids for t in tables}
    ordered: list[Table] = []
    placed: set[int] = set()
    remaining = list(tables)
    while remaining:
        ready = [t for t in remaining if parents[t.oid] - {t.oid} <= placed]
        if not ready:  # a cycle of foreign keys: fill in any order, nullable keys help
            ready = remaining[:1]
        for table in ready:
            ordered.append(table)
            placed.add(table.oid)
            remaining.remove(table)
    return ordered
