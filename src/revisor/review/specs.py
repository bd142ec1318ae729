"""What `sa.Column(...)`, `sa.Enum(...)` and table constraints say, read from the AST."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from revisor.review.nodes import arg, bool_kw, dotted, kw, last_name, literal, strings, text_of
from revisor.review.types import type_text

VOLATILE_FUNCTIONS = frozenset(
    {
        "gen_random_uuid",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
        "uuidv4",
        "uuidv7",
        "random",
        "clock_timestamp",
        "timeofday",
        "statement_timestamp",
        "nextval",
        "txid_current",
    }
)


def volatile_function(column: ColumnSpec) -> str | None:
    """The volatile function a column's server default calls (e.g. gen_random_uuid), or
    None. Read from PostgreSQL's parse tree: `'now()'` in a string literal calls nothing."""
    from revisor.sqltree import expression, function_names

    tree = column.default_tree
    if tree is None:
        if not column.server_default:
            return None
        tree = expression(column.server_default)
    # Unquoted names are folded by the parser; "Random"() would be another function.
    return next((f for f in function_names(tree) if f in VOLATILE_FUNCTIONS), None)


@dataclass
class EnumSpec:
    """An `sa.Enum` / `postgresql.ENUM` / `CREATE TYPE ... AS ENUM` as written."""

    name: str | None
    labels: tuple[str, ...] | None  # None: built from a Python enum class (not literal)
    create_type: bool = True
    node: ast.AST | None = None


@dataclass
class ColumnSpec:
    name: str | None
    type_text: str | None = None
    nullable: bool = True
    primary_key: bool = False
    server_default: str | None = None  # SQL text of the default, when known
    has_server_default: bool = False
    enum: EnumSpec | None = None
    foreign_keys: tuple[str, ...] = ()  # "table.column" targets of sa.ForeignKey
    node: ast.AST | None = None
    default_tree: dict[str, Any] | None = None  # the default's parse tree, from raw SQL


@dataclass
class ConstraintSpec:
    """A table-level constraint inside create_table (or added by SQL)."""

    kind: str  # foreignkey | unique | check | primary
    name: str | None
    columns: tuple[str, ...] = ()
    referred_table: str | None = None
    referred_schema: str | None = None
    referred_columns: tuple[str, ...] = ()
    condition: str | None = None  # CHECK: the SQL expression, when literal
    node: ast.Call | None = None
    name_node: ast.expr | None = None


_ENUM_CALLEES = ("Enum", "ENUM")


def enum_spec(node: ast.AST | None) -> EnumSpec | None:
    """An EnumSpec for `sa.Enum(...)` / `postgresql.ENUM(...)`, else None."""
    if not isinstance(node, ast.Call) or last_name(node.func) not in _ENUM_CALLEES:
        return None
    labels: tuple[str, ...] | None = None  # None: labels come from a Python enum class
    if all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args):
        labels = tuple(a.value for a in node.args)  # type: ignore[union-attr]
    name = literal(kw(node, "name"))
    create_type = bool_kw(node, "create_type")
    return EnumSpec(
        name=name if isinstance(name, str) else None,
        labels=labels,
        create_type=create_type is not False,
        node=node,
    )


def _default_sql(node: ast.AST | None) -> str | None:
    """SQL text of a server_default: sa.text("now()") → now(); "x" → 'x'; sa.func.now()."""
    if node is None:
        return None
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str):
            return "'" + node.value.replace("'", "''") + "'"
        return None if node.value is None else str(node.value)
    text = text_of(node)
    if text is not None:
        return text
    if isinstance(node, ast.Call):
        name = dotted(node.func)
        if ".func." in f".{name}" or name.startswith("func."):
            return name.split("func.", 1)[1] + "()"
        return name.split(".")[-1] + "()"
    return None


def column_spec(node: ast.AST) -> ColumnSpec | None:
    """A ColumnSpec for `sa.Column(...)`, else None."""
    if not isinstance(node, ast.Call) or last_name(node.func) != "Column":
        return None
    args = list(node.args)
    name: str | None = None
    if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
        name = args.pop(0).value  # type: ignore[union-attr]
    elif isinstance(literal(kw(node, "name")), str):
        name = literal(kw(node, "name"))  # type: ignore[assignment]
    type_node = args[0] if args and not _is_foreign_key(args[0]) else kw(node, "type_")
    primary_key = bool_kw(node, "primary_key") is True
    nullable = bool_kw(node, "nullable")
    default_node = kw(node, "server_default")
    has_default = default_node is not None and literal(default_node) is not None
    fks = tuple(
        str(literal(a.args[0]))
        for a in node.args
        if _is_foreign_key(a) and isinstance(a, ast.Call) and a.args
    )
    return ColumnSpec(
        name=name,
        type_text=type_text(type_node) if type_node is not None else None,
        nullable=(not primary_key) if nullable is None else nullable,
        primary_key=primary_key,
        server_default=_default_sql(default_node) if has_default else None,
        has_server_default=has_default,
        enum=enum_spec(type_node),
        foreign_keys=fks,
        node=node,
    )


def _is_foreign_key(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and last_name(node.func) == "ForeignKey"


_CONSTRAINT_KINDS = {
    "ForeignKeyConstraint": "foreignkey",
    "UniqueConstraint": "unique",
    "CheckConstraint": "check",
    "PrimaryKeyConstraint": "primary",
}


def constraint_spec(node: ast.AST) -> ConstraintSpec | None:
    if not isinstance(node, ast.Call):
        return None
    kind = _CONSTRAINT_KINDS.get(last_name(node.func))
    if kind is None:
        return None
    name_node = kw(node, "name")
    name = literal(name_node)
    referred = referred_schema = condition = None
    referred_columns: tuple[str, ...] = ()
    if kind == "foreignkey":
        columns = strings(arg(node, 0, "columns"))
        # "vendors.id" or "billing.vendors.id": [schema.]table.column
        targets = [t.split(".") for t in strings(arg(node, 1, "refcolumns"))]
        if targets and all(len(t) >= 2 for t in targets):
            referred = targets[0][-2]
            referred_schema = ".".join(targets[0][:-2]) or None
            referred_columns = tuple(t[-1] for t in targets)
    elif kind == "check":
        columns = ()
        condition = text_of(arg(node, 0, "sqltext"))
    else:
        columns = tuple(
            a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
        )
    return ConstraintSpec(
        kind=kind,
        name=name if isinstance(name, str) else None,
        columns=columns,
        referred_table=referred,
        referred_schema=referred_schema,
        referred_columns=referred_columns,
        condition=condition,
        node=node,
        name_node=name_node,
    )
