"""Give every constraint and index the draft creates a name, so its downgrade can drop it.

An unnamed constraint gets a name PostgreSQL invents (`transactions_vendor_id_fkey`), and
Alembic's downgrade `drop_constraint(None, ...)` cannot find it: the rollback crashes. The
name comes from the MetaData's naming_convention when it covers the kind, else from the
seed's style (`fk_transactions_vendor_id`, `uq_<table>_<cols>`, `ck_<table>_<name>`,
`ix_<table>_<cols>`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops
from alembic.util.sqla_compat import constraint_name_string
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.sql.naming import ConventionDict

from revisor.naming import fit, seed_style

_PREFIX = {
    sa.ForeignKeyConstraint: "fk",
    sa.UniqueConstraint: "uq",
    sa.CheckConstraint: "ck",
    sa.Index: "ix",
}

_REAL_NAME = sa.text(
    """
    SELECT con.conname
    FROM pg_constraint con
    JOIN pg_class c ON c.oid = con.conrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relname = :table AND n.nspname = coalesce(:schema, current_schema())
      AND con.contype = :kind
      AND ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, i)
                JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num
                ORDER BY k.i) = CAST(:columns AS text[])
    """
)
_CONTYPE = {"foreignkey": "f", "unique": "u", "check": "c", "primary": "p"}


def walk(container: ops.OpContainer) -> Iterator[ops.MigrateOperation]:
    """Every op in `container`, descending into ModifyTableOps."""
    for op in container.ops:
        if isinstance(op, ops.OpContainer):
            yield from walk(op)
        else:
            yield op


def name_constraints(
    upgrade: ops.UpgradeOps, metadata: Sequence[MetaData], conn: Connection | None
) -> list[str]:
    """Name every unnamed constraint and index the upgrade creates; give unnamed drops the
    real name from pg_constraint. Mutates the ops; returns one line per change."""
    convention = _convention(metadata)
    changes: list[str] = []
    for op in walk(upgrade):
        if isinstance(op, ops.CreateTableOp):
            for item in op.columns:
                if isinstance(item, tuple(_PREFIX)) and not constraint_name_string(item.name):
                    item.name = constraint_name(item, item.table, convention)
                    changes.append(f"named {_describe(item)} on {op.table_name}: {item.name}")
        elif isinstance(op, ops.AddConstraintOp | ops.CreateIndexOp):
            attr = "index_name" if isinstance(op, ops.CreateIndexOp) else "constraint_name"
            if constraint_name_string(getattr(op, attr)) or isinstance(op, ops.CreatePrimaryKeyOp):
                continue
            built = op.to_index() if isinstance(op, ops.CreateIndexOp) else op.to_constraint()
            name = constraint_name(built, built.table, convention)
            setattr(op, attr, name)
            table = getattr(op, "table_name", None) or getattr(op, "source_table", "")
            changes.append(f"named {_describe(built)} on {table}: {name}")
        elif isinstance(op, ops.DropConstraintOp) and not constraint_name_string(
            op.constraint_name
        ):
            real = _real_name(conn, op)
            if real:
                op.constraint_name = real
                changes.append(f"drop of the unnamed constraint on {op.table_name} uses {real}")
    return changes


def constraint_name(item: Any, table: sa.Table | None, convention: dict[Any, str]) -> str:
    """The name the convention gives `item`, else the seed's style; at most 63 bytes."""
    prefix = next(p for cls, p in _PREFIX.items() if isinstance(item, cls))
    template = convention.get(prefix) or convention.get(type(item))
    if template and table is not None:
        try:
            return fit(template % ConventionDict(item, table, convention))
        except (sa.exc.InvalidRequestError, KeyError, TypeError):
            pass  # e.g. %(constraint_name)s on an unnamed constraint: use the seed's style
    table_name = table.name if table is not None else "table"
    if isinstance(item, sa.CheckConstraint):
        words = _check_columns(item, table) or ["check"]
    else:
        words = [str(c.name) for c in _columns(item)]
    return seed_style(prefix, table_name, words)


def _columns(item: Any) -> list[Any]:
    if isinstance(item, sa.ForeignKeyConstraint):
        return [element.parent for element in item.elements]
    return list(item.columns)


def _check_columns(item: sa.CheckConstraint, table: sa.Table | None) -> list[str]:
    """The table's column names the CHECK expression mentions, in the table's order."""
    text = str(item.sqltext)
    if table is None:
        return []
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
    return [c.name for c in table.columns if c.name in words]


def _convention(metadata: Sequence[MetaData]) -> dict[Any, str]:
    merged: dict[Any, str] = {}
    for meta in metadata:
        merged.update(meta.naming_convention)
    return merged


def _describe(item: Any) -> str:
    kind = {"fk": "foreign key", "uq": "unique constraint", "ck": "check constraint"}.get(
        next(p for cls, p in _PREFIX.items() if isinstance(item, cls)), "index"
    )
    if isinstance(item, sa.CheckConstraint):
        return kind
    return f"{kind} ({', '.join(str(c.name) for c in _columns(item))})"


def _real_name(conn: Connection | None, op: ops.DropConstraintOp) -> str | None:
    """The name PostgreSQL gave the constraint a None-named drop means (same table, kind and
    columns), read from pg_constraint; None when unknown or ambiguous."""
    reverse = op._reverse
    if conn is None or reverse is None or op.constraint_type not in _CONTYPE:
        return None
    constraint = reverse.to_constraint()
    columns = [str(c.name) for c in _columns(constraint)]
    rows = conn.execute(
        _REAL_NAME,
        {
            "table": op.table_name,
            "schema": op.schema,
            "kind": _CONTYPE[op.constraint_type],
            "columns": columns,
        },
    ).all()
    return str(rows[0][0]) if len(rows) == 1 else None
