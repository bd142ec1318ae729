"""`revisor check` through the real CLI: scratch mode, --url mode, formats, messy histories."""

from __future__ import annotations

import json
import subprocess
from importlib.util import find_spec
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revisor import migrate
from revisor.cli import app
from revisor.db.connect import raw_connect
from revisor.exit_codes import ExitCode
from revisor.project import Project
from revisor.review.engine import changed_migrations
from tests.support.drift_project import write_project
from tests.support.scratch import scratch_databases
from tests.test_drift import MODELS, UPGRADE, replaced, write_plans

HISTORIES = Path(__file__).resolve().parent / "fixtures" / "histories"


@pytest.fixture
def scratch_server(pg18, monkeypatch: pytest.MonkeyPatch):
    """Scratch databases go to the test server (as DATABASE_URL would send them in CI)."""
    monkeypatch.setenv("DATABASE_URL", pg18.url.sqlalchemy_url)
    return pg18


def invoke(cli: CliRunner, *args: str) -> tuple[int, str, str]:
    """(exit code, stdout, stdout+stderr); never a traceback."""
    result = cli.invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.stdout, result.output


def test_reference_app_passes(cli: CliRunner, example_project: Path, scratch_server):
    code, out, both = invoke(cli, "check", "-c", str(example_project / "alembic.ini"))
    assert code == ExitCode.OK, both
    assert "No findings." in out
    assert "scratch database at head" in both and "f72272eba32a" in both


def test_planted_drift_text_json_github(cli: CliRunner, tmp_path: Path, scratch_server):
    models = replaced(
        MODELS,
        "    code: Mapped[str]",
        "    note: Mapped[str | None] = mapped_column(sa.Text)\n    code: Mapped[str]",
    )
    write_plans(tmp_path, models=models, upgrade=replaced(UPGRADE, '"price > 0"', '"price > 2"'))
    ini = str(tmp_path / "alembic.ini")

    code, out, _ = invoke(cli, "check", "-c", ini)
    assert code == ExitCode.FINDINGS
    assert "models.py:" in out and "RV603" in out and "plans.note" in out
    assert "RV617" in out and "ck_plans_price_positive" in out

    code, out, _ = invoke(cli, "check", "-c", ini, "--format", "json")
    assert code == ExitCode.FINDINGS
    payload = json.loads(out)
    by_code = {f["code"]: f for f in payload["findings"]}
    assert set(by_code) == {"RV603", "RV617"}
    assert by_code["RV603"]["path"] == "models.py"
    assert by_code["RV603"]["name"] == "column-missing-in-database"
    assert payload["summary"]["error"] == 2

    if find_spec("revisor.report.sarif") is not None:
        code, out, _ = invoke(cli, "check", "-c", ini, "--format", "sarif")
        results = json.loads(out)["runs"][0]["results"]
        assert {r["ruleId"] for r in results} == {"RV603", "RV617"}
        assert {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results
        } == {"models.py"}

    code, out, _ = invoke(cli, "check", "-c", ini, "--format", "github")
    assert code == ExitCode.FINDINGS
    assert "::error file=models.py,line=" in out and "title=RV603" in out


def test_sarif_request(cli: CliRunner, example_project: Path, scratch_server):
    code, out, both = invoke(
        cli, "check", "-c", str(example_project / "alembic.ini"), "--format", "sarif"
    )
    assert code == ExitCode.OK
    payload = json.loads(out)
    if find_spec("revisor.report.sarif") is None:
        assert payload["findings"] == [] and "writing JSON instead" in both
    else:
        assert "runs" in payload


def test_unknown_format_is_a_usage_error(cli: CliRunner, example_project: Path):
    code, _, both = invoke(cli, "check", "-c", str(example_project / "alembic.ini"), "-f", "xml")
    assert code == ExitCode.USAGE and "Unknown --format" in both


# --- --url: the user's database ---------------------------------------------------------


def check_url(cli: CliRunner, project_dir: Path, url) -> tuple[int, str]:
    code, _, both = invoke(
        cli, "check", "-c", str(project_dir / "alembic.ini"), "--url", url.sqlalchemy_url
    )
    return code, both


def test_url_at_head_is_clean(cli: CliRunner, example_project: Path, database_url_18):
    migrate.upgrade(Project.load(example_project / "alembic.ini"), database_url_18, "heads")
    code, both = check_url(cli, example_project, database_url_18)
    assert code == ExitCode.OK, both
    assert "checked models against database" in both


def test_url_behind_head(cli: CliRunner, example_project: Path, database_url_18):
    migrate.upgrade(Project.load(example_project / "alembic.ini"), database_url_18, "42bbf4a64104")
    code, both = check_url(cli, example_project, database_url_18)
    assert code == ExitCode.PENDING
    assert "behind head: 4 revision(s) pending" in both
    assert "e6995e90df34, c611d8776a6b, 2cffc65fb01a, f72272eba32a" in both


def test_url_unstamped_database_is_behind(cli: CliRunner, example_project: Path, database_url_18):
    code, both = check_url(cli, example_project, database_url_18)
    assert code == ExitCode.PENDING and "6 revision(s) pending" in both
    assert "revisor deploy" in both
    with raw_connect(database_url_18) as conn:  # tables built without Alembic
        conn.execute("CREATE TABLE vendors (id int)")
    code, both = check_url(cli, example_project, database_url_18)
    assert code == ExitCode.PENDING and "no Alembic revision stamp" in both


def test_url_unknown_revision(cli: CliRunner, example_project: Path, database_url_18):
    migrate.upgrade(Project.load(example_project / "alembic.ini"), database_url_18, "heads")
    with raw_connect(database_url_18) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'deadbeef0000'")
    code, both = check_url(cli, example_project, database_url_18)
    assert code == ExitCode.UNKNOWN_REVISION
    assert "deadbeef0000" in both and "not in the migration history" in both


def test_url_drift(cli: CliRunner, example_project: Path, database_url_18):
    migrate.upgrade(Project.load(example_project / "alembic.ini"), database_url_18, "heads")
    with raw_connect(database_url_18) as conn:
        conn.execute("ALTER TABLE transactions ADD COLUMN imported_from text")
        conn.execute("ALTER TABLE vendors ALTER COLUMN name DROP NOT NULL")
        conn.execute("ALTER TABLE subscriptions DROP CONSTRAINT fk_subscriptions_vendor_id_vendors")
    code, both = check_url(cli, example_project, database_url_18)
    assert code == ExitCode.FINDINGS
    assert "transactions.imported_from exists in the database" in both
    assert "vendors.name is nullable in the database but NOT NULL in the models" in both
    assert "RV613" in both and "subscriptions(vendor_id) → vendors(id)" in both
    # check reads only: the database is left as it was.
    with raw_connect(database_url_18) as conn:
        temp = conn.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'revisor_probe%'")
        assert temp.fetchone()[0] == 0


# --- messy histories --------------------------------------------------------------------

TABLES = """\
class A(Base):
    __tablename__ = "a"
    id: Mapped[int] = mapped_column(primary_key=True)


class B(Base):
    __tablename__ = "b"
    id: Mapped[int] = mapped_column(primary_key=True)


class C(Base):
    __tablename__ = "c"
    id: Mapped[int] = mapped_column(primary_key=True)
"""


def create(table: str) -> str:
    return f'op.create_table("{table}", sa.Column("id", sa.Integer(), primary_key=True))'


def drop(table: str) -> str:
    return f'op.drop_table("{table}")'


def forked(*extra) -> list:
    return [
        ("r1", "a", None, create("a"), drop("a")),
        ("r2", "b", "r1", create("b"), drop("b")),
        ("r3", "c", "r1", create("c"), drop("c")),
        *extra,
    ]


def test_multiple_heads(cli: CliRunner, tmp_path: Path, scratch_server):
    write_project(tmp_path, TABLES, forked())
    code, out, _both = invoke(cli, "check", "-c", str(tmp_path / "alembic.ini"))
    assert code == ExitCode.FINDINGS
    assert "RV201" in out and "2 heads (r2, r3)" in out
    assert "RV6" not in out  # both branches applied: no drift


def test_merged_heads_pass(cli: CliRunner, tmp_path: Path, scratch_server):
    write_project(tmp_path, TABLES, forked(("r4", "merge", ("r2", "r3"), "", "")))
    code, _out, both = invoke(cli, "check", "-c", str(tmp_path / "alembic.ini"))
    assert code == ExitCode.OK, both


def test_failing_migration_is_a_finding(cli: CliRunner, tmp_path: Path, scratch_server):
    revisions = forked(("r4", "merge", ("r2", "r3"), 'op.execute("SELECT no_such_fn()")', ""))
    write_project(tmp_path, TABLES, revisions)
    code, out, _both = invoke(cli, "check", "-c", str(tmp_path / "alembic.ini"))
    assert code == ExitCode.FINDINGS
    assert "RV652" in out and "upgrade of revision r4 failed" in out and "no_such_fn" in out
    assert "r4_merge.py:" in out


def test_unknown_down_revision(cli: CliRunner, tmp_path: Path, scratch_server):
    write_project(
        tmp_path,
        TABLES,
        [("r1", "a", None, create("a"), drop("a")), ("r2", "b", "gone1", create("b"), drop("b"))],
    )
    code, out, both = invoke(cli, "check", "-c", str(tmp_path / "alembic.ini"))
    assert code == ExitCode.FINDINGS
    assert "RV202" in out and "gone1" in out and "r2_b.py:" in out
    assert "models were not compared" in both


def test_missing_extension_exits_3(cli: CliRunner, tmp_path: Path, scratch_server):
    ext = "op.execute('CREATE EXTENSION IF NOT EXISTS \"revisor_no_such_ext\"')"
    write_project(tmp_path, TABLES, [("r1", "a", None, ext, "")])
    code, _, both = invoke(cli, "check", "-c", str(tmp_path / "alembic.ini"))
    assert code == ExitCode.DATABASE
    assert 'extension "revisor_no_such_ext"' in both


def test_env_py_failing_exits_2(cli: CliRunner, tmp_path: Path, scratch_server):
    write_project(tmp_path, TABLES, forked(), env_extra='raise RuntimeError("env boom")')
    code, _, both = invoke(cli, "check", "-c", str(tmp_path / "alembic.ini"))
    assert code == ExitCode.USAGE
    assert "env.py failed to load" in both and "env boom" in both


def test_labelled_branches_and_no_models(cli: CliRunner, scratch_server, monkeypatch):
    """Two version folders, each a labelled branch: two heads on purpose. env.py sets no
    target_metadata, so check verifies the history and that every migration applies."""
    case = HISTORIES / "two_version_folders"
    monkeypatch.chdir(case)
    code, _out, both = invoke(cli, "check")
    assert code == ExitCode.OK, both
    assert "models not compared" in both and "checked the history" in both


# --- migrations changed since a git ref -------------------------------------------------


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_changed_migrations_since_default_branch(cli: CliRunner, tmp_path: Path, scratch_server):
    write_plans(tmp_path)
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base")
    git(tmp_path, "checkout", "-qb", "feature")
    new = tmp_path / "migrations" / "versions" / "a2_note.py"
    new.write_text(
        '"""note"""\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
        'revision = "a2"\ndown_revision = "a1"\nbranch_labels = None\ndepends_on = None\n\n\n'
        "def upgrade():\n"
        '    op.add_column("plans", sa.Column("note", sa.Text(), nullable=False))\n\n\n'
        'def downgrade():\n    op.drop_column("plans", "note")\n'
    )
    project = Project.load(tmp_path / "alembic.ini")
    changed = changed_migrations(project)
    assert changed is not None and changed.ref == "main"
    assert changed.paths == (new.resolve(),)
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "note")
    assert changed_migrations(project, "HEAD~1").paths == (new.resolve(),)
    assert changed_migrations(project, "HEAD").paths == ()

    code, out, both = invoke(cli, "check", "-c", str(tmp_path / "alembic.ini"))
    assert "RV604" in out and "plans.note" in out  # the new column has no model
    # The changed migration is reviewed: a NOT NULL column without default on a table
    # that already exists (RV304).
    assert "RV304" in out and "a2_note.py" in out
    code, _, both = invoke(cli, "check", "-c", str(tmp_path / "alembic.ini"), "--since", "nope")
    assert code == ExitCode.USAGE and "--since nope" in both


def test_two_heads_on_a_branch_are_reported_once(cli: CliRunner, tmp_path: Path, scratch_server):
    """The branch adds both heads: the history check and the review of the changed files
    both see them; the finding is printed once."""
    write_project(tmp_path, TABLES, forked())
    versions = tmp_path / "migrations" / "versions"
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".", ":!migrations/versions/r2_b.py", ":!migrations/versions/r3_c.py")
    git(tmp_path, "commit", "-qm", "base")
    git(tmp_path, "checkout", "-qb", "feature")
    git(tmp_path, "add", str(versions))
    git(tmp_path, "commit", "-qm", "two branches")
    code, out, both = invoke(cli, "check", "-c", str(tmp_path / "alembic.ini"))
    assert code == ExitCode.FINDINGS, both
    assert out.count("RV201") == 1 and out.count("2 heads (r2, r3)") == 1, out


def test_not_a_git_repository(tmp_path: Path):
    write_project(tmp_path, TABLES, [("r1", "a", None, create("a"), drop("a"))])
    project = Project.load(tmp_path / "alembic.ini")
    if subprocess.run(["git", "-C", str(tmp_path), "rev-parse"], capture_output=True).returncode:
        assert changed_migrations(project) is None


def test_unreachable_url_exits_3_without_password(cli: CliRunner, example_project: Path):
    url = "postgresql://app:s3cr3t-Pa55@127.0.0.1:1/app"
    code, _, both = invoke(cli, "check", "-c", str(example_project / "alembic.ini"), "--url", url)
    assert code == ExitCode.DATABASE
    assert "Cannot connect" in both and "s3cr3t-Pa55" not in both


def test_unimportable_revision_exits_2(cli: CliRunner, tmp_path: Path, scratch_server):
    write_project(tmp_path, TABLES, [("r1", "a", None, "op.create_table(", drop("a"))])
    code, _, both = invoke(cli, "check", "-c", str(tmp_path / "alembic.ini"))
    assert code == ExitCode.USAGE
    assert "r1_a.py cannot be imported: SyntaxError" in both


@pytest.mark.parametrize(
    "case", ["clean", "broken history", "env.py fails", "revision fails to import"]
)
def test_no_scratch_database_is_left_behind(cli: CliRunner, tmp_path: Path, scratch_server, case):
    """The scratch database is created while the history and models load: whatever ends
    the run, it is dropped."""
    revisions = {
        "clean": forked(("r4", "merge", ("r2", "r3"), "", "")),
        "broken history": [("r1", "a", None, create("a"), drop("a")), ("r2", "b", "gone1", "", "")],
        "revision fails to import": [("r1", "a", None, "op.create_table(", drop("a"))],
    }.get(case, forked())
    extra = 'raise RuntimeError("env boom")' if case == "env.py fails" else ""
    write_project(tmp_path, TABLES, revisions, env_extra=extra)
    before = scratch_databases(scratch_server.url)
    code, _, both = invoke(cli, "check", "-c", str(tmp_path / "alembic.ini"), "--no-review")
    assert code == {"clean": 0, "broken history": 1}.get(case, 2), both
    assert scratch_databases(scratch_server.url) == before


def test_warnings_alone_do_not_fail(cli: CliRunner, tmp_path: Path, scratch_server):
    """Same enum labels in another order: reported as a warning, exit 0."""
    write_plans(
        tmp_path,
        upgrade=replaced(UPGRADE, 'sa.Enum("WEEKLY", "MONTHLY"', 'sa.Enum("MONTHLY", "WEEKLY"'),
    )
    code, out, _ = invoke(cli, "check", "-c", str(tmp_path / "alembic.ini"), "-f", "github")
    assert code == ExitCode.OK
    assert out.startswith("::warning file=models.py,line=") and "title=RV620" in out


def test_tool_revisor_ignores_and_relevels_check_codes(
    cli: CliRunner, tmp_path: Path, scratch_server
):
    """[tool.revisor] applies to drift codes: an ignored one is not reported and does not
    fail check, a re-levelled one keeps its finding at the new level (and exit code);
    per-file-ignores drops the drift findings of a file; SARIF's rule metadata is the
    registry's."""
    models = replaced(
        MODELS,
        "    code: Mapped[str]",
        "    note: Mapped[str | None] = mapped_column(sa.Text)\n    code: Mapped[str]",
    )
    write_plans(tmp_path, models=models, upgrade=replaced(UPGRADE, '"price > 0"', '"price > 2"'))
    ini = str(tmp_path / "alembic.ini")
    settings = tmp_path / "pyproject.toml"
    settings.write_text('[tool.revisor]\nignore = ["RV617"]\nseverity = { RV603 = "warning" }\n')

    code, out, both = invoke(cli, "check", "-c", ini, "--format", "json")
    assert code == ExitCode.OK, both
    findings = json.loads(out)["findings"]
    assert [(f["code"], f["severity"]) for f in findings] == [("RV603", "warning")]

    code, out, _ = invoke(cli, "check", "-c", ini, "--format", "sarif")
    run = json.loads(out)["runs"][0]
    assert run["results"][0]["level"] == "warning"
    (rule,) = run["tool"]["driver"]["rules"]
    assert rule["id"] == "RV603" and rule["name"] == "column-missing-in-database"
    assert rule["defaultConfiguration"] == {"level": "error"}  # the code's own level
    assert rule["shortDescription"]["text"].startswith("A model column that no migration adds")
    assert "Reports a column of a model table" in rule["fullDescription"]["text"]
    assert rule["properties"] == {"tags": ["revisor check"]}

    settings.write_text(
        '[tool.revisor]\nseverity = { RV603 = "info" }\n'
        '[tool.revisor.per-file-ignores]\n"models.py" = ["RV61"]\n'
    )
    code, out, both = invoke(cli, "check", "-c", ini, "--format", "json")
    assert code == ExitCode.OK, both
    assert [(f["code"], f["severity"]) for f in json.loads(out)["findings"]] == [("RV603", "info")]

    settings.write_text('[tool.revisor]\nignore = ["RV698"]\n')
    code, _, both = invoke(cli, "check", "-c", ini)
    assert code == ExitCode.USAGE and "Unknown code 'RV698' in ignore" in both
