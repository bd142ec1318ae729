"""Findings: what every checking engine (review, check, test, doctor) returns.

Plain data: engines build them, `report/` renders them, `cli` turns them into an exit code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class Severity(StrEnum):
    ERROR = "error"  # breaks a rollback, a deploy, data, or locks a busy table
    WARNING = "warning"  # likely wrong; does not fail the command
    INFO = "info"  # advice (e.g. add a naming convention)

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


class Applicability(StrEnum):
    SAFE = "safe"  # applied by --fix
    UNSAFE = "unsafe"  # applied only with --unsafe-fixes
    DISPLAY_ONLY = "display-only"  # shown, never applied


@dataclass(frozen=True)
class Edit:
    """Replace the text between two (1-based line, 0-based column) positions of a file."""

    path: Path
    start_line: int
    start_col: int
    end_line: int
    end_col: int
    replacement: str


@dataclass(frozen=True)
class Fix:
    message: str
    edits: tuple[Edit, ...]
    applicability: Applicability = Applicability.SAFE


@dataclass(frozen=True)
class Finding:
    """One problem, located where possible (file and 1-based line/column)."""

    code: str
    severity: Severity
    message: str
    path: Path | None = None
    line: int | None = None
    column: int | None = None
    help: str | None = None
    name: str | None = None  # the rule's kebab-case name
    revision: str | None = None
    fix: Fix | None = None
    extra: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (
            str(self.path or ""),
            self.line or 0,
            self.column or 0,
            self.code,
            self.message,
        )


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Stable order: file, line, column, code, message."""
    return sorted(findings, key=Finding.sort_key)


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)
