"""What the sample-row seeder knows of the user's tables, read from pg_catalog: columns
typed for literals, foreign keys, and a version per table so that only the tables that
changed since the last read are read again.

The reads run between migration steps, hundreds of times per `revisor test`, so they are
kept as functions in pg_temp (`revisor.db.temp_function`): psycopg would otherwise drop
their prepared plans at nearly every step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from revisor.db.temp_function import TempQuery
from revisor.snapshot.catalog import _not_extension_member, _qualified, _scope


def _version(alias: str) -> str:
    # The version of a catalog row: its writing transaction (xmin) and the command in that
    # transaction (cmin). A new or updated row always gets a higher one than every row
    # before it.
    return f"({alias}.xmin::text::bigint * 4294967296 + {alias}.cmin::text::bigint)"


# One row per table (with at least one column): how many columns and foreign keys it has
# and the newest version of those rows and of its pg_class row. A table renamed, whose
# columns or foreign keys changed in any way shows a new version (a change adds or rewrites
# a row, so the newest version moves; a removal lowers a count), and only those tables are
# read in full. Defaults need no version of their own: adding or dropping one rewrites the
# column's row (atthasdef), and which expression it is does not matter here.
_TABLE_VERSIONS_SQL = f"""
SELECT c.oid, count(*)::text || ':' || max({_version("a")})::text || ':'
       || min({_version("c")})::text || ':' || coalesce(min(k.version), '')
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
LEFT JOIN (SELECT k.conrelid, count(*)::text || ':' || max({_version("k")})::text AS version
           FROM pg_constraint k WHERE k.contype = 'f' GROUP BY k.conrelid) k
       ON k.conrelid = c.oid
WHERE c.relkind IN ('r', 'p') AND {_scope()} AND c.relname <> %(vt)s
  AND {_not_extension_member("pg_class", "c.oid")}
GROUP BY c.oid
"""

# The tables asked for, one row per column, with the table's foreign keys (as JSON text,
# repeated on each of its rows): the referenced table by oid and attribute numbers, so a
# later rename of the referenced table or its columns is taken from that table's own
# (re-read) entry, and by the names it has now.
_TABLES_SQL = f"""
WITH fk AS (
  SELECT co.conrelid, json_agg(json_build_array(
           co.confrelid::bigint,
           ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = co.conrelid
                 AND attnum = ANY(co.conkey) ORDER BY array_position(co.conkey, attnum)),
           co.confkey,
           quote_ident(rn.nspname) || '.' || quote_ident(r.relname),
           ARRAY(SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = co.confrelid
                 AND attnum = ANY(co.confkey) ORDER BY array_position(co.confkey, attnum))
         ) ORDER BY co.conname COLLATE "C")::text AS keys
  FROM pg_constraint co
  JOIN pg_class r ON r.oid = co.confrelid
  JOIN pg_namespace rn ON rn.oid = r.relnamespace
  WHERE co.conrelid = ANY(%(oids)s) AND co.contype = 'f'
  GROUP BY co.conrelid
)
SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname), {_qualified("c.relname")},
       a.attname, format_type(a.atttypid, a.atttypmod), bt.typname, bt.typcategory,
       a.attnotnull, ad.adbin IS NOT NULL OR a.attidentity <> '' OR a.attgenerated <> '',
       CASE WHEN a.atttypmod > 4 AND bt.typcategory = 'S' THEN a.atttypmod - 4 END,
       CASE WHEN bt.typtype = 'e' THEN
           (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e
             WHERE e.enumtypid = bt.oid) END,
       a.attnum, fk.keys
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN fk ON fk.conrelid = c.oid
WHERE c.oid = ANY(%(oids)s)
ORDER BY c.oid, a.attnum
"""
# The SQL types of its columns, as the query yields them (a function's rows must match).
_TABLES_TYPES = ("oid", "text", "text", "name", "text", "name", '"char"', "bool", "bool")
_TABLES_TYPES += ("integer", "name[]", "smallint", "text")


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
    number: int = 0  # pg_attribute.attnum


@dataclass(frozen=True)
class _KeyAsRead:
    """A foreign key of a table as read with it; names of the referenced side as of then."""

    referenced: int
    columns: list[str]
    referenced_numbers: list[int]
    referenced_sql: str
    referenced_columns: list[str]


@dataclass
class Table:
    oid: int
    sql_name: str  # quoted, schema-qualified
    name: str  # plain words
    has_rows: bool
    columns: list[Column] = field(default_factory=list)
    keys: list[_KeyAsRead] = field(default_factory=list)
    _signature: tuple[Any, ...] | None = field(default=None, repr=False, compare=False)

    @property
    def signature(self) -> tuple[Any, ...]:
        """The oid and (name, type) of each column: what revisor's rows were made for."""
        # Asked for every table at every step: computed once per table as read.
        if self._signature is None:
            self._signature = (self.oid, tuple((c.name, c.type) for c in self.columns))
        return self._signature


@dataclass
class ForeignKey:
    table: int
    referenced: int
    referenced_sql: str
    columns: list[str]
    referenced_columns: list[str]


class TableCatalog:
    """The user's tables on one connection at a time, re-read only where they changed."""

    def __init__(self, version_table: str = "alembic_version") -> None:
        self._versions = TempQuery(
            "revisor_seed_versions",
            _TABLE_VERSIONS_SQL,
            columns=("oid", "text"),
            constants={"vt": version_table},
        )
        self._tables = TempQuery(
            "revisor_seed_tables",
            _TABLES_SQL,
            columns=_TABLES_TYPES,
            arguments={"oids": "oid[]"},
        )
        self._known: dict[int, tuple[str, Table]] = {}  # oid -> (version, table)

    def read(self, conn: Any) -> dict[int, Table]:
        """{oid: table} for every user table with at least one column, `has_rows` False
        (new objects: callers may change them). One round trip, two when a table changed.
        Read-only, apart from creating the temporary functions on a connection."""
        versions = dict(self._versions(conn))
        stale = [oid for oid, v in versions.items() if self._known.get(oid, ("",))[0] != v]
        if stale:
            read: dict[int, Table] = {}
            for oid, sql_name, name, *column, keys in self._tables(conn, {"oids": stale}):
                table = read.get(oid)
                if table is None:
                    table = read[oid] = Table(oid, sql_name, name, False, keys=_keys(keys))
                table.columns.append(Column(*column))
            for oid in stale:
                if oid in read:
                    self._known[oid] = (versions[oid], read[oid])
        for oid in set(self._known) - set(versions):
            del self._known[oid]
        return {
            oid: Table(t.oid, t.sql_name, t.name, False, t.columns, t.keys, t.signature)
            for oid, (_, t) in self._known.items()
        }


def _keys(text: str | None) -> list[_KeyAsRead]:
    return [_KeyAsRead(*key) for key in json.loads(text)] if text else []


def foreign_keys(table: Table, tables: dict[int, Table]) -> list[ForeignKey]:
    """The table's foreign keys, the referenced side named as it is now: from the
    referenced table's current entry when it is one of `tables` (a table renamed after
    `table` was read), else as read."""
    found = []
    for key in table.keys:
        referenced_sql, referenced_columns = key.referenced_sql, key.referenced_columns
        target = tables.get(key.referenced)
        if target is not None:
            names = {c.number: c.name for c in target.columns}
            if all(n in names for n in key.referenced_numbers):
                referenced_sql = target.sql_name
                referenced_columns = [_quote_ident(names[n]) for n in key.referenced_numbers]
        found.append(
            ForeignKey(table.oid, key.referenced, referenced_sql, key.columns, referenced_columns)
        )
    return found


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
