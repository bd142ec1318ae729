"""Let PostgreSQL itself normalise a model's CHECK expression or index definition.

`pg_get_constraintdef` / `pg_get_indexdef` print `price > 0` as `CHECK ((price > 0))` and an
index as `USING btree (name) WHERE active`; text rules cannot predict every cast and
parenthesis PostgreSQL adds. So the probe creates an empty temporary copy of the table
(`CREATE TEMP TABLE ... (LIKE t)`), adds the model's CHECK or index to it inside a
savepoint, reads back PostgreSQL's definition, and rolls the savepoint back.

Side effects: temporary tables in the caller's transaction, which the caller rolls back;
nothing is ever written to the real tables. When the server refuses (no TEMP privilege, a
read-only standby, an expression naming a column the table lacks) the probe returns None
and the caller falls back to `normalise_text`.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Index, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]
_PREPARER = _DIALECT.identifier_preparer


class Probe:
    """Temporary copies of tables in one transaction, created on first use."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._copies: dict[tuple[str, str], str | None] = {}

    def _copy(self, schema: str, table: str) -> str | None:
        key = (schema, table)
        if key not in self._copies:
            name = f"revisor_probe_{len(self._copies) + 1}"
            source = f"{_PREPARER.quote(schema)}.{_PREPARER.quote(table)}"
            ok = self._run(f"CREATE TEMP TABLE {name} (LIKE {source}) ON COMMIT DROP", keep=True)
            self._copies[key] = name if ok else None
        return self._copies[key]

    def _run(self, statement: str, *, keep: bool = False, query: str | None = None) -> Any:
        """Run `statement` in a savepoint; return True (or `query`'s scalar), None on error.
        The savepoint is rolled back unless `keep`."""
        savepoint = self.connection.begin_nested()
        try:
            # exec_driver_sql passes an empty parameter list, so the driver reads `%` as a
            # placeholder: a model's `LIKE 'a%'` or default '50%' needs it doubled
            self.connection.exec_driver_sql(statement.replace("%", "%%"))
            result: Any = True
            if query is not None:
                result = self.connection.exec_driver_sql(query).scalar()
        except sa.exc.DBAPIError:
            savepoint.rollback()
            return None
        if keep:
            savepoint.commit()
        else:
            savepoint.rollback()
        return result

    def check_definition(self, schema: str, table: str, expression: str) -> str | None:
        """PostgreSQL's text for `CHECK (expression)` on `schema.table`, or None."""
        copy = self._copy(schema, table)
        if copy is None:
            return None
        definition = self._run(
            f"ALTER TABLE {copy} ADD CONSTRAINT revisor_probe_check CHECK ({expression}) NOT VALID",
            query=(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = "
                f"'{copy}'::regclass AND conname = 'revisor_probe_check'"
            ),
        )
        return strip_not_valid(definition) if definition else None

    def default_definition(self, schema: str, table: str, column: str, default: str) -> str | None:
        """PostgreSQL's text (`pg_get_expr`) for `DEFAULT default` on the column, or None."""
        copy = self._copy(schema, table)
        if copy is None:
            return None
        quoted = _PREPARER.quote(column)
        return self._run(
            f"ALTER TABLE {copy} ALTER COLUMN {quoted} SET DEFAULT {default}",
            query=(
                "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a "
                "ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
                f"WHERE d.adrelid = '{copy}'::regclass "
                f"AND a.attname = '{column.replace(chr(39), chr(39) * 2)}'"
            ),
        )

    def column_default(self, schema: str, table: str, column: str) -> str | None:
        """PostgreSQL's text (`pg_get_expr`) for the column's DEFAULT in the real table,
        or None. Read from the catalog: Alembic's reflected text is not reliable for
        strings holding `%` or `:word`."""
        query = sa.text(
            "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a "
            "ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
            "WHERE d.adrelid = to_regclass(:relation) AND a.attname = :column"
        )
        relation = f"{_PREPARER.quote(schema)}.{_PREPARER.quote(table)}"
        value = self.connection.execute(query, {"relation": relation, "column": column})
        return value.scalar()  # type: ignore[no-any-return]

    def type_definition(self, schema: str, table: str, type_sql: str) -> str | None:
        """PostgreSQL's `format_type` for a column declared `type_sql`, or None."""
        copy = self._copy(schema, table)
        if copy is None:
            return None
        return self._run(
            f"ALTER TABLE {copy} ADD COLUMN revisor_probe_column {type_sql}",
            query=(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                f"WHERE attrelid = '{copy}'::regclass AND attname = 'revisor_probe_column'"
            ),
        )

    def index_definition(self, schema: str, index: Index) -> str | None:
        """PostgreSQL's `pg_get_indexdef` for the model `index` built on a copy of its
        table, reduced by `index_signature`; None when it cannot be built."""
        table = index.table
        if not isinstance(table, Table):
            return None
        copy = self._copy(schema, table.name)
        if copy is None:
            return None
        ddl = str(CreateIndex(index).compile(dialect=_DIALECT))
        ddl = ddl.replace("CREATE INDEX CONCURRENTLY", "CREATE INDEX", 1)
        ddl = ddl.replace("CREATE UNIQUE INDEX CONCURRENTLY", "CREATE UNIQUE INDEX", 1)
        target = f" ON {_PREPARER.format_table(table)} "
        if target not in ddl:
            return None
        ddl = ddl.replace(target, f" ON {copy} ", 1)
        definition = self._run(
            ddl,
            query=(
                "SELECT pg_get_indexdef(indexrelid) FROM pg_index "
                f"WHERE indrelid = '{copy}'::regclass"
            ),
        )
        return index_signature(definition) if definition else None


def strip_not_valid(definition: str) -> str:
    """A CHECK's definition without NOT VALID: a constraint added NOT VALID and validated
    later is the same rule (the usual way to add one without a long lock).
    pg_get_constraintdef appends exactly " NOT VALID" to an unvalidated constraint
    (ruleutils.c); no definition of a validated one ends that way (it ends in ")")."""
    return definition.strip().removesuffix(" NOT VALID")


def index_signature(indexdef: str) -> str:
    """`pg_get_indexdef` text without the index and table names:
    `UNIQUE USING btree (a, b) WHERE (x > 0)`."""
    unique = "UNIQUE " if indexdef.startswith("CREATE UNIQUE INDEX") else ""
    _, _, tail = indexdef.partition(" USING ")
    return f"{unique}USING {tail}".strip()


def normalise_text(expression: str) -> str:
    """A canonical form of a CHECK expression (or pg_get_constraintdef's `CHECK (...)`)
    for when the probe is refused: PostgreSQL's parse tree without positions and casts,
    so `CHECK ((price > (0)::numeric))` equals `price > 0` while `"Name"` and `name` stay
    different (the server folds the unquoted one). Text that does not parse is compared
    as written, spaces aside."""
    from revisor import sqltree

    text = strip_not_valid(expression)
    tree: object = None
    if text[:5].upper() == "CHECK":
        try:
            statements = sqltree.parse(f"ALTER TABLE t ADD {text}")
            command = statements[0]["stmt"]["AlterTableStmt"]["cmds"][0]["AlterTableCmd"]
            tree = command["def"]["Constraint"].get("raw_expr")
        except (sqltree.SqlSyntaxError, KeyError, IndexError):
            tree = None
    else:
        tree = sqltree.expression(text)
    if tree is None:
        return " ".join(text.split())
    return json.dumps(_without_casts(tree), sort_keys=True)


def _without_casts(node: object) -> object:
    """`node` without source positions, each `x::type` replaced by `x`."""
    if isinstance(node, list):
        return [_without_casts(item) for item in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1 and "TypeCast" in node:
        return _without_casts(node["TypeCast"].get("arg"))
    return {key: _without_casts(value) for key, value in node.items() if key != "location"}
