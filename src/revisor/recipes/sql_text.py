"""The recipes for operations written as SQL in `op.execute("...")`: the statement
re-printed by pglast (PostgreSQL's parser) with CONCURRENTLY or NOT VALID set, so a
quoted name or an odd layout cannot defeat a text substitution. The SQL comes back in
pglast's layout (`USING btree`, the default, is left out)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def _single(sql: str) -> Any | None:
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        statements = parse_sql(sql)
    except ParseError:
        return None
    return statements[0].stmt if len(statements) == 1 else None


def _printed(node: Any) -> str:
    from pglast.stream import RawStream

    return str(RawStream()(node))


def concurrently(sql: str) -> str | None:
    """`sql`, one `CREATE [UNIQUE] INDEX` or `DROP INDEX`, with CONCURRENTLY; None for any
    other text (several statements, DROP of other objects, already concurrent)."""
    from pglast.enums import ObjectType

    stmt = _single(sql)
    kind = type(stmt).__name__
    if kind == "DropStmt" and stmt.removeType != ObjectType.OBJECT_INDEX:
        return None
    if kind not in ("IndexStmt", "DropStmt") or stmt.concurrent:
        return None
    if kind == "DropStmt" and len(stmt.objects) != 1:
        return None  # DROP INDEX CONCURRENTLY takes one index
    stmt.concurrent = True
    return _printed(stmt)


def not_valid(sql: str) -> tuple[str, str] | None:
    """(`sql` with NOT VALID, the `ALTER TABLE ... VALIDATE CONSTRAINT` that follows it)
    for one `ALTER TABLE ... ADD CONSTRAINT name FOREIGN KEY / CHECK`; else None."""
    from pglast import ast
    from pglast.enums import ConstrType

    stmt = _single(sql)
    if not isinstance(stmt, ast.AlterTableStmt) or len(stmt.cmds) != 1:
        return None
    constraint = stmt.cmds[0].def_
    if not isinstance(constraint, ast.Constraint) or not constraint.conname:
        return None
    if constraint.contype not in (ConstrType.CONSTR_FOREIGN, ConstrType.CONSTR_CHECK):
        return None
    constraint.skip_validation = True
    added = _printed(stmt)
    stmt.cmds = (ast.AlterTableCmd(subtype=_validate_subtype(), name=constraint.conname),)
    return added, _printed(stmt)


def _validate_subtype() -> Any:
    from pglast.enums import AlterTableType

    return AlterTableType.AT_ValidateConstraint


def set_not_null_target(sql: str) -> tuple[str | None, str, str] | None:
    """(schema, table, column) of one `ALTER TABLE ... ALTER COLUMN ... SET NOT NULL`;
    None for any other text."""
    from pglast import ast
    from pglast.enums import AlterTableType

    stmt = _single(sql)
    if not isinstance(stmt, ast.AlterTableStmt) or len(stmt.cmds) != 1:
        return None
    command = stmt.cmds[0]
    if command.subtype != AlterTableType.AT_SetNotNull or not command.name:
        return None
    return stmt.relation.schemaname, stmt.relation.relname, command.name


@dataclass(frozen=True)
class AddedColumn:
    """One `ALTER TABLE ... ADD COLUMN ... DEFAULT expr [NOT NULL]`, taken apart."""

    schema: str | None
    table: str
    column: str
    add_sql: str  # the ADD COLUMN without its DEFAULT and NOT NULL
    set_default_sql: str  # ALTER COLUMN ... SET DEFAULT expr
    default_sql: str  # expr
    not_null: bool


def added_column_with_default(sql: str) -> AddedColumn | None:
    """`sql` taken apart when it is one ADD COLUMN with a DEFAULT and nothing besides
    NULL / NOT NULL (a key, a reference or a CHECK: None)."""
    from pglast import ast
    from pglast.enums import AlterTableType, ConstrType

    stmt = _single(sql)
    if not isinstance(stmt, ast.AlterTableStmt) or len(stmt.cmds) != 1:
        return None
    command = stmt.cmds[0]
    definition = command.def_
    if command.subtype != AlterTableType.AT_AddColumn or not isinstance(definition, ast.ColumnDef):
        return None
    constraints = list(definition.constraints or ())
    kinds = [c.contype for c in constraints]
    allowed = (ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_NULL)
    if kinds.count(ConstrType.CONSTR_DEFAULT) != 1 or any(k not in allowed for k in kinds):
        return None
    default = next(c for c in constraints if c.contype == ConstrType.CONSTR_DEFAULT)
    definition.constraints = None
    add_sql = _printed(stmt)
    expression = _printed(default.raw_expr)
    stmt.cmds = (
        ast.AlterTableCmd(
            subtype=AlterTableType.AT_ColumnDefault, name=definition.colname, def_=default.raw_expr
        ),
    )
    return AddedColumn(
        stmt.relation.schemaname,
        stmt.relation.relname,
        definition.colname,
        add_sql,
        _printed(stmt),
        expression,
        ConstrType.CONSTR_NOTNULL in kinds,
    )


def add_value_if_not_exists(sql: str) -> str | None:
    """`sql`, one `ALTER TYPE ... ADD VALUE`, with IF NOT EXISTS (committed on its own in
    an autocommit block, it must not fail when a failed deploy runs again); else None."""
    from pglast import ast

    stmt = _single(sql)
    if not isinstance(stmt, ast.AlterEnumStmt) or not stmt.newVal or stmt.oldVal:
        return None
    stmt.skipIfNewValExists = True
    return _printed(stmt)
