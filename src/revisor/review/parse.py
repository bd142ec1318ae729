"""Read a migration file without importing it: Python's AST → a `Migration`.

Each file is parsed once; every rule reads the same `Migration`. The functions `upgrade()`
and `downgrade()` become lists of `Action`s (see `actions.py`), in source order, each
remembering whether it sits inside `op.get_context().autocommit_block()` or a
`batch_alter_table` block. SQL strings are parsed lazily (pglast is imported only when a
file has any).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

from revisor.review.actions import Action, actions_from_call, literal
from revisor.review.nodes import (
    UNKNOWN,
    Bound,
    Scope,
    bound,
    dotted,
    last_name,
    root_name,
    visible,
)

# `# revisor: ignore` or `# revisor: ignore[RV101, RV120]` (a `-- reason` may follow).
IGNORE_RE = re.compile(r"#\s*revisor:\s*ignore(?:\[(?P<codes>[A-Za-z0-9_,\s]*)\])?")


_ASSIGNMENT_RE = re.compile(
    r"^(?P<name>revision|down_revision|branch_labels|depends_on)\s*(?::[^=\n]+)?=\s*(?P<value>.+?)\s*$",
    re.MULTILINE,
)


T = TypeVar("T")


class cached(Generic[T]):
    """functools.cached_property without its lock (Python 3.11 takes an RLock on every
    first access; review makes thousands). The value lands in the instance's __dict__,
    which Python reads before this non-data descriptor from then on."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute = compute
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    @overload
    def __get__(self, instance: None, owner: type) -> cached[T]: ...
    @overload
    def __get__(self, instance: object, owner: type) -> T: ...
    def __get__(self, instance: object | None, owner: type) -> cached[T] | T:
        if instance is None:
            return self
        value = self.compute(instance)
        instance.__dict__[self.name] = value
        return value


@dataclass
class IgnoreComment:
    """One `# revisor: ignore[...]` comment; `codes` empty means every code."""

    line: int
    column: int
    end_column: int
    codes: tuple[str, ...]
    used: set[str] = field(default_factory=set)


@dataclass
class Function:
    """`upgrade()` or `downgrade()`: its def line and its actions in source order."""

    name: str
    node: ast.FunctionDef
    actions: list[Action]

    @property
    def line(self) -> int:
        return self.node.lineno

    @cached
    def is_empty(self) -> bool:
        """True when the body does nothing: only `pass`, `...`, a docstring or comments."""
        for stmt in self.node.body:
            if isinstance(stmt, ast.Pass):
                continue
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                continue  # docstring or `...`
            return False
        return True

    @cached
    def raises_not_implemented(self) -> bool:
        """True when the body's first real statement raises NotImplementedError."""
        for stmt in self.node.body:
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                continue
            if isinstance(stmt, ast.Raise) and stmt.exc is not None:
                exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
                return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
            return False
        return False


@dataclass
class Migration:
    """One revision file as revisor reads it: source text, AST, identity and actions."""

    path: Path
    source: str
    tree: ast.Module | None
    syntax_error: SyntaxError | None = None

    @cached
    def lines(self) -> list[str]:
        return self.source.splitlines()

    @cached
    def module_values(self) -> dict[str, object]:
        """Module-level constants (`revision = "..."`, `irreversible = True`, ...)."""
        if self.tree is None:
            # A file that does not parse still names its place in the history (usually):
            # read the assignments textually so the graph is not broken twice.
            values: dict[str, object] = {}
            for match in _ASSIGNMENT_RE.finditer(self.source):
                try:
                    values[match.group("name")] = ast.literal_eval(match.group("value"))
                except (ValueError, SyntaxError):
                    continue
            return values
        return self._module_assignments[0]

    @cached
    def _module_assignments(self) -> tuple[dict[str, object], dict[str, int]]:
        """(name → value of its last module-level assignment, the node when it is not a
        literal; name → line of its first), in one pass over the module."""
        values: dict[str, object] = {}
        lines: dict[str, int] = {}
        for stmt in self.tree.body if self.tree is not None else ():
            target: ast.expr | None = None
            value: ast.expr | None = None
            if isinstance(stmt, ast.Assign):
                if len(stmt.targets) == 1:
                    target, value = stmt.targets[0], stmt.value
                for each in stmt.targets:
                    if isinstance(each, ast.Name):
                        lines.setdefault(each.id, stmt.lineno)
            elif isinstance(stmt, ast.AnnAssign):
                target, value = stmt.target, stmt.value
                if isinstance(target, ast.Name):
                    lines.setdefault(target.id, stmt.lineno)
            if isinstance(target, ast.Name) and value is not None:
                found = literal(value)
                values[target.id] = value if found is ... else found  # non-literal: the node
        return values, lines

    def module_line(self, name: str) -> int | None:
        """The line assigning module-level `name`, or None."""
        if self.tree is None:
            match = re.search(rf"^{name}\b", self.source, re.MULTILINE)
            return self.source.count("\n", 0, match.start()) + 1 if match else None
        return self._module_assignments[1].get(name)

    @property
    def revision(self) -> str | None:
        value = self.module_values.get("revision")
        return value if isinstance(value, str) else None

    @property
    def down_revisions(self) -> tuple[str, ...]:
        """The parents named by `down_revision` (empty for a base revision)."""
        return self._names("down_revision")

    @property
    def branch_labels(self) -> tuple[str, ...]:
        return self._names("branch_labels")

    @property
    def depends_on(self) -> tuple[str, ...]:
        """The revisions (or branch labels) named by `depends_on`."""
        return self._names("depends_on")

    def _names(self, variable: str) -> tuple[str, ...]:
        """A module-level string or list/tuple of strings, as a tuple."""
        value = self.module_values.get(variable)
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list | tuple):
            return tuple(v for v in value if isinstance(v, str))
        return ()

    @property
    def irreversible(self) -> bool:
        """True when the revision declares `irreversible = True` (empty downgrade allowed)."""
        return self.module_values.get("irreversible") is True

    @cached
    def scope(self) -> dict[str, Bound]:
        """What each module-level name holds when upgrade()/downgrade() run: the last
        simple assignment (`OLD = "item_owner_id_fkey"`); UNKNOWN for names bound by an
        import, a def, or inside a block that may not run."""
        module = Scope()
        if self.tree is not None:
            with visible(module):
                for stmt in self.tree.body:
                    _assign(stmt, module.local)
        return module.local

    @cached
    def functions(self) -> dict[str, Function]:
        found: dict[str, Function] = {}
        if self.tree is None:
            return found
        for stmt in self.tree.body:
            if isinstance(stmt, ast.FunctionDef) and stmt.name in ("upgrade", "downgrade"):
                # The module's names are read only if a call names one (most never do).
                found[stmt.name] = Function(
                    stmt.name, stmt, collect_actions(stmt.body, lambda: self.scope)
                )
        return found

    @cached
    def upgrade(self) -> Function | None:
        return self.functions.get("upgrade")

    @cached
    def downgrade(self) -> Function | None:
        return self.functions.get("downgrade")

    @cached
    def ignores(self) -> dict[int, IgnoreComment]:
        """`# revisor: ignore` comments by line. Only real comments count (tokenize tells
        them from text inside strings and docstrings); files without "revisor:" skip it."""
        found: dict[int, IgnoreComment] = {}
        if "revisor:" not in self.source:
            return found
        for number, column, text in _comments(self.source):
            match = IGNORE_RE.search(text)
            if match is None:
                continue
            codes = match.group("codes")
            parsed = tuple(c.strip().upper() for c in (codes or "").split(",") if c.strip())
            start = column + match.start()
            found[number] = IgnoreComment(number, start, column + match.end(), parsed)
        return found

    def function_at(self, line: int) -> Function | None:
        """The upgrade/downgrade function whose body contains `line`."""
        for function in self.functions.values():
            end = function.node.end_lineno or function.node.lineno
            if function.node.lineno <= line <= end:
                return function
        return None

    @cached
    def action_kinds(self) -> frozenset[str]:
        """Every kind of action upgrade() and downgrade() make (rules' `triggers`)."""
        return frozenset(a.kind for f in self.functions.values() for a in f.actions)

    @cached
    def tables_created(self) -> set[str]:
        """Tables the upgrade creates: lock rules treat every other table as existing."""
        if self.upgrade is None:
            return set()
        return {a.table for a in self.upgrade.actions if a.kind == "create_table" and a.table}

    @cached
    def columns_added(self) -> set[tuple[str, str]]:
        """(table, column) pairs the upgrade adds to existing tables."""
        if self.upgrade is None:
            return set()
        return {
            (a.table, a.column.name)
            for a in self.upgrade.actions
            if a.kind == "add_column" and a.table and a.column and a.column.name
        }


def _comments(source: str) -> list[tuple[int, int, str]]:
    """(line, character column, text) of every comment token in `source`."""
    found: list[tuple[int, int, str]] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                found.append((token.start[0], token.start[1], token.string))
    except (tokenize.TokenError, SyntaxError):
        pass  # an unterminated construct: keep the comments seen so far
    return found


def parse_migration(path: Path, source: str | None = None) -> Migration:
    """Parse `path` (or `source`) into a Migration; a syntax error is kept, not raised."""
    if source is None:
        source = path.read_text(encoding="utf-8", errors="replace")
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        return Migration(path=path, source=source, tree=None, syntax_error=exc)
    return Migration(path=path, source=source, tree=tree)


def collect_actions(
    body: list[ast.stmt], module: Callable[[], Mapping[str, Bound]] | None = None
) -> list[Action]:
    """Every recognised operation in `body`, in source order, including nested blocks.
    Names resolve through the function's own assignments above the call, then `module()`
    (the module's constants)."""
    actions: list[Action] = []
    scope = Scope(module)
    with visible(scope):
        _walk(body, actions, scope, autocommit=False, batch_table=None, batch_names=frozenset())
    return actions


def _walk(
    body: list[ast.stmt],
    out: list[Action],
    scope: Scope,
    *,
    autocommit: bool,
    batch_table: str | None,
    batch_names: frozenset[str],
) -> None:
    """Read `body` in order; `scope` (the one `visible` publishes) follows assignments."""
    for stmt in body:
        if isinstance(stmt, ast.Expr):  # most statements: a call, nothing bound
            _scan_expr(stmt.value, out, autocommit, batch_table, batch_names)
            continue
        if isinstance(stmt, ast.With):
            inner_autocommit = autocommit
            inner_batch, inner_names = batch_table, batch_names
            for item in stmt.items:
                expr = item.context_expr
                if _is_autocommit_block(expr):
                    inner_autocommit = True
                elif isinstance(expr, ast.Call) and _callee(expr) == "op.batch_alter_table":
                    table = expr.args[0] if expr.args else _kw(expr, "table_name")
                    if isinstance(table, ast.Constant) and isinstance(table.value, str):
                        inner_batch = table.value
                    if isinstance(item.optional_vars, ast.Name):
                        inner_names = batch_names | {item.optional_vars.id}
                else:
                    _scan_expr(expr, out, autocommit, batch_table, batch_names)
                if item.optional_vars is not None:
                    _forget(item.optional_vars, scope.local)
            # A with body always runs: its assignments stay visible after it.
            _walk(
                stmt.body,
                out,
                scope,
                autocommit=inner_autocommit,
                batch_table=inner_batch,
                batch_names=inner_names,
            )
            continue
        for expr in _own_expressions(stmt):
            _scan_expr(expr, out, autocommit, batch_table, batch_names)
        children = _child_bodies(stmt)
        if children:
            if isinstance(stmt, ast.For | ast.AsyncFor):
                _forget(stmt.target, scope.local)
            for child in children:
                # Each branch starts from what is known before the statement; a name it
                # assigns is UNKNOWN afterwards (the branch may not have run).
                inner = scope.branch()
                with visible(inner):
                    _walk(
                        child,
                        out,
                        inner,
                        autocommit=autocommit,
                        batch_table=batch_table,
                        batch_names=batch_names,
                    )
                for name, value in inner.local.items():
                    if scope.local.get(name) is not value:
                        scope.local[name] = UNKNOWN
        else:
            _assign(stmt, scope.local)


def _assign(stmt: ast.stmt, scope: dict[str, Bound]) -> None:
    """Record what `stmt` binds in `scope`: a simple `name = value` its value (evaluated
    in `scope`, which `visible` publishes), any other binding UNKNOWN."""
    if isinstance(stmt, ast.Assign):
        value = bound(stmt.value)
        for target in stmt.targets:
            if isinstance(target, ast.Name):
                scope[target.id] = value
            else:
                _forget(target, scope)
    elif isinstance(stmt, ast.AnnAssign):
        if isinstance(stmt.target, ast.Name) and stmt.value is not None:
            scope[stmt.target.id] = bound(stmt.value)
    elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        scope[stmt.name] = UNKNOWN
    elif isinstance(stmt, ast.Import | ast.ImportFrom):
        for alias in stmt.names:
            scope[(alias.asname or alias.name).split(".")[0]] = UNKNOWN
    elif isinstance(stmt, ast.AugAssign | ast.Delete | ast.Global | ast.Nonlocal):
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name):
                scope[node.id] = UNKNOWN
        if isinstance(stmt, ast.Global | ast.Nonlocal):
            for name in stmt.names:
                scope[name] = UNKNOWN
    elif not isinstance(stmt, ast.Expr | ast.Pass | ast.Return | ast.Raise | ast.Assert):
        _forget(stmt, scope)  # if/try/for/with at module level: nothing certain


def _forget(node: ast.AST, scope: dict[str, Bound]) -> None:
    """Every name `node` stores into becomes UNKNOWN (nested defs keep their own)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Name) and isinstance(item.ctx, ast.Store):
            scope[item.id] = UNKNOWN
        elif isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            scope[item.name] = UNKNOWN
            continue
        elif isinstance(item, ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(item))


def _child_bodies(stmt: ast.stmt) -> list[list[ast.stmt]]:
    if isinstance(stmt, ast.If | ast.For | ast.While | ast.AsyncFor):
        return [stmt.body, stmt.orelse]
    if isinstance(stmt, ast.Try):
        return [stmt.body, *[h.body for h in stmt.handlers], stmt.orelse, stmt.finalbody]
    return []


def _own_expressions(stmt: ast.stmt) -> list[ast.expr]:
    """The expressions a simple statement evaluates (calls may hide in assignments)."""
    if isinstance(stmt, ast.Expr):
        return [stmt.value]
    if isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign) and stmt.value is not None:
        return [stmt.value]
    if isinstance(stmt, ast.If | ast.While):
        return [stmt.test]
    if isinstance(stmt, ast.For):
        return [stmt.iter]
    if isinstance(stmt, ast.Return) and stmt.value is not None:
        return [stmt.value]
    return []


def _scan_expr(
    expr: ast.expr,
    out: list[Action],
    autocommit: bool,
    batch_table: str | None,
    batch_names: frozenset[str],
) -> None:
    """Turn the outermost calls of `expr` into actions (nested calls are their arguments)."""
    if isinstance(expr, ast.Await):
        expr = expr.value
    if not isinstance(expr, ast.Call):
        return
    in_batch = batch_table if batch_names and root_name(expr.func) in batch_names else None
    found = actions_from_call(expr, batch_table=in_batch)
    if autocommit:
        for action in found:
            action.in_autocommit = True
    out.extend(found)


def _is_autocommit_block(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Call) and last_name(expr.func) == "autocommit_block"


def _callee(call: ast.Call) -> str:
    return dotted(call.func)


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None
