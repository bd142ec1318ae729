"""The statement rewriting the lock rules' fixes use: the layout of the call is kept, and
what comes out parses."""

from __future__ import annotations

import ast
from pathlib import Path

from revisor.findings import Applicability
from revisor.review.fix import (
    apply_edits,
    call_with_keyword,
    rewrite_fix,
    source_lines,
    statement_of,
)

SOURCE = """def upgrade():
    op.create_index("ix_a", "t", ["a"])
    op.create_index(
        "ix_b",
        "t",
        ["b"]  # the column the reports filter on
    )
    op.add_column("t", sa.Column("c", sa.Uuid(), server_default=sa.text("x"), nullable=False))
    op.add_column(
        "t",
        sa.Column(
            "d",
            server_default=sa.text("y"),
            type_=sa.Uuid(),
        ),
    )
"""


def _calls() -> tuple[list[str], list[ast.Call], ast.FunctionDef]:
    tree = ast.parse(SOURCE)
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    calls = [stmt.value for stmt in function.body if isinstance(stmt, ast.Expr)]
    return SOURCE.splitlines(), calls, function  # type: ignore[return-value]


def test_keyword_joins_a_one_line_call():
    lines, calls, _ = _calls()
    assert call_with_keyword(lines, calls[0], "postgresql_concurrently=True") == [
        'op.create_index("ix_a", "t", ["a"], postgresql_concurrently=True)'
    ]


def test_a_comment_in_the_call_keeps_its_argument_and_the_keyword_gets_a_line():
    lines, calls, _ = _calls()
    grown = call_with_keyword(lines, calls[1], "postgresql_concurrently=True")
    ast.parse("\n".join(grown))
    assert grown[-2:] == ["    postgresql_concurrently=True,", ")"]
    assert '    ["b"],' in grown


def test_keywords_are_removed_with_their_commas():
    lines, calls, _ = _calls()
    column = calls[2].args[1]
    assert isinstance(column, ast.Call)
    gone = [k for k in column.keywords if k.arg in ("server_default", "nullable")]
    assert source_lines(lines, calls[2], remove=gone) == [
        'op.add_column("t", sa.Column("c", sa.Uuid()))'
    ]
    column = calls[3].args[1]
    assert isinstance(column, ast.Call)
    gone = [k for k in column.keywords if k.arg == "server_default"]
    kept = source_lines(lines, calls[3], remove=gone)
    ast.parse("\n".join(kept))
    assert not any("server_default" in line for line in kept)


def test_rewrite_indents_the_recipe_and_refuses_what_does_not_parse(tmp_path: Path):
    lines, calls, function = _calls()
    statement = statement_of(function, calls[0])
    assert statement is not None
    fix = rewrite_fix("x", lines, tmp_path / "m.py", statement, ["with a:", "    b()", "c()"])
    assert fix is not None and fix.applicability is Applicability.UNSAFE
    text = apply_edits(SOURCE, fix.edits)
    assert "    with a:\n        b()\n    c()\n    op.create_index(\n" in text
    ast.parse(text)
    assert rewrite_fix("x", lines, tmp_path / "m.py", statement, ["with a:", "c()"]) is None
