"""Apply `Fix` edits to files: non-overlapping text replacements, last position first.

Side effect: rewrites the files the edits name (only those), in place.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path

from revisor.findings import Applicability, Edit, Finding, Fix
from revisor.review.rule import char_column


def edit_replacing(lines: list[str], path: Path, node: ast.AST, replacement: str) -> Edit:
    """An Edit replacing the source of `node` with `replacement`."""
    start_line = node.lineno  # type: ignore[attr-defined]
    end_line = node.end_lineno or start_line  # type: ignore[attr-defined]
    return Edit(
        path=path,
        start_line=start_line,
        start_col=char_column(lines, start_line, node.col_offset),  # type: ignore[attr-defined]
        end_line=end_line,
        end_col=char_column(lines, end_line, node.end_col_offset or 0),  # type: ignore[attr-defined]
        replacement=replacement,
    )


def edit_after(lines: list[str], path: Path, node: ast.AST, text: str) -> Edit:
    """An Edit inserting `text` right after `node`."""
    end_line = node.end_lineno or node.lineno  # type: ignore[attr-defined]
    column = char_column(lines, end_line, node.end_col_offset or 0)  # type: ignore[attr-defined]
    return Edit(path, end_line, column, end_line, column, text)


def applicable(finding: Finding, *, unsafe: bool) -> bool:
    if finding.fix is None or not finding.fix.edits:
        return False
    if finding.fix.applicability is Applicability.SAFE:
        return True
    return unsafe and finding.fix.applicability is Applicability.UNSAFE


def apply_fixes(findings: Sequence[Finding], *, unsafe: bool = False) -> list[Finding]:
    """Apply the fixes of `findings` that are allowed; return the findings fixed.

    A fix whose edits overlap an edit already accepted for the same file is skipped
    (the next pass of the engine offers it again).
    """
    by_file: dict[Path, list[tuple[Finding, Edit]]] = {}
    accepted: list[Finding] = []
    taken: dict[Path, list[Edit]] = {}
    for finding in findings:
        if not applicable(finding, unsafe=unsafe):
            continue
        assert finding.fix is not None
        if any(finding.fix == done.fix for done in accepted):
            accepted.append(finding)  # one fix that resolves several findings
            continue
        edits = finding.fix.edits
        if any(_overlaps(e, other) for e in edits for other in taken.get(e.path, [])):
            continue
        for edit in edits:
            taken.setdefault(edit.path, []).append(edit)
            by_file.setdefault(edit.path, []).append((finding, edit))
        accepted.append(finding)
    for path, pairs in by_file.items():
        text = path.read_text(encoding="utf-8")
        path.write_text(apply_edits(text, [edit for _, edit in pairs]), encoding="utf-8")
    return accepted


def fixes_diff(
    findings: Sequence[Finding], *, unsafe: bool = False, root: Path | None = None
) -> str:
    """The unified diff the allowed fixes of `findings` would make (nothing is written)."""
    import difflib

    edits: dict[Path, list[Edit]] = {}
    taken: list[Fix] = []
    for finding in findings:
        if not applicable(finding, unsafe=unsafe) or finding.fix in taken:
            continue
        assert finding.fix is not None
        new = finding.fix.edits
        if any(_overlaps(e, o) for e in new for o in edits.get(e.path, [])):
            continue
        taken.append(finding.fix)
        for edit in new:
            edits.setdefault(edit.path, []).append(edit)
    chunks = []
    for path in sorted(edits):
        before = path.read_text(encoding="utf-8")
        after = apply_edits(before, edits[path])
        name = path.as_posix()
        if root is not None and path.is_relative_to(root):
            name = path.relative_to(root).as_posix()
        chunks.extend(
            difflib.unified_diff(
                before.splitlines(keepends=True),
                after.splitlines(keepends=True),
                f"a/{name}",
                f"b/{name}",
            )
        )
    return "".join(chunks)


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """`text` with `edits` applied (edits must not overlap)."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, column: int) -> int:
        return starts[min(line - 1, len(lines))] + column

    result = text
    for edit in sorted(edits, key=lambda e: (e.start_line, e.start_col), reverse=True):
        begin = offset(edit.start_line, edit.start_col)
        end = offset(edit.end_line, edit.end_col)
        result = result[:begin] + edit.replacement + result[end:]
    return result


def _overlaps(a: Edit, b: Edit) -> bool:
    start_a, end_a = (a.start_line, a.start_col), (a.end_line, a.end_col)
    start_b, end_b = (b.start_line, b.start_col), (b.end_line, b.end_col)
    if start_a == end_a and start_b == end_b:
        return start_a == start_b
    return start_a < end_b and start_b < end_a
