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

from dataclasses import dataclass, field
from typing import Any

from revisor.snapshot.catalog import _not_extension_member, _qualified, _scope

ROWS_PER_TABLE = 2

_TABLES_SQL = f"""
SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname), {_qualified("c.relname")},
       a.attname, format_type(a.atttypid, a.atttypmod), bt.typname, bt.typcategory,
       a.attnotnull, ad.adbin IS NOT NULL OR a.attidentity <> '' OR a.attgenerated <> '',
       CASE WHEN a.atttypmod > 4 AND bt.typcategory = 'S' THEN a.atttypmod - 4 END,
       (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e
         WHERE e.enumtypid = bt.oid)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE c.relkind IN ('r', 'p') AND {_scope()} AND c.relname <> %(vt)s
  AND {_not_extension_member("pg_class", "c.oid")}
ORDER BY c.oid, a.attnum
"""

_FOREIGN_KEYS_SQL = f"""
SELECT co.conrelid, co.confrelid,
       quote_ident(rn.nspname) || '.' || quote_ident(r.relname),
       ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = co.conrelid
             AND attnum = ANY(co.conkey) ORDER BY array_position(co.conkey, attnum)),
       ARRAY(SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = co.confrelid
             AND attnum = ANY(co.confkey) ORDER BY array_position(co.confkey, attnum))
FROM pg_constraint co
JOIN pg_class c ON c.oid = co.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class r ON r.oid = co.confrelid
JOIN pg_namespace rn ON rn.oid = r.relnamespace
WHERE co.contype = 'f' AND {_scope()}
"""


@dataclass
class Column:
    name: str
    type: str  # format_type, used for casts
    base: str  # base type name (domains resolved)
    category: str  # pg_type.typcategory
    not_null: bool
    defaulted: bool  # default, identity or generated: PostgreSQL fills it
    length: int | None
    labels: list[str] | None


@dataclass
class Table:
    oid: int
    sql_name: str  # quoted, schema-qualified
    name: str  # plain words
    has_rows: bool
    columns: list[Column] = field(default_factory=list)

    @property
    def signature(self) -> tuple[Any, ...]:
        return (self.oid, tuple((c.name, c.type) for c in self.columns))


@dataclass
class ForeignKey:
    table: int
    referenced: int
    referenced_sql: str
    columns: list[str]
    referenced_columns: list[str]


def _exec(conn: Any, statement: str, params: dict[str, Any] | None = None) -> Any:
    # psycopg reads % as a placeholder marker even without parameters.
    if params is None:
        statement = statement.replace("%", "%%")
    return conn.exec_driver_sql(statement, params or ())


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class DataSeeder:
    """Fills tables that are empty or gained columns since revisor last filled them."""

    def __init__(self) -> None:
        self._seeded: dict[int, tuple[Any, ...]] = {}
        self._counter = 0
        self.skipped: set[str] = set()

    def tables(self, conn: Any, version_table: str = "alembic_version") -> list[Table]:
        """The user's tables with their columns and whether they hold rows. Read-only."""
        tables: dict[int, Table] = {}
        for row in _exec(conn, _TABLES_SQL, {"vt": version_table}).fetchall():
            oid, sql_name, name, *col = row
            table = tables.setdefault(oid, Table(oid, sql_name, name, False))
            table.columns.append(Column(*col))
        if tables:
            # Which tables hold rows, in one round trip (catalog statistics lag behind
            # uncommitted inserts, so ask the tables themselves).
            probe = " UNION ALL ".join(
                f"SELECT {t.oid} WHERE EXISTS (SELECT FROM {t.sql_name})" for t in tables.values()
            )
            for (oid,) in _exec(conn, probe).fetchall():
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

    def seed(self, conn: Any, *, version_table: str = "alembic_version") -> int:
        """Insert ROWS_PER_TABLE rows into each table that needs them, parents first.
        Returns the number of tables filled. Side effect: INSERTs (each in a savepoint, so a
        table that refuses rows leaves the transaction usable)."""
        tables = self.tables(conn, version_table)
        todo = {
            t.oid: t for t in tables if not t.has_rows or self._seeded.get(t.oid) != t.signature
        }
        if not todo:
            return 0
        keys = [
            ForeignKey(*row)
            for row in _exec(conn, _FOREIGN_KEYS_SQL, {"vt": version_table}).fetchall()
        ]
        filled = 0
        by_name = {t.name: t for t in tables}
        for table in _parents_first(list(todo.values()), keys):
            self._seeded[table.oid] = table.signature
            own = [k for k in keys if k.table == table.oid] + _implied_keys(table, by_name)
            if self._insert(conn, table, own):
                filled += 1
            else:
                self.skipped.add(table.name)
        return filled

    def _insert(self, conn: Any, table: Table, keys: list[ForeignKey]) -> bool:
        for required_only in (False, True):
            rows = []
            for _ in range(ROWS_PER_TABLE):
                self._counter += 1
                values = self._row(table, keys, self._counter, required_only=required_only)
                if values is None:
                    return False
                rows.append(values)
            names = [name for name, _ in rows[0]]
            if names:
                columns = ", ".join(_ident(n) for n in names)
                tuples = ", ".join("(" + ", ".join(v for _, v in row) + ")" for row in rows)
                statement = f"INSERT INTO {table.sql_name} ({columns}) VALUES {tuples}"
            else:
                statement = f"INSERT INTO {table.sql_name} DEFAULT VALUES"
            try:
                with conn.begin_nested():
                    for _ in range(1 if names else ROWS_PER_TABLE):
                        _exec(conn, statement)
                return True
            except Exception:
                continue
        return False

    def _row(
        self, table: Table, keys: list[ForeignKey], n: int, *, required_only: bool
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
                        f"LIMIT 1 OFFSET {n % ROWS_PER_TABLE}), (SELECT {ref} FROM "
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


def _value(column: Column, n: int) -> str | None:
    """A SQL literal of the column's type for row number n, or None if revisor has none."""
    cast = f"::{column.type}"
    base, category = column.base, column.category
    if column.labels:
        return _literal(column.labels[n % len(column.labels)]) + cast
    if base == "uuid":
        return f"md5('{n}')::uuid{cast}"
    if base in ("json", "jsonb"):
        return "'{}'" + cast
    if base == "bytea":
        return f"'\\x{n % 256:02x}'{cast}"
    if base == "tsvector":
        return "'revisor'" + cast
    if category == "N":
        return f"'{n % 30000 + 1}'{cast}"
    if category == "S":
        text = f"rv{n}"
        if column.length is not None:
            text = text[-column.length :]
        return _literal(text) + cast
    if category == "B":
        return "true" + cast
    if category == "D":
        return f"(timestamp '2024-01-01' + interval '{n} minutes'){cast}"
    if category == "T":
        return f"interval '{n} minutes'{cast}"
    if category == "A":
        return "'{}'" + cast
    if category == "I":
        return f"'10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}'{cast}"
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
