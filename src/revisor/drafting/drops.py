"""Leave out drops nobody asked for: a table or column in the database but in no model.

Autogenerate reads "not in the models" as "drop it". Usually that means a model module
env.py does not import, a table owned by an extension or another app, or an
include_object filter that hides one side; the data would be lost on deploy. Such drops
stay out of the draft unless `--allow-drop TABLE[.COLUMN]` asks for them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy.engine import Connection

_EXTENSION = sa.text(
    """
    SELECT e.extname
    FROM pg_depend d
    JOIN pg_extension e ON e.oid = d.refobjid AND d.refclassid = 'pg_extension'::regclass
    JOIN pg_class c ON c.oid = d.objid AND d.classid = 'pg_class'::regclass
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE d.deptype = 'e' AND c.relname = :table
      AND n.nspname = coalesce(:schema, current_schema())
    """
)


@dataclass(frozen=True)
class LeftOutDrop:
    """A drop autogenerate wanted and the draft left out, with the likely reason."""

    kind: str  # "table" or "column"
    name: str  # "table" or "table.column"
    cause: str


def leave_out_drops(
    upgrade: ops.UpgradeOps,
    allowed: Collection[str],
    conn: Connection | None,
    source_roots: Iterable[Path] = (),
) -> list[LeftOutDrop]:
    """Remove unrequested drop_table / drop_column ops (and the index and constraint drops
    that only serve them) from `upgrade`. Mutates the ops; returns what was left out."""
    left_out: list[LeftOutDrop] = []
    kept_tables: set[tuple[str | None, str]] = set()
    roots = list(source_roots)
    for op in list(upgrade.ops):
        if isinstance(op, ops.DropTableOp) and not _allowed(allowed, op.schema, op.table_name):
            kept_tables.add((op.schema, op.table_name))
            upgrade.ops.remove(op)
            left_out.append(LeftOutDrop("table", op.table_name, _table_cause(conn, op, roots)))
    for op in list(upgrade.ops):
        if not isinstance(op, ops.ModifyTableOps):
            continue
        if (op.schema, op.table_name) in kept_tables:
            upgrade.ops.remove(op)  # its index/constraint drops belong to the kept table
            continue
        kept_columns = set()
        for inner in list(op.ops):
            if isinstance(inner, ops.DropColumnOp) and not _allowed(
                allowed, op.schema, op.table_name, inner.column_name
            ):
                kept_columns.add(inner.column_name)
                op.ops.remove(inner)
                left_out.append(
                    LeftOutDrop(
                        "column",
                        f"{op.table_name}.{inner.column_name}",
                        "the column is in the database but not in the model (removed from "
                        "the model, or added by hand or by another app?)",
                    )
                )
        for inner in list(op.ops):
            if _serves(inner, kept_columns):
                op.ops.remove(inner)
        if not op.ops:
            upgrade.ops.remove(op)
    for op in list(upgrade.ops):
        if isinstance(op, ops.DropIndexOp) and (op.schema, op.table_name) in kept_tables:
            upgrade.ops.remove(op)
    return left_out


def _allowed(allowed: Collection[str], schema: str | None, table: str, column: str = "") -> bool:
    names = {table, f"{schema}.{table}" if schema else table}
    if column:
        names = {f"{name}.{column}" for name in names}
    return bool(names & set(allowed))


def _serves(op: ops.MigrateOperation, columns: set[str]) -> bool:
    """An index or constraint drop touching only columns that are being kept."""
    if not columns or not isinstance(op, ops.DropIndexOp | ops.DropConstraintOp):
        return False
    reverse = op._reverse  # type: ignore[union-attr]
    if reverse is None:
        return False
    built = reverse.to_index() if isinstance(op, ops.DropIndexOp) else reverse.to_constraint()
    names = {getattr(c, "name", str(c)) for c in getattr(built, "columns", [])}
    return bool(names) and names <= columns


def _table_cause(conn: Connection | None, op: ops.DropTableOp, roots: list[Path]) -> str:
    if conn is not None:
        extension = conn.execute(_EXTENSION, {"table": op.table_name, "schema": op.schema}).scalar()
        if extension:
            return f"owned by the extension {extension!r}; exclude it with include_object"
    defined_in = _defining_file(op.table_name, roots)
    if defined_in is not None:
        return (
            f"a model in {defined_in} defines it, but env.py does not import that module "
            "(import it where target_metadata is built)"
        )
    return (
        "in the database but in no model: a model module env.py does not import, a table "
        "of another app (filter it with include_object), or a model removed on purpose "
        "(pass --allow-drop to drop it)"
    )


def _defining_file(table: str, roots: list[Path]) -> Path | None:
    """A project source file that names `table` as a table, outside the migrations."""
    pattern = re.compile(
        r"""(__tablename__\s*=\s*|Table\(\s*)["']""" + re.escape(table) + r"""["']"""
    )
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            parts = set(path.parts)
            if parts & {".venv", "venv", "site-packages", "versions", "node_modules"}:
                continue
            try:
                if pattern.search(path.read_text(errors="ignore")):
                    return path.relative_to(root)
            except OSError:
                continue
    return None
