"""The pieces under the rules: the revision graph, type rewrites, SQL and AST parsing,
selection and fixes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from revisor.config import RevisorSettings
from revisor.errors import ConfigError
from revisor.findings import Edit
from revisor.graph import Node, build_graph
from revisor.review.engine import Selection, review_files
from revisor.review.fix import apply_edits
from revisor.review.parse import collect_actions, parse_migration
from revisor.review.types import rewrites_table


def test_graph_heads_branch_points_order() -> None:
    graph = build_graph(
        [Node("a", ()), Node("b", ("a",)), Node("c", ("a",)), Node("d", ("b", "c"))]
    )
    assert graph.heads == ["d"]
    assert graph.bases == ["a"]
    assert graph.branch_points == {"a": ["b", "c"]}
    assert graph.order() == ["a", "b", "c", "d"]
    assert graph.unintended_heads() == []
    assert not graph.cycles and not graph.unknown_parents and not graph.duplicates


def test_graph_reports_what_is_broken() -> None:
    graph = build_graph(
        [
            Node("a", ("c",)),
            Node("b", ("a",)),
            Node("c", ("b",)),
            Node("x", ("missing",)),
            Node("x", ()),
        ]
    )
    assert graph.cycles == [["a", "c", "b"]]
    assert [(n.revision, p) for n, p in graph.unknown_parents] == [("x", "missing")]
    assert list(graph.duplicates) == ["x"]
    assert set(graph.order()) == {"a", "b", "c", "x"}


def test_labelled_branches_are_intended_heads() -> None:
    accidental = build_graph([Node("a"), Node("b", ("a",)), Node("c", ("a",))])
    assert accidental.unintended_heads() == ["b", "c"]
    labelled = build_graph(
        [Node("a"), Node("b", ("a",)), Node("c", ("a",), branch_labels=("billing",))]
    )
    assert labelled.unintended_heads() == []
    separate_bases = build_graph([Node("a"), Node("b")])
    assert separate_bases.unintended_heads() == []


@pytest.mark.parametrize(
    ("old", "new", "rewrites"),
    [
        ("varchar(50)", "varchar(80)", False),
        ("varchar(80)", "varchar(50)", True),
        ("varchar(50)", "text", False),
        ("varchar(50)", "varchar", False),
        ("text", "varchar", False),
        ("text", "varchar(20)", True),
        ("numeric(12,2)", "numeric(14,2)", False),
        ("numeric(12,2)", "numeric(14,3)", True),
        ("numeric(12,2)", "numeric", False),
        ("integer", "bigint", True),
        ("timestamp", "timestamptz", True),
        ("cidr", "inet", False),
        ("integer", "integer", False),
        (None, "bigint", None),
    ],
)
def test_rewrites_table(old: str | None, new: str, rewrites: bool | None) -> None:
    assert rewrites_table(old, new) is rewrites


def _actions(code: str):
    tree = ast.parse(code)
    return collect_actions(tree.body)


def test_sql_statements_become_the_same_actions_as_ops() -> None:
    actions = _actions(
        "op.execute(\"SET LOCAL lock_timeout = '3s'; "
        "CREATE INDEX CONCURRENTLY ix ON t (a); "
        "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES u (id) NOT VALID, "
        "ALTER COLUMN b SET NOT NULL, ALTER COLUMN c TYPE varchar(20); "
        "ALTER TYPE e ADD VALUE 'x'; ALTER TABLE t RENAME COLUMN a TO z; DROP TYPE e\")"
    )
    summary = [
        (a.kind, a.table, a.name, a.concurrently, a.not_valid, a.nullable, a.type_text)
        for a in actions
    ]
    assert summary == [
        ("set", None, "lock_timeout", False, False, None, None),
        ("create_index", "t", "ix", True, False, None, None),
        ("add_constraint", "t", "fk", False, True, None, None),
        ("alter_column", "t", None, False, False, False, None),
        ("alter_column", "t", None, False, False, None, "varchar(20)"),
        ("enum_add_value", None, "e", False, False, None, None),
        ("alter_column", "t", None, False, False, None, None),
        ("drop_enum", None, "e", False, False, None, None),
    ]
    assert all(a.from_sql for a in actions)


def test_unparsable_sql_and_fstrings_are_kept_not_guessed() -> None:
    kinds = [a.kind for a in _actions('op.execute("CREAT INDEX oops")\nop.execute(f"DROP {x}")')]
    assert kinds == ["sql_unparsed", "execute_dynamic"]


def test_blocks_autocommit_and_batch() -> None:
    actions = _actions(
        "with op.get_context().autocommit_block():\n"
        '    op.create_index("ix", "t", ["a"], postgresql_concurrently=True)\n'
        'with op.batch_alter_table("t") as b:\n'
        '    b.add_column(sa.Column("c", sa.Text(), nullable=False))\n'
        "if True:\n"
        '    op.drop_table("old")\n'
    )
    assert [(a.kind, a.table, a.in_autocommit, a.batch) for a in actions] == [
        ("create_index", "t", True, False),
        ("add_column", "t", False, True),
        ("drop_table", "old", False, False),
    ]
    assert actions[1].column is not None and actions[1].column.nullable is False


def test_migration_identity_ignores_and_markers(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(
        'revision: str = "abc"\n'
        'down_revision = ("p1", "p2")\n'
        "irreversible = True\n"
        'NOTE = "# revisor: ignore"\n'
        "def upgrade():  # revisor: ignore[rv301, RV302] -- reasons\n"
        "    pass\n"
    )
    migration = parse_migration(path)
    assert migration.revision == "abc"
    assert migration.down_revisions == ("p1", "p2")
    assert migration.irreversible
    assert list(migration.ignores) == [5]
    assert migration.ignores[5].codes == ("RV301", "RV302")


def test_broken_file_still_names_its_revision(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text('revision = "abc"\ndown_revision = "p1"\ndef upgrade(:\n')
    migration = parse_migration(path)
    assert migration.syntax_error is not None
    assert (migration.revision, migration.down_revisions) == ("abc", ("p1",))


def test_selection_from_settings() -> None:
    settings = RevisorSettings(
        select=("RV1",), ignore=("RV102",), severity={"RV301": "error"}, raw={}
    )
    selection = Selection.from_settings(settings)
    assert "RV101" in selection.codes and "RV106" in selection.codes
    assert "RV102" not in selection.codes and "RV301" not in selection.codes
    with pytest.raises(ConfigError, match="must be error, warning or info"):
        Selection.from_settings(RevisorSettings(severity={"RV101": "loud"}))
    with pytest.raises(ConfigError, match="Unknown code"):
        Selection.from_settings(RevisorSettings(ignore=("RV9",)))
    with pytest.raises(ConfigError, match="per-file-ignores"):
        Selection.from_settings(RevisorSettings(per_file_ignores={"*.py": ("RV77",)}))


def test_apply_edits_multi_line_and_unicode() -> None:
    text = "a = 'é'\nop.x(None,\n  None)\n"
    edits = [
        Edit(Path("f"), 2, 5, 2, 9, '"n1"'),
        Edit(Path("f"), 3, 2, 3, 6, '"n2"'),
        Edit(Path("f"), 1, 4, 1, 7, "'e'"),
    ]
    assert apply_edits(text, edits) == 'a = \'e\'\nop.x("n1",\n  "n2")\n'


def test_reference_history_without_models(tmp_path: Path) -> None:
    versions = Path(__file__).resolve().parents[2] / "examples/better_call_buffet/migrations"
    files = sorted((versions / "versions").glob("*.py"))
    codes = [f.code for f in review_files(files)]
    assert codes == ["RV101", "RV101"]  # models absent: only the file-level rules speak


def test_fix_passes_repeat_until_later_revisions_follow(tmp_path: Path) -> None:
    """Pass 1 names the constraint where it is created; pass 2 then knows the name for
    the later revision that drops it (a SAFE fix only once the creator names it)."""
    import shutil

    from revisor.project import Project
    from revisor.review import review

    cases = Path(__file__).parent / "fixtures" / "RV101" / "fires_drop_in_later_revision"
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "migrations" / "env.py").write_text("")
    for path in cases.glob("*.py"):
        shutil.copy(path, versions / path.name)
    result = review(Project.load(tmp_path / "alembic.ini"), fix=True, select=["RV101"])
    assert [f.code for f in result.findings] == []
    assert len(result.fixed) == 2
    assert (
        'op.drop_constraint("fk_orders_customer_id", "orders"'
        in (versions / "b2_drop_fk.py").read_text()
    )


def test_a_failing_rule_becomes_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from revisor.review.rules.rv301_add_index_non_concurrently import AddIndexNonConcurrently

    def broken(self, migration, ctx):  # type: ignore[no-untyped-def]
        raise KeyError("boom")

    monkeypatch.setattr(AddIndexNonConcurrently, "check", broken)
    path = tmp_path / "m.py"
    path.write_text(
        'revision = "a"\ndown_revision = None\ndef upgrade():\n'
        '    op.create_index("ix", "t", ["a"])\n'
    )
    with pytest.raises(KeyError):
        review_files([path], codes={"RV301"})
    monkeypatch.delenv("REVISOR_DEBUG")
    from revisor.review.context import ReviewContext
    from revisor.review.engine import run_rules
    from revisor.review.parse import parse_migration as parse

    migration = parse(path)
    ctx = ReviewContext(migrations=[migration], all_migrations=[migration])
    assert run_rules(ctx, Selection(frozenset({"RV301"}), {}, {})) == []
    assert ctx.notes and "rule RV301 failed on m.py (KeyError" in ctx.notes[0]


def test_ignore_text_inside_strings_is_not_a_comment(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(
        '"""Docstring.\n\n    # revisor: ignore\n"""\n'
        'revision = "a"\ndown_revision = None\n'
        'SQL = "x  # revisor: ignore[RV301]"\n'
        "def upgrade():\n"
        '    op.create_index("ix", "t", ["a"])  # revisor: ignore[RV301] -- small table\n'
    )
    migration = parse_migration(path)
    assert list(migration.ignores) == [9]
    assert migration.ignores[9].column == 39
    assert review_files([path], codes={"RV001", "RV301"}) == []


def test_rules_find_nothing_in_files_without_their_triggers() -> None:
    """The engine skips a rule on files without its `triggers` kinds: run every rule on
    every fixture file without skipping, and check no finding comes from such a file."""
    from revisor.review.context import ReviewContext
    from revisor.review.rule import all_rules
    from tests.review.support import load_models

    fixtures = Path(__file__).parent / "fixtures"
    checked = 0
    for case in sorted(p for p in fixtures.glob("*/*") if not p.name.endswith(".models.py")):
        paths = sorted(case.glob("*.py")) if case.is_dir() else [case]
        models = case.with_name(case.stem + ".models.py")
        migrations = [parse_migration(p) for p in paths]
        ctx = ReviewContext(
            migrations=migrations,
            all_migrations=migrations,
            metadata_override=load_models(models) if models.exists() else None,
        )
        for rule in all_rules():
            if rule.triggers is None:
                continue
            for migration in migrations:
                if migration.tree is None or not rule.triggers.isdisjoint(migration.action_kinds):
                    continue
                checked += 1
                found = list(rule().check(migration, ctx))
                assert not found, f"{rule.code} on {migration.path.name}: {found[0].message}"
    assert checked > 100
