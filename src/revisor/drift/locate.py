"""Where a model object is written: the file and line of its class, Column or Index.

Drift findings point at the model so an editor or a GitHub annotation lands on the line
to fix. Declarative classes are found through SQLAlchemy's mapper registries; the line
comes from the class's AST (the attribute assigned, or the call naming the object).
"""

from __future__ import annotations

import ast
import inspect
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Table


@dataclass(frozen=True)
class Location:
    path: Path | None = None
    line: int | None = None


NOWHERE = Location()


def _parsed(path: str) -> ast.Module | None:
    """The file's AST, cached while the file is unchanged (draft rewrites models.py)."""
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return _parse(path, stat.st_mtime_ns, stat.st_size)


@cache
def _parse(path: str, mtime_ns: int, size: int) -> ast.Module | None:
    try:
        return ast.parse(Path(path).read_text(encoding="utf-8"), filename=path)
    except (OSError, SyntaxError, ValueError):
        return None


def _class_node(cls: type) -> tuple[Path, ast.ClassDef] | None:
    try:
        source = inspect.getsourcefile(cls)
    except (TypeError, OSError):
        return None
    if source is None:
        return None
    tree = _parsed(source)
    if tree is None:
        return None
    # qualname "Outer.Inner" for nested classes; walk down the names.
    body: list[ast.stmt] = tree.body
    node: ast.ClassDef | None = None
    for part in cls.__qualname__.split("."):
        node = next((n for n in body if isinstance(n, ast.ClassDef) and n.name == part), None)
        if node is None:
            return None
        body = node.body
    return (Path(source), node) if node is not None else None


def _assigned_names(stmt: ast.stmt) -> list[str]:
    """Attribute names a class-body statement defines (`x = ...`, `x: T = ...`, and
    `@declared_attr def x(cls)`)."""
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return [stmt.target.id]
    if isinstance(stmt, ast.Assign):
        return [t.id for t in stmt.targets if isinstance(t, ast.Name)]
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
        return [stmt.name]
    return []


def _string_line(node: ast.AST, text: str) -> int | None:
    """Line of the first call inside `node` that has `text` as a string argument."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            values = [*sub.args, *(k.value for k in sub.keywords)]
            if any(isinstance(v, ast.Constant) and v.value == text for v in values):
                return sub.lineno
    return None


class ModelLocator:
    """Finds the source of tables, columns and named objects of the given MetaData."""

    def __init__(self) -> None:
        self._classes: dict[int, type] = {}
        from sqlalchemy.orm import mapperlib

        for registry in list(mapperlib._all_registries()):
            for mapper in list(registry.mappers):
                table = mapper.local_table
                if isinstance(table, Table) and id(table) not in self._classes:
                    self._classes[id(table)] = mapper.class_

    def model_class(self, table: Table) -> type | None:
        return self._classes.get(id(table))

    def table(self, table: Table) -> Location:
        """The class (or `Table(...)` call) that declares `table`."""
        cls = self.model_class(table)
        if cls is not None:
            found = _class_node(cls)
            if found:
                return Location(found[0], found[1].lineno)
        return self._plain_table(table)

    def column(self, table: Table, column: Column[Any]) -> Location:
        """The attribute (or `Column("name", ...)`) that declares `column`."""
        cls = self.model_class(table)
        if cls is None:
            return self.named(table, column.name)
        from sqlalchemy import inspect as sa_inspect

        try:
            key = sa_inspect(cls).get_property_by_column(column).key
        except Exception:  # not mapped (e.g. a column only in __table__)
            key = column.key
        for klass in cls.__mro__:
            found = _class_node(klass) if klass is not object else None
            if not found:
                continue
            path, node = found
            for stmt in node.body:
                if key in _assigned_names(stmt):
                    return Location(path, stmt.lineno)
        return self.named(table, column.name)

    def named(self, table: Table, name: str | None) -> Location:
        """The call inside the table's class that names `name` (an Index, a constraint, a
        Column("name")); else the class itself."""
        return self.naming_call(table, name) or self.table(table)

    def item(self, table: Table, name: str | None, columns: list[Column[Any]]) -> Location:
        """An index or constraint: the call naming it, else its single column (index=True,
        unique=True on a Column), else the class."""
        where = self.naming_call(table, name) if name else None
        if where is not None:
            return where
        if len(columns) == 1:
            return self.column(table, columns[0])
        return self.table(table)

    def naming_call(self, table: Table, name: str | None) -> Location | None:
        """The call inside the table's class that has `name` as a string argument."""
        cls = self.model_class(table)
        found = _class_node(cls) if cls is not None else None
        if found and name:
            line = _string_line(found[1], name)
            if line:
                return Location(found[0], line)
        return None

    def _plain_table(self, table: Table) -> Location:
        """A `Table("name", metadata, ...)` assigned at module level somewhere imported."""
        for module in list(sys.modules.values()):
            namespace = getattr(module, "__dict__", None)
            if not namespace or not any(value is table for value in list(namespace.values())):
                continue
            source = getattr(module, "__file__", None)
            tree = _parsed(source) if source else None
            if tree is None:
                continue
            line = _string_line(tree, table.name)
            return Location(Path(source), line) if source else NOWHERE
        return NOWHERE
