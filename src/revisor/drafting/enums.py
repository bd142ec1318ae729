"""Put the enum changes autogenerate misses into the draft, and take the type lifecycle
out of SQLAlchemy's implicit hands.

Upgrade order: new types, then per changed type its renames and its additions or
replacement, then autogenerate's own ops. The downgrade is the exact reverse, so columns
a migration adds are dropped before their type changes back or goes away.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy import MetaData
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from revisor.drafting.errors import DraftBlocked
from revisor.drafting.naming import walk
from revisor.drafting.source import comment
from revisor.enums.catalog import (
    EnumColumn,
    default_labels,
    enum_blockers,
    enum_columns,
    enum_labels,
)
from revisor.enums.detect import (
    EnumChange,
    StorageMismatch,
    compare_enums,
    enum_of,
    model_enums,
)
from revisor.enums.ops import (
    AddEnumValuesOp,
    AlterColumnUsingOp,
    CreateEnumTypeOp,
    DropEnumTypeOp,
    RecreateEnumOp,
    RenameEnumValueOp,
    ident,
    qualified,
    with_default,
)


@dataclass
class EnumPlan:
    """What the enum step added to the draft, for the summary."""

    changes: list[str] = field(default_factory=list)
    mismatches: list[StorageMismatch] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def plan_enums(
    upgrade: ops.UpgradeOps,
    metadata: Sequence[MetaData],
    conn: Connection,
    declared_renames: Mapping[str, Mapping[str, str]],
    include_object: Callable[..., bool] | None = None,
    guess_by_position: bool = True,
) -> EnumPlan:
    """Compare the models' enums with pg_enum and prepend the ops that reconcile them.

    Reads the catalog on `conn`; mutates `upgrade`. Raises DraftBlocked when a type must be
    replaced but a view, CHECK constraint or function depends on it.
    """
    plan = EnumPlan()
    default_schema = str(conn.execute(sa.text("SELECT current_schema()")).scalar())

    def keep(table: sa.Table) -> bool:
        # env.py's include_object decides for enum columns too, as for the table itself
        return include_object is None or bool(
            include_object(table, table.name, "table", False, None)
        )

    models = model_enums(metadata, keep)
    comparison = compare_enums(
        models,
        enum_labels(conn),
        declared_renames=declared_renames,
        default_schema=default_schema,
        guess_by_position=guess_by_position,
    )
    used = _types_used_by(upgrade)
    front: list[ops.MigrateOperation] = []
    for model in comparison.created:
        if model.name not in used:
            continue
        front.append(CreateEnumTypeOp(model.name, model.schema, model.labels))
        plan.changes.append(f"create enum type {model.name} ({', '.join(model.labels)})")
    for change in comparison.changed:
        front.extend(_change_ops(change, conn, change.schema or default_schema, plan))
    plan.mismatches = comparison.mismatches
    _drop_enum_type_alters(upgrade)
    for where in manage_types(upgrade):
        plan.changes.append(f"{where}: enum type managed by the draft (create_type=False)")
    for where in cast_enum_alters(upgrade):
        plan.changes.append(f"{where}: converted to the enum type through text (USING)")
    back = _orphaned_types(upgrade, conn, models, default_schema)
    for op in back:
        plan.changes.append(f"drop enum type {op.name}: no column uses it any more")
    upgrade.ops[:0] = front
    upgrade.ops.extend(back)
    return plan


def _leaves_its_enum(op: ops.MigrateOperation) -> bool:
    """An alter_column from an enum type to another type."""
    if not isinstance(op, ops.AlterColumnOp) or op.modify_type is None:
        return False
    old = enum_of(op.existing_type) if op.existing_type is not None else None
    new = enum_of(op.modify_type)
    return old is not None and (new is None or new.name != old.name)


def _orphaned_types(
    upgrade: ops.UpgradeOps, conn: Connection, models: Sequence[Any], default_schema: str
) -> list[DropEnumTypeOp]:
    """Database enum types no model uses whose every column this upgrade drops: Alembic's
    drop_table leaves such a type behind (and the downgrade's create_table then fails)."""
    modelled = {(m.schema or default_schema, m.name) for m in models}
    dropped_tables = {
        (op.schema or default_schema, op.table_name)
        for op in upgrade.ops
        if isinstance(op, ops.DropTableOp)
    }
    dropped_columns = {
        (container.schema or default_schema, container.table_name, op.column_name)
        for container in upgrade.ops
        if isinstance(container, ops.ModifyTableOps)
        for op in container.ops
        if isinstance(op, ops.DropColumnOp) or _leaves_its_enum(op)
    }
    out: list[DropEnumTypeOp] = []
    if not dropped_tables and not dropped_columns:
        return out
    for (schema, name), labels in enum_labels(conn).items():
        if (schema, name) in modelled:
            continue
        columns = enum_columns(conn, str(schema), name)
        if columns and all(
            (c.schema, c.table) in dropped_tables
            or (c.schema, c.table, c.column) in dropped_columns
            for c in columns
        ):
            out.append(DropEnumTypeOp(name, None if schema == default_schema else schema, labels))
    return out


def _change_ops(
    change: EnumChange, conn: Connection, schema: str, plan: EnumPlan
) -> list[ops.MigrateOperation]:
    out: list[ops.MigrateOperation] = []
    if change.renames:
        out.append(comment(_rename_note(change)))
    for old, new in change.renames:
        out.append(RenameEnumValueOp(change.name, change.schema, old, new))
        plan.changes.append(f"enum {change.name}: rename {old!r} -> {new!r} (in place)")
    if change.note:
        plan.notes.append(f"enum {change.name}: {change.note}")
    if change.by_position and not change.note:
        pairs = ", ".join(f"{o!r} -> {n!r}" for o, n in change.by_position)
        plan.notes.append(
            f"enum {change.name}: {pairs} taken as a rename (one-to-one at the same position): "
            "rows keep their place under the new label. If the old label was removed "
            "instead, draft again with --no-rename-guess"
        )
    if not change.needs_recreate and not change.added:
        return out
    columns = tuple(
        _with_mapped_default(_unqualified(column, conn), dict(change.renames))
        for column in enum_columns(conn, schema, change.name)
    )
    if change.needs_recreate:
        blockers = enum_blockers(conn, schema, change.name)
        if blockers:
            goal = (
                "drop " + ", ".join(map(repr, change.removed))
                if change.removed
                else "reorder its labels"
            )
            raise DraftBlocked(
                f"enum {change.name} must be replaced to {goal}, but these depend on it: "
                f"{'; '.join(blockers)}.",
                hint="Drop or redefine them in a migration before this change (and recreate "
                "them after), or keep the label.",
            )
        _check_defaults(change, columns)
        if columns:
            tables = ", ".join(sorted({c.table for c in columns}))
            out.append(
                comment(
                    f"The type replacement below rewrites {tables} under an ACCESS "
                    "EXCLUSIVE lock: reads and writes wait until the migration commits."
                )
            )
        out.append(RecreateEnumOp(change.name, change.schema, change.renamed, change.new, columns))
        what = [f"drop {x!r}" for x in change.removed] + (["reorder"] if change.reordered else [])
        where = ", ".join(f"{c.table}.{c.column}" for c in columns) or "no columns"
        plan.changes.append(
            f"enum {change.name}: replace the type ({', '.join(what)}; converts {where})"
        )
    else:
        out.append(AddEnumValuesOp(change.name, change.schema, change.renamed, change.new, columns))
        plan.changes.append(
            f"enum {change.name}: add {', '.join(map(repr, change.added))} (autocommit block)"
        )
    return out


def _rename_note(change: EnumChange) -> str:
    """The deploy-order note for in-place label renames: the running release still writes
    the old labels, which the type no longer has once this commits."""
    old = ", ".join(repr(o) for o, _ in change.renames)
    note = (
        f"Renames {old} in place (no rewrite; rows follow). The release still running "
        f"during the deploy fails when it writes {old} after this commits: deploy this "
        "with the code that writes the new labels."
    )
    if change.by_position and not change.note:
        pairs = ", ".join(f"{o!r} -> {n!r}" for o, n in change.by_position)
        note += (
            f" {pairs}: taken as a rename because it is one-to-one at the same position; "
            "if the old label was removed instead, draft again with --no-rename-guess."
        )
    return note


def _check_defaults(change: EnumChange, columns: Sequence[EnumColumn]) -> None:
    """A column default naming a label the new type drops could not be restored after the
    conversion: stop the draft rather than write a migration that fails halfway."""
    for column in columns:
        # column.default is the literal to restore; re-read it as pg_get_expr would show it
        suffix = "::t[]" if column.is_array else "::t"
        labels = default_labels(column.default + suffix) if column.default else None
        gone = [label for label in labels or () if label not in change.new]
        if gone:
            raise DraftBlocked(
                f"{column.table}.{column.column} defaults to {', '.join(map(repr, gone))}, "
                f"a label enum {change.name} drops.",
                hint="Change or drop that server default in a migration before this one, "
                "or keep the label.",
            )


def _unqualified(column: EnumColumn, conn: Connection) -> EnumColumn:
    """Tables in the connection's current schema are written without it, as autogenerate
    writes them."""
    current = conn.execute(sa.text("SELECT current_schema()")).scalar()
    return replace(column, schema=None) if column.schema == current else column


def _with_mapped_default(column: EnumColumn, renames: dict[str, str]) -> EnumColumn:
    """The column with its default as the literal it will be when the type is replaced
    (after this draft's renames); a non-literal default cannot be carried across."""
    if column.default is None:
        return column
    labels = default_labels(column.default)
    if labels is None:
        raise DraftBlocked(
            f"{column.table}.{column.column} has the default {column.default}, which revisor "
            "cannot carry across an enum type replacement.",
            hint="Drop the default in a migration before this change and set it again after.",
        )
    return with_default(column, tuple(renames.get(label, label) for label in labels))


def _types_used_by(upgrade: ops.UpgradeOps) -> set[str]:
    names: set[str] = set()
    for op in walk(upgrade):
        types = [column.type for column in _columns_of(op)]
        if isinstance(op, ops.AlterColumnOp) and op.modify_type is not None:
            types.append(op.modify_type)
        for type_ in types:
            enum_type = enum_of(type_)
            if enum_type is not None and enum_type.name:
                names.add(enum_type.name)
    return names


def cast_enum_alters(container: ops.OpContainer) -> list[str]:
    """alter_column to an enum type needs `USING col::text::type` (PostgreSQL has no
    automatic cast from text types to an enum); from an enum to a text type it needs none,
    so a USING copied there by Alembic's reverse() is removed. Returns "table.column"
    names given a USING."""
    changed = []
    for op in walk(container):
        if not isinstance(op, ops.AlterColumnOp) or op.modify_type is None:
            continue
        new = enum_of(op.modify_type)
        old = enum_of(op.existing_type) if op.existing_type is not None else None
        col = ident(op.column_name)
        if new is not None and new.name and (old is None or old.name != new.name):
            is_array = isinstance(op.modify_type, sa.ARRAY)
            target = qualified(new.schema, new.name) + ("[]" if is_array else "")
            via = "text[]" if is_array else "text"
            op.kw["postgresql_using"] = f"{col}::{via}::{target}"
            op.__class__ = AlterColumnUsingOp  # renders the USING; reverses like its base
            changed.append(f"{op.table_name}.{op.column_name}")
        elif new is None and str(op.kw.get("postgresql_using", "")).startswith(f"{col}::text"):
            del op.kw["postgresql_using"]
    return changed


def _columns_of(op: ops.MigrateOperation) -> list[sa.Column]:
    if isinstance(op, ops.CreateTableOp):
        return [c for c in op.columns if isinstance(c, sa.Column)]
    if isinstance(op, ops.AddColumnOp):
        return [op.column]
    return []


def manage_types(upgrade: ops.OpContainer) -> list[str]:
    """Give enum columns in create_table/add_column create_type=False: create_table would
    otherwise CREATE TYPE again (failing when the type exists, e.g. shared by two tables),
    and add_column never creates it. The draft's own ops create and drop the types.
    Returns the "table.column" names changed."""
    changed = []
    for op in walk(upgrade):
        for column in _columns_of(op):
            managed = _unmanaged(column.type)
            if managed is not None:
                column.type = managed
                changed.append(f"{op.table_name}.{column.name}")  # type: ignore[attr-defined]
    return changed


def _unmanaged(type_: sa.types.TypeEngine) -> sa.types.TypeEngine | None:
    if isinstance(type_, sa.ARRAY):
        item = _unmanaged(type_.item_type)
        if item is None:
            return None
        return postgresql.ARRAY(item, dimensions=type_.dimensions)
    if not isinstance(type_, sa.Enum) or not type_.native_enum or not type_.name:
        return None
    if isinstance(type_, postgresql.ENUM) and not type_.create_type:
        return None
    return postgresql.ENUM(*type_.enums, name=type_.name, schema=type_.schema, create_type=False)


RenderItem = Callable[[str, Any, Any], "str | bool"]


def render_managed_types(user_render_item: RenderItem | None) -> RenderItem:
    """alembic's `render_item` hook that writes `create_type=False` on the enum types the
    draft manages (`manage_types`): alembic renders a type by its repr(), and SQLAlchemy 2.0's
    repr of postgresql.ENUM leaves create_type out, so the file would CREATE TYPE twice on
    SQLAlchemy 2.0 (2.1 keeps it). Other items go to env.py's own render_item, if any."""

    def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
        if type_ == "type":
            rendered = _managed_type_source(obj)
            if rendered is not None:
                autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
                return rendered
        if user_render_item is not None:
            return user_render_item(type_, obj, autogen_context)
        return False

    render_item.revisor_managed_types = True  # type: ignore[attr-defined]
    return render_item


def _managed_type_source(type_: Any) -> str | None:
    if isinstance(type_, sa.ARRAY):
        item = _managed_type_source(type_.item_type)
        if item is None:
            return None
        dimensions = f", dimensions={type_.dimensions!r}" if type_.dimensions else ""
        return f"postgresql.ARRAY({item}{dimensions})"
    if not isinstance(type_, postgresql.ENUM) or type_.create_type:
        return None
    labels = ", ".join(repr(label) for label in type_.enums)
    schema = f", schema={type_.schema!r}" if type_.schema else ""
    return f"postgresql.ENUM({labels}, name={type_.name!r}{schema}, create_type=False)"


def _drop_enum_type_alters(upgrade: ops.UpgradeOps) -> None:
    """An alter_column between two spellings of the same enum type is the enum step's job."""
    for container in [upgrade, *(o for o in upgrade.ops if isinstance(o, ops.ModifyTableOps))]:
        for op in list(container.ops):
            if not isinstance(op, ops.AlterColumnOp) or op.modify_type is None:
                continue
            new, old = enum_of(op.modify_type), enum_of(op.existing_type or sa.NullType())
            if new is not None and old is not None and new.name == old.name:
                op.modify_type = None
                if not op.has_changes():
                    container.ops.remove(op)
    upgrade.ops[:] = [
        op for op in upgrade.ops if not (isinstance(op, ops.ModifyTableOps) and not op.ops)
    ]
