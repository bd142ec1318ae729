"""`revisor deploy` through the real CLI on real PostgreSQL: the lock, lock_timeout with
retries, failures and where they leave the database, the review gate, bad input."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from revisor import migrate
from revisor.cli import app
from revisor.db.advisory import NAMESPACE, lock_key
from revisor.db.connect import raw_connect
from revisor.db.scratch import drop_database
from revisor.db.url import DatabaseUrl
from revisor.exit_codes import ExitCode
from revisor.project import Project

HEAD = "f72272eba32a"
ORDER = [
    "d7b6898133d9",
    "42bbf4a64104",
    "e6995e90df34",
    "c611d8776a6b",
    "2cffc65fb01a",
    "f72272eba32a",
]
ROOT = Path(__file__).resolve().parents[1]


def invoke(cli: CliRunner, project: Path, url: DatabaseUrl | str | None, *args: str):
    """(exit code, stdout, stdout+stderr) of `revisor deploy`; never a traceback."""
    argv = ["deploy", "-c", str(project / "alembic.ini"), *args]
    if url is not None:
        argv += ["--url", url if isinstance(url, str) else url.sqlalchemy_url]
    result = cli.invoke(app, argv)
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.stdout, result.output


def heads(url: DatabaseUrl) -> tuple[str, ...]:
    return migrate.current_heads(url)


def column_exists(url: DatabaseUrl, table: str, column: str) -> bool:
    with raw_connect(url) as conn:
        row = conn.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
            (table, column),
        ).fetchone()
    return row is not None


def add_revision(project: Path, rev: str, down: str, upgrade: str) -> Path:
    """Write one more revision file into the example's history."""
    path = project / "migrations" / "versions" / f"{rev}_extra.py"
    path.write_text(
        textwrap.dedent('''\
            """extra revision for a deploy test"""
            from alembic import op
            import sqlalchemy as sa

            revision = "{rev}"
            down_revision = "{down}"
            branch_labels = None
            depends_on = None


            def upgrade() -> None:
            {body}


            def downgrade() -> None:
                pass
        ''').format(
            rev=rev, down=down, body=textwrap.indent(textwrap.dedent(upgrade).strip(), "    ")
        )
    )
    return path


@pytest.fixture
def reviewed_example(example_project: Path) -> Path:
    """The reference app with its unnamed foreign key named (what `revisor review --fix`
    does), as a team deploys it."""
    path = (
        example_project / "migrations" / "versions" / "e6995e90df34_add_vendor_to_transactions.py"
    )
    text = path.read_text()
    assert text.count("(None, ") == 2
    path.write_text(text.replace("(None, ", '("fk_transactions_vendor_id", '))
    return example_project


def test_deploy_to_head_then_nothing_to_do(
    cli: CliRunner, reviewed_example: Path, database_url: DatabaseUrl
):
    code, out, _ = invoke(cli, reviewed_example, database_url, "--dry-run")
    assert code == ExitCode.OK, out
    assert "6 pending" in out and "dry run: 6 revision(s) would be applied" in out
    assert heads(database_url) == ()  # not even the version table

    code, out, both = invoke(cli, reviewed_example, database_url)
    assert code == ExitCode.OK, both
    assert f"(no revision) -> head ({HEAD}): 6 pending" in out
    applied = [line.split()[1] for line in out.splitlines() if line.startswith("  applied ")]
    assert applied == ORDER
    assert "review    1 error(s)" not in out and "RV103" in out  # a warning, printed
    assert f"done      database at {HEAD}: 6 revision(s)" in out
    assert heads(database_url) == (HEAD,)
    assert column_exists(database_url, "transactions", "category")

    code, out, both = invoke(cli, reviewed_example, database_url)
    assert code == ExitCode.OK, both
    assert out.strip().splitlines() == [
        f"{database_url.masked} is already at head ({HEAD}): nothing to deploy."
    ]


def test_review_errors_refuse_the_deploy(
    cli: CliRunner, example_project: Path, database_url_18: DatabaseUrl
):
    code, out, both = invoke(cli, example_project, database_url_18)
    assert code == ExitCode.FINDINGS, both
    assert "e6995e90df34_add_vendor_to_transactions.py:24:5: RV101 error" in out
    assert "nothing was migrated" in both and "--no-review" in both
    assert heads(database_url_18) == ()

    code, out, both = invoke(cli, example_project, database_url_18, "--no-review", "--to", ORDER[1])
    assert code == ExitCode.OK, both
    assert "review" not in out
    assert heads(database_url_18) == (ORDER[1],)


def test_review_errors_without_a_fix_name_no_fix_command(
    cli: CliRunner, reviewed_example: Path, database_url_18: DatabaseUrl
):
    """An incomplete downgrade (RV121) has no automatic fix: the hint must not send the
    user to `review --fix`, which would change nothing."""
    (reviewed_example / "migrations" / "versions" / "aa11bb22cc33_note.py").write_text(
        f'"""note"""\nfrom alembic import op\nimport sqlalchemy as sa\n\n'
        f'revision = "aa11bb22cc33"\ndown_revision = "{HEAD}"\n\n\n'
        "def upgrade():\n"
        '    op.add_column("vendors", sa.Column("note", sa.Text(), nullable=True))\n'
        '    op.create_index("ix_vendors_note", "vendors", ["note"])\n\n\n'
        "def downgrade():\n"
        '    op.drop_index("ix_vendors_note", table_name="vendors")\n'
    )
    code, out, both = invoke(cli, reviewed_example, database_url_18)
    assert code == ExitCode.FINDINGS, both
    assert "RV121 error" in out, both
    assert "review --fix" not in both
    assert "fix them as each one's help says, or deploy anyway with --no-review." in both
    assert heads(database_url_18) == ()


def _hold_deploy_lock(url: DatabaseUrl) -> psycopg.Connection:
    conn = psycopg.connect(**url.libpq_kwargs(), autocommit=True)
    conn.execute("SET application_name = 'deploy on replica 1'")
    conn.execute("SELECT pg_advisory_lock(%s, %s)", (NAMESPACE, lock_key("public.alembic_version")))
    return conn


def test_deploy_lock_held_elsewhere_exits_7(
    cli: CliRunner, reviewed_example: Path, database_url_18: DatabaseUrl
):
    holder = _hold_deploy_lock(database_url_18)
    try:
        pid = holder.info.backend_pid
        started = time.monotonic()
        code, _, both = invoke(cli, reviewed_example, database_url_18, "--wait", "300ms")
        assert time.monotonic() - started < 5
    finally:
        holder.close()
    assert code == ExitCode.LOCKED, both
    assert f"held by pid {pid} (deploy on replica 1" in both
    assert "gave up after 0.3s" in both and "--wait" in both
    assert heads(database_url_18) == ()


def test_two_deploys_at_once_one_migrates(reviewed_example: Path, database_url_18: DatabaseUrl):
    """Two replicas start together: both queue for the lock, one applies everything, the
    other then finds nothing pending. Real processes (the lock is per session)."""
    holder = _hold_deploy_lock(database_url_18)  # so that both are surely waiting
    argv = [
        sys.executable,
        "-m",
        "revisor",
        "deploy",
        "-c",
        str(reviewed_example / "alembic.ini"),
        "--url",
        database_url_18.sqlalchemy_url,
        "--wait",
        "30",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    procs = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            waiting = holder.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND objid::bigint = %s",
                (lock_key("public.alembic_version"),),
            ).fetchone()
            if waiting and waiting[0] == 2:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the two deploys never queued for the lock")
    finally:
        holder.close()
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert all("waiting up to 30s for the deploy lock, held by pid" in o for o in outputs)
    migrated = [o for o in outputs if "6 revision(s) in" in o]
    idle = [o for o in outputs if "nothing to deploy" in o]
    assert len(migrated) == 1 and len(idle) == 1, outputs
    assert heads(database_url_18) == (HEAD,)


def test_lock_timeout_is_retried_then_exits_7(
    cli: CliRunner, reviewed_example: Path, database_url: DatabaseUrl
):
    code, _, both = invoke(cli, reviewed_example, database_url, "--to", "2cffc65fb01a")
    assert code == ExitCode.OK, both
    # A long transaction that read transactions: f72272eba32a's ADD COLUMN needs ACCESS
    # EXCLUSIVE and would queue behind it (and every query on the table behind that).
    reader = psycopg.connect(**database_url.libpq_kwargs())
    reader.execute("SET application_name = 'report job'")
    reader.execute("SELECT count(*) FROM transactions").fetchone()
    try:
        code, out, both = invoke(
            cli,
            reviewed_example,
            database_url,
            "--lock-timeout",
            "100ms",
            "--retries",
            "2",
            "--retry-delay",
            "10ms",
        )
        pid = reader.info.backend_pid
    finally:
        reader.close()
    assert code == ExitCode.LOCKED, both
    retries = [line for line in out.splitlines() if "lock timeout" in line]
    assert len(retries) == 2 and "retrying in 0.01s" in retries[0]
    assert "retrying in 0.02s" in retries[1]
    assert (
        "revision f72272eba32a could not get its lock within lock_timeout 100ms (3 attempt(s))"
        in both
    )
    assert f"on transactions, held by pid {pid} (report job" in both
    assert "the database is at 2cffc65fb01a: f72272eba32a was rolled back" in both
    assert heads(database_url) == ("2cffc65fb01a",)
    assert not column_exists(database_url, "transactions", "category")

    code, _, both = invoke(cli, reviewed_example, database_url, "--lock-timeout", "100ms")
    assert code == ExitCode.OK, both  # the reader is gone: it goes through
    assert heads(database_url) == (HEAD,)


def test_failed_revision_exits_4_and_says_where_the_database_is(
    cli: CliRunner, reviewed_example: Path, database_url_18: DatabaseUrl
):
    add_revision(
        reviewed_example,
        "0badc0ffee01",
        HEAD,
        """
        op.add_column("vendors", sa.Column("rating", sa.Integer()))
        op.execute("SELECT 1 / 0")
        """,
    )
    code, out, both = invoke(cli, reviewed_example, database_url_18, "--to", ORDER[1])
    assert code == ExitCode.OK, both
    code, out, both = invoke(cli, reviewed_example, database_url_18, "--no-review")
    assert code == ExitCode.MIGRATION_FAILED, both
    assert "upgrade of revision 0badc0ffee01 failed: DivisionByZero: division by zero" in both
    assert f"the database is at {HEAD}: 0badc0ffee01 was rolled back" in both
    # the revisions before it stay applied, its own work is gone
    assert heads(database_url_18) == (HEAD,)
    assert not column_exists(database_url_18, "vendors", "rating")

    code, out, _ = invoke(cli, reviewed_example, database_url_18, "--no-review", "-f", "json")
    assert code == ExitCode.MIGRATION_FAILED
    report = json.loads(out)
    assert report["status"] == "failed" and report["exit_code"] == 4
    assert report["current"] == [HEAD] and report["database_after"] == [HEAD]
    assert report["failure"]["revision"] == "0badc0ffee01"
    assert report["failure"]["sqlstate"] == "22012"
    assert report["failure"]["partly_applied_possible"] is False


def test_failure_after_an_autocommit_block_says_partly_applied(
    cli: CliRunner, reviewed_example: Path, database_url_18: DatabaseUrl
):
    add_revision(
        reviewed_example,
        "0badc0ffee02",
        HEAD,
        """
        with op.get_context().autocommit_block():
            op.create_index(
                "ix_vendors_name_lower", "vendors", [sa.text("lower(name)")],
                postgresql_concurrently=True,
            )
        op.execute("SELECT 1 / 0")
        """,
    )
    code, _, both = invoke(cli, reviewed_example, database_url_18, "--no-review")
    assert code == ExitCode.MIGRATION_FAILED, both
    assert "0badc0ffee02 ran statements in an autocommit block" in both
    assert "may be partly applied" in both and f"the database is at {HEAD}" in both
    with raw_connect(database_url_18) as conn:
        index = conn.execute("SELECT to_regclass('ix_vendors_name_lower')").fetchone()
    assert index is not None and index[0] is not None  # committed by the block


def test_database_at_unknown_revision_exits_6(
    cli: CliRunner, reviewed_example: Path, database_url_18: DatabaseUrl
):
    with raw_connect(database_url_18) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('feedfacecafe')")
    code, _, both = invoke(cli, reviewed_example, database_url_18)
    assert code == ExitCode.UNKNOWN_REVISION, both
    assert "stamped with feedfacecafe, which is not in the migration history" in both


def test_no_database_given_exits_2(cli: CliRunner, reviewed_example: Path):
    code, _, both = invoke(cli, reviewed_example, None)
    assert code == ExitCode.USAGE, both
    assert "revisor deploy needs the database to migrate" in both
    assert "--url" in both and "DATABASE_URL" in both and "sqlalchemy.url" in both

    code, out, _ = invoke(cli, reviewed_example, None, "--format", "json")
    assert code == ExitCode.USAGE
    assert json.loads(out)["status"] == "error"


def test_several_heads_need_to(cli: CliRunner, database_url_18: DatabaseUrl):
    project = ROOT / "tests" / "fixtures" / "histories" / "multiple_heads"
    code, _, both = invoke(cli, project, database_url_18)
    assert code == ExitCode.USAGE, both
    assert "has 2 heads (cc11dd22ee33, dd22ee33ff44)" in both and "--to" in both
    assert heads(database_url_18) == ()


def test_bad_duration_is_a_usage_error(cli: CliRunner, reviewed_example: Path):
    code, _, both = invoke(cli, reviewed_example, "postgresql://u@h/db", "--wait", "soon")
    assert code == ExitCode.USAGE, both
    assert "--wait 'soon' is not a duration" in both
    code, _, both = invoke(cli, reviewed_example, "postgresql://u@h/db", "--to", "base")
    assert code == ExitCode.USAGE, both
    assert "would downgrade: revisor deploy only upgrades" in both


@pytest.mark.parametrize("option", ["--lock-timeout", "--statement-timeout", "--wait"])
def test_duration_beyond_postgres_range_is_a_usage_error(
    cli: CliRunner, reviewed_example: Path, database_url_18: DatabaseUrl, option: str
):
    """1000h is 3.6e9 ms, over PostgreSQL's int timeouts: refused up front (exit 2), not
    a 'migration failed, fix the revision' (exit 4) after the first SET."""
    code, _, both = invoke(cli, reviewed_example, database_url_18, "--no-review", option, "1000h")
    assert code == ExitCode.USAGE, both
    assert f"{option} '1000h' is too long" in both
    assert heads(database_url_18) == ()


def test_statement_timeout_applies_to_the_migrations(
    cli: CliRunner, reviewed_example: Path, database_url_18: DatabaseUrl
):
    add_revision(reviewed_example, "0badc0ffee04", HEAD, 'op.execute("SELECT pg_sleep(5)")')
    code, _, both = invoke(
        cli, reviewed_example, database_url_18, "--no-review", "--statement-timeout", "200ms"
    )
    assert code == ExitCode.MIGRATION_FAILED, both
    assert (
        "upgrade of revision 0badc0ffee04 failed: QueryCanceled: canceling statement due "
        "to statement timeout" in both
    )
    assert f"the database is at {HEAD}: 0badc0ffee04 was rolled back" in both


def test_password_is_never_printed(
    cli: CliRunner, reviewed_example: Path, password_role: str, pg18
):
    secret = "s3cr3t-Pa55"
    name = f"t_{secrets.token_hex(5)}"
    with raw_connect(pg18.url) as conn:
        conn.execute(f"CREATE DATABASE {name} OWNER pwuser")
    url = password_role.replace("RIGHT", secret).replace("/pwdb?", f"/{name}?")
    try:
        code, out, both = invoke(cli, reviewed_example, url, "--to", ORDER[0])
        assert code == ExitCode.OK, both
        assert "pwuser@" in out or "pwuser:***@" in out
        add_revision(
            reviewed_example, "0badc0ffee03", HEAD, f"op.execute(\"SELECT '{secret}' / 0\")"
        )
        for args in (("--no-review",), ("--no-review", "--format", "json")):
            code, out, both = invoke(cli, reviewed_example, url, *args)
            assert code == ExitCode.MIGRATION_FAILED, both
            assert secret not in both
    finally:
        drop_database(pg18.url, name)


@pytest.mark.parametrize(
    "case",
    [
        "autocommit_block",
        "lock_timeout_first",
        "merge_three_parents",
        "two_version_folders",
        "async_env",
    ],
)
def test_fixture_histories_deploy_to_their_heads(
    cli: CliRunner, database_url_18: DatabaseUrl, case: str
):
    """env.py layouts: one transaction per migration, autocommit blocks, merges, branches in
    two version folders (--to heads)."""
    import tomllib

    project = ROOT / "tests" / "fixtures" / "histories" / case
    expected = tomllib.loads((project / "case.toml").read_text())
    code, out, both = invoke(cli, project, database_url_18, "--no-review", "--to", "heads")
    assert code == ExitCode.OK, both
    assert f"{expected['revision_count']} revision(s) in" in out
    # every revision is recorded (b1001e6f5a4b depends_on ce0001d4e5f6: alembic's own
    # bookkeeping then keeps one row for both, as `alembic upgrade heads` does)
    loaded = Project.load(project / "alembic.ini")
    assert loaded.ancestors(heads(database_url_18)) == {s.revision for s in loaded.revisions}
    assert set(heads(database_url_18)) <= set(expected["heads"])
    code, out, both = invoke(cli, project, database_url_18, "--to", "heads")
    assert code == ExitCode.OK and "nothing to deploy" in out, both


def test_projects_with_their_own_version_tables_do_not_wait_for_each_other(
    cli: CliRunner, reviewed_example: Path, database_url_18: DatabaseUrl
):
    env = reviewed_example / "migrations" / "env.py"
    env.write_text(
        env.read_text().replace(
            "compare_type=True,", 'compare_type=True, version_table="bcb_version",'
        )
    )
    holder = _hold_deploy_lock(database_url_18)  # another project's deploy, on alembic_version
    try:
        code, out, both = invoke(cli, reviewed_example, database_url_18, "--wait", "200ms")
    finally:
        holder.close()
    assert code == ExitCode.OK, both
    assert "waiting" not in out
    with raw_connect(database_url_18) as conn:
        row = conn.execute("SELECT version_num FROM bcb_version").fetchone()
    assert row == (HEAD,)


def test_lost_lock_session_is_reported_not_a_traceback(
    cli: CliRunner, reviewed_example: Path, database_url_18: DatabaseUrl
):
    """The session holding the deploy lock dies mid-deploy (here a revision terminates
    it): the run cannot verify where the database is and says so (exit 4)."""
    add_revision(
        reviewed_example,
        "0badc0ffee05",
        HEAD,
        """
        op.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'revisor deploy' AND pid <> pg_backend_pid()"
        )
        """,
    )
    code, _, both = invoke(cli, reviewed_example, database_url_18, "--no-review")
    assert code == ExitCode.MIGRATION_FAILED, both
    assert "cannot verify the deploy" in both and "could not be read again" in both
    assert heads(database_url_18) == ("0badc0ffee05",)


def test_lock_timeout_in_an_autocommit_block_is_not_retried(
    cli: CliRunner, reviewed_example: Path, database_url_18: DatabaseUrl
):
    """CREATE INDEX CONCURRENTLY waits for every older transaction; under lock_timeout it
    fails and leaves an INVALID index behind: not a clean rollback, so no retry, exit 4."""
    add_revision(
        reviewed_example,
        "0badc0ffee06",
        HEAD,
        """
        with op.get_context().autocommit_block():
            op.create_index(
                "ix_vendors_name_upper", "vendors", [sa.text("upper(name)")],
                postgresql_concurrently=True,
            )
        """,
    )
    code, _, both = invoke(cli, reviewed_example, database_url_18, "--no-review", "--to", HEAD)
    assert code == ExitCode.OK, both
    writer = psycopg.connect(**database_url_18.libpq_kwargs())
    writer.execute("LOCK TABLE vendors IN ROW EXCLUSIVE MODE")  # an open write transaction
    try:
        code, out, both = invoke(
            cli, reviewed_example, database_url_18, "--no-review", "--lock-timeout", "100ms"
        )
    finally:
        writer.close()
    assert code == ExitCode.MIGRATION_FAILED, both
    assert "retrying" not in out
    assert "upgrade of revision 0badc0ffee06 failed: LockNotAvailable" in both
    assert "may be partly applied" in both
    assert heads(database_url_18) == (HEAD,)


def test_unreachable_database_hint_does_not_offer_the_embedded_server(
    cli: CliRunner, reviewed_example: Path
):
    """deploy never falls back to the embedded PostgreSQL: its hint must not suggest it."""
    code, _, both = invoke(cli, reviewed_example, "postgresql://app:pw-9876@127.0.0.1:1/app")
    assert code == ExitCode.DATABASE, both
    assert "Cannot connect" in both
    assert "embedded" not in both
    assert "deploy migrates only the database given by --url" in both.replace("\n", " ")


def test_to_a_revision_the_database_is_past_says_where_it_is(
    cli: CliRunner, reviewed_example: Path, database_url_18: DatabaseUrl
):
    """At head, `--to <first revision>` said 'is already at d7b6898133d9': it is not."""
    assert invoke(cli, reviewed_example, database_url_18, "--no-review")[0] == ExitCode.OK
    code, out, both = invoke(cli, reviewed_example, database_url_18, "--to", ORDER[0])
    assert code == ExitCode.OK, both
    assert f"is already at {HEAD} ({ORDER[0]} is applied): nothing to deploy." in out.replace(
        "\n", ""
    )
    code, out, both = invoke(cli, reviewed_example, database_url_18)
    assert f"is already at head ({HEAD}): nothing to deploy." in out.replace("\n", "")


def test_long_retry_delay_is_not_a_postgres_timeout(
    cli: CliRunner, reviewed_example: Path, database_url_18: DatabaseUrl
):
    """--retry-delay is a pause in revisor (capped), not a PostgreSQL setting: no limit."""
    code, _, both = invoke(
        cli, reviewed_example, database_url_18, "--dry-run", "--retry-delay", "1000h"
    )
    assert code == ExitCode.OK, both
