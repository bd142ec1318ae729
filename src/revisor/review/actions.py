"""Alembic operations, normalised: one `Action` per schema change, from `op.*` or from SQL.

`op.create_index(..., postgresql_concurrently=True)` and `op.execute("CREATE INDEX
CONCURRENTLY ...")` become the same `Action(kind="create_index", concurrently=True)`, so
each rule is written once and applies to both.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from revisor.review.nodes import (
    arg,
    bool_kw,
    dotted,
    is_unnamed,
    kw,
    last_name,
    literal,
    strings,
    text_of,
)
from revisor.review.specs import (
    ColumnSpec,
    ConstraintSpec,
    EnumSpec,
    column_spec,
    constraint_spec,
    enum_spec,
    volatile_function,
)
from revisor.review.types import type_text


@dataclass
class Action:
    """One schema change in upgrade() or downgrade(), located at the call that makes it.

    kind: create_table, drop_table, add_column, drop_column, alter_column, rename_table,
    create_index, drop_index, add_constraint, drop_constraint, validate_constraint,
    create_enum, drop_enum, enum_add_value, enum_rename_value, set, sql_other,
    sql_unparsed, execute_dynamic.
    """

    kind: str
    node: ast.Call
    table: str | None = None
    name: str | None = None  # index / constraint / enum type name
    name_node: ast.expr | None = None  # the AST of the name argument (fixes rewrite it)
    name_given: bool = True  # False when the name is absent or None (a name review cannot
    # evaluate, `constraint_for(...)`, counts as given: name is None then)
    column: ColumnSpec | None = None  # add_column / alter_column target
    columns: tuple[ColumnSpec, ...] = ()  # create_table
    column_names: tuple[str, ...] = ()  # index / constraint columns
    constraints: tuple[ConstraintSpec, ...] = ()  # create_table
    constraint_type: str | None = None  # foreignkey | unique | check | primary
    referred_table: str | None = None
    referred_columns: tuple[str, ...] = ()
    schema: str | None = None  # the table's schema, when the call names one
    referred_schema: str | None = None
    concurrently: bool = False
    not_valid: bool = False
    nullable: bool | None = None  # alter_column: the new nullability, if changed
    type_text: str | None = None  # alter_column: the new type
    existing_type_text: str | None = None
    using: bool = False  # ALTER COLUMN TYPE ... USING
    new_name: str | None = None  # rename_table / rename of a column / enum value
    labels: tuple[str, ...] | None = None
    enum: EnumSpec | None = None
    batch: bool = False
    sql: str | None = None  # the statement, for actions from raw SQL
    from_sql: bool = False
    in_autocommit: bool = False
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def line(self) -> int:
        return self.node.lineno

    @property
    def col(self) -> int:
        return self.node.col_offset


# --- op.* calls → actions ---------------------------------------------------------------

_CONSTRAINT_OPS = {
    "create_foreign_key": "foreignkey",
    "create_unique_constraint": "unique",
    "create_check_constraint": "check",
    "create_primary_key": "primary",
    "create_exclude_constraint": "exclude",
}


def actions_from_call(call: ast.Call, *, batch_table: str | None = None) -> list[Action]:
    """The actions one call makes (several for op.execute of multi-statement SQL);
    `batch_table` when the call is on a `batch_alter_table` block's object."""
    func = call.func
    method = last_name(func)
    if method == "execute":
        return _execute(call)
    if method in ("create", "drop") and isinstance(func, ast.Attribute):
        spec = enum_spec(func.value)
        if spec is not None:
            kind = "create_enum" if method == "create" else "drop_enum"
            return [Action(kind, call, name=spec.name, labels=spec.labels, enum=spec)]
        return []
    if batch_table is not None:
        return _batch_op(call, method, batch_table)
    # op.create_table(...) or alembic.op.create_table(...)
    if isinstance(func, ast.Attribute) and last_name(func.value) == "op":
        return _with_schema(_op(call, method), call)
    return []


def _with_schema(actions: list[Action], call: ast.Call) -> list[Action]:
    """`op.drop_column(..., schema="billing")`: the table's schema, for every op."""
    schema = text_of(kw(call, "schema"))
    for action in actions:
        action.schema = action.schema or schema
    return actions


def _op(call: ast.Call, method: str) -> list[Action]:
    if method == "create_table":
        return _create_table(call)
    if method == "drop_table":
        return [Action("drop_table", call, table=text_of(arg(call, 0, "table_name")))]
    if method == "add_column":
        column = column_spec(arg(call, 1, "column") or call)
        return _add_column(call, text_of(arg(call, 0, "table_name")), column)
    if method == "drop_column":
        return [
            Action(
                "drop_column",
                call,
                table=text_of(arg(call, 0, "table_name")),
                column=ColumnSpec(name=text_of(arg(call, 1, "column_name"))),
            )
        ]
    if method == "alter_column":
        return [
            _alter_column(call, text_of(arg(call, 0, "table_name")), arg(call, 1, "column_name"))
        ]
    if method == "create_index":
        return [_create_index(call, arg(call, 0, "index_name"), arg(call, 1, "table_name"), 2)]
    if method == "drop_index":
        return [_drop_index(call, arg(call, 0, "index_name"), arg(call, 1, "table_name"))]
    if method in _CONSTRAINT_OPS:
        return [_add_constraint(call, method, batch=False)]
    if method == "drop_constraint":
        name_node = arg(call, 0, "constraint_name")
        return [
            Action(
                "drop_constraint",
                call,
                table=text_of(arg(call, 1, "table_name")),
                name=text_of(name_node),
                name_node=name_node,
                name_given=not is_unnamed(name_node),
                constraint_type=_constraint_type(literal(arg(call, 2, "type_"))),
            )
        ]
    if method == "rename_table":
        return [
            Action(
                "rename_table",
                call,
                table=text_of(arg(call, 0, "old_table_name")),
                new_name=text_of(arg(call, 1, "new_table_name")),
            )
        ]
    return []


def _batch_op(call: ast.Call, method: str, table: str) -> list[Action]:
    """`batch_op.X(...)` inside `with op.batch_alter_table(table) as batch_op:`."""
    found: list[Action] = []
    if method == "add_column":
        found = _add_column(call, table, column_spec(arg(call, 0, "column") or call))
    elif method == "drop_column":
        found = [
            Action(
                "drop_column",
                call,
                table=table,
                column=ColumnSpec(name=text_of(arg(call, 0, "column_name"))),
            )
        ]
    elif method == "alter_column":
        found = [_alter_column(call, table, arg(call, 0, "column_name"))]
    elif method == "create_index":
        found = [_create_index(call, arg(call, 0, "index_name"), None, 1, table=table)]
    elif method == "drop_index":
        found = [_drop_index(call, arg(call, 0, "index_name"), None, table=table)]
    elif method in _CONSTRAINT_OPS:
        found = [_add_constraint(call, method, batch=True, table=table)]
    elif method == "drop_constraint":
        name_node = arg(call, 0, "constraint_name")
        found = [
            Action(
                "drop_constraint",
                call,
                table=table,
                name=text_of(name_node),
                name_node=name_node,
                name_given=not is_unnamed(name_node),
                constraint_type=_constraint_type(literal(arg(call, 1, "type_"))),
            )
        ]
    for action in found:
        action.batch = True
    return found


def _constraint_type(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return {
        "foreignkey": "foreignkey",
        "unique": "unique",
        "check": "check",
        "primary": "primary",
    }.get(value.lower())


def _create_table(call: ast.Call) -> list[Action]:
    table = text_of(arg(call, 0, "table_name"))
    columns: list[ColumnSpec] = []
    constraints: list[ConstraintSpec] = []
    for node in call.args[1:]:
        column = column_spec(node)
        if column is not None:
            columns.append(column)
            continue
        constraint = constraint_spec(node)
        if constraint is not None:
            constraints.append(constraint)
    action = Action(
        "create_table",
        call,
        table=table,
        schema=text_of(kw(call, "schema")),
        columns=tuple(columns),
        constraints=tuple(constraints),
    )
    found = [action]
    for column in columns:
        if column.enum is not None and column.enum.create_type and column.enum.name:
            found.append(
                Action(
                    "create_enum",
                    call,
                    table=table,
                    name=column.enum.name,
                    labels=column.enum.labels,
                    enum=column.enum,
                    extra={"implicit": True},
                )
            )
    return found


def _add_column(call: ast.Call, table: str | None, column: ColumnSpec | None) -> list[Action]:
    return [Action("add_column", call, table=table, column=column or ColumnSpec(name=None))]


def _alter_column(call: ast.Call, table: str | None, column_node: ast.expr | None) -> Action:
    type_node = kw(call, "type_")
    existing = kw(call, "existing_type")
    return Action(
        "alter_column",
        call,
        table=table,
        column=ColumnSpec(name=text_of(column_node)),
        nullable=bool_kw(call, "nullable"),
        type_text=type_text(type_node) if type_node is not None else None,
        existing_type_text=type_text(existing) if existing is not None else None,
        using=kw(call, "postgresql_using") is not None,
        new_name=text_of(kw(call, "new_column_name")),
        enum=enum_spec(type_node),
        extra={
            "existing_nullable": bool_kw(call, "existing_nullable"),
            "using_sql": text_of(kw(call, "postgresql_using")),
        },
    )


def _create_index(
    call: ast.Call,
    name_node: ast.expr | None,
    table_node: ast.expr | None,
    columns_index: int,
    *,
    table: str | None = None,
) -> Action:
    return Action(
        "create_index",
        call,
        table=table or text_of(table_node),
        name=text_of(name_node),
        name_node=name_node,
        column_names=strings(arg(call, columns_index, "columns")),
        concurrently=bool_kw(call, "postgresql_concurrently") is True,
    )


def _drop_index(
    call: ast.Call,
    name_node: ast.expr | None,
    table_node: ast.expr | None,
    *,
    table: str | None = None,
) -> Action:
    return Action(
        "drop_index",
        call,
        table=table or text_of(table_node if table_node is not None else kw(call, "table_name")),
        name=text_of(name_node),
        name_node=name_node,
        concurrently=bool_kw(call, "postgresql_concurrently") is True,
    )


def _add_constraint(
    call: ast.Call, method: str, *, batch: bool, table: str | None = None
) -> Action:
    kind = _CONSTRAINT_OPS[method]
    name_node = arg(call, 0, "constraint_name")
    offset = 0 if batch else 1
    if not batch:
        table = text_of(arg(call, 1, "source_table" if kind == "foreignkey" else "table_name"))
    referred = None
    columns: tuple[str, ...] = ()
    referred_columns: tuple[str, ...] = ()
    if kind == "foreignkey":
        referred = text_of(arg(call, 1 + offset, "referent_table"))
        columns = strings(arg(call, 2 + offset, "local_cols"))
        referred_columns = strings(arg(call, 3 + offset, "remote_cols"))
    elif kind in ("unique", "primary"):
        columns = strings(arg(call, 1 + offset, "columns"))
    return Action(
        "add_constraint",
        call,
        table=table,
        name=text_of(name_node),
        name_node=name_node,
        name_given=not is_unnamed(name_node),
        constraint_type=kind,
        referred_table=referred,
        referred_columns=referred_columns,
        schema=text_of(kw(call, "source_schema" if kind == "foreignkey" else "schema")),
        referred_schema=text_of(kw(call, "referent_schema")),
        column_names=columns,
        not_valid=bool_kw(call, "postgresql_not_valid") is True,
        extra={
            "condition": text_of(arg(call, 1 + offset, "condition")) if kind == "check" else None
        },
    )


def _execute(call: ast.Call) -> list[Action]:
    """`op.execute("SQL")`, `op.execute(sa.text("SQL"))`, `conn.execute(text("SQL"))`."""
    sql_node = arg(call, 0, "sqltext") or kw(call, "statement")
    sql = text_of(sql_node)
    if sql is None:
        if isinstance(sql_node, ast.JoinedStr):
            return [Action("execute_dynamic", call)]
        return []
    from revisor.review.sql import actions_from_sql

    return actions_from_sql(sql, call)


__all__ = [
    "Action",
    "ColumnSpec",
    "ConstraintSpec",
    "EnumSpec",
    "actions_from_call",
    "dotted",
    "literal",
    "text_of",
    "volatile_function",
]
