"""Raw SQL in `op.execute(...)`, parsed by pglast (PostgreSQL's own parser) into `Action`s.

Imported only when a migration has a SQL string, so reviewing plain `op.*` files never
loads pglast.
"""

from __future__ import annotations

import ast
from typing import Any

from pglast import parse_sql
from pglast.enums import AlterTableType, ConstrType, ObjectType
from pglast.parser import ParseError

from revisor.review.actions import Action, ColumnSpec, ConstraintSpec, volatile_function
from revisor.review.types import sql_type_text

_CONSTRAINT_KINDS = {
    ConstrType.CONSTR_FOREIGN: "foreignkey",
    ConstrType.CONSTR_CHECK: "check",
    ConstrType.CONSTR_UNIQUE: "unique",
    ConstrType.CONSTR_PRIMARY: "primary",
    ConstrType.CONSTR_EXCLUSION: "exclude",
}


def actions_from_sql(sql: str, call: ast.Call) -> list[Action]:
    """One or more actions for the statements in `sql`, all located at `call`."""
    try:
        statements = parse_sql(sql)
    except ParseError as exc:
        return [Action("sql_unparsed", call, sql=sql, from_sql=True, extra={"error": str(exc)})]
    found: list[Action] = []
    for raw in statements:
        stmt = raw.stmt
        start = raw.stmt_location or 0
        text = sql[start : start + raw.stmt_len] if raw.stmt_len else sql[start:]
        made = _statement(stmt, call)
        for action in made:
            action.sql = text.strip()
            action.from_sql = True
        found.extend(made)
    return found


def _relname(relation: Any) -> str | None:
    return getattr(relation, "relname", None) if relation is not None else None


def _names(nodes: Any) -> list[str]:
    return [getattr(n, "sval", str(n)) for n in (nodes or ())]


def _type_name(type_name: Any) -> str | None:
    if type_name is None:
        return None
    mods: list[int] = []
    for mod in type_name.typmods or ():
        value = getattr(getattr(mod, "val", None), "ival", None)
        if isinstance(value, int):
            mods.append(value)
    return sql_type_text(_names(type_name.names), mods)


def _deparse(node: Any) -> str | None:
    from pglast.stream import RawStream

    try:
        return RawStream()(node)
    except Exception:
        return None


def _column(coldef: Any) -> ColumnSpec:
    nullable = True
    primary = False
    default: str | None = None
    has_default = False
    for constraint in coldef.constraints or ():
        if constraint.contype == ConstrType.CONSTR_NOTNULL:
            nullable = False
        elif constraint.contype == ConstrType.CONSTR_PRIMARY:
            nullable, primary = False, True
        elif constraint.contype == ConstrType.CONSTR_DEFAULT:
            has_default = True
            default = _deparse(constraint.raw_expr)
        elif constraint.contype == ConstrType.CONSTR_IDENTITY:
            has_default = True
            default = "identity"
    if getattr(coldef, "identity", "\x00") not in ("\x00", "", None):
        has_default = True
    return ColumnSpec(
        name=coldef.colname,
        type_text=_type_name(coldef.typeName),
        nullable=nullable,
        primary_key=primary,
        server_default=default,
        has_server_default=has_default,
    )


def _statement(stmt: Any, call: ast.Call) -> list[Action]:
    kind = type(stmt).__name__
    if kind == "VariableSetStmt":
        return [Action("set", call, name=stmt.name)]
    if kind == "IndexStmt":
        return [
            Action(
                "create_index",
                call,
                table=_relname(stmt.relation),
                name=stmt.idxname,
                concurrently=bool(stmt.concurrent),
                column_names=tuple(p.name for p in stmt.indexParams or () if p.name),
            )
        ]
    if kind == "CreateStmt":
        columns = tuple(_column(e) for e in stmt.tableElts or () if type(e).__name__ == "ColumnDef")
        return [Action("create_table", call, table=_relname(stmt.relation), columns=columns)]
    if kind == "CreateEnumStmt":
        labels = tuple(_names(stmt.vals))
        return [Action("create_enum", call, name=_names(stmt.typeName)[-1], labels=labels)]
    if kind == "AlterEnumStmt":
        type_name = _names(stmt.typeName)[-1]
        if stmt.oldVal:
            return [
                Action(
                    "enum_rename_value",
                    call,
                    name=type_name,
                    new_name=stmt.newVal,
                    extra={"old": stmt.oldVal},
                )
            ]
        return [Action("enum_add_value", call, name=type_name, new_name=stmt.newVal)]
    if kind == "DropStmt":
        return _drop(stmt, call)
    if kind == "RenameStmt":
        return _rename(stmt, call)
    if kind == "AlterTableStmt" and stmt.objtype == ObjectType.OBJECT_TABLE:
        table = _relname(stmt.relation)
        found: list[Action] = []
        for cmd in stmt.cmds or ():
            found.extend(_alter_table_cmd(cmd, table, call))
        return found
    return [Action("sql_other", call, extra={"statement": kind})]


def _drop(stmt: Any, call: ast.Call) -> list[Action]:
    found: list[Action] = []
    for obj in stmt.objects or ():
        parts = _names(obj) if isinstance(obj, tuple) else _names(getattr(obj, "names", ()))
        if not parts and hasattr(obj, "sval"):
            parts = [obj.sval]
        name = parts[-1] if parts else None
        if stmt.removeType == ObjectType.OBJECT_TABLE:
            found.append(Action("drop_table", call, table=name))
        elif stmt.removeType == ObjectType.OBJECT_INDEX:
            found.append(Action("drop_index", call, name=name, concurrently=bool(stmt.concurrent)))
        elif stmt.removeType == ObjectType.OBJECT_TYPE:
            found.append(Action("drop_enum", call, name=name))
    return found or [Action("sql_other", call, extra={"statement": "DropStmt"})]


def _rename(stmt: Any, call: ast.Call) -> list[Action]:
    if stmt.renameType == ObjectType.OBJECT_TYPE:
        # ALTER TYPE x RENAME TO x__old: the first step of replacing an enum type
        parts = _names(stmt.object if isinstance(stmt.object, tuple) else ())
        return [
            Action("rename_enum", call, name=parts[-1] if parts else None, new_name=stmt.newname)
        ]
    table = _relname(stmt.relation)
    if stmt.renameType == ObjectType.OBJECT_TABLE:
        return [Action("rename_table", call, table=table, new_name=stmt.newname)]
    if stmt.renameType == ObjectType.OBJECT_TYPE:
        names = _names(getattr(stmt.object, "names", None) or stmt.object)
        return [
            Action("rename_enum", call, name=names[-1] if names else None, new_name=stmt.newname)
        ]
    if stmt.renameType == ObjectType.OBJECT_COLUMN:
        return [
            Action(
                "alter_column",
                call,
                table=table,
                column=ColumnSpec(name=stmt.subname),
                new_name=stmt.newname,
            )
        ]
    return [Action("sql_other", call, extra={"statement": "RenameStmt"})]


def _alter_table_cmd(cmd: Any, table: str | None, call: ast.Call) -> list[Action]:
    subtype = cmd.subtype
    if subtype == AlterTableType.AT_AddColumn:
        return [Action("add_column", call, table=table, column=_column(cmd.def_))]
    if subtype == AlterTableType.AT_DropColumn:
        return [Action("drop_column", call, table=table, column=ColumnSpec(name=cmd.name))]
    if subtype == AlterTableType.AT_AlterColumnType:
        return [
            Action(
                "alter_column",
                call,
                table=table,
                column=ColumnSpec(name=cmd.name),
                type_text=_type_name(cmd.def_.typeName),
                using=cmd.def_.raw_default is not None,
                extra={
                    "using_sql": _deparse(cmd.def_.raw_default) if cmd.def_.raw_default else None
                },
            )
        ]
    if subtype in (AlterTableType.AT_SetNotNull, AlterTableType.AT_DropNotNull):
        return [
            Action(
                "alter_column",
                call,
                table=table,
                column=ColumnSpec(name=cmd.name),
                nullable=subtype == AlterTableType.AT_DropNotNull,
            )
        ]
    if subtype == AlterTableType.AT_AddConstraint:
        constraint = cmd.def_
        kind = _CONSTRAINT_KINDS.get(constraint.contype)
        if kind is None:
            return []
        columns = tuple(_names(constraint.fk_attrs if kind == "foreignkey" else constraint.keys))
        return [
            Action(
                "add_constraint",
                call,
                table=table,
                name=constraint.conname,
                constraint_type=kind,
                not_valid=bool(constraint.skip_validation),
                column_names=columns,
                referred_table=_relname(constraint.pktable),
                extra={"using_index": bool(constraint.indexname)},
            )
        ]
    if subtype == AlterTableType.AT_ValidateConstraint:
        return [Action("validate_constraint", call, table=table, name=cmd.name)]
    if subtype == AlterTableType.AT_DropConstraint:
        return [Action("drop_constraint", call, table=table, name=cmd.name)]
    return [Action("sql_other", call, table=table, extra={"statement": "AlterTableCmd"})]


__all__ = ["ConstraintSpec", "actions_from_sql", "volatile_function"]
