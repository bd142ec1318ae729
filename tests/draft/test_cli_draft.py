"""`revisor draft` through the real CLI, on the reference app."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from revisor import migrate
from revisor.cli import app
from revisor.db.url import DatabaseUrl
from revisor.project import Project
from tests.support.draft_projects import DraftScenario

NAMES = 'sa.Enum(BillingCycle, name="billing_cycle")'
VALUES = (
    'sa.Enum(BillingCycle, name="billing_cycle", values_callable=lambda e: [m.value for m in e])'
)
ROWS = (
    "INSERT INTO vendors (name) VALUES ('Gym'), ('Cloud');"
    "INSERT INTO subscriptions (vendor_id, amount, billing_cycle, next_charge_on) VALUES "
    "(1, 30, 'MONTHLY', '2025-01-01'), (2, 5, 'WEEKLY', '2025-01-02'), "
    "(2, 99, 'YEARLY', '2025-01-03'), (1, 31, 'MONTHLY', '2025-01-04')"
)


def _url(url: DatabaseUrl) -> str:
    return url.url.render_as_string(hide_password=False)


def _draft(cli: CliRunner, project: Path, url: DatabaseUrl, *args: str):
    return cli.invoke(app, ["draft", "-c", str(project / "alembic.ini"), "--url", _url(url), *args])


def test_reference_app_switch_to_values_renames_in_place(
    cli: CliRunner, example_project: Path, database_url: DatabaseUrl
):
    project = Project.load(example_project / "alembic.ini")
    migrate.upgrade(project, database_url, "heads")
    scenario = DraftScenario(example_project, database_url)
    scenario.sql(ROWS)
    models = example_project / "app" / "models.py"
    models.write_text(models.read_text().replace(NAMES, VALUES))

    result = _draft(cli, example_project, database_url, "-m", "store billing cycle values")
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output
    assert "RENAME VALUE 'MONTHLY' TO 'monthly'" in result.output
    assert "deploy the code and this migration together" in result.output
    assert "review: no findings" in result.output
    [written] = (example_project / "migrations" / "versions").glob("*store_billing*")
    text = written.read_text()
    assert "CREATE TYPE" not in text and "USING" not in text
    # the deploy-order note is in the file, next to the renames, not only on stderr
    note = text.index("# Renames 'WEEKLY', 'MONTHLY', 'YEARLY' in place")
    assert note < text.index("RENAME VALUE 'WEEKLY'") and "deploy this" in text

    def after():
        assert scenario.labels("billing_cycle") == ["weekly", "monthly", "yearly"]
        rows = scenario.sql(
            "SELECT amount::int, billing_cycle::text FROM subscriptions ORDER BY id"
        )
        assert rows == [(30, "monthly"), (5, "weekly"), (99, "yearly"), (31, "monthly")]

    def before():
        assert scenario.labels("billing_cycle") == ["WEEKLY", "MONTHLY", "YEARLY"]
        rows = scenario.sql(
            "SELECT amount::int, billing_cycle::text FROM subscriptions ORDER BY id"
        )
        assert rows == [(30, "MONTHLY"), (5, "WEEKLY"), (99, "YEARLY"), (31, "MONTHLY")]

    scenario.round_trip(after, before)
    # and the models now match the database: nothing more to draft
    again = _draft(cli, example_project, database_url, "-m", "again", "--exit-code-on-empty")
    assert again.exit_code == 1, again.output
    assert "No changes detected" in again.output


def test_reference_app_at_head_has_no_changes(
    cli: CliRunner, example_project: Path, database_url_18: DatabaseUrl
):
    migrate.upgrade(Project.load(example_project / "alembic.ini"), database_url_18, "heads")
    before = sorted((example_project / "migrations" / "versions").glob("*.py"))
    result = _draft(cli, example_project, database_url_18, "-m", "nothing")
    assert result.exit_code == 0, result.output
    assert "No changes detected" in result.output
    assert sorted((example_project / "migrations" / "versions").glob("*.py")) == before


def test_database_behind_head_is_refused(
    cli: CliRunner, example_project: Path, database_url_18: DatabaseUrl
):
    migrate.upgrade(Project.load(example_project / "alembic.ini"), database_url_18, "c611d8776a6b")
    result = _draft(cli, example_project, database_url_18, "-m", "x")
    assert result.exit_code == 5, result.output
    assert "not at head" in result.output
    assert "Traceback" not in result.output


def test_bad_rename_label_is_a_usage_error(
    cli: CliRunner, example_project: Path, database_url_18: DatabaseUrl
):
    result = _draft(cli, example_project, database_url_18, "-m", "x", "--rename-label", "oops")
    assert result.exit_code == 2, result.output
    assert "TYPE:OLD=NEW" in result.output


def test_demo_shows_the_draft_and_round_trips(cli: CliRunner):
    result = cli.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    assert "Draft a migration from a model change" in result.output
    assert "RENAME VALUE 'MONTHLY' TO 'monthly'" in result.output
    assert "subscriptions.billing_cycle: weekly, monthly, yearly" in result.output
    assert "demo finished:" in result.output


HOOKED_MODELS = """
class Plan(enum.Enum):
    FREE = "free"
    PRO = "pro"


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan: Mapped[Plan] = mapped_column(sa.Enum(Plan, name="plan"))
"""

USER_HOOK = """
from revisor.alembic import chain



def user_hook(context, revision, directives):
    # the user's hook sees autogenerate's raw ops, before revisor's rewrite
    names = [type(op).__name__ for op in directives[0].upgrade_ops.ops]
    assert not any("Enum" in name for name in names), names
"""


def test_plain_alembic_hook_gives_the_same_draft(
    tmp_path: Path, database_url_18: DatabaseUrl, cli: CliRunner
):
    from alembic import command

    from revisor.db.connect import connect
    from tests.support.draft_projects import write_project

    scenario = DraftScenario(tmp_path / "hooked", database_url_18)
    scenario.start(HOOKED_MODELS, "INSERT INTO accounts (plan) VALUES ('PRO')")
    write_project(
        scenario.root,
        HOOKED_MODELS.replace("FREE", "Free"),
        env_extra=USER_HOOK,
        env_configure=", process_revision_directives=chain(user_hook)",
    )
    project = scenario.project
    with (
        connect(database_url_18) as conn,
        project.pointed_at(database_url_18.sqlalchemy_url, connection=conn),
    ):
        script = command.revision(project.config, "by alembic", autogenerate=True)
    text = Path(script.path).read_text()
    assert "RENAME VALUE 'FREE' TO 'Free'" in text

    def labels_are(*expected: str):
        def check():
            assert scenario.labels("plan") == list(expected)
            assert scenario.sql("SELECT plan::text FROM accounts") == [("PRO",)]

        return check

    scenario.round_trip(labels_are("Free", "PRO"), labels_are("FREE", "PRO"))
    scenario.downgrade()
    Path(script.path).unlink()
    # revisor draft with the hook in env.py: rewritten once, and the summary still says so
    result = _draft(cli, scenario.root, database_url_18, "-m", "by revisor")
    assert result.exit_code == 0, result.output
    assert result.output.count("rename 'FREE' -> 'Free'") == 1
    [written] = (scenario.root / "migrations" / "versions").glob("*by_revisor*")
    assert written.read_text().count("RENAME VALUE 'FREE' TO 'Free'") == 1


def test_left_out_drop_is_printed_with_its_cause(
    cli: CliRunner, example_project: Path, database_url_18: DatabaseUrl
):
    migrate.upgrade(Project.load(example_project / "alembic.ini"), database_url_18, "heads")
    DraftScenario(example_project, database_url_18).sql(
        "CREATE TABLE legacy_audit (id int); ALTER TABLE vendors ADD COLUMN old_code text"
    )
    result = _draft(cli, example_project, database_url_18, "-m", "nothing")
    assert result.exit_code == 0, result.output
    assert "No changes detected" in result.output
    assert "left out: drop of table legacy_audit" in result.output
    assert "left out: drop of column vendors.old_code" in result.output
    assert "--allow-drop" in result.output
    allowed = _draft(
        cli,
        example_project,
        database_url_18,
        "-m",
        "drop old code",
        "--allow-drop",
        "vendors.old_code",
    )
    assert "op.drop_column('vendors', 'old_code')" in allowed.output
    assert allowed.exit_code == 0, allowed.output


def test_embedded_dev_database_is_brought_to_head_first(cli: CliRunner, example_project: Path):
    from revisor.db.embedded import embedded_server_url
    from revisor.db.resolve import embedded_dev_database
    from revisor.db.scratch import drop_database

    # a folder name of its own: the embedded dev database is named after the project
    project = example_project.rename(example_project.parent / "draft_embedded_probe")
    models = project / "app" / "models.py"
    models.write_text(models.read_text().replace(NAMES, VALUES))
    dev = embedded_dev_database(project.name)
    try:
        result = cli.invoke(app, ["draft", "-c", str(project / "alembic.ini"), "-m", "values"])
        assert result.exit_code == 0, result.output
        assert "upgraded the embedded dev database to head first (6 revision(s))" in result.output
        assert "RENAME VALUE 'MONTHLY' TO 'monthly'" in result.output
    finally:
        drop_database(embedded_server_url(), dev.database)


def test_users_own_hook_runs_before_revisors(tmp_path: Path, database_url_18: DatabaseUrl):
    from tests.support.draft_projects import write_project

    scenario = DraftScenario(tmp_path / "own_hook", database_url_18)
    scenario.start(HOOKED_MODELS)
    hook = USER_HOOK.replace("from revisor.alembic import chain\n", "") + (
        "    directives[0].message = 'renamed by the user hook'\n"
    )
    write_project(
        scenario.root,
        HOOKED_MODELS.replace("FREE", "Free"),
        env_extra=hook,
        env_configure=", process_revision_directives=user_hook",
    )
    result = scenario.draft()
    assert result.path is not None and "renamed_by_the_user_hook" in result.path.name
    assert "RENAME VALUE 'FREE' TO 'Free'" in result.path.read_text()


def test_the_new_file_is_reviewed(
    cli: CliRunner, example_project: Path, database_url_18: DatabaseUrl
):
    migrate.upgrade(Project.load(example_project / "alembic.ini"), database_url_18, "heads")
    models = example_project / "app" / "models.py"
    models.write_text(
        models.read_text().replace(
            "category: Mapped[str | None] = mapped_column(sa.String(50))",
            "category: Mapped[str | None] = mapped_column(sa.String(50), unique=True)",
        )
    )
    result = _draft(cli, example_project, database_url_18, "-m", "unique category")
    assert "create_unique_constraint('uq_transactions_category'" in result.output
    assert "review:" in result.output
    assert "RV301" in result.output  # the unique index is built under a lock: a warning
    assert result.exit_code == 0, result.output
    skipped = _draft(cli, example_project, database_url_18, "-m", "again", "--no-review")
    assert "review:" not in skipped.output and "RV3" not in skipped.output


SIDE_BRANCH = '''"""side branch"""
import sqlalchemy as sa
from alembic import op

revision = "aaaa11112222"
down_revision = "2cffc65fb01a"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("vendors", sa.Column("note", sa.Text(), nullable=True))


def downgrade():
    op.drop_column("vendors", "note")
'''


def test_two_heads_are_refused_before_the_dev_database_is_touched(
    cli: CliRunner, example_project: Path
):
    from revisor.db.embedded import embedded_server_url
    from revisor.db.resolve import embedded_dev_database
    from revisor.db.scratch import drop_database

    project = example_project.rename(example_project.parent / "draft_two_heads_probe")
    (project / "migrations" / "versions" / "aaaa11112222_side_branch.py").write_text(SIDE_BRANCH)
    models = project / "app" / "models.py"
    models.write_text(models.read_text().replace(NAMES, VALUES))
    dev = embedded_dev_database(project.name)
    try:
        result = cli.invoke(app, ["draft", "-c", str(project / "alembic.ini"), "-m", "values"])
        assert result.exit_code == 2, result.output
        assert "The history has 2 heads (aaaa11112222, f72272eba32a)" in result.output
        assert "alembic merge heads" in result.output
        assert migrate.current_heads(dev) == ()  # not upgraded to both heads first
        assert list((project / "migrations" / "versions").glob("*values*")) == []
    finally:
        drop_database(embedded_server_url(), dev.database)


def test_a_review_note_is_said_even_when_the_draft_has_no_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A note such as "model checks skipped" is why a clean review may be clean."""
    from revisor.cli.draft import show_review
    from revisor.exit_codes import ExitCode
    from revisor.review.engine import ReviewResult

    reviewed = ReviewResult(findings=[], files=[], notes=["model checks skipped: no Base"])
    assert show_review(reviewed, tmp_path) == ExitCode.OK
    captured = capsys.readouterr()
    assert "review: no findings" in captured.out
    assert "review note: model checks skipped: no Base" in captured.err
