"""The Rule base class: a rule is one class in one file, registered by subclassing.

A rule's docstring is its documentation: a one-line summary, then the sections
`## What it does`, `## Why is this bad?`, `## Example`, `## Use instead`, `## Fix safety`
(and `## Lock` for lock rules). Each rule's code is registered with every other command's
codes in `revisor.codes`; docs/rules/<CODE>.md and `revisor rule CODE` render it.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, ClassVar

from revisor.codes import DuplicateCode, FindingCode, code_blocks
from revisor.findings import Finding, Fix, Severity

if TYPE_CHECKING:
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration

# Two rules (or a rule and another command's code) claim the same code or name.
DuplicateRule = DuplicateCode


class Rule:
    """Base class. Subclasses set `code`, `name`, `severity` and override a `check*`."""

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    # Off unless selected in [tool.revisor] select (style opinions, not hazards).
    default_enabled: ClassVar[bool] = True
    # True when check_project reads the models (project.metadata); loaded lazily.
    needs_metadata: ClassVar[bool] = False
    # The action kinds without which `check` finds nothing in a file: the engine does not
    # call it on files that have none (tests/review/test_engine.py holds every rule to
    # it). None: every file.
    triggers: ClassVar[frozenset[str] | None] = None
    registry: ClassVar[dict[str, type[Rule]]] = {}
    # The rule's entry among every command's codes (set when the subclass is defined).
    registered: ClassVar[FindingCode]
    _names: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if inspect.isabstract(cls) or "code" not in cls.__dict__:
            return
        if cls.code in Rule.registry and Rule.registry[cls.code] is not cls:
            other = Rule.registry[cls.code]
            raise DuplicateRule(f"{cls.__name__} reuses code {cls.code} of {other.__name__}")
        # Registers the code with every command's codes; raises on a name or code that
        # another rule, drift kind, test or doctor code already has.
        cls.registered = FindingCode(
            cls.code,
            cls.name,
            cls.severity,
            inspect.getdoc(cls) or "",
            default_enabled=cls.default_enabled,
            reads_models=cls.needs_metadata,
        )
        Rule.registry[cls.code] = cls
        Rule._names[cls.name] = cls.code

    # --- what subclasses override ------------------------------------------------------

    def check(self, migration: Migration, ctx: ReviewContext) -> Iterable[Finding]:
        """Findings for one migration file (per-file rules)."""
        return ()

    def check_project(self, ctx: ReviewContext) -> Iterable[Finding]:
        """Findings about the whole run (history, models); called once after every file."""
        return ()

    # --- helpers -----------------------------------------------------------------------

    def finding(
        self,
        migration: Migration | None,
        node: ast.AST | int | None,
        message: str,
        *,
        help: str | None = None,
        fix: Fix | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """A Finding of this rule located at `node` (an AST node or a line number)."""
        line: int | None = None
        column: int | None = None
        end_line: int | None = None
        end_column: int | None = None
        if isinstance(node, int):
            line = node
        elif node is not None:
            line = getattr(node, "lineno", None)
            # A multi-line call may carry its ignore comment on any of its lines; a whole
            # function (or other statement) may not, or one comment would silence it all.
            end_line = getattr(node, "end_lineno", None) if isinstance(node, ast.expr) else None
            offset = getattr(node, "col_offset", None)
            if migration is not None and line is not None and offset is not None:
                column = char_column(migration.lines, line, offset) + 1
                end_column = _end_column(migration.lines, node, line)
        return Finding(
            code=self.code,
            severity=severity or self.severity,
            message=message,
            path=migration.path if migration else None,
            line=line,
            column=column,
            help=help,
            name=self.name,
            revision=migration.revision if migration else None,
            fix=fix,
            extra={
                key: value
                for key, value in (("end_line", end_line), ("end_column", end_column))
                if value
            },
        )

    # --- documentation -----------------------------------------------------------------

    @classmethod
    def summary(cls) -> str:
        return cls.registered.summary

    @classmethod
    def sections(cls) -> dict[str, str]:
        """The docstring's `## Heading` sections, heading → body text."""
        return cls.registered.sections()

    @classmethod
    def code_blocks(cls, section: str) -> list[tuple[str, str]]:
        """(info string, code) of each fenced block in `section`."""
        return code_blocks(cls.sections().get(section, ""))


def _end_column(lines: list[str], node: ast.AST, line: int) -> int | None:
    """1-based column just past the node on its first line (its end, or the line's end
    for a node spanning several lines), for underlining; None for statements."""
    if not isinstance(node, ast.expr) or not 0 < line <= len(lines):
        return None
    if getattr(node, "end_lineno", line) == line and node.end_col_offset is not None:
        return char_column(lines, line, node.end_col_offset) + 1
    return len(lines[line - 1].rstrip()) + 1


def char_column(lines: list[str], line: int, byte_offset: int) -> int:
    """AST columns are UTF-8 byte offsets; convert to a character offset in `line`."""
    if 0 < line <= len(lines):
        text = lines[line - 1]
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))
    return byte_offset


def all_rules() -> Iterator[type[Rule]]:
    """Every registered rule, by code (importing the rules package registers them)."""
    import revisor.review.rules  # noqa: F401

    for code in sorted(Rule.registry):
        yield Rule.registry[code]


def get_rule(code_or_name: str) -> type[Rule] | None:
    import revisor.review.rules  # noqa: F401

    key = code_or_name.strip()
    if key.upper() in Rule.registry:
        return Rule.registry[key.upper()]
    code = Rule._names.get(key.lower())
    return Rule.registry.get(code) if code else None
