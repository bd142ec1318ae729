"""Give every constraint and index the draft creates a name, so its downgrade can drop it.

An unnamed constraint gets a name PostgreSQL invents (`transactions_vendor_id_fkey`), and
Alembic's downgrade `drop_constraint(None, ...)` cannot find it: the rollback crashes. The
name is the one `revisor.naming` asks SQLAlchemy for — the MetaData's naming_convention
where it covers the kind, else the seed's style (`fk_transactions_vendor_id`,
`uq_<table>_<cols>`, `ck_<table>_<columns it checks>`) — the same name `review --fix`
writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops
from alembic.util.sqla_compat import constraint_name_string
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from revisor import naming
from revisor.naming import shape_of

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
    convention = naming.convention_of(metadata)
    changes: list[str] = []
    for op in walk(upgrade):
        if isinstance(op, ops.CreateTableOp):
            for item in op.columns:
                if isinstance(item, tuple(_PREFIX)) and not constraint_name_string(item.name):
                    item.name, note = constraint_name(item, convention)
                    changes.append(f"named {_describe(item)} on {op.table_name}: {item.name}{note}")
        elif isinstance(op, ops.AddConstraintOp | ops.CreateIndexOp):
            attr = "index_name" if isinstance(op, ops.CreateIndexOp) else "constraint_name"
            if constraint_name_string(getattr(op, attr)) or isinstance(op, ops.CreatePrimaryKeyOp):
                continue
            built = op.to_index() if isinstance(op, ops.CreateIndexOp) else op.to_constraint()
            name, note = constraint_name(built, convention)
            setattr(op, attr, name)
            table = getattr(op, "table_name", None) or getattr(op, "source_table", "")
            changes.append(f"named {_describe(built)} on {table}: {name}{note}")
        elif isinstance(op, ops.DropConstraintOp) and not constraint_name_string(
            op.constraint_name
        ):
            real = _real_name(conn, op)
            if real:
                op.constraint_name = real
                changes.append(f"drop of the unnamed constraint on {op.table_name} uses {real}")
    return changes


def constraint_name(item: Any, convention: dict[str, Any]) -> tuple[str, str]:
    """The name `item` (attached to its table) gets — the one `review --fix` gives the
    same constraint — and a note when the project's template could not name it and the
    seed's style did instead."""
    shape = shape_of(item)
    try:
        return naming.constraint_name(shape, convention), ""
    except naming.ConventionNotApplicable as exc:
        return naming.seed_name(shape), f" (in the seed's style: {exc})"


def _columns(item: Any) -> list[Any]:
    if isinstance(item, sa.ForeignKeyConstraint):
        return [element.parent for element in item.elements]
    return list(item.columns)


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
