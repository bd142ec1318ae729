"""JSON: one object per finding, stable keys, for tools."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from revisor.findings import Finding
from revisor.report import relative


def finding_dict(finding: Finding, root: Path | None) -> dict[str, object]:
    return {
        "code": finding.code,
        "name": finding.name,
        "severity": finding.severity.value,
        "message": finding.message,
        "path": relative(finding.path, root),
        "line": finding.line,
        "column": finding.column,
        "help": finding.help,
        "revision": finding.revision,
        # engine-specific facts, e.g. revisor test --locks: table, lock mode, statement
        "details": {k: _plain(v) for k, v in sorted(finding.extra.items())},
        "fix": None
        if finding.fix is None
        else {
            "message": finding.fix.message,
            "applicability": finding.fix.applicability.value,
            # 1-based lines, 0-based character columns; end is exclusive.
            "edits": [
                {
                    "path": relative(edit.path, root),
                    "start": [edit.start_line, edit.start_col],
                    "end": [edit.end_line, edit.end_col],
                    "replacement": edit.replacement,
                }
                for edit in finding.fix.edits
            ],
        },
    }


def _plain(value: object) -> object:
    """A JSON-safe form of an extra value (paths and other objects become text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def render_json(findings: Sequence[Finding], *, root: Path | None = None) -> str:
    payload = {
        "findings": [finding_dict(f, root) for f in findings],
        "summary": {
            sev: sum(1 for f in findings if f.severity.value == sev)
            for sev in ("error", "warning", "info")
        },
    }
    return json.dumps(payload, indent=2, sort_keys=False) + "\n"
