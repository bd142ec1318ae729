"""Every finding code any revisor command prints, in one registry.

A code belongs to the command that emits it, and the command is read from its prefix:
RV0xx-RV4xx `revisor review`, RV6xx `revisor check` (RV60x-RV64x models vs database,
RV65x the check run itself), RT `revisor test`, DR `revisor doctor`. A code is
declared where its findings are made, with its documentation:

- a review rule is a `Rule` subclass (review/rules/, one file each): `Rule.__init_subclass__`
  registers its code from the class attributes and the docstring;
- the other engines declare `FindingCode(...)` next to the code that reports it (drift
  comparators, testing/kinds.py, doctor/kinds.py).

Declaring a code registers it; a second declaration of the same code or name raises
`DuplicateCode` at import, and a code whose prefix belongs to no command is refused.
Documentation is Markdown: a summary paragraph, then `## What it does`, `## Why is this
bad?`, `## Example`, `## Use instead`, `## Fix safety` (the review rules' convention; for
codes found on a database the Example is a short scenario). docs/rules/<CODE>.md,
`revisor rules` and `revisor rule CODE` render it (revisor.codes.docs).
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from revisor.findings import Finding, Severity

REQUIRED_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead", "Fix safety")
CODE_PATTERN = re.compile(r"[A-Z]{2}\d{3}")


class DuplicateCode(Exception):
    """Two declarations claim the same code or name, or a code fits no command's prefix
    (a programming error, raised at import)."""


class Command(StrEnum):
    """The commands that print findings. Which codes each owns, where they are declared
    and which severity makes the command fail are properties of the command."""

    REVIEW = "review"
    CHECK = "check"
    TEST = "test"
    DOCTOR = "doctor"

    @property
    def prefixes(self) -> tuple[str, ...]:
        """The code prefixes that belong to this command (distinct between commands)."""
        return _COMMANDS[self].prefixes

    @property
    def fails_at(self) -> Severity:
        """The mildest severity that makes the command exit 1."""
        return _COMMANDS[self].fails_at

    @property
    def title(self) -> str:
        """What the command looks at, in a few words."""
        return _COMMANDS[self].title

    @property
    def fails_on(self) -> str:
        """The findings that make it exit 1, in words."""
        return "errors" if self.fails_at is Severity.ERROR else "warnings and errors"

    def fails(self, findings: Iterable[Finding]) -> bool:
        """True when `findings` make this command exit 1 (FINDINGS)."""
        return any(f.severity.rank <= self.fails_at.rank for f in findings)

    @classmethod
    def of(cls, code: str) -> Command | None:
        """The command that emits `code`, by its prefix; None when no command has it."""
        for command in cls:
            if code.upper().startswith(command.prefixes):
                return command
        return None


@dataclass(frozen=True)
class _CommandCodes:
    prefixes: tuple[str, ...]
    # Importing these modules declares every code of the command (the codes of a command
    # are loaded only when asked for: the drift comparators import SQLAlchemy and alembic,
    # which `revisor review` never needs).
    modules: tuple[str, ...]
    fails_at: Severity
    title: str


_COMMANDS = {
    Command.REVIEW: _CommandCodes(
        ("RV0", "RV1", "RV2", "RV3", "RV4"),
        ("revisor.review.rules",),
        Severity.ERROR,
        "the migration files, read without a database",
    ),
    Command.CHECK: _CommandCodes(
        ("RV6",),
        ("revisor.drift", "revisor.check"),
        Severity.ERROR,
        "models vs the migrated database (the CI gate)",
    ),
    Command.TEST: _CommandCodes(
        ("RT",),
        ("revisor.testing.kinds",),
        Severity.ERROR,
        "each revision upgraded, downgraded and upgraded again on a scratch database",
    ),
    Command.DOCTOR: _CommandCodes(
        ("DR",),
        ("revisor.doctor.kinds",),
        # doctor explains a database: anything but advice means it is not healthy.
        Severity.WARNING,
        "a database vs the migration history",
    ),
}

_REGISTRY: dict[str, FindingCode] = {}
_NAMES: dict[str, str] = {}


@dataclass(frozen=True)
class FindingCode:
    """One code: `code`, kebab-case `name` (the hazard), default `severity`, its Markdown
    `doc` (summary line, then the sections), and for engine findings the `help` line each
    finding carries unless it gives its own. Declaring one registers it."""

    code: str
    name: str
    severity: Severity
    doc: str
    help: str | None = None
    default_enabled: bool = True  # off unless selected in [tool.revisor] (opt-in rules)
    reads_models: bool = False  # review rules that load target_metadata
    command: Command = field(init=False)

    def __post_init__(self) -> None:
        command = Command.of(self.code)
        if command is None or not CODE_PATTERN.fullmatch(self.code):
            prefixes = ", ".join(p for c in Command for p in c.prefixes)
            raise DuplicateCode(f"code {self.code!r} fits no command's prefix ({prefixes})")
        object.__setattr__(self, "command", command)
        object.__setattr__(self, "doc", inspect.cleandoc(self.doc))
        _register(self)

    @property
    def summary(self) -> str:
        """The doc's first paragraph, on one line."""
        return " ".join(self.doc.split("\n\n", 1)[0].split())

    def sections(self) -> dict[str, str]:
        """The doc's `## Heading` sections, heading → body text."""
        return doc_sections(self.doc)

    def finding(
        self,
        message: str,
        help: str | None = None,
        *,
        path: Path | None = None,
        line: int | None = None,
        revision: str | None = None,
        severity: Severity | None = None,
        **extra: object,
    ) -> Finding:
        """A Finding of this code, located at `path`:`line` when given. `help` defaults to
        the code's own help line; `extra` holds machine-readable facts (table, column…)."""
        return self.make(
            message,
            help=help,
            path=path,
            line=line,
            revision=revision,
            severity=severity,
            extra=extra,
        )

    def make(
        self,
        message: str,
        *,
        help: str | None = None,
        path: Path | None = None,
        line: int | None = None,
        revision: str | None = None,
        severity: Severity | None = None,
        extra: dict[str, object] | None = None,
    ) -> Finding:
        """The Finding; what every engine's `finding(...)` builds on."""
        return Finding(
            code=self.code,
            severity=severity or self.severity,
            message=message,
            path=path,
            line=line,
            help=help or self.help,
            name=self.name,
            revision=revision,
            extra=dict(extra or {}),
        )


def _register(entry: FindingCode) -> None:
    known = _REGISTRY.get(entry.code)
    if known is not None and known != entry:
        raise DuplicateCode(f"{entry.code} {entry.name!r} reuses the code of {known.name!r}")
    if _NAMES.get(entry.name, entry.code) != entry.code:
        raise DuplicateCode(f"{entry.code} reuses the name {entry.name!r} of {_NAMES[entry.name]}")
    _REGISTRY[entry.code] = entry
    _NAMES[entry.name] = entry.code


def load(commands: Iterable[Command] = tuple(Command)) -> None:
    """Import the modules that declare the codes of `commands` (idempotent)."""
    for command in commands:
        for module in _COMMANDS[command].modules:
            importlib.import_module(module)


def all_codes(command: Command | None = None) -> list[FindingCode]:
    """Every registered code (of `command` only, if given), by command then code."""
    load([command] if command else Command)
    order = list(Command)
    chosen = [c for c in _REGISTRY.values() if command is None or c.command is command]
    return sorted(chosen, key=lambda c: (order.index(c.command), c.code))


def get_code(code_or_name: str) -> FindingCode | None:
    """The code `code_or_name` names (a code in any case, or a kebab-case name)."""
    key = code_or_name.strip()
    command = Command.of(key)
    load([command] if command else Command)
    found = _REGISTRY.get(key.upper())
    if found is None and key.lower() in _NAMES:
        found = _REGISTRY[_NAMES[key.lower()]]
    return found


def doc_sections(doc: str) -> dict[str, str]:
    """`## Heading` sections of a Markdown doc, heading → body text."""
    sections: dict[str, str] = {}
    current: str | None = None
    buffer: list[str] = []
    for line in doc.splitlines():
        if line.startswith("## "):
            if current is not None:
                sections[current] = "\n".join(buffer).strip()
            current, buffer = line[3:].strip(), []
        elif current is not None:
            buffer.append(line)
    if current is not None:
        sections[current] = "\n".join(buffer).strip()
    return sections


_FENCE = re.compile(r"```([^\n]*)\n(.*?)```", re.DOTALL)


def code_blocks(section: str) -> list[tuple[str, str]]:
    """(info string, code) of each fenced block in a section's text."""
    return [(m.group(1).strip(), m.group(2)) for m in _FENCE.finditer(section)]


def missing_sections(entry: FindingCode) -> list[str]:
    sections = entry.sections()
    return [s for s in REQUIRED_SECTIONS if s not in sections]


def codes_by_command() -> Iterator[tuple[Command, list[FindingCode]]]:
    """(command, its codes) for every command, in the order of `Command`."""
    for command in Command:
        yield command, all_codes(command)
