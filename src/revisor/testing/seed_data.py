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

from revisor.db.temp_function import TempQuery
from revisor.snapshot.catalog import _not_extension_member, _qualified, _scope

ROWS_PER_TABLE = 2

_TABLES_SQL = f"""
SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname), {_qualified("c.relname")},
       a.attname, format_type(a.atttypid, a.atttypmod), bt.typname, bt.typcategory,
       a.attnotnull, ad.adbin IS NOT NULL OR a.attidentity <> '' OR a.attgenerated <> '',
       CASE WHEN a.atttypmod > 4 AND bt.typcategory = 'S' THEN a.atttypmod - 4 END,
       CASE WHEN bt.typtype = 'e' THEN
           (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e
             WHERE e.enumtypid = bt.oid) END
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE c.oid = ANY(%(oids)s)
ORDER BY c.oid, a.attnum
"""

_TABLES_COLUMNS = (
    "oid",
    "text",
    "text",
    "name",
    "text",
    "name",
    '"char"',
    "bool",
    "bool",
    "integer",
    "name[]",
)

# One row per table: how many attribute and default rows it has, the newest version of them
# and of its pg_class row (xmin: the writing transaction, cmin: the command in it), so a
# table renamed or whose columns changed in any way shows a new version, and only those
# tables are read in full.
_VERSION = "x.xmin::text::bigint * 4294967296 + x.cmin::text::bigint"
_TABLE_VERSIONS_SQL = f"""
SELECT c.oid, count(*)::text || ':' || max({_VERSION})::text || ':'
       || min(c.xmin::text::bigint * 4294967296 + c.cmin::text::bigint)::text || ':' || coalesce(
         (SELECT count(*)::text || ':' || max({_VERSION})::text
            FROM pg_attrdef x WHERE x.adrelid = c.oid), '')
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute x ON x.attrelid = c.oid
WHERE c.relkind IN ('r', 'p') AND {_scope()} AND c.relname <> %(vt)s
  AND {_not_extension_member("pg_class", "c.oid")}
GROUP BY c.oid
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


class _CatalogQueries:
    """The seeder's catalog reads, each kept as a function in pg_temp (their plans would
    otherwise be dropped by psycopg at nearly every migration step)."""

    def __init__(self, version_table: str) -> None:
        vt = {"vt": version_table}
        self.versions = TempQuery(
            "revisor_seed_versions", _TABLE_VERSIONS_SQL, columns=("oid", "text"), constants=vt
        )
        self.tables = TempQuery(
            "revisor_seed_tables",
            _TABLES_SQL,
            columns=_TABLES_COLUMNS,
            arguments={"oids": "oid[]"},
        )
        self.foreign_keys = TempQuery(
            "revisor_seed_foreign_keys",
            _FOREIGN_KEYS_SQL,
            columns=("oid", "oid", "text", "name[]", "text[]"),
        )


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
        self._known: dict[int, tuple[str, Table]] = {}  # oid -> (version, columns)
        self._filled: set[tuple[Any, ...]] = set()  # signatures of tables revisor filled
        self._counter = 0
        self.skipped: set[str] = set()
        self._queries: dict[str, _CatalogQueries] = {}

    def _catalog(self, version_table: str) -> _CatalogQueries:
        queries = self._queries.get(version_table)
        if queries is None:
            queries = self._queries[version_table] = _CatalogQueries(version_table)
        return queries

    def tables(self, conn: Any, version_table: str = "alembic_version") -> list[Table]:
        """The user's tables with their columns and whether they hold rows. Read-only.
        Only tables whose columns changed since the last call are read in full."""
        catalog = self._catalog(version_table)
        versions = dict(catalog.versions(conn))
        stale = [oid for oid, v in versions.items() if self._known.get(oid, ("",))[0] != v]
        if stale:
            read: dict[int, Table] = {}
            for row in catalog.tables(conn, {"oids": stale}):
                oid, sql_name, name, *col = row
                table = read.setdefault(oid, Table(oid, sql_name, name, False))
                table.columns.append(Column(*col))
            for oid in stale:
                if oid in read:
                    self._known[oid] = (versions[oid], read[oid])
        for oid in set(self._known) - set(versions):
            del self._known[oid]
        tables = {
            oid: Table(known.oid, known.sql_name, known.name, False, known.columns)
            for oid, (_, known) in self._known.items()
        }
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
            driver = getattr(getattr(conn, "connection", None), "driver_connection", conn)
            for (oid,) in driver.execute(probe).fetchall():
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
        `has_rows` updated. Side effect: INSERTs (each in a savepoint, so a table that
        refuses rows leaves the transaction usable)."""
        if tables is None:
            tables = self.tables(conn, version_table)
        todo = {
            t.oid: t for t in tables if not t.has_rows or self._seeded.get(t.oid) != t.signature
        }
        if not todo:
            return tables
        keys = [ForeignKey(*row) for row in self._catalog(version_table).foreign_keys(conn)]
        by_name = {t.name: t for t in tables}
        for table in _parents_first(list(todo.values()), keys):
            self._seeded[table.oid] = table.signature
            own = [k for k in keys if k.table == table.oid] + _implied_keys(table, by_name)
            if self._insert(conn, table, own):
                table.has_rows = True
                self._filled.add(table.signature)
            else:
                self.skipped.add(table.name)
        return tables

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
