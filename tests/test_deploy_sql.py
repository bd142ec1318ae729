"""`revisor deploy --dry-run --sql` through the real CLI on real PostgreSQL: the SQL of
the pending revisions, rendered offline from the revision the database is at, on stdout
alone; nothing applied; the printed SQL runs as printed; clear refusals when env.py or a
migration cannot render offline."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
from typer.testing import CliRunner

from revisor import migrate
from revisor.db.url import DatabaseUrl
from revisor.exit_codes import ExitCode
from revisor.project import Project
from tests import test_deploy_cli
from tests.test_deploy_cli import HEAD, ORDER, add_revision, column_exists, heads, invoke

reviewed_example = test_deploy_cli.reviewed_example  # the example with its FK named


def test_pending_sql_of_two_revisions(
    cli: CliRunner, reviewed_example: Path, database_url_18: DatabaseUrl
) -> None:
    migrate.upgrade(Project.load(reviewed_example / "alembic.ini"), database_url_18, ORDER[3])
    code, out, both = invoke(cli, reviewed_example, database_url_18, "--dry-run", "--sql")
    assert code == ExitCode.OK, both
    # stdout is the SQL alone, from the database's revision on: nothing before ORDER[4]
    assert "2 pending" not in out and "2 pending" in both
    assert "CREATE TABLE" not in out
    assert "ALTER TABLE subscriptions ADD COLUMN active BOOLEAN" in out
    assert "ALTER TABLE transactions ADD COLUMN category VARCHAR(50)" in out
    assert f"UPDATE alembic_version SET version_num='{ORDER[4]}' WHERE " in out
    assert f"UPDATE alembic_version SET version_num='{HEAD}' WHERE " in out
    assert out.index("subscriptions ADD") < out.index("transactions ADD")
    # nothing applied
    assert heads(database_url_18) == (ORDER[3],)
    assert not column_exists(database_url_18, "subscriptions", "active")
    # the SQL does what deploy would do, run exactly as printed
    with psycopg.connect(**database_url_18.libpq_kwargs(), autocommit=True) as conn:
        conn.execute(out.encode())
    assert heads(database_url_18) == (HEAD,)
    assert column_exists(database_url_18, "transactions", "category")


def test_unversioned_database_gets_the_version_table_too(
    cli: CliRunner, reviewed_example: Path, database_url_18: DatabaseUrl
) -> None:
    code, out, both = invoke(
        cli, reviewed_example, database_url_18, "--dry-run", "--sql", "--format", "json"
    )
    assert code == ExitCode.OK, both
    document = json.loads(out)
    assert document["status"] == "dry-run" and len(document["pending"]) == 6
    assert "CREATE TABLE alembic_version" in document["sql"]
    assert "CREATE TABLE vendors" in document["sql"]
    assert heads(database_url_18) == ()


def test_migration_that_reads_the_database(
    cli: CliRunner, reviewed_example: Path, database_url_18: DatabaseUrl
) -> None:
    add_revision(
        reviewed_example,
        "aa00bb11cc22",
        HEAD,
        'count = op.get_bind().execute(sa.text("SELECT count(*) FROM vendors")).scalar()',
    )
    migrate.upgrade(Project.load(reviewed_example / "alembic.ini"), database_url_18, HEAD)
    code, _, both = invoke(cli, reviewed_example, database_url_18, "--dry-run", "--sql")
    assert code == ExitCode.MIGRATION_FAILED, both
    assert "Revision aa00bb11cc22 cannot be rendered as SQL offline" in both
    assert "nothing was applied" in both and "hint:" in both
    assert heads(database_url_18) == (HEAD,)


def test_env_py_without_offline_branch(
    cli: CliRunner, reviewed_example: Path, database_url_18: DatabaseUrl
) -> None:
    env = reviewed_example / "migrations" / "env.py"
    text = env.read_text()
    assert text.count("if context.is_offline_mode():") == 1
    env.write_text(text.replace("if context.is_offline_mode():", "if False:"))
    code, _, both = invoke(cli, reviewed_example, database_url_18, "--dry-run", "--sql")
    assert code == ExitCode.USAGE, both
    assert "has no offline mode (it connects to a database in offline mode)" in both
    assert "context.is_offline_mode()" in both
    assert heads(database_url_18) == ()


def test_sql_needs_dry_run(
    cli: CliRunner, reviewed_example: Path, database_url_18: DatabaseUrl
) -> None:
    code, _, both = invoke(cli, reviewed_example, database_url_18, "--sql")
    assert code == ExitCode.USAGE, both
    assert "--sql only renders SQL, so it needs --dry-run" in both
    assert heads(database_url_18) == ()


def test_every_head_of_a_branched_history(
    cli: CliRunner, tmp_path: Path, database_url_18: DatabaseUrl, monkeypatch
) -> None:
    """--to heads on two heads: the SQL of both branches from the common base, which
    run as printed leaves the database at both heads."""
    import shutil

    from tests.conftest import HISTORIES

    project = tmp_path / "multiple_heads"
    shutil.copytree(HISTORIES / "multiple_heads", project)
    monkeypatch.chdir(project)
    migrate.upgrade(Project.load(project / "alembic.ini"), database_url_18, "aabb00cc11dd")
    code, out, both = invoke(
        cli, project, database_url_18, "--dry-run", "--sql", "--to", "heads", "--no-review"
    )
    assert code == ExitCode.OK, both
    assert "CREATE TABLE milestones" in out and "ADD COLUMN color" in out
    assert "CREATE TABLE projects" not in out
    with psycopg.connect(**database_url_18.libpq_kwargs(), autocommit=True) as conn:
        conn.execute(out.encode())
    assert sorted(heads(database_url_18)) == ["cc11dd22ee33", "dd22ee33ff44"]
