"""Render findings: one module per output format. Only report/ and cli print."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from revisor.findings import Finding

FORMATS = ("text", "json", "github", "sarif")


def render(findings: Sequence[Finding], fmt: str, *, root: Path | None = None) -> str:
    """Return `findings` rendered as `fmt` (text, json, github or sarif)."""
    if fmt == "json":
        from revisor.report.json import render_json

        return render_json(findings, root=root)
    if fmt == "github":
        from revisor.report.github import render_github

        return render_github(findings, root=root)
    if fmt == "sarif":
        from revisor.report.sarif import render_sarif

        return render_sarif(findings, root=root)
    from revisor.report.text import render_text

    return render_text(findings, root=root)


def location(finding: Finding, root: Path | None) -> str:
    """`path:line:col` of a finding (as much as is known), or `<project>`."""
    where = relative(finding.path, root) or "<project>"
    if finding.line:
        where += f":{finding.line}"
        if finding.column:
            where += f":{finding.column}"
    return where


def relative(path: Path | None, root: Path | None) -> str | None:
    """`path` relative to `root` when inside it (stable output across machines)."""
    if path is None:
        return None
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()
