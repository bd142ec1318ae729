"""Reading Python AST nodes of migration code: dotted names, literals, call arguments."""

from __future__ import annotations

import ast


def dotted(node: ast.AST) -> str:
    """`op.create_table` for the callee of `op.create_table(...)`; `?` for anything odd."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return f"{dotted(node.func)}()"
    return "?"


def literal(node: ast.AST | None) -> object:
    """The Python value of a literal node (str, number, bool, None, list/tuple of them),
    else `...`. (ast.literal_eval builds closures per call, which made the garbage
    collector dominate reviews of large histories.)"""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List | ast.Tuple):
        values = [literal(element) for element in node.elts]
        if any(v is ... for v in values):
            return ...
        return values if isinstance(node, ast.List) else tuple(values)
    return ...


def text_of(node: ast.AST | None) -> str | None:
    """The string a node holds: "x", sa.text("x"), op.f("x"), text("x"); else None."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if (
        isinstance(node, ast.Call)
        and node.args
        and dotted(node.func).split(".")[-1]
        in (
            "text",
            "f",
            "literal_column",
            "quoted_name",
        )
    ):
        return text_of(node.args[0])
    return None


def kw(call: ast.Call, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def arg(call: ast.Call, index: int, name: str) -> ast.expr | None:
    """Positional argument `index`, or the keyword `name`."""
    if len(call.args) > index and not isinstance(call.args[index], ast.Starred):
        return call.args[index]
    return kw(call, name)


def bool_kw(call: ast.Call, name: str) -> bool | None:
    value = literal(kw(call, name))
    return value if isinstance(value, bool) else None


def strings(node: ast.AST | None) -> tuple[str, ...]:
    value = literal(node)
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if isinstance(v, str))
    return ()
