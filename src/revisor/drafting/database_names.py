"""Leave out a unique constraint that autogenerate drops and re-adds only to rename it.

Alembic compares unique constraints by name. Models that gained a naming convention after
their history let PostgreSQL name the constraints (`vendors_code_key`), as `revisor init`
does to an existing project, now name them `uq_vendors_code`: every autogenerate then
writes a DROP CONSTRAINT + ADD CONSTRAINT pair per constraint, which rebuilds its unique
index under an ACCESS EXCLUSIVE lock and changes nothing but the name. The pair is left
out; the database keeps its name (foreign keys, checks and primary keys autogenerate
compares by their columns, so only unique constraints get here).
"""

from __future__ import annotations

from alembic.operations import ops


def keep_database_names(container: ops.OpContainer) -> list[str]:
    """Remove each drop + add pair of a unique constraint that differs only in its name
    from `container` (descending into its per-table groups). Mutates the ops; returns one
    line per pair left out."""
    changes: list[str] = []
    for op in list(container.ops):
        if isinstance(op, ops.OpContainer):
            changes.extend(keep_database_names(op))
            if not op.ops:
                container.ops.remove(op)
    drops = [op for op in container.ops if _dropped_unique(op) is not None]
    for drop in drops:
        reflected = _dropped_unique(drop)
        assert reflected is not None
        added = next(
            (
                op
                for op in container.ops
                if isinstance(op, ops.CreateUniqueConstraintOp) and _same(op, reflected)
            ),
            None,
        )
        if added is None:
            continue
        container.ops.remove(drop)
        container.ops.remove(added)
        changes.append(
            f"kept unique constraint {drop.constraint_name} on {drop.table_name}: the models "
            f"name it {added.constraint_name} (naming convention), the columns are the same; "
            "dropping and re-adding it would rebuild its index under a lock for a name"
        )
    return changes


def _dropped_unique(op: ops.MigrateOperation) -> ops.CreateUniqueConstraintOp | None:
    """The reflected unique constraint a DropConstraintOp from autogenerate removes."""
    if not isinstance(op, ops.DropConstraintOp) or op.constraint_type != "unique":
        return None
    reverse = getattr(op, "_reverse", None)
    return reverse if isinstance(reverse, ops.CreateUniqueConstraintOp) else None


def _same(added: ops.CreateUniqueConstraintOp, reflected: ops.CreateUniqueConstraintOp) -> bool:
    if added.constraint_name == reflected.constraint_name:
        return False  # a real change of the same constraint: not a rename
    return (
        added.table_name == reflected.table_name
        and added.schema == reflected.schema
        and list(added.columns) == list(reflected.columns)
        and _options(added) == _options(reflected)
    )


def _options(op: ops.CreateUniqueConstraintOp) -> tuple[bool, bool, object]:
    kw = op.kw or {}
    return (
        bool(kw.get("postgresql_nulls_not_distinct")),
        bool(kw.get("deferrable")),
        kw.get("initially"),
    )
