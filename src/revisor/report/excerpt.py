"""Text with the source line and a caret under the column, like a compiler: the review
command's text format. `render_excerpts` is plain text (logs, snapshots); `print_excerpts`
prints the same with colours on a rich Console (terminals)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.text import Text

from revisor.findings import Applicability, Finding, Severity
from revisor.report import location

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.INFO: "bold cyan"}


def _source_line(path: Path | None, line: int | None, cache: dict[Path, list[str]]) -> str | None:
    if path is None or not line:
        return None
    if path not in cache:
        try:
            cache[path] = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            cache[path] = []
    lines = cache[path]
    return lines[line - 1] if 0 < line <= len(lines) else None


def _blocks(findings: Sequence[Finding], root: Path | None) -> list[list[tuple[str, str]]]:
    """Per finding, (style, text) lines: header, source, caret, help, fix."""
    cache: dict[Path, list[str]] = {}
    blocks = []
    for finding in findings:
        where = location(finding, root)
        fixable = (
            " [*]"
            if finding.fix is not None
            and finding.fix.edits
            and finding.fix.applicability is Applicability.SAFE
            else ""
        )
        block = [
            (
                _STYLE[finding.severity],
                f"{where}: {finding.code}{fixable} [{finding.severity.value}] {finding.message}",
            )
        ]
        source = _source_line(finding.path, finding.line, cache)
        if source is not None:
            number = str(finding.line)
            block.append(("dim", f" {number} | {source.rstrip()}"))
            caret_at = (finding.column or 1) - 1
            indent = len(source) - len(source.lstrip()) if not finding.column else caret_at
            end = finding.extra.get("end_column")
            width = max(1, end - 1 - indent) if isinstance(end, int) else 1
            underline = f" {' ' * len(number)} | {' ' * indent}{'^' * width}"
            block.append((_STYLE[finding.severity], underline))
        if finding.help:
            block.append(("cyan", f"  help: {finding.help}"))
        if finding.fix is not None and finding.fix.edits:
            label = {
                Applicability.SAFE: "fix (--fix)",
                Applicability.UNSAFE: "fix (--unsafe-fixes)",
                Applicability.DISPLAY_ONLY: "suggestion",
            }[finding.fix.applicability]
            block.append(("green", f"  {label}: {finding.fix.message}"))
        blocks.append(block)
    return blocks


def _summary(findings: Sequence[Finding]) -> str:
    if not findings:
        return "No findings."
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    warnings = sum(1 for f in findings if f.severity is Severity.WARNING)
    fixable = sum(
        1
        for f in findings
        if f.fix is not None and f.fix.edits and f.fix.applicability is Applicability.SAFE
    )
    text = f"{len(findings)} finding(s): {errors} error(s), {warnings} warning(s)"
    if fixable:
        text += f"; {fixable} fixable with --fix [*]"
    return text + "."


def render_excerpts(findings: Sequence[Finding], *, root: Path | None = None) -> str:
    """Plain text: each finding with its source line and a caret, then a summary line."""
    lines: list[str] = []
    for block in _blocks(findings, root):
        lines.extend(text for _, text in block)
        lines.append("")
    lines.append(_summary(findings))
    return "\n".join(lines) + "\n"


def print_excerpts(
    findings: Sequence[Finding], console: Console, *, root: Path | None = None
) -> None:
    """Print `render_excerpts`'s content with colours on `console`."""
    for block in _blocks(findings, root):
        for style, text in block:
            console.print(Text(text, style=style))
        console.print()
    console.print(Text(_summary(findings), style="bold"))
