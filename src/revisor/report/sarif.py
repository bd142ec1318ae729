"""SARIF 2.1.0 (OASIS): one run, the rules that fired, one result per finding, fixes as
artifact changes. GitHub code scanning and most CI dashboards read it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from revisor import __version__
from revisor.findings import Finding, Severity
from revisor.report import relative

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _rule_descriptor(code: str, name: str | None) -> dict[str, Any]:
    """The SARIF rule of `code`, from the registry of every command's codes."""
    from revisor.codes import get_code

    descriptor: dict[str, Any] = {"id": code}
    entry = get_code(code)
    if entry is None:  # not a revisor code (cannot happen for revisor's own findings)
        if name:
            descriptor["name"] = name
        return descriptor
    descriptor["name"] = entry.name
    descriptor["shortDescription"] = {"text": entry.summary}
    what = entry.sections().get("What it does")
    if what:
        descriptor["fullDescription"] = {"text": " ".join(what.split())}
    descriptor["help"] = {"text": f"revisor rule {code} (docs/rules/{code}.md)"}
    descriptor["defaultConfiguration"] = {"level": _LEVEL[entry.severity]}
    descriptor["properties"] = {"tags": [f"revisor {entry.command}"]}
    return descriptor


def _region(finding: Finding) -> dict[str, int]:
    region = {"startLine": finding.line or 1}
    if finding.column:
        region["startColumn"] = finding.column
        end = finding.extra.get("end_column")
        if isinstance(end, int) and end > finding.column:
            region["endColumn"] = end  # exclusive, on the start line
    return region


def _result(finding: Finding, index: int, root: Path | None) -> dict[str, Any]:
    text = finding.message + (f"\n{finding.help}" if finding.help else "")
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": index,
        "level": _LEVEL[finding.severity],
        "message": {"text": text},
    }
    path = relative(finding.path, root)
    if path:
        result["locations"] = [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": path},
                    "region": _region(finding),
                }
            }
        ]
    if finding.fix is not None and finding.fix.edits:
        changes: dict[str, list[dict[str, Any]]] = {}
        for edit in finding.fix.edits:
            uri = relative(edit.path, root) or edit.path.as_posix()
            changes.setdefault(uri, []).append(
                {
                    "deletedRegion": {
                        "startLine": edit.start_line,
                        "startColumn": edit.start_col + 1,
                        "endLine": edit.end_line,
                        "endColumn": edit.end_col + 1,
                    },
                    "insertedContent": {"text": edit.replacement},
                }
            )
        result["fixes"] = [
            {
                "description": {"text": f"{finding.fix.message} ({finding.fix.applicability})"},
                "artifactChanges": [
                    {"artifactLocation": {"uri": uri}, "replacements": replacements}
                    for uri, replacements in changes.items()
                ],
            }
        ]
    if finding.revision:
        result["properties"] = {"revision": finding.revision}
    return result


def render_sarif(findings: Sequence[Finding], *, root: Path | None = None) -> str:
    """Return a SARIF 2.1.0 log of `findings` as JSON text."""
    codes: list[str] = []
    names: dict[str, str | None] = {}
    for finding in findings:
        if finding.code not in names:
            codes.append(finding.code)
            names[finding.code] = finding.name
    codes.sort()
    index = {code: i for i, code in enumerate(codes)}
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "revisor",
                        "version": __version__,
                        "rules": [_rule_descriptor(code, names[code]) for code in codes],
                    }
                },
                "results": [_result(f, index[f.code], root) for f in findings],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"
