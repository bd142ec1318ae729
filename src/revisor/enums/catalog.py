"""What the database knows about its enum types: labels, the columns using them, and the
objects that would block replacing a type. Read-only catalog queries.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

_LABELS = sa.text(
    """
    SELECT n.nspname, t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)
    FROM pg_type t
    JOIN pg_enum e ON e.enumtypid = t.oid
    JOIN pg_namespace n ON n.oid = t.typnamespace
    GROUP BY n.nspname, t.typname
    """
)

# Plain and partitioned tables only: a partition follows its parent's ALTER COLUMN TYPE.
_COLUMNS = sa.text(
    """
    SELECT n.nspname, c.relname, a.attname, a.atttypid = t.typarray AS is_array,
           pg_get_expr(d.adbin, d.adrelid) AS default_expr
    FROM pg_type t
    JOIN pg_namespace tn ON tn.oid = t.typnamespace
    JOIN pg_attribute a ON a.atttypid IN (t.oid, t.typarray)
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE tn.nspname = :schema AND t.typname = :name
      AND a.attnum > 0 AND NOT a.attisdropped
      AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    ORDER BY n.nspname, c.relname, a.attnum
    """
)

# Objects other than table columns, their defaults and the type's own array type that
# depend on the enum: views (pg_rewrite), CHECK constraints, functions, domains, indexes
# with expressions. Each would make DROP TYPE of the old type fail mid-migration.
_BLOCKERS = sa.text(
    """
    SELECT DISTINCT pg_describe_object(dep.classid, dep.objid, dep.objsubid)
    FROM pg_type t
    JOIN pg_namespace tn ON tn.oid = t.typnamespace
    JOIN pg_depend dep ON dep.refobjid IN (t.oid, t.typarray)
         AND dep.refclassid = 'pg_type'::regclass
    LEFT JOIN pg_class c ON dep.classid = 'pg_class'::regclass AND c.oid = dep.objid
    WHERE tn.nspname = :schema AND t.typname = :name
      AND dep.deptype = 'n'
      AND dep.classid <> 'pg_attrdef'::regclass
      AND NOT (dep.classid = 'pg_class'::regclass AND c.relkind IN ('r', 'p')
               AND dep.objsubid > 0)
      AND NOT (dep.classid = 'pg_type'::regclass AND dep.objid = t.typarray)
    ORDER BY 1
    """
)


@dataclass(frozen=True)
class EnumColumn:
    """A table column typed with an enum (or an array of it), with its default."""

    schema: str | None
    table: str
    column: str
    is_array: bool = False
    default: str | None = None  # pg_get_expr text, e.g. 'MONTHLY'::billing_cycle


def enum_labels(conn: Connection) -> dict[tuple[str | None, str], tuple[str, ...]]:
    """{(schema, type name): labels in sort order} for every enum type in the database."""
    return {(schema, name): tuple(labels) for schema, name, labels in conn.execute(_LABELS).all()}


def enum_columns(conn: Connection, schema: str, name: str) -> list[EnumColumn]:
    """Every table column whose type is `schema.name` or an array of it, models or not."""
    rows = conn.execute(_COLUMNS, {"schema": schema, "name": name}).all()
    return [EnumColumn(r[0], r[1], r[2], bool(r[3]), r[4]) for r in rows]


def enum_blockers(conn: Connection, schema: str, name: str) -> list[str]:
    """Descriptions ("view active_subs", "constraint ck on table t") of the objects that
    depend on the type and would stop it from being replaced."""
    return [row[0] for row in conn.execute(_BLOCKERS, {"schema": schema, "name": name}).all()]


def default_labels(default: str | None) -> tuple[str, ...] | None:
    """The labels a column default names: ('MONTHLY',) for 'MONTHLY'::billing_cycle, and the
    items of an array literal for '{A,B}'::t[]. None when the default is not a literal.
    Read from PostgreSQL's parse tree (pg_get_expr's text), so quotes inside a label are
    the server's own ('it''s' is it's)."""
    from revisor.sqltree import expression

    node = expression(default)
    cast = node.get("TypeCast") if node else None
    if cast is None:
        return None
    array = bool(cast.get("typeName", {}).get("arrayBounds"))
    inner = cast.get("arg", {})
    while "TypeCast" in inner:  # 'a'::text::t
        inner = inner["TypeCast"].get("arg", {})
    value = inner.get("A_Const", {}).get("sval")
    if not isinstance(value, dict):
        return None
    text = value.get("sval", "")
    return parse_array_literal(text) if array else (text,)


def parse_array_literal(text: str) -> tuple[str, ...] | None:
    """Items of a one-dimensional PostgreSQL array literal ('{a,"b c"}'), else None."""
    if not (text.startswith("{") and text.endswith("}")):
        return None
    body = text[1:-1]
    items: list[str] = []
    index = 0
    while index < len(body):
        if body[index] == '"':
            index += 1
            chunk: list[str] = []
            while body[index] != '"':
                if body[index] == "\\":
                    index += 1
                chunk.append(body[index])
                index += 1
            items.append("".join(chunk))
            index += 1
        else:
            end = body.find(",", index)
            end = len(body) if end < 0 else end
            items.append(body[index:end])
            index = end
        if index < len(body) and body[index] == ",":
            index += 1
    return tuple(items)
