"""The naming convention on the models' MetaData, written where the MetaData is made.

The convention is revisor's own (`revisor.naming.SEED_CONVENTION`), the one RV102
suggests and `review --fix` and `draft` name with, so adopting it keeps every name they
already wrote. The MetaData is the one env.py's target_metadata (or `[tool.revisor]
metadata`) gives; the module that makes it is found among the project's imported modules,
and the statement there among these shapes:

- `metadata = MetaData(...)` (also inline: `declarative_base(metadata=MetaData())`):
  `naming_convention=` is added to that call;
- `class Base(DeclarativeBase): ...`: a `metadata = MetaData(naming_convention=...)`
  class attribute (SQLAlchemy's documented way);
- `Base = declarative_base()`, `mapper_registry = registry()`, Flask-SQLAlchemy's
  `db = SQLAlchemy(...)`: `metadata=MetaData(naming_convention=...)` is passed.

SQLModel's shared `SQLModel.metadata` is made inside sqlmodel: init says what to write
instead of guessing where the table models start.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import libcst as cst
from sqlalchemy import MetaData

from revisor.init.cst import (
    add_import,
    add_imported_name,
    append_keyword,
    dotted,
    imported_names,
    keyword,
    module_aliases,
    parse,
)
from revisor.init.plan import FileChange, read
from revisor.naming import SEED_CONVENTION

REASON = "naming convention on the models' MetaData (RV102)"


@dataclass(frozen=True)
class Definer:
    """A module attribute that makes the MetaData: the MetaData itself (rank 0), a
    declarative base class holding it (1), or an object carrying it (2: `db`, a registry)."""

    rank: int
    path: Path
    module: str
    attribute: str
    value: Any


def convention_source(indent: str, step: str) -> str:
    """SEED_CONVENTION as a dict literal whose lines sit at `indent` (entries one `step`
    further in)."""
    entries = [
        f"{indent}{step}{json.dumps(key)}: {json.dumps(template)},"
        for key, template in SEED_CONVENTION.items()
    ]
    return "\n".join(["{", *entries, f"{indent}}}"])


def place_convention(metadata: MetaData, root: Path, exclude: set[Path]) -> FileChange | str:
    """The change that gives `metadata` revisor's naming convention where it is made, or
    a note saying why init cannot place it (the note tells what to write)."""
    found = definers(metadata, root, exclude)
    for definer in found:
        source = read(definer.path)
        module = parse(source, definer.path)
        edited = _ConventionEdit(definer, module).apply()
        if edited is not None:
            return FileChange(definer.path, source, edited.code, REASON)
    suggestion = f"naming_convention={json.dumps(SEED_CONVENTION)}"
    if any(getattr(d.value, "__module__", "").startswith("sqlmodel") for d in found):
        return (
            "SQLModel's shared metadata is made inside sqlmodel: put "
            f"`SQLModel.metadata.naming_convention = {json.dumps(SEED_CONVENTION)}` right "
            "after `from sqlmodel import SQLModel`, before any table model (RV102)."
        )
    return (
        "could not find the statement that makes the models' MetaData among the project's "
        f"modules; pass {suggestion} to it yourself (RV102)."
    )


def definers(metadata: MetaData, root: Path, exclude: set[Path]) -> list[Definer]:
    """The attributes of the project's modules (under `root`, not in `exclude`) that make
    or hold `metadata`, the MetaData itself first."""
    found = _candidates(metadata, root, exclude)
    return sorted(found, key=lambda d: (d.rank, str(d.path), d.attribute))


def metadata_specs(found: list[Definer]) -> list[str]:
    """`[tool.revisor] metadata` for each definer, in their order ("app.models:Base.metadata")."""
    specs = []
    for definer in found:
        if definer.module in ("__main__", "") or definer.module.startswith("_"):
            continue
        suffix = "" if definer.rank == 0 else ".metadata"
        specs.append(f"{definer.module}:{definer.attribute}{suffix}")
    return specs


def _candidates(metadata: MetaData, root: Path, exclude: set[Path]) -> Iterator[Definer]:
    installed = tuple(Path(p).resolve() for p in {sys.prefix, sys.base_prefix})
    for module in list(sys.modules.values()):
        path = _module_path(module)
        if path is None or path in exclude or not path.is_relative_to(root):
            continue
        if any(path.is_relative_to(prefix) for prefix in installed):
            continue  # a virtualenv inside the project folder
        for attribute, value in list(vars(module).items()):
            if value is metadata:
                yield Definer(0, path, module.__name__, attribute, value)
            elif isinstance(value, type):
                if vars(value).get("metadata") is metadata:
                    yield Definer(1, path, module.__name__, attribute, value)
            elif _carries(value, metadata):
                yield Definer(2, path, module.__name__, attribute, value)


def _module_path(module: ModuleType) -> Path | None:
    file = getattr(module, "__file__", None)
    if not file or not file.endswith(".py"):
        return None
    return Path(file).resolve()


def _carries(value: Any, metadata: MetaData) -> bool:
    try:  # proxies (Flask's current_app) raise outside their context
        return getattr(value, "metadata", None) is metadata
    except Exception:
        return False


class _ConventionEdit:
    """Finds the definer's statement in its module and adds the convention there."""

    def __init__(self, definer: Definer, module: cst.Module) -> None:
        self.definer = definer
        self.module = module
        self.step = module.default_indent
        self.metadata_name = self._metadata_name()

    def apply(self) -> cst.Module | None:
        body = list(self.module.body)
        for index, statement in enumerate(body):
            replaced = self._edit(statement)
            if replaced is not None:
                body[index] = replaced
                module = self.module.with_changes(body=body)
                if self.metadata_name is None:
                    module = add_imported_name(module, "sqlalchemy", "MetaData") or add_import(
                        module, "from sqlalchemy import MetaData\n"
                    )
                return module
        return None

    def _edit(self, statement: cst.BaseStatement) -> cst.BaseStatement | None:
        name = self.definer.attribute
        if isinstance(statement, cst.ClassDef) and statement.name.value == name:
            return self._edit_class(statement) if self.definer.rank == 1 else None
        assign = _assignment(statement, name)
        if assign is None or not isinstance(assign.value, cst.Call):
            return None
        call = assign.value
        inner = _metadata_call(call)
        if inner is not None:
            edited = self._with_convention(inner, indent="")
            if edited is None:
                return None
            new_value = call.deep_replace(inner, edited) if inner is not call else edited
        elif self.definer.rank > 0 and keyword(call, "metadata") is None:
            new_value = append_keyword(
                call,
                "metadata",
                lambda line: self._new_metadata(line),
                indent="",
                step=self.step,
            )
        else:
            return None
        assert isinstance(statement, cst.SimpleStatementLine)
        return statement.with_deep_changes(assign, value=new_value)

    def _edit_class(self, node: cst.ClassDef) -> cst.ClassDef | None:
        body = node.body
        statements = list(body.body)
        for index, statement in enumerate(statements):
            assign = _assignment(statement, "metadata")
            if assign is None:
                continue
            inner = _metadata_call(assign.value) if isinstance(assign.value, cst.Call) else None
            if inner is None:
                return None  # metadata = some_other_metadata: made elsewhere
            edited = self._with_convention(inner, indent=self.step)
            if edited is None:
                return None
            outer = assign.value
            new_value = outer.deep_replace(inner, edited) if inner is not outer else edited
            assert isinstance(statement, cst.SimpleStatementLine)
            statements[index] = statement.with_deep_changes(assign, value=new_value)
            return node.with_changes(body=body.with_changes(body=statements))
        attribute = cst.parse_statement(
            f"metadata = {self._new_metadata('')}\n",
            config=self.module.config_for_parsing,
        )
        if isinstance(body, cst.SimpleStatementSuite):  # class Base(DeclarativeBase): pass
            kept = [s for s in body.body if not _is_placeholder(s)]
            lines = [cst.SimpleStatementLine(body=[s]) for s in kept]
            block = cst.IndentedBlock(body=[attribute, *lines], header=body.trailing_whitespace)
            return node.with_changes(body=block)
        kept_statements = [s for s in statements if not _is_pass_line(s)]
        at = 1 if kept_statements and _is_docstring_line(kept_statements[0]) else 0
        following = kept_statements[at] if at < len(kept_statements) else None
        if at == 1:
            # a blank line between the docstring and the attribute: the one that followed
            # the docstring, else a new one
            assert isinstance(attribute, cst.SimpleStatementLine)
            blank = (
                following.leading_lines if following is not None else [cst.EmptyLine(indent=False)]
            )
            attribute = attribute.with_changes(leading_lines=blank or [cst.EmptyLine(indent=False)])
        kept_statements.insert(at, attribute)
        return node.with_changes(body=body.with_changes(body=kept_statements))

    def _with_convention(self, call: cst.Call, indent: str) -> cst.Call | None:
        if keyword(call, "naming_convention") is not None:
            return None  # one the user wrote (without constraint kinds): theirs to extend
        return append_keyword(
            call,
            "naming_convention",
            lambda line: convention_source(line, self.step),
            indent=indent,
            step=self.step,
        )

    def _new_metadata(self, indent: str) -> str:
        name = self.metadata_name or "MetaData"
        inner = indent + self.step
        convention = convention_source(inner, self.step)
        return f"{name}(\n{inner}naming_convention={convention},\n{indent})"

    def _metadata_name(self) -> str | None:
        """How this module can spell sqlalchemy's MetaData, None when it imports neither
        it nor sqlalchemy."""
        for local, original in imported_names(self.module, "sqlalchemy").items():
            if original == "MetaData":
                return local
        for alias in module_aliases(self.module, "sqlalchemy"):
            return f"{alias}.MetaData"
        return None


def _assignment(statement: cst.CSTNode, name: str) -> cst.Assign | cst.AnnAssign | None:
    if not isinstance(statement, cst.SimpleStatementLine):
        return None
    for small in statement.body:
        if isinstance(small, cst.Assign) and any(
            isinstance(t.target, cst.Name) and t.target.value == name for t in small.targets
        ):
            return small
        if (
            isinstance(small, cst.AnnAssign)
            and isinstance(small.target, cst.Name)
            and small.target.value == name
            and small.value is not None
        ):
            return small
    return None


def _metadata_call(call: cst.Call) -> cst.Call | None:
    """The `MetaData(...)` call that is `call` or one of its arguments."""
    if dotted(call.func).rpartition(".")[2] == "MetaData":
        return call
    for arg in call.args:
        if isinstance(arg.value, cst.Call):
            found = _metadata_call(arg.value)
            if found is not None:
                return found
    return None


def _is_placeholder(small: cst.BaseSmallStatement) -> bool:
    return isinstance(small, cst.Pass) or (
        isinstance(small, cst.Expr) and isinstance(small.value, cst.Ellipsis)
    )


def _is_pass_line(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and _is_placeholder(statement.body[0])
        and not statement.leading_lines
        and statement.trailing_whitespace.comment is None
    )


def _is_docstring_line(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )
