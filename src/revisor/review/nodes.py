"""Reading Python AST nodes of migration code: dotted names, literals, call arguments.

A name a migration gives through a variable (`OLD = "item_owner_id_fkey"` at module level,
`name = "x_fkey"` earlier in the function) is that string: while `parse.collect_actions`
reads a function it publishes the bindings visible there (`Scope`), and `literal` /
`text_of` look names up in them. A name bound by anything review cannot evaluate (a
function call, a loop, a branch that may not run) is UNKNOWN: neither a value nor None, so
no rule calls it "unnamed".
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Bound:
    """What a variable holds where it is read: a literal value (`...` when not literal)
    and the string `text_of` reads from it (None when none)."""

    value: object = ...
    text: str | None = None


UNKNOWN = Bound()


class Scope:
    """The names visible where a call is written: the function's own assignments so far
    (`local`), then the module's, computed only when a name is first looked up there."""

    __slots__ = ("_module", "local")

    def __init__(
        self,
        module: Callable[[], Mapping[str, Bound]] | None = None,
        local: Mapping[str, Bound] | None = None,
    ) -> None:
        self._module = module
        self.local: dict[str, Bound] = dict(local or {})

    def get(self, name: str) -> Bound:
        found = self.local.get(name)
        if found is not None:
            return found
        return self._module().get(name, UNKNOWN) if self._module else UNKNOWN

    def branch(self) -> Scope:
        """A copy for a block that may not run (its assignments are merged back)."""
        return Scope(self._module, self.local)


_scope: ContextVar[Scope | None] = ContextVar("revisor_review_scope", default=None)


class visible:
    """Let `literal` / `text_of` resolve names through `scope` inside the `with` block."""

    __slots__ = ("_scope", "_token")

    def __init__(self, scope: Scope) -> None:
        self._scope = scope

    def __enter__(self) -> None:
        self._token = _scope.set(self._scope)

    def __exit__(self, *exc: object) -> None:
        _scope.reset(self._token)


def bound(node: ast.AST | None) -> Bound:
    """What `node` evaluates to, for a variable assigned it (names resolved in the
    current scope)."""
    if node is None:
        return UNKNOWN
    return Bound(literal(node), text_of(node))


def _lookup(name: ast.Name) -> Bound:
    scope = _scope.get()
    return scope.get(name.id) if scope is not None else UNKNOWN


def dotted(node: ast.AST) -> str:
    """`op.create_table` for the callee of `op.create_table(...)`; `?` for anything odd."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return f"{dotted(node.func)}()"
    return "?"


def last_name(node: ast.AST) -> str:
    """`Column` for `sa.Column` or `Column` (the callee's own name, not its owner's)."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return "?"


def root_name(node: ast.AST) -> str | None:
    """`batch_op` for `batch_op.add_column`: the name an attribute chain starts from."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def literal(node: ast.AST | None) -> object:
    """The Python value of a literal node (str, number, bool, None, list/tuple of them),
    else `...`. (ast.literal_eval builds closures per call, which made the garbage
    collector dominate reviews of large histories.)"""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return _lookup(node).value
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
    if isinstance(node, ast.Name):
        return _lookup(node).text
    if isinstance(node, ast.JoinedStr):
        return _formatted(node)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = text_of(node.left), text_of(node.right)
        return left + right if left is not None and right is not None else None
    if (
        isinstance(node, ast.Call)
        and node.args
        and last_name(node.func)
        in (
            "text",
            "f",
            "literal_column",
            "quoted_name",
        )
    ):
        return text_of(node.args[0])
    return None


def is_unnamed(node: ast.AST | None) -> bool:
    """True when a name argument is absent or None — written out or through a variable.
    A name review cannot evaluate is not unnamed."""
    return node is None or literal(node) is None


def _formatted(node: ast.JoinedStr) -> str | None:
    """An f-string whose every part is known (`f"ck_{TABLE}_len"`), else None."""
    parts: list[str] = []
    for value in node.values:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            parts.append(value.value)
            continue
        if not isinstance(value, ast.FormattedValue) or value.format_spec:
            return None
        if value.conversion not in (-1, ord("s")):
            return None  # !r / !a quote the value
        inner = literal(value.value)
        if isinstance(inner, str | int | float | bool):
            parts.append(str(inner))
            continue
        text = text_of(value.value)
        if text is None:
            return None
        parts.append(text)
    return "".join(parts)


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
