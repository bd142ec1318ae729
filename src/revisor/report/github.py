"""GitHub Actions workflow commands: one annotation per finding."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from revisor.findings import Finding, Severity
from revisor.report import relative

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(findings: Sequence[Finding], *, root: Path | None = None) -> str:
    lines = []
    for finding in findings:
        props = []
        path = relative(finding.path, root)
        if path:
            props.append(f"file={_escape_property(path)}")
        if finding.line:
            props.append(f"line={finding.line}")
        if finding.column:
            props.append(f"col={finding.column}")
        props.append(f"title={_escape_property(finding.code)}")
        message = finding.message + (f"\n{finding.help}" if finding.help else "")
        lines.append(f"::{_LEVEL[finding.severity]} {','.join(props)}::{_escape_data(message)}")
    return "\n".join(lines) + ("\n" if lines else "")
