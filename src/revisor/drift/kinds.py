"""The kinds of drift `revisor check` reports: one code, name and severity each.

Codes live in the RV6xx range (RV600-RV649 models vs database, RV650-RV699 the check run
itself, e.g. a migration that fails to apply; history problems are review's RV2xx). Each
comparator module declares the kinds it reports with `DriftKind(...)`; declaring one
registers it, and a duplicate code or name raises, so a new kind touches one file.
docs/drift.md is generated from this registry (`render_markdown`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from revisor.findings import Finding, Severity

DRIFT_KINDS: dict[str, DriftKind] = {}


@dataclass(frozen=True)
class DriftKind:
    """One kind of finding: `code` (RV6xx), kebab-case `name`, default severity, a
    one-line `summary` for the docs and the `help` line every finding of this kind carries."""

    code: str
    name: str
    severity: Severity
    summary: str
    help: str

    def __post_init__(self) -> None:
        for other in DRIFT_KINDS.values():
            if other.code == self.code or other.name == self.name:
                raise ValueError(f"drift kind {self.code} {self.name} is declared twice")
        DRIFT_KINDS[self.code] = self

    def finding(
        self,
        message: str,
        *,
        path: Path | None = None,
        line: int | None = None,
        revision: str | None = None,
        help: str | None = None,
        severity: Severity | None = None,
        **extra: object,
    ) -> Finding:
        """A Finding of this kind; `extra` holds machine-readable facts (table, column…)."""
        return Finding(
            code=self.code,
            severity=severity or self.severity,
            message=message,
            path=path,
            line=line,
            help=help or self.help,
            name=self.name,
            revision=revision,
            extra=dict(extra),
        )


def render_markdown() -> str:
    """Return docs/drift.md: one table row per drift kind, by code."""
    # Importing the comparators declares every kind.
    import revisor.check
    import revisor.drift  # noqa: F401

    lines = [
        "# `revisor check` finding codes",
        "",
        "Generated from `revisor.drift.kinds.DRIFT_KINDS`; a test keeps this file in step.",
        "Errors fail `revisor check` (exit 1); warnings are reported but do not fail it.",
        "",
        "| code | name | severity | what it means |",
        "| --- | --- | --- | --- |",
    ]
    for code in sorted(DRIFT_KINDS):
        kind = DRIFT_KINDS[code]
        lines.append(f"| {kind.code} | `{kind.name}` | {kind.severity.value} | {kind.summary} |")
    return "\n".join(lines) + "\n"
