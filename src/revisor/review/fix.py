"""Apply `Fix` edits to files: non-overlapping text replacements, last position first.

Side effect: rewrites the files the edits name (only those), in place.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from revisor.findings import Applicability, Edit, Finding, Fix
from revisor.review.rule import char_column

if TYPE_CHECKING:
    from revisor.review.actions import Action
    from revisor.review.parse import Function, Migration


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


# --- rewriting whole statements (the lock rules' recipes) -------------------------------


def statement_of(function: ast.AST | None, call: ast.AST) -> ast.Expr | None:
    """The expression statement that is exactly `call` (`op.create_index(...)` on a line of
    its own), or None when the call is part of something larger a fix must not split."""
    if function is None:
        return None
    for node in ast.walk(function):
        if isinstance(node, ast.Expr) and node.value is call:
            return node
    return None


def recipe_target(migration: Migration, action: Action) -> tuple[Function, ast.Expr] | None:
    """The upgrade and the statement of `action` that a lock rule's fix may replace with
    its recipe: an op on a named table, on a line of its own, neither in a batch block
    nor already in an autocommit block; None otherwise."""
    upgrade = migration.upgrade
    if upgrade is None or action.batch or action.in_autocommit or not action.table:
        return None
    statement = statement_of(upgrade.node, action.node)
    return None if statement is None else (upgrade, statement)


def source_lines(lines: list[str], node: ast.AST, *, remove: Sequence[ast.AST] = ()) -> list[str]:
    """The source of `node` as lines relative to its first line's indentation, without
    the argument nodes in `remove` (each with the comma that separates it)."""
    text = "\n".join(lines)  # the migration's lines carry no line ends
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)

    def offset(line: int, byte_col: int) -> int:
        return starts[line - 1] + char_column(lines, line, byte_col)

    begin = offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
    end = offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
    cuts: list[tuple[int, int]] = []
    for part in remove:
        cut_begin = offset(part.lineno, part.col_offset)  # type: ignore[attr-defined]
        cut_end = offset(part.end_lineno, part.end_col_offset)  # type: ignore[attr-defined]
        before = text[begin:cut_begin].rstrip()
        if before.endswith(","):
            cut_begin = begin + len(before) - 1
        else:  # the first argument: take the comma and space after it instead
            after = text[cut_end:end]
            stripped = after.lstrip()
            if stripped.startswith(","):
                cut_end += len(after) - len(stripped) + 1
                cut_end += len(text[cut_end:end]) - len(text[cut_end:end].lstrip())
        cuts.append((cut_begin, cut_end))
    source = text[begin:end]
    for cut_begin, cut_end in sorted(cuts, reverse=True):
        source = source[: cut_begin - begin] + source[cut_end - begin :]
    own_indent = len(lines[node.lineno - 1]) - len(lines[node.lineno - 1].lstrip())  # type: ignore[attr-defined]
    first, *rest = source.split("\n")
    rest = [line[own_indent:] if line[:own_indent].isspace() else line.lstrip() for line in rest]
    if remove:  # an argument removed from a multi-line call leaves its line empty
        rest = [line for line in rest if line.strip()]
    return [first, *rest]


def sole_sql(function_actions: Sequence[Action], action: Action) -> str | None:
    """The SQL text of the `op.execute(...)` that made `action` when that call runs only
    this one statement (a fix may then rewrite the whole call); else None."""
    from revisor.review.nodes import arg, kw, text_of

    if not action.from_sql:
        return None
    if sum(other.node is action.node for other in function_actions) != 1:
        return None
    return text_of(arg(action.node, 0, "sqltext") or kw(action.node, "statement"))


# A one-line call that grows past this (before indentation) is split an argument a line.
_CALL_WIDTH = 80


def call_with_keyword(lines: list[str], call: ast.Call, keyword: str) -> list[str]:
    """The source of `call` (see `source_lines`) with `keyword` (`name=value`) added as its
    last argument: in the call's own layout, or one argument a line when a one-line call
    would grow too long."""
    grown = with_keyword(source_lines(lines, call), keyword)
    if (len(grown) > 1 or len(grown[0]) <= _CALL_WIDTH) and not _has_comment(grown):
        return grown
    arguments = [*call.args, *call.keywords]
    body = [f"    {part}" for node in arguments for part in _argument_lines(lines, node)]
    return [f"{source_lines(lines, call.func)[0]}(", *body, f"    {keyword},", ")"]


def _has_comment(lines: list[str]) -> bool:
    """True when a `#` comment sits in the call (a comma added after it would be lost)."""
    import io
    import tokenize

    try:
        tokens = tokenize.generate_tokens(io.StringIO("\n".join(lines)).readline)
        return any(token.type == tokenize.COMMENT for token in tokens)
    except (tokenize.TokenError, SyntaxError):
        return True


def _argument_lines(lines: list[str], node: ast.AST) -> list[str]:
    """One argument's source lines, the last with its comma (`name=` for a keyword)."""
    if isinstance(node, ast.keyword):
        value = source_lines(lines, node.value)
        prefix = f"{node.arg}=" if node.arg else "**"
        value[0] = prefix + value[0]
    else:
        value = source_lines(lines, node)
    value[-1] += ","
    return value


def with_keyword(call_lines: list[str], keyword: str) -> list[str]:
    """`call_lines` (a call's source, see `source_lines`) with `keyword` (`name=value`)
    added as its last argument, in the call's own layout."""
    *head, last = call_lines
    if not head or last.strip() != ")":
        body = last.rstrip()[:-1].rstrip()
        separator = "" if body.endswith("(") else (" " if body.endswith(",") else ", ")
        return [*head, f"{body}{separator}{keyword})"]
    previous = head[-1].rstrip()
    if previous.endswith("("):  # an empty call split over two lines
        return [*head[:-1], f"{previous}{keyword})"]
    argument_indent = previous[: len(previous) - len(previous.lstrip())]
    if not previous.endswith(","):
        previous += ","
    return [*head[:-1], previous, f"{argument_indent}{keyword},", last]


def replace_statement(
    lines: list[str], path: Path, statement: ast.stmt, replacement: Sequence[str]
) -> Edit:
    """An Edit replacing `statement` with `replacement` (lines without indentation; each
    is given the statement's indentation, empty lines stay empty)."""
    prefix = lines[statement.lineno - 1][
        : char_column(lines, statement.lineno, statement.col_offset)
    ]
    first, *rest = replacement
    text = "\n".join([first, *[f"{prefix}{line}" if line else "" for line in rest]])
    return edit_replacing(lines, path, statement, text)


def parses(lines: Sequence[str]) -> bool:
    """True when `lines` (no indentation) are valid Python: a fix never writes a file that
    no longer parses."""
    try:
        ast.parse("\n".join(lines))
    except SyntaxError:
        return False
    return True


def rewrite_fix(
    message: str,
    lines: list[str],
    path: Path,
    statement: ast.stmt,
    replacement: list[str],
    *,
    module: ast.Module | None = None,
) -> Fix | None:
    """An unsafe Fix replacing `statement` with `replacement` (the lock rules' recipes
    split the migration's transaction, see each rule's "Fix safety"); None when the
    replacement would not parse. Given the `module`, a replacement that uses `sa.` gets
    `import sqlalchemy as sa` when the file has no `sa`."""
    if not parses(replacement):
        return None
    edits = [replace_statement(lines, path, statement, replacement)]
    if module is not None and any("sa." in line for line in replacement):
        edits += _import_sa(module, lines, path)
    return Fix(message, tuple(edits), Applicability.UNSAFE)


def _import_sa(module: ast.Module, lines: list[str], path: Path) -> list[Edit]:
    """The Edit adding `import sqlalchemy as sa` after the module's last top-level import,
    or none when `sa` is already bound there."""
    imports = [node for node in module.body if isinstance(node, ast.Import | ast.ImportFrom)]
    for node in imports:
        if any((alias.asname or alias.name) == "sa" for alias in node.names):
            return []
    if not imports:
        return [Edit(path, 1, 0, 1, 0, "import sqlalchemy as sa\n")]
    return [edit_after(lines, path, imports[-1], "\nimport sqlalchemy as sa")]
