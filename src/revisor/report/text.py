"""Plain text for terminals and logs: `path:line:col: CODE message` plus a help line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from revisor.findings import Finding
from revisor.report import location


def render_text(findings: Sequence[Finding], *, root: Path | None = None) -> str:
    lines = []
    for finding in findings:
        where = location(finding, root)
        lines.append(f"{where}: {finding.code} [{finding.severity.value}] {finding.message}")
        if finding.help:
            lines.append(f"  help: {finding.help}")
    errors = sum(1 for f in findings if f.severity.value == "error")
    lines.append(f"{len(findings)} finding(s), {errors} error(s)" if findings else "No findings.")
    return "\n".join(lines) + "\n"
