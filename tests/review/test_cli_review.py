"""`revisor review` on the reference app through the real CLI, and `--fix` proven on a real
PostgreSQL: the repaired history upgrades, downgrades to base, and re-applies."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from revisor import migrate
from revisor.cli import app
from revisor.db.url import DatabaseUrl
from revisor.errors import MigrationFailed
from revisor.project import Project

HERE = Path(__file__).parent
FK_REVISION = "migrations/versions/e6995e90df34_add_vendor_to_transactions.py"
ENUM_REVISION = "migrations/versions/c611d8776a6b_create_subscriptions.py"

FINDINGS_SCHEMA = {
    "type": "object",
    "required": ["findings", "summary"],
    "properties": {
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "name", "severity", "message", "path", "line", "fix"],
                "properties": {
                    "code": {"type": "string", "pattern": "^RV[0-9]{3}$"},
                    "severity": {"enum": ["error", "warning", "info"]},
                    "line": {"type": ["integer", "null"], "minimum": 1},
                    "fix": {
                        "type": ["object", "null"],
                        "required": ["message", "applicability", "edits"],
                        "properties": {
                            "applicability": {"enum": ["safe", "unsafe", "display-only"]},
                            "edits": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["path", "start", "end", "replacement"],
                                },
                            },
                        },
                    },
                },
            },
        },
        "summary": {"type": "object", "required": ["error", "warning", "info"]},
    },
}


def _review(cli: CliRunner, project: Path, *args: str):
    return cli.invoke(app, ["review", "-c", str(project / "alembic.ini"), *args])


def _codes(output: str) -> list[tuple[str, str, int]]:
    payload = json.loads(output)
    jsonschema.validate(payload, FINDINGS_SCHEMA)
    return [(f["code"], f["path"], f["line"]) for f in payload["findings"]]


def test_reference_app_reports_the_checklist_and_nothing_else(
    cli: CliRunner, example_project: Path
) -> None:
    result = _review(cli, example_project, "--format", "json")
    assert result.exit_code == 1, result.output
    found = _codes(result.stdout)
    assert found == [
        ("RV103", ENUM_REVISION, 30),
        ("RV101", FK_REVISION, 24),
        ("RV102", FK_REVISION, 24),
        ("RV101", FK_REVISION, 30),
    ]


def test_text_output_shows_source_line_caret_and_fix(cli: CliRunner, example_project: Path):
    result = _review(cli, example_project)
    assert result.exit_code == 1
    out = result.stdout
    assert f"{FK_REVISION}:24:5: RV101 [*] [error] Unnamed foreign key on transactions" in out
    assert ' 24 |     op.create_foreign_key(None, "transactions"' in out
    assert "    |     " + "^" * 77 + "\n" in out  # the whole call underlined
    assert 'fix (--fix): name it "fk_transactions_vendor_id" in upgrade and downgrade' in out
    assert "values_callable" in out
    assert "4 finding(s): 2 error(s), 1 warning(s); 2 fixable with --fix [*]." in out


def test_sarif_is_valid_sarif_2_1_0(cli: CliRunner, example_project: Path) -> None:
    result = _review(cli, example_project, "--format", "sarif")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    schema = json.loads((HERE / "sarif-2.1.0-essentials.schema.json").read_text())
    jsonschema.validate(log, schema)
    run = log["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rules == ["RV101", "RV102", "RV103"]
    for result_ in run["results"]:
        assert rules[result_["ruleIndex"]] == result_["ruleId"]
    fk = next(r for r in run["results"] if r["ruleId"] == "RV101")
    assert fk["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == FK_REVISION
    replacements = fk["fixes"][0]["artifactChanges"][0]["replacements"]
    assert [r["insertedContent"]["text"] for r in replacements] == [
        '"fk_transactions_vendor_id"'
    ] * 2
    # A broken log must fail the same validation (the schema is not vacuous).
    del run["results"][0]["message"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(log, schema)


def test_github_annotations(cli: CliRunner, example_project: Path) -> None:
    result = _review(cli, example_project, "--format", "github")
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"::warning file={ENUM_REVISION},line=30,col=13,title=RV103::")
    assert any(line.startswith(f"::error file={FK_REVISION},line=24") for line in lines)


def test_fix_repairs_upgrade_and_downgrade_and_history_round_trips(
    cli: CliRunner, example_project: Path, database_url: DatabaseUrl
) -> None:
    # Before the fix the seed's bug is real: the downgrade of e6995e90df34 crashes.
    project = Project.load(example_project / "alembic.ini")
    migrate.upgrade(project, database_url, "heads")
    with pytest.raises(MigrationFailed) as failed:
        migrate.downgrade(project, database_url, "base")
    assert failed.value.revision == "e6995e90df34"
    migrate.downgrade(project, database_url, "c611d8776a6b")  # unharmed: rolled back

    result = _review(cli, example_project, "--fix", "--format", "json")
    assert result.exit_code == 0, result.output  # only the enum warning is left
    assert "Fixed 2 finding(s) in 1 file(s)." in result.stderr
    assert [c for c, _, _ in _codes(result.stdout)] == ["RV103"]
    text = (example_project / FK_REVISION).read_text()
    assert 'op.create_foreign_key("fk_transactions_vendor_id", "transactions"' in text
    assert 'op.drop_constraint("fk_transactions_vendor_id", "transactions"' in text


def test_fixed_history_upgrades_downgrades_to_base_and_reapplies(
    cli: CliRunner, example_project: Path, database_url: DatabaseUrl
) -> None:
    assert _review(cli, example_project, "--fix").exit_code == 0
    project = Project.load(example_project / "alembic.ini")
    migrate.upgrade(project, database_url, "heads")
    from revisor.db.connect import raw_connect

    with raw_connect(database_url) as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT conname FROM pg_constraint WHERE contype = 'f' ORDER BY conname"
            )
        ]
    assert names == ["fk_subscriptions_vendor_id_vendors", "fk_transactions_vendor_id"]
    migrate.downgrade(project, database_url, "base")
    assert migrate.current_heads(database_url) == ()
    migrate.upgrade(project, database_url, "heads")
    assert migrate.current_heads(database_url) == ("f72272eba32a",)
    # Reviewing again finds nothing left to fix.
    again = _review(cli, example_project, "--fix")
    assert "Nothing to fix." in again.stderr


def test_diff_shows_the_fix_and_writes_nothing(cli: CliRunner, example_project: Path):
    before = (example_project / FK_REVISION).read_text()
    result = _review(cli, example_project, "--diff")
    assert result.exit_code == 1
    assert result.stdout.startswith(f"--- a/{FK_REVISION}\n+++ b/{FK_REVISION}\n")
    assert '+    op.drop_constraint("fk_transactions_vendor_id", "transactions"' in result.stdout
    assert (example_project / FK_REVISION).read_text() == before


def test_settings_silence_and_raise(cli: CliRunner, example_project: Path) -> None:
    (example_project / "pyproject.toml").write_text(
        "[tool.revisor]\n"
        'ignore = ["RV102"]\n'
        'severity = { RV101 = "warning", RV103 = "error" }\n'
        '[tool.revisor.per-file-ignores]\n"*c611d8776a6b*" = ["RV103"]\n'
    )
    result = _review(cli, example_project, "--format", "json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [(f["code"], f["severity"]) for f in payload["findings"]] == [
        ("RV101", "warning"),
        ("RV101", "warning"),
    ]


def test_ignore_comment_and_unused_ignore(cli: CliRunner, example_project: Path) -> None:
    path = example_project / FK_REVISION
    text = path.read_text().replace(
        "def downgrade() -> None:", "def downgrade() -> None:  # revisor: ignore[RV101]"
    )
    text = text.replace(
        'op.drop_column("transactions", "vendor_id")',
        'op.drop_column("transactions", "vendor_id")  # revisor: ignore[RV304] -- stale',
    )
    path.write_text(text)
    result = _review(
        cli,
        example_project,
        "--format",
        "json",
        "--select",
        "RV001",
        "--select",
        "RV101",
        "--select",
        "RV304",
    )
    found = _codes(result.stdout)
    assert ("RV101", FK_REVISION, 24) in found
    assert not any(c == "RV101" and line == 30 for c, _, line in found)
    assert ("RV001", FK_REVISION, 31) in found


def test_since_reviews_only_changed_files(cli: CliRunner, example_project: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
            cwd=example_project,
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "base")
    clean = _review(cli, example_project, "--since", "HEAD", "--format", "json")
    assert clean.exit_code == 0 and _codes(clean.stdout) == []
    new = example_project / "migrations/versions/aa11bb22cc33_add_index.py"
    new.write_text(
        '"""add index"""\nfrom alembic import op\n\nrevision = "aa11bb22cc33"\n'
        'down_revision = "f72272eba32a"\n\n\ndef upgrade():\n'
        '    op.create_index("ix_transactions_category", "transactions", ["category"])\n\n\n'
        'def downgrade():\n    op.drop_index("ix_transactions_category", '
        'table_name="transactions")\n'
    )
    result = _review(cli, example_project, "--since", "HEAD", "--format", "json")
    assert _codes(result.stdout) == [("RV301", new.relative_to(example_project).as_posix(), 9)]
    bad = _review(cli, example_project, "--since", "no-such-ref")
    # the same message as `check --since` (one git module answers both)
    assert bad.exit_code == 2 and "--since no-such-ref: git does not know this ref" in bad.stderr


def _commit_all(project: Path, message: str) -> None:
    for args in (["add", "-A"], ["commit", "-qm", message]):
        subprocess.run(
            ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
            cwd=project,
            check=True,
            capture_output=True,
        )


def _index_revision(revision: str, down: str, table: str, column: str) -> str:
    return (
        f'"""index {table}.{column}"""\nfrom alembic import op\n\nrevision = "{revision}"\n'
        f'down_revision = "{down}"\n\n\ndef upgrade():\n'
        f'    op.create_index("ix_{table}_{column}", "{table}", ["{column}"])\n\n\n'
        f'def downgrade():\n    op.drop_index("ix_{table}_{column}", table_name="{table}")\n'
    )


def test_since_reviews_file_names_with_accents_and_spaces(
    cli: CliRunner, example_project: Path
) -> None:
    """alembic keeps letters like ñ in a file's slug; git quotes such names unless asked
    for -z (core.quotepath), and the quoted name matched no file: the migration was left
    out of `review --since` while `check` reviewed it. Untracked first (ls-files), then
    committed (diff): both lists must name the files as they are on disk."""
    subprocess.run(["git", "init", "-q"], cwd=example_project, check=True)
    _commit_all(example_project, "base")
    versions = example_project / "migrations" / "versions"
    accented = versions / "ab12_añadir_índice.py"
    spaced = versions / "cd34_index vendors name.py"
    accented.write_text(_index_revision("ab12", "f72272eba32a", "transactions", "category"))
    spaced.write_text(_index_revision("cd34", "ab12", "vendors", "name"))
    expected = [
        ("RV301", accented.relative_to(example_project).as_posix(), 9),
        ("RV301", spaced.relative_to(example_project).as_posix(), 9),
    ]
    untracked = _review(cli, example_project, "--since", "HEAD", "--format", "json")
    assert sorted(_codes(untracked.stdout)) == expected, untracked.output
    _commit_all(example_project, "two indexes")
    committed = _review(cli, example_project, "--since", "HEAD~1", "--format", "json")
    assert sorted(_codes(committed.stdout)) == expected, committed.output
    nothing = _review(cli, example_project, "--since", "HEAD", "--format", "json")
    assert nothing.exit_code == 0 and _codes(nothing.stdout) == []


def test_paths_files_and_folders(cli: CliRunner, example_project: Path) -> None:
    one = _review(cli, example_project, str(example_project / FK_REVISION), "--format", "json")
    assert {c for c, _, _ in _codes(one.stdout)} == {"RV101", "RV102"}
    folder = _review(
        cli, example_project, str(example_project / "migrations/versions"), "--format", "json"
    )
    assert {c for c, _, _ in _codes(folder.stdout)} == {"RV101", "RV102", "RV103"}


def test_models_that_fail_to_load_become_a_note(cli: CliRunner, example_project: Path):
    env = example_project / "migrations" / "env.py"
    env.write_text("import app.no_such_module\n" + env.read_text())
    enum_file = example_project / ENUM_REVISION
    enum_file.write_text(
        enum_file.read_text().replace(
            'name="billing_cycle"),', 'name="billing_cycle"),  # revisor: ignore[RV103]', 1
        )
    )
    result = _review(cli, example_project, "--format", "json")
    assert result.exit_code == 1
    assert "note: model checks skipped" in result.stderr
    # RV103 could not run, so its ignore comment is not reported as unused (RV001).
    assert [c for c, _, _ in _codes(result.stdout)] == ["RV101", "RV101"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "Unknown --format"),
        (["--select", "RV999"], "Unknown code 'RV999' in --select"),
        (["--select", "RT103"], "'RT103' in --select is not a code of revisor review"),
        (["--unsafe-fixes"], "--unsafe-fixes only makes sense with --fix or --diff"),
        (["--fix", "--diff"], "pick one"),
        (["no/such/file.py"], "No such file or folder"),
    ],
)
def test_usage_errors_exit_2(cli: CliRunner, example_project: Path, args, message) -> None:
    result = _review(cli, example_project, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_rules_and_rule_commands(cli: CliRunner) -> None:
    listing = cli.invoke(app, ["rules"])
    assert listing.exit_code == 0
    for code in ("RV101", "RV103", "RV201", "RV301", "RV309"):
        assert code in listing.stdout
    one = cli.invoke(app, ["rule", "RV101"])
    assert one.exit_code == 0
    assert one.stdout.startswith("# RV101 `unnamed-constraint`")
    assert "## Why is this bad?" in one.stdout
    by_name = cli.invoke(app, ["rule", "add-index-non-concurrently"])
    assert "## Lock" in by_name.stdout
    unknown = cli.invoke(app, ["rule", "RV999"])
    assert unknown.exit_code == 2 and "Unknown code" in unknown.stderr


def test_paths_are_relative_to_the_working_directory_above_the_project(
    cli: CliRunner, example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(example_project.parent)  # a CI job at the repository root
    result = _review(cli, example_project, "--format", "github")
    assert f"file=better_call_buffet/{FK_REVISION},line=24" in result.stdout


def test_since_treats_tables_of_new_revisions_as_new(cli: CliRunner, example_project: Path):
    """Two revisions on a branch: one creates a table, the next indexes it. In production
    the table is new and empty when the index is built, so RV301 stays quiet; the same
    index on a table from before the branch is reported."""
    subprocess.run(["git", "init", "-q"], cwd=example_project, check=True)
    for args in (["add", "."], ["commit", "-qm", "base"]):
        subprocess.run(
            ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
            cwd=example_project,
            check=True,
        )
    versions = example_project / "migrations" / "versions"
    header = '"""x"""\nfrom alembic import op\nimport sqlalchemy as sa\n\n'
    (versions / "aa01_create_tags.py").write_text(
        header + 'revision = "aa01"\ndown_revision = "f72272eba32a"\n\n\n'
        "def upgrade():\n"
        '    op.create_table("tags", sa.Column("id", sa.Integer(), nullable=False),'
        ' sa.Column("label", sa.Text()))\n\n\n'
        'def downgrade():\n    op.drop_table("tags")\n'
    )
    (versions / "aa02_index_tags.py").write_text(
        header + 'revision = "aa02"\ndown_revision = "aa01"\n\n\n'
        "def upgrade():\n"
        '    op.create_index("ix_tags_label", "tags", ["label"])\n'
        '    op.create_index("ix_vendors_created_at", "vendors", ["created_at"])\n\n\n'
        "def downgrade():\n"
        '    op.drop_index("ix_vendors_created_at", table_name="vendors")\n'
        '    op.drop_index("ix_tags_label", table_name="tags")\n'
    )
    result = _review(cli, example_project, "--since", "HEAD", "--format", "json")
    assert _codes(result.stdout) == [("RV301", "migrations/versions/aa02_index_tags.py", 11)]
    whole = _review(cli, example_project, "--format", "json", "--select", "RV301")
    assert [line for _, _, line in _codes(whole.stdout)] == [10, 11]  # no branch known
