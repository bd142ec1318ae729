"""Raw SQL in `op.execute(...)`, parsed by pglast (PostgreSQL's own parser) into `Action`s.

Imported only when a migration has a SQL string, so reviewing plain `op.*` files never
loads pglast. The statements are read as pglast's JSON parse tree (see `revisor.sqltree`).
"""

from __future__ import annotations

import ast
from typing import Any

from revisor.review.actions import Action, ColumnSpec
from revisor.review.types import sql_type_text
from revisor.sqltree import SqlSyntaxError, Tree, node_type, parse, strings

_CONSTRAINT_KINDS = {
    "CONSTR_FOREIGN": "foreignkey",
    "CONSTR_CHECK": "check",
    "CONSTR_UNIQUE": "unique",
    "CONSTR_PRIMARY": "primary",
    "CONSTR_EXCLUSION": "exclude",
}


def actions_from_sql(sql: str, call: ast.Call) -> list[Action]:
    """One or more actions for the statements in `sql`, all located at `call`."""
    try:
        statements = parse(sql)
    except SqlSyntaxError as exc:
        return [Action("sql_unparsed", call, sql=sql, from_sql=True, extra={"error": str(exc)})]
    found: list[Action] = []
    for raw in statements:
        start = raw.get("stmt_location", 0)
        length = raw.get("stmt_len", 0)
        text = sql[start : start + length] if length else sql[start:]
        made = _statement(raw["stmt"], call)
        for action in made:
            action.sql = text.strip()
            action.from_sql = True
        found.extend(made)
    return found


def _relname(relation: Tree | None) -> str | None:
    return relation.get("relname") if relation else None


def _type_name(type_name: Tree | None) -> str | None:
    if not type_name:
        return None
    mods: list[int] = []
    for mod in type_name.get("typmods", ()):
        value = mod.get("A_Const", {}).get("ival")
        if isinstance(value, dict):
            mods.append(value.get("ival", 0))  # ival 0 is left out of the tree
    return sql_type_text(strings(type_name.get("names")), mods)


def _column(coldef: Tree) -> ColumnSpec:
    nullable = True
    primary = False
    default: Tree | None = None
    has_default = False
    for item in coldef.get("constraints", ()):
        constraint = item.get("Constraint", {})
        contype = constraint.get("contype")
        if contype == "CONSTR_NOTNULL":
            nullable = False
        elif contype == "CONSTR_PRIMARY":
            nullable, primary = False, True
        elif contype == "CONSTR_DEFAULT":
            has_default = True
            default = constraint.get("raw_expr")
        elif contype == "CONSTR_IDENTITY":
            has_default = True
    if coldef.get("identity"):
        has_default = True
    return ColumnSpec(
        name=coldef.get("colname"),
        type_text=_type_name(coldef.get("typeName")),
        nullable=nullable,
        primary_key=primary,
        has_server_default=has_default,
        default_tree=default,
    )


def _statement(node: Tree, call: ast.Call) -> list[Action]:
    kind = node_type(node) or "?"
    stmt: Tree = node.get(kind, {})
    if kind == "VariableSetStmt":
        return [Action("set", call, name=stmt.get("name"))]
    if kind == "IndexStmt":
        return [
            Action(
                "create_index",
                call,
                table=_relname(stmt.get("relation")),
                name=stmt.get("idxname"),
                concurrently=bool(stmt.get("concurrent")),
                column_names=tuple(
                    p["IndexElem"]["name"]
                    for p in stmt.get("indexParams", ())
                    if p.get("IndexElem", {}).get("name")
                ),
            )
        ]
    if kind == "CreateStmt":
        columns = tuple(
            _column(e["ColumnDef"]) for e in stmt.get("tableElts", ()) if "ColumnDef" in e
        )
        return [Action("create_table", call, table=_relname(stmt.get("relation")), columns=columns)]
    if kind == "CreateEnumStmt":
        labels = tuple(strings(stmt.get("vals")))
        return [Action("create_enum", call, name=strings(stmt.get("typeName"))[-1], labels=labels)]
    if kind == "AlterEnumStmt":
        type_name = strings(stmt.get("typeName"))[-1]
        if stmt.get("oldVal"):
            return [
                Action(
                    "enum_rename_value",
                    call,
                    name=type_name,
                    new_name=stmt.get("newVal"),
                    extra={"old": stmt["oldVal"]},
                )
            ]
        return [Action("enum_add_value", call, name=type_name, new_name=stmt.get("newVal"))]
    if kind == "DropStmt":
        return _drop(stmt, call)
    if kind == "RenameStmt":
        return _rename(stmt, call)
    if kind == "AlterTableStmt" and stmt.get("objtype") == "OBJECT_TABLE":
        table = _relname(stmt.get("relation"))
        found: list[Action] = []
        for cmd in stmt.get("cmds", ()):
            found.extend(_alter_table_cmd(cmd.get("AlterTableCmd", {}), table, call))
        return found
    return [Action("sql_other", call, extra={"statement": kind, "tree": stmt})]


def _object_names(obj: Tree) -> list[str]:
    """The dotted name of a dropped/renamed object: a List of Strings, a TypeName, ..."""
    kind = node_type(obj)
    fields: Any = obj.get(kind, {}) if kind else obj
    if kind == "List":
        return strings(fields.get("items"))
    if kind == "TypeName":
        return strings(fields.get("names"))
    if kind == "String":
        return [fields.get("sval", "")]
    return []


def _drop(stmt: Tree, call: ast.Call) -> list[Action]:
    found: list[Action] = []
    remove = stmt.get("removeType")
    for obj in stmt.get("objects", ()):
        parts = _object_names(obj)
        name = parts[-1] if parts else None
        if remove == "OBJECT_TABLE":
            found.append(Action("drop_table", call, table=name))
        elif remove == "OBJECT_INDEX":
            found.append(
                Action("drop_index", call, name=name, concurrently=bool(stmt.get("concurrent")))
            )
        elif remove == "OBJECT_TYPE":
            found.append(Action("drop_enum", call, name=name))
    return found or [Action("sql_other", call, extra={"statement": "DropStmt"})]


def _rename(stmt: Tree, call: ast.Call) -> list[Action]:
    rename = stmt.get("renameType")
    new_name = stmt.get("newname")
    if rename == "OBJECT_TYPE":
        # ALTER TYPE x RENAME TO x__old: the first step of replacing an enum type
        parts = _object_names(stmt.get("object", {}))
        return [Action("rename_enum", call, name=parts[-1] if parts else None, new_name=new_name)]
    table = _relname(stmt.get("relation"))
    if rename == "OBJECT_TABLE":
        return [Action("rename_table", call, table=table, new_name=new_name)]
    if rename == "OBJECT_COLUMN":
        return [
            Action(
                "alter_column",
                call,
                table=table,
                column=ColumnSpec(name=stmt.get("subname")),
                new_name=new_name,
            )
        ]
    return [Action("sql_other", call, extra={"statement": "RenameStmt"})]


def _alter_table_cmd(cmd: Tree, table: str | None, call: ast.Call) -> list[Action]:
    subtype = cmd.get("subtype")
    definition: Tree = cmd.get("def", {})
    if subtype == "AT_AddColumn":
        return [Action("add_column", call, table=table, column=_column(definition["ColumnDef"]))]
    if subtype == "AT_DropColumn":
        return [Action("drop_column", call, table=table, column=ColumnSpec(name=cmd.get("name")))]
    if subtype == "AT_AlterColumnType":
        coldef = definition.get("ColumnDef", {})
        using = coldef.get("raw_default")
        return [
            Action(
                "alter_column",
                call,
                table=table,
                column=ColumnSpec(name=cmd.get("name")),
                type_text=_type_name(coldef.get("typeName")),
                using=using is not None,
                extra={"using_tree": using},
            )
        ]
    if subtype in ("AT_SetNotNull", "AT_DropNotNull"):
        return [
            Action(
                "alter_column",
                call,
                table=table,
                column=ColumnSpec(name=cmd.get("name")),
                nullable=subtype == "AT_DropNotNull",
            )
        ]
    if subtype == "AT_AddConstraint":
        constraint = definition.get("Constraint", {})
        kind = _CONSTRAINT_KINDS.get(constraint.get("contype", ""))
        if kind is None:
            return []
        columns = strings(constraint.get("fk_attrs" if kind == "foreignkey" else "keys"))
        return [
            Action(
                "add_constraint",
                call,
                table=table,
                name=constraint.get("conname"),
                constraint_type=kind,
                not_valid=bool(constraint.get("skip_validation")),
                column_names=tuple(columns),
                referred_table=_relname(constraint.get("pktable")),
                referred_columns=tuple(strings(constraint.get("pk_attrs"))),
                extra={
                    "using_index": bool(constraint.get("indexname")),
                    # USING INDEX: the index becomes the constraint's (dropped with it).
                    "index_name": constraint.get("indexname"),
                    "condition_tree": constraint.get("raw_expr"),
                },
            )
        ]
    if subtype == "AT_ValidateConstraint":
        return [Action("validate_constraint", call, table=table, name=cmd.get("name"))]
    if subtype == "AT_DropConstraint":
        return [Action("drop_constraint", call, table=table, name=cmd.get("name"))]
    return [Action("sql_other", call, table=table, extra={"statement": "AlterTableCmd"})]


__all__ = ["actions_from_sql"]
