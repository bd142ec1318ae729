"""The findings `revisor doctor` reports: one code (DR1xx), name and severity each.

Declaring a `DoctorKind` registers it (a duplicate code or name raises); docs/doctor.md
lists the same table, and a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity

if TYPE_CHECKING:
    from revisor.fix_commands import CommandLine

DOCTOR_KINDS: dict[str, DoctorKind] = {}


@dataclass(frozen=True)
class DoctorKind:
    """One diagnosis: `code`, kebab-case `name`, severity and a one-line summary."""

    code: str
    name: str
    severity: Severity
    summary: str

    def __post_init__(self) -> None:
        for other in DOCTOR_KINDS.values():
            if other.code == self.code or other.name == self.name:
                raise ValueError(f"doctor kind {self.code} {self.name} is declared twice")
        DOCTOR_KINDS[self.code] = self

    def finding(
        self,
        message: str,
        help: str,
        *,
        revision: str | None = None,
        commands: Sequence[CommandLine] = (),
        **extra: object,
    ) -> Finding:
        """A Finding of this kind; `help` says the command that fixes it. `commands`: the
        command lines `help` names on its way to the fix, in the order to run them (a step
        it can only give in words, such as "make the schema equal", comes before them);
        they are the finding's `commands` detail."""
        if commands:
            extra["commands"] = [str(command) for command in commands]
        return Finding(
            code=self.code,
            severity=self.severity,
            message=message,
            help=help,
            name=self.name,
            revision=revision,
            extra=dict(extra),
        )


EMPTY = DoctorKind(
    "DR100",
    "empty-database",
    Severity.INFO,
    "No version table and no schema: nothing has been migrated yet.",
)
UNSTAMPED = DoctorKind(
    "DR101",
    "unstamped-schema",
    Severity.ERROR,
    "Tables exist but no revision is recorded (create_all or hand-made schema).",
)
UNKNOWN_REVISION = DoctorKind(
    "DR102",
    "unknown-revision",
    Severity.ERROR,
    "The recorded revision is not in the migration history (deleted file, other branch).",
)
PENDING = DoctorKind(
    "DR103",
    "pending-revisions",
    Severity.WARNING,
    "The database is behind head: revisions are waiting to be applied.",
)
VERSION_ROWS = DoctorKind(
    "DR104",
    "inconsistent-version-rows",
    Severity.ERROR,
    "The version table holds duplicate rows, or rows on the same branch of the history.",
)
SCHEMA_DRIFT = DoctorKind(
    "DR105",
    "schema-drift",
    Severity.ERROR,
    "An object differs from what the history builds at the recorded revision.",
)
OTHER_REVISION = DoctorKind(
    "DR106",
    "schema-of-other-revision",
    Severity.ERROR,
    "The schema is exactly what another revision builds: the stamp is wrong.",
)
HISTORY_FAILS = DoctorKind(
    "DR107",
    "history-does-not-build",
    Severity.WARNING,
    "Upgrading an empty scratch database fails, so later revisions could not be compared.",
)


def render_markdown_table() -> str:
    """The table of kinds for docs/doctor.md."""
    lines = ["| code | name | severity | meaning |", "| --- | --- | --- | --- |"]
    for kind in DOCTOR_KINDS.values():
        lines.append(f"| {kind.code} | `{kind.name}` | {kind.severity.value} | {kind.summary} |")
    return "\n".join(lines) + "\n"
