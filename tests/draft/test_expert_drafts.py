"""`revisor draft` writes what an expert writes (issue 13), through the real CLI on the
reference app and a real PostgreSQL: a NOT NULL column that applies on rows, renames that
keep the data, an enum label removal that passes revisor's own review, a new schema.
Every draft here must pass `revisor review` without an error and `deploy --dry-run`."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revisor import migrate
from revisor.cli import app
from revisor.db.url import DatabaseUrl
from revisor.draft import draft
from revisor.drafting import DraftOptions
from revisor.exit_codes import ExitCode
from revisor.project import Project
from tests.support.draft_projects import DraftScenario, write_models, write_project

ROWS = (
    "INSERT INTO vendors (name) VALUES ('Gym'), ('Cloud');"
    "INSERT INTO transactions (amount, description, occurred_on, vendor_id) VALUES "
    "(-30, 'gym fee', '2025-01-01', 1), (-5, 'storage', '2025-01-02', 2);"
    "INSERT INTO subscriptions (vendor_id, amount, billing_cycle, next_charge_on) VALUES "
    "(1, 30, 'MONTHLY', '2025-01-01'), (2, 5, 'WEEKLY', '2025-01-02')"
)
NAME_LINE = "    name: Mapped[str] = mapped_column(sa.String(120), unique=True)\n"


@pytest.fixture
def app_with_rows(example_project: Path, database_url_18: DatabaseUrl) -> DraftScenario:
    """The reference app at head, with vendors, transactions and subscriptions rows."""
    migrate.upgrade(Project.load(example_project / "alembic.ini"), database_url_18, "heads")
    scenario = DraftScenario(example_project, database_url_18)
    scenario.sql(ROWS)
    return scenario


def _url(url: DatabaseUrl) -> str:
    return url.url.render_as_string(hide_password=False)


def _run(cli: CliRunner, scenario: DraftScenario, *args: str):
    argv = [args[0], "-c", str(scenario.root / "alembic.ini"), "--url", _url(scenario.url)]
    result = cli.invoke(app, [*argv, *args[1:]])
    assert "Traceback" not in result.output, result.output
    return result


def _edit(scenario: DraftScenario, old: str, new: str, file: str = "models.py") -> None:
    path = scenario.root / "app" / file
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def _drafted(scenario: DraftScenario) -> list[Path]:
    return sorted((scenario.root / "migrations" / "versions").glob("*_change*.py"))


def _draft_deploys(cli: CliRunner, scenario: DraftScenario, *flags: str) -> str:
    """Draft (exit 0, review clean), check `deploy --dry-run`, deploy; the file's text."""
    drafted = _run(cli, scenario, "draft", "-m", "change", *flags)
    assert drafted.exit_code == ExitCode.OK, drafted.output
    assert "review: no findings" in drafted.output or " 0 error(s)" in drafted.output, (
        drafted.output
    )
    [path] = _drafted(scenario)
    text = path.read_text()
    assert "please adjust" not in text and "end Alembic commands" not in text
    assert "# drafted by revisor" in text
    dry = _run(cli, scenario, "deploy", "--dry-run")
    assert dry.exit_code == ExitCode.OK, dry.output
    assert "1 revision(s) would be applied" in dry.output, dry.output
    deployed = _run(cli, scenario, "deploy")
    assert deployed.exit_code == ExitCode.OK, deployed.output
    return text


def test_not_null_column_with_a_python_default_deploys_onto_rows(
    cli: CliRunner, app_with_rows: DraftScenario
):
    scenario = app_with_rows
    _edit(
        scenario,
        NAME_LINE,
        NAME_LINE + '    country: Mapped[str] = mapped_column(sa.String(2), default="US")\n',
    )
    text = _draft_deploys(cli, scenario)
    assert "server_default='US'" in text
    assert "server_default=None" not in text  # kept for the release running meanwhile
    assert "# Existing rows get 'US'" in text
    assert scenario.sql("SELECT name, country FROM vendors ORDER BY id") == [
        ("Gym", "US"),
        ("Cloud", "US"),
    ]
    assert scenario.drift() == []  # the server default equals the model's Python default
    scenario.downgrade()
    assert scenario.sql(
        "SELECT count(*) FROM information_schema.columns WHERE column_name = 'country'"
    ) == [(0,)]


def test_python_defaults_that_sql_text_or_psycopg_would_change_reach_the_rows(
    cli: CliRunner, app_with_rows: DraftScenario
):
    scenario = app_with_rows
    columns = (
        '    note: Mapped[str] = mapped_column(sa.String(40), default="50% at 10 :30, O\'Neil")\n'
        "    active: Mapped[bool] = mapped_column(default=True)\n"
        "    rank: Mapped[int] = mapped_column(default=3)\n"
    )
    _edit(scenario, NAME_LINE, NAME_LINE + columns)
    _draft_deploys(cli, scenario)
    assert scenario.sql("SELECT DISTINCT note, active, rank FROM vendors") == [
        ("50% at 10 :30, O'Neil", True, 3)
    ]
    assert scenario.drift() == []


def test_not_null_column_with_a_server_default_is_added_with_it(
    cli: CliRunner, app_with_rows: DraftScenario
):
    scenario = app_with_rows
    _edit(
        scenario,
        NAME_LINE,
        NAME_LINE + '    country: Mapped[str] = mapped_column(sa.String(2), server_default="US")\n',
    )
    text = _draft_deploys(cli, scenario)
    assert "server_default=None" not in text
    assert scenario.sql("SELECT DISTINCT country FROM vendors") == [("US",)]
    assert scenario.drift() == []


def test_not_null_column_without_a_default_is_refused_with_the_choices(
    cli: CliRunner, app_with_rows: DraftScenario
):
    scenario = app_with_rows
    _edit(
        scenario, NAME_LINE, NAME_LINE + "    country: Mapped[str] = mapped_column(sa.String(2))\n"
    )
    result = _run(cli, scenario, "draft", "-m", "change")
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "vendors.country" in result.output
    assert "default=" in result.output and "--backfill" in result.output
    assert "nullable" in result.output
    assert _drafted(scenario) == []
    # the example in the hint works exactly as printed
    [example] = re.findall(r"\(e\.g\. (--backfill [^)]*)\)", result.output.replace("\n", " "))
    assert example == "--backfill \"vendors.country='x'\""
    _draft_deploys(cli, scenario, *shlex.split(example))
    assert scenario.sql("SELECT DISTINCT country FROM vendors") == [("x",)]


def test_the_backfill_example_fits_the_column_type(cli: CliRunner, app_with_rows: DraftScenario):
    """microblog's `score: Mapped[int]`: 'x' is no integer, so the example must not be it."""
    scenario = app_with_rows
    _edit(scenario, NAME_LINE, NAME_LINE + "    score: Mapped[int] = mapped_column()\n")
    result = _run(cli, scenario, "draft", "-m", "change")
    assert result.exit_code == ExitCode.USAGE, result.output
    [example] = re.findall(r"\(e\.g\. (--backfill [^)]*)\)", result.output.replace("\n", " "))
    assert example == '--backfill "vendors.score=0"'
    _draft_deploys(cli, scenario, *shlex.split(example))
    assert scenario.sql("SELECT DISTINCT score FROM vendors") == [(0,)]


def test_renamed_column_stops_a_non_interactive_draft_and_the_flag_keeps_the_data(
    cli: CliRunner, app_with_rows: DraftScenario
):
    scenario = app_with_rows
    _edit(scenario, "description: Mapped[str | None]", "memo: Mapped[str | None]")
    stopped = _run(cli, scenario, "draft", "-m", "change")
    assert stopped.exit_code == ExitCode.USAGE, stopped.output
    assert "--rename-column transactions.description=memo" in stopped.output
    assert "--allow-drop transactions.description" in stopped.output
    assert _drafted(scenario) == []

    # the hint's flags, exactly as printed
    [flags] = re.findall(r"draft again with (.*?); if", stopped.output.replace("\n", " "))
    assert flags == "--rename-column transactions.description=memo"
    text = _draft_deploys(cli, scenario, *shlex.split(flags))
    assert "new_column_name='memo'" in text and "drop_column" not in text
    assert scenario.sql("SELECT memo FROM transactions ORDER BY id") == [
        ("gym fee",),
        ("storage",),
    ]
    assert scenario.drift() == []
    scenario.downgrade()
    assert scenario.sql("SELECT description FROM transactions ORDER BY id") == [
        ("gym fee",),
        ("storage",),
    ]


def test_no_rename_adds_the_new_column_and_leaves_the_old_one(
    cli: CliRunner, app_with_rows: DraftScenario
):
    scenario = app_with_rows
    _edit(scenario, "description: Mapped[str | None]", "memo: Mapped[str | None]")
    stopped = _run(cli, scenario, "draft", "-m", "change")
    assert "--no-rename transactions.description" in stopped.output
    text = _draft_deploys(cli, scenario, "--no-rename", "transactions.description")
    upgrade = text.split("def downgrade")[0]
    assert "add_column('transactions', sa.Column('memo'" in upgrade
    assert "drop_column" not in upgrade and "new_column_name" not in upgrade
    assert scenario.sql("SELECT description, memo FROM transactions ORDER BY id") == [
        ("gym fee", None),
        ("storage", None),
    ]


def test_allowed_drop_is_not_taken_for_a_rename(cli: CliRunner, app_with_rows: DraftScenario):
    scenario = app_with_rows
    _edit(scenario, "description: Mapped[str | None]", "memo: Mapped[str | None]")
    result = _run(
        cli, scenario, "draft", "-m", "change", "--allow-drop", "transactions.description"
    )
    assert result.exit_code == ExitCode.OK, result.output
    [path] = _drafted(scenario)
    text = path.read_text()
    assert "drop_column('transactions', 'description')" in text
    assert "new_column_name" not in text


def test_enum_label_removal_drafts_clean_and_deploys(cli: CliRunner, app_with_rows: DraftScenario):
    scenario = app_with_rows
    _edit(scenario, '    YEARLY = "yearly"\n', "", file="enums.py")
    text = _draft_deploys(cli, scenario)
    assert "DO $revisor$" in text and "RAISE EXCEPTION" in text
    assert "rewrites subscriptions under an ACCESS EXCLUSIVE lock" in text
    assert scenario.labels("billing_cycle") == ["WEEKLY", "MONTHLY"]
    assert scenario.sql("SELECT billing_cycle::text FROM subscriptions ORDER BY id") == [
        ("MONTHLY",),
        ("WEEKLY",),
    ]


def test_empty_message_is_refused(cli: CliRunner, app_with_rows: DraftScenario):
    for message in ("", "  "):
        result = _run(cli, app_with_rows, "draft", "-m", message)
        assert result.exit_code == ExitCode.USAGE, result.output
        assert "message is empty" in result.output
    assert _drafted(app_with_rows) == []


def test_backfill_fills_rows_then_sets_not_null(cli: CliRunner, app_with_rows: DraftScenario):
    scenario = app_with_rows
    _edit(
        scenario, NAME_LINE, NAME_LINE + "    country: Mapped[str] = mapped_column(sa.String(2))\n"
    )
    text = _draft_deploys(cli, scenario, "--backfill", "vendors.country='US'")
    assert "postgresql_not_valid=True" in text and "while True:" in text
    assert scenario.sql("SELECT name, country FROM vendors ORDER BY id") == [
        ("Gym", "US"),
        ("Cloud", "US"),
    ]
    assert scenario.sql(
        "SELECT is_nullable FROM information_schema.columns WHERE column_name = 'country'"
    ) == [("NO",)]
    assert scenario.drift() == []  # the temporary CHECK is gone
    scenario.downgrade()
    assert scenario.sql(
        "SELECT count(*) FROM information_schema.columns WHERE column_name = 'country'"
    ) == [(0,)]


def test_bare_backfill_needs_exactly_one_column(cli: CliRunner, app_with_rows: DraftScenario):
    scenario = app_with_rows
    two = (
        "    country: Mapped[str] = mapped_column(sa.String(2))\n"
        "    city: Mapped[str] = mapped_column(sa.String(40))\n"
    )
    _edit(scenario, NAME_LINE, NAME_LINE + two)
    result = _run(cli, scenario, "draft", "-m", "change", "--backfill", "'US'")
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "vendors.country, vendors.city" in result.output
    assert '--backfill "vendors.country=SQL" --backfill "vendors.city=SQL"' in result.output
    unknown = _run(cli, scenario, "draft", "-m", "change", "--backfill", "vendors.nope='x'")
    assert unknown.exit_code == ExitCode.USAGE, unknown.output
    assert "vendors.nope" in unknown.output
    assert _drafted(scenario) == []


def test_summary_indents_create_table_continuation_lines(
    cli: CliRunner, app_with_rows: DraftScenario
):
    scenario = app_with_rows
    models = scenario.root / "app" / "models.py"
    models.write_text(
        models.read_text()
        + "\n\nclass Tag(Base):\n    __tablename__ = 'tags'\n\n"
        + "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        + "    label: Mapped[str] = mapped_column(sa.String(40))\n"
    )
    result = _run(cli, scenario, "draft", "-m", "change")
    assert result.exit_code == ExitCode.OK, result.output
    upgrade = result.stdout.split("upgrade:\n", 1)[1].split("review:", 1)[0]
    lines = upgrade.splitlines()
    assert lines[0].startswith("  op.create_table('tags',")
    assert lines[1].startswith("      sa.Column('id'"), upgrade


TAGS = """
class Tag(Base):
    __tablename__ = "{table}"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(40), index=True, unique=True)
"""


def _cli_draft_deploys(cli: CliRunner, scenario: DraftScenario, *flags: str) -> str:
    """`_draft_deploys` for a scenario project (its own history, no rows but `seed`)."""
    return _draft_deploys(cli, scenario, *flags)


def test_renamed_table_keeps_rows_indexes_and_sequence(cli: CliRunner, scenario: DraftScenario):
    scenario.start(TAGS.format(table="tags"), seed="INSERT INTO tags (label) VALUES ('a'), ('b')")
    write_models(scenario.root, TAGS.format(table="labels"))
    stopped = _run(cli, scenario, "draft", "-m", "change")
    assert stopped.exit_code == ExitCode.USAGE, stopped.output
    assert "--rename-table tags=labels" in stopped.output
    assert "--allow-drop tags" in stopped.output

    text = _cli_draft_deploys(cli, scenario, "--rename-table", "tags=labels")
    assert "op.rename_table('tags', 'labels')" in text
    assert "create_table" not in text and "drop_table" not in text
    assert scenario.sql("SELECT id, label FROM labels ORDER BY id") == [(1, "a"), (2, "b")]
    names = scenario.sql(
        "SELECT relname::text FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1"
    )
    assert [n for (n,) in names if n != "alembic_version_pkc" and n != "alembic_version"] == [
        "ix_labels_label",
        "labels",
        "labels_id_seq",
        "labels_pkey",
    ]
    assert scenario.drift() == []
    scenario.sql("INSERT INTO labels (label) VALUES ('c')")  # the sequence still serves it
    scenario.downgrade()
    assert scenario.sql("SELECT label FROM tags ORDER BY id") == [("a",), ("b",), ("c",)]
    assert scenario.sql(
        "SELECT count(*) FROM pg_class WHERE relname LIKE '%labels%' "
        "AND relnamespace = 'public'::regnamespace"
    ) == [(0,)]


def test_a_rename_confirmed_on_the_terminal_is_written(scenario: DraftScenario):
    scenario.start(TAGS.format(table="tags"), seed="INSERT INTO tags (label) VALUES ('a')")
    write_models(scenario.root, TAGS.format(table="tags").replace("label:", "name:"))
    asked: list[str] = []
    options = DraftOptions.build(
        source_roots=[scenario.root], confirm=lambda q: not asked.append(q)
    )
    result = draft(scenario.project, scenario.url, "change", options)
    assert asked == ["Did you rename tags.label to tags.name?"]
    assert result.path is not None
    text = result.path.read_text()
    assert "new_column_name='name'" in text
    # its index follows the column: renamed, not dropped and built again
    assert "op.execute('ALTER INDEX ix_tags_label RENAME TO ix_tags_name')" in text
    assert "drop_index" not in text and "create_index" not in text
    scenario.round_trip(lambda: None, lambda: None)
    assert scenario.sql("SELECT name FROM tags") == [("a",)]


def test_a_rename_declined_on_the_terminal_keeps_the_old_column(scenario: DraftScenario):
    scenario.start(TAGS.format(table="tags"))
    nullable = TAGS.format(table="tags").replace("label: Mapped[str]", "name: Mapped[str | None]")
    write_models(scenario.root, nullable)
    options = DraftOptions.build(source_roots=[scenario.root], confirm=lambda q: False)
    result = draft(scenario.project, scenario.url, "change", options)
    assert [left.name for left in result.report.left_out] == ["tags.label"]
    assert result.path is not None
    upgrade = result.path.read_text().split("def downgrade")[0]
    assert "drop_column" not in upgrade and "add_column('tags', sa.Column('name'" in upgrade


def test_new_schema_is_created_before_its_tables(cli: CliRunner, scenario: DraftScenario):
    scenario.start(TAGS.format(table="tags"))
    write_models(
        scenario.root,
        TAGS.format(table="tags")
        + '\n\nclass Entry(Base):\n    __tablename__ = "entries"\n'
        + '    __table_args__ = {"schema": "audit"}\n\n'
        + "    id: Mapped[int] = mapped_column(primary_key=True)\n",
    )
    text = _cli_draft_deploys(cli, scenario)
    assert text.index("CREATE SCHEMA audit") < text.index("create_table('entries'")
    assert scenario.sql("SELECT count(*) FROM audit.entries") == [(0,)]
    scenario.downgrade()
    assert scenario.sql("SELECT count(*) FROM pg_namespace WHERE nspname = 'audit'") == [(0,)]


def test_revisors_hook_in_env_py_follows_the_command_lines_flags(
    cli: CliRunner, scenario: DraftScenario
):
    scenario.start(TAGS.format(table="tags"), seed="INSERT INTO tags (label) VALUES ('a')")
    write_project(
        scenario.root,
        TAGS.format(table="tags").replace("label:", "name:"),
        env_extra="from revisor.alembic import process_revision_directives",
        env_configure=", process_revision_directives=process_revision_directives",
    )
    text = _draft_deploys(cli, scenario, "--rename-column", "tags.label=name")
    assert "new_column_name='name'" in text
    assert scenario.sql("SELECT name FROM tags") == [("a",)]


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (("--rename-column", "description=memo"), "write TABLE.OLD=NEW"),
        (("--rename-table", "tags"), "write OLD=NEW"),
        (("--backfill", "vendors.country="), "gives no SQL"),
        (("--rename-column", "transactions.nope=memo"), "no matching drop plus add"),
    ],
)
def test_bad_rename_and_backfill_flags_are_one_clear_error(
    cli: CliRunner, app_with_rows: DraftScenario, flags: tuple[str, ...], said: str
):
    result = _run(cli, app_with_rows, "draft", "-m", "change", *flags)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert said in result.output
    assert _drafted(app_with_rows) == []


def _on_a_terminal(argv: list[str], answer: str, cwd: Path) -> tuple[int, str]:
    """Run `python -m revisor argv` with a pseudo-terminal as stdin and stdout; type
    `answer` once the question shows. The exit code and everything it printed."""
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "revisor", *argv],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
    )
    os.close(follower)
    seen = b""
    answered = False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        if not answered and b"[y/N]" in seen:
            os.write(leader, answer.encode() + b"\n")
            answered = True
        if process.poll() is not None and not ready:
            break
    code = process.wait(timeout=30)
    os.close(leader)
    return code, seen.decode(errors="replace").replace("\r\n", "\n")


def test_a_terminal_is_asked_about_the_rename(app_with_rows: DraftScenario):
    scenario = app_with_rows
    _edit(scenario, "description: Mapped[str | None]", "memo: Mapped[str | None]")
    argv = ["draft", "-c", str(scenario.root / "alembic.ini"), "--url", _url(scenario.url)]
    code, output = _on_a_terminal([*argv, "-m", "change"], "y", scenario.root)
    assert "Did you rename transactions.description to transactions.memo? [y/N]" in output
    assert code == ExitCode.OK, output
    [path] = _drafted(scenario)
    assert "new_column_name='memo'" in path.read_text()


def test_redo_passes_the_rename_to_its_new_draft(cli: CliRunner, app_with_rows: DraftScenario):
    scenario = app_with_rows
    _edit(scenario, "description: Mapped[str | None]", "memo: Mapped[str | None]")
    redone = _run(cli, scenario, "redo", "--rename-column", "transactions.description=memo")
    assert redone.exit_code == ExitCode.OK, redone.output
    [new] = (scenario.root / "migrations" / "versions").glob("*_add_category_to_transactions.py")
    text = new.read_text()
    assert "new_column_name='memo'" in text and "add_column('transactions'" in text
    scenario.upgrade()
    assert scenario.sql("SELECT memo FROM transactions ORDER BY id") == [
        ("gym fee",),
        ("storage",),
    ]


def test_a_renamed_column_that_becomes_nullable_is_renamed_then_altered(
    scenario: DraftScenario,
):
    scenario.start(TAGS.format(table="tags"), seed="INSERT INTO tags (label) VALUES ('a')")
    nullable = TAGS.format(table="tags").replace("label: Mapped[str]", "name: Mapped[str | None]")
    write_models(scenario.root, nullable)
    options = DraftOptions.build(source_roots=[scenario.root], rename_columns=["tags.label=name"])
    result = draft(scenario.project, scenario.url, "change", options)
    assert result.path is not None
    assert "nullable=True" in result.path.read_text().split("def downgrade")[0]
    # drift-free after the upgrade: the rename and the NULL-ability both applied
    scenario.round_trip(lambda: None, lambda: None)
    assert scenario.sql("SELECT name FROM tags") == [("a",)]


def test_plain_alembic_with_revisors_hook_stops_on_a_likely_rename(scenario: DraftScenario):
    from alembic import command
    from alembic.util import CommandError

    from revisor.db.connect import connect

    scenario.start(TAGS.format(table="tags"))
    write_project(
        scenario.root,
        TAGS.format(table="tags").replace("label:", "name:"),
        env_extra="from revisor.alembic import process_revision_directives",
        env_configure=", process_revision_directives=process_revision_directives",
    )
    project = scenario.project
    with (
        connect(scenario.url) as conn,
        project.pointed_at(scenario.url.sqlalchemy_url, connection=conn),
        pytest.raises(CommandError, match=r"column tags\.label -> name.*--rename-column"),
    ):
        command.revision(project.config, "by alembic", autogenerate=True)
    assert list((scenario.root / "migrations" / "versions").glob("*by_alembic*")) == []


def test_in_git_a_rename_the_running_release_uses_drafts_but_the_deploy_gate_refuses(
    cli: CliRunner, app_with_rows: DraftScenario
):
    """Expand/contract: draft writes the rename asked for (exit 0) and says RV402; review
    and deploy --dry-run refuse it until the team adds the pragma (or splits releases)."""
    scenario = app_with_rows
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(scenario.root)], check=True)
    subprocess.run([*git, "-C", str(scenario.root), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(scenario.root), "commit", "-qm", "release"], check=True)
    _edit(scenario, "description: Mapped[str | None]", "memo: Mapped[str | None]")

    drafted = _run(
        cli, scenario, "draft", "-m", "change", "--rename-column", "transactions.description=memo"
    )
    assert drafted.exit_code == ExitCode.OK, drafted.output
    assert "RV402" in drafted.output and "RV308" not in drafted.output, drafted.output
    assert "the file applies as written" in drafted.output
    [path] = _drafted(scenario)
    review = ["review", "-c", str(scenario.root / "alembic.ini"), str(path)]
    refused = cli.invoke(app, review)
    assert refused.exit_code == ExitCode.FINDINGS and "RV402" in refused.output, refused.output
    assert _run(cli, scenario, "deploy", "--dry-run").exit_code == ExitCode.FINDINGS

    text = path.read_text()
    line = "    op.alter_column('transactions', 'description', new_column_name='memo')\n"
    assert line in text
    path.write_text(
        text.replace(line, line.rstrip() + "  # revisor: ignore[RV402] -- traffic stops\n", 1)
    )
    reviewed = cli.invoke(app, review)
    assert reviewed.exit_code == ExitCode.OK, reviewed.output
    assert _run(cli, scenario, "deploy", "--dry-run").exit_code == ExitCode.OK
