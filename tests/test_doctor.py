"""`revisor doctor` through the real CLI on real PostgreSQL: a healthy database, an
unstamped create_all schema (and --fix), unknown revisions (with git), pending revisions,
hand-made drift, duplicate version rows, an empty database."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import psycopg
import sqlalchemy as sa
from typer.testing import CliRunner

from revisor import migrate
from revisor.cli import app
from revisor.db.url import DatabaseUrl
from revisor.doctor import diagnose
from revisor.exit_codes import ExitCode
from revisor.project import Project
from revisor.snapshot.catalog import fingerprint
from tests.support.mini_history import ACCOUNTS, ORDERS, write_history

HEAD = "f72272eba32a"
HISTORIES = Path(__file__).resolve().parent / "fixtures" / "histories"

STATUS = (
    "c3",
    "b2",
    """
    op.add_column("orders", sa.Column("status", sa.Text, nullable=True))
    op.create_index("ix_orders_status", "orders", ["status"])
    """,
    """
    op.drop_index("ix_orders_status", "orders")
    op.drop_column("orders", "status")
    """,
)


def doctor(cli: CliRunner, ini: Path, url: DatabaseUrl, *extra: str) -> tuple[int, str]:
    result = cli.invoke(app, ["doctor", "-c", str(ini), "--url", url.sqlalchemy_url, *extra])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def sql(url: DatabaseUrl, *statements: str) -> None:
    with psycopg.connect(**url.libpq_kwargs(), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def rows(url: DatabaseUrl) -> list[str]:
    with psycopg.connect(**url.libpq_kwargs()) as conn:
        return [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]


def state_of(url: DatabaseUrl) -> tuple[str, list[str]]:
    with psycopg.connect(**url.libpq_kwargs()) as conn:
        fp = fingerprint(conn)
        found = conn.execute("SELECT to_regclass('alembic_version')").fetchone()
        stamped = (
            [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]
            if found and found[0]
            else []
        )
    return fp, stamped


def scratch_left(url: DatabaseUrl) -> list[str]:
    with psycopg.connect(**url.with_database("postgres").libpq_kwargs()) as conn:
        found = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'revisor_scratch_doctor%'"
        )
        return [r[0] for r in found]


# --- the reference app -----------------------------------------------------------------


def test_healthy_reference_app_at_head(cli, example_project, database_url):
    ini = example_project / "alembic.ini"
    migrate.upgrade(Project.load(ini), database_url, "heads")
    before = state_of(database_url)
    code, out = doctor(cli, ini, database_url)
    assert code == ExitCode.OK, out
    assert "healthy" in out and HEAD in out
    assert state_of(database_url) == before  # read-only
    assert scratch_left(database_url) == []


def test_empty_database_is_info_exit_0(cli, example_project, database_url_18):
    code, out = doctor(cli, example_project / "alembic.ini", database_url_18)
    assert code == ExitCode.OK, out
    assert "DR100" in out and "`revisor deploy -c " in out  # the user's own database


def test_default_is_the_embedded_dev_database(cli, example_project):
    from revisor.db.embedded import embedded_server_url
    from revisor.db.resolve import embedded_dev_database
    from revisor.db.scratch import drop_database

    project = example_project.rename(example_project.parent / "doctor_embedded_probe")
    try:
        result = cli.invoke(app, ["doctor", "-c", str(project / "alembic.ini")])
        assert result.exit_code == ExitCode.OK, result.output
        assert "revisor_dev_doctor_embedded_probe" in result.output and "DR100" in result.output
    finally:
        drop_database(embedded_server_url(), embedded_dev_database(project.name).database)


def test_behind_head_lists_pending(cli, example_project, database_url_18):
    ini = example_project / "alembic.ini"
    migrate.upgrade(Project.load(ini), database_url_18, "e6995e90df34")
    code, out = doctor(cli, ini, database_url_18, "--format", "json")
    assert code == ExitCode.FINDINGS, out
    payload = json.loads(out)
    assert payload["state"] == "behind"
    assert payload["pending"] == ["c611d8776a6b", "2cffc65fb01a", HEAD]
    assert [f["code"] for f in payload["findings"]] == ["DR103"]
    assert "revisor deploy" in payload["findings"][0]["help"]
    assert payload["matched"] == ["e6995e90df34"]


def test_tool_revisor_relevels_and_ignores_doctor_codes(cli, example_project, database_url_18):
    """Pending revisions are DR103, a warning: doctor exits 1 (not 5). `severity` makes it
    advice (kept, exit 0) and `ignore` drops it; the state still says what was found."""
    ini = example_project / "alembic.ini"
    migrate.upgrade(Project.load(ini), database_url_18, "e6995e90df34")
    code, out = doctor(cli, ini, database_url_18)
    assert code == ExitCode.FINDINGS, out
    assert "DR103 [warning]" in out
    settings = example_project / "pyproject.toml"
    settings.write_text('[tool.revisor]\nseverity = { DR103 = "info" }\n')
    code, out = doctor(cli, ini, database_url_18, "--format", "json")
    assert code == ExitCode.OK, out
    payload = json.loads(out)
    assert [(f["code"], f["severity"]) for f in payload["findings"]] == [("DR103", "info")]
    assert payload["healthy"] and payload["state"] == "behind"
    settings.write_text('[tool.revisor]\nignore = ["DR103"]\n')
    code, out = doctor(cli, ini, database_url_18)
    assert code == ExitCode.OK, out
    assert "DR103" not in out and "healthy" not in out
    assert "nothing to report: 1 finding(s) ignored by [tool.revisor]." in out
    settings.write_text('[tool.revisor]\nignore = ["DR199"]\n')
    code, out = doctor(cli, ini, database_url_18)
    assert code == ExitCode.USAGE and "Unknown code 'DR199' in ignore" in out


def test_index_made_by_hand_is_drift_at_its_revision(cli, example_project, database_url_18):
    ini = example_project / "alembic.ini"
    migrate.upgrade(Project.load(ini), database_url_18, "42bbf4a64104")
    sql(database_url_18, "CREATE INDEX ix_transactions_by_hand ON transactions (amount)")
    code, out = doctor(cli, ini, database_url_18)
    assert code == ExitCode.FINDINGS, out
    assert "DR105" in out and "DR103" in out
    assert (
        "index ix_transactions_by_hand on transactions exists in the database but not in "
        "the history at 42bbf4a64104" in out
    )
    assert "`create_index` of the same name will fail" in out
    assert "DROP INDEX public.ix_transactions_by_hand" in out
    assert rows(database_url_18) == ["42bbf4a64104"]  # nothing dropped, nothing stamped


def test_missing_and_changed_objects(example_project, database_url_18):
    ini = example_project / "alembic.ini"
    project = Project.load(ini)
    migrate.upgrade(project, database_url_18, "heads")
    sql(
        database_url_18,
        "DROP INDEX ix_transactions_occurred_on",
        "ALTER TABLE transactions ALTER COLUMN category TYPE varchar(200)",
        "ALTER TABLE vendors ADD COLUMN note text",
    )
    findings = diagnose(project, database_url_18).findings
    found = {(f.extra["change"], f.extra["kind"], f.extra["object"]) for f in findings}
    assert found == {
        ("missing", "index", "ix_transactions_occurred_on"),
        ("changed", "column", "category"),
        ("left", "column", "note"),
    }
    (left,) = [f for f in findings if f.extra["change"] == "left"]
    assert "ALTER TABLE public.vendors DROP COLUMN note" in left.help and "its data" in left.help


def test_owners_and_grants_of_a_database_another_role_migrated(
    cli, example_project, pg18, database_url_18
):
    """The migrating role owns what it creates: doctor, connected as another role and
    replaying the history as that role, compares ownership by "the role that migrated"
    (the version table's owner), not by role name, and leaves out the privileges that
    the database's default privileges give. A relation another role owns, and a grant
    no migration made, are drift."""
    import secrets

    from revisor.db.url import DatabaseUrl

    role = f"app_{secrets.token_hex(3)}"
    sql(
        database_url_18,
        f"CREATE ROLE {role} LOGIN",
        f"ALTER DATABASE {database_url_18.database} OWNER TO {role}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {role} GRANT SELECT ON TABLES TO PUBLIC",
    )
    as_role = DatabaseUrl(database_url_18.url.set(username=role), "test", None)
    ini = example_project / "alembic.ini"
    try:
        migrate.upgrade(Project.load(ini), as_role, "heads")
        code, out = doctor(cli, ini, database_url_18)  # as the server's superuser
        assert code == ExitCode.OK, out

        superuser = database_url_18.user
        sql(
            database_url_18,
            f"ALTER TABLE vendors OWNER TO {superuser}",
            "GRANT INSERT ON transactions TO PUBLIC",
        )
        code, out = doctor(cli, ini, database_url_18, "--format", "json")
        found = {
            (f["details"]["kind"], f["details"]["table"] or f["details"]["object"]): f
            for f in json.loads(out)["findings"]
        }
        assert set(found) == {
            ("table", "vendors"),
            ("sequence", "vendors_id_seq"),
            ("grant", "transactions"),
        }, out
        table = found[("table", "vendors")]["message"]
        assert f"the database has 'r (owner {superuser})'" in table
        grant = found[("grant", "transactions")]
        assert "a security finding" in grant["message"]
        assert "-c 'REVOKE INSERT ON public.transactions FROM PUBLIC'`" in grant["help"]
    finally:
        sql(
            database_url_18,
            f"DROP OWNED BY {role}",
            f"ALTER DATABASE {database_url_18.database} OWNER TO {database_url_18.user}",
        )
        sql(pg18.url, f"DROP ROLE {role}")


def test_stamped_with_another_revisions_schema(cli, example_project, database_url_18):
    ini = example_project / "alembic.ini"
    migrate.upgrade(Project.load(ini), database_url_18, "heads")
    sql(database_url_18, "UPDATE alembic_version SET version_num = 'e6995e90df34'")
    code, out = doctor(cli, ini, database_url_18)
    assert code == ExitCode.FINDINGS, out
    assert "DR106" in out and f"`revisor db stamp --purge {HEAD} -c " in out
    assert "DR103" not in out  # its schema is the head's: nothing is really pending


def test_duplicate_and_overlapping_version_rows(cli, example_project, database_url_18):
    ini = example_project / "alembic.ini"
    migrate.upgrade(Project.load(ini), database_url_18, "heads")
    sql(database_url_18, "INSERT INTO alembic_version VALUES ('42bbf4a64104')")
    code, out = doctor(cli, ini, database_url_18)
    assert code == ExitCode.FINDINGS, out
    assert "DR104" in out and "42bbf4a64104 is an ancestor" in out
    assert f"`revisor db stamp --purge {HEAD} -c " in out
    assert "DR105" not in out  # the schema is the head's


def test_unknown_revision_without_git(cli, example_project, database_url_18):
    ini = example_project / "alembic.ini"
    migrate.upgrade(Project.load(ini), database_url_18, "heads")
    sql(database_url_18, "UPDATE alembic_version SET version_num = 'abcdef123456'")
    code, out = doctor(cli, ini, database_url_18)
    assert code == ExitCode.FINDINGS, out
    assert "DR102" in out and "abcdef123456" in out
    assert f"matches revision {HEAD} exactly" in out


# --- unstamped schemas (create_all) ----------------------------------------------------


def _orders_metadata(with_status: bool) -> sa.MetaData:
    """What a models module would hold at b2 (or c3): create_all builds that schema."""
    md = sa.MetaData()
    sa.Table(
        "accounts",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(120), nullable=False, unique=True),
    )
    orders = sa.Table(
        "orders",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("placed_on", sa.Date, nullable=False),
    )
    if with_status:
        orders.append_column(sa.Column("status", sa.Text, nullable=True))
    return md


def _create_all(url: DatabaseUrl, md: sa.MetaData) -> None:
    engine = sa.create_engine(url.sqlalchemy_url)
    md.create_all(engine)
    engine.dispose()


def test_create_all_names_the_revision_and_fix_stamps_it(cli, tmp_path, database_url_18):
    ini = write_history(tmp_path / "shop", [ACCOUNTS, ORDERS, STATUS])
    _create_all(database_url_18, _orders_metadata(with_status=False))
    code, out = doctor(cli, ini, database_url_18)
    assert code == ExitCode.FINDINGS, out
    assert "DR101" in out and "matches revision b2 exactly" in out
    assert "`revisor db stamp b2 -c " in out and "1 pending" in out

    code, out = doctor(cli, ini, database_url_18, "--fix")
    assert "stamping" in out and "`revisor db stamp b2 -c " in out
    assert rows(database_url_18) == ["b2"]
    # after the fix: behind head by c3, nothing else
    assert code == ExitCode.FINDINGS and "DR103" in out and "c3" in out
    assert "DR101" not in out.split("after the fix:")[1]


def test_create_all_with_no_exact_match_names_the_closest(cli, tmp_path, database_url_18):
    ini = write_history(tmp_path / "shop", [ACCOUNTS, ORDERS, STATUS])
    _create_all(database_url_18, _orders_metadata(with_status=True))  # no ix_orders_status
    before = state_of(database_url_18)
    code, out = doctor(cli, ini, database_url_18, "--fix")
    assert code == ExitCode.FINDINGS, out
    assert "Closest: c3, differing by 1" in out
    assert "the database lacks index ix_orders_status on orders" in out
    assert "nothing doctor may fix" in out and "`revisor db stamp c3 -c " in out
    assert state_of(database_url_18) == before  # --fix did not stamp a near match


def test_create_all_of_reference_models_is_head(example_project, database_url_18):
    project = Project.load(example_project / "alembic.ini")
    _create_all(database_url_18, project.metadata[0])
    diagnosis = diagnose(project, database_url_18)
    assert diagnosis.state == "unstamped"
    assert diagnosis.stamp == (HEAD,)
    assert diagnosis.pending == []


def test_history_that_cannot_build_its_schema(cli, tmp_path, database_url_18):
    """An empty base revision and tables from create_all: the closest state is where the
    replay stopped, and doctor says so instead of advising to drop the tables."""
    root = tmp_path / "legacy"
    shutil.copytree(HISTORIES / "empty_base_create_all", root)
    project = Project.load(root / "alembic.ini")
    _create_all(database_url_18, project.metadata[0])
    code, out = doctor(cli, root / "alembic.ini", database_url_18)
    assert code == ExitCode.FINDINGS, out
    assert "DR107" in out and "fails at revision 1b2c3d4e5f60" in out
    assert "cannot build past 1b2c3d4e5f60" in out and "`revisor db stamp 0a0b0c0d0e0f -c " in out


# --- unknown revisions found in git ----------------------------------------------------


def git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    done = subprocess.run(
        ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def _repo_with_history(root: Path) -> Path:
    ini = write_history(root, [ACCOUNTS, ORDERS])
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "accounts and orders")
    return ini


def test_unknown_revision_on_another_branch(cli, tmp_path, database_url_18):
    root = tmp_path / "shop"
    ini = _repo_with_history(root)
    git(root, "switch", "-q", "-c", "feature/status")
    write_history(root, [STATUS])
    git(root, "add", "-A")
    git(root, "commit", "-qm", "order status")
    migrate.upgrade(Project.load(ini), database_url_18, "heads")  # migrated on the branch
    git(root, "switch", "-q", "main")
    assert not list((root / "migrations" / "versions").glob("c3_*"))

    code, out = doctor(cli, ini, database_url_18, "--format", "json")
    assert code == ExitCode.FINDINGS, out
    (finding,) = json.loads(out)["findings"]
    assert finding["code"] == "DR102" and finding["revision"] == "c3"
    assert "on branch feature/status" in finding["message"]
    assert finding["details"]["ancestor"] == "b2"
    assert "`git switch feature/status`" in finding["help"]
    assert "`revisor db downgrade b2 -c " in finding["help"]


def test_unknown_revision_deleted_from_every_branch(cli, tmp_path, database_url_18):
    root = tmp_path / "shop"
    ini = _repo_with_history(root)
    write_history(root, [STATUS])
    git(root, "add", "-A")
    git(root, "commit", "-qm", "order status")
    added = git(root, "rev-parse", "--short", "HEAD").strip()
    migrate.upgrade(Project.load(ini), database_url_18, "heads")
    git(root, "rm", "-q", "migrations/versions/c3_rev.py")
    git(root, "commit", "-qm", "drop the status migration")

    code, out = doctor(cli, ini, database_url_18)
    assert code == ExitCode.FINDINGS, out
    assert "DR102" in out and f"at commit {added} (order status)" in out
    assert f"`git restore --source={added} -- {root}/migrations/versions/c3_rev.py`" in out
    assert "`revisor db downgrade b2 -c " in out


# --- bad input -------------------------------------------------------------------------


def test_bad_format_and_unreachable_database(cli, example_project):
    ini = example_project / "alembic.ini"
    result = cli.invoke(app, ["doctor", "-c", str(ini), "--format", "xml"])
    assert result.exit_code == ExitCode.USAGE and "Unknown --format" in result.output
    result = cli.invoke(
        app, ["doctor", "-c", str(ini), "--url", "postgresql://doc:s3cret@127.0.0.1:1/x"]
    )
    assert result.exit_code == ExitCode.DATABASE, result.output
    assert "Traceback" not in result.output and "s3cret" not in result.output


def test_revoke_takes_back_only_what_the_history_does_not_grant():
    from revisor.doctor.wording import fix_statement
    from revisor.snapshot.catalog import CatalogObject, Snapshot
    from revisor.snapshot.diff import diff_snapshots

    def grant(privileges: str) -> Snapshot:
        return Snapshot((CatalogObject("grant", "Bill ing", "Read Only", "T", privileges),))

    history = grant("SELECT, UPDATE")
    database = grant("DELETE, SELECT WITH GRANT OPTION, UPDATE")
    [difference] = diff_snapshots(history, database).differences
    assert fix_statement(difference) == (
        'REVOKE DELETE ON "Bill ing"."T" FROM "Read Only"; '
        'REVOKE GRANT OPTION FOR SELECT ON "Bill ing"."T" FROM "Read Only"'
    )
    [narrower] = diff_snapshots(database, history).differences
    assert fix_statement(narrower) is None  # fewer privileges: words, no statement


def test_a_read_only_role_granted_by_hand_is_reported_not_failing(
    cli, example_project, pg18, database_url_18
):
    """GRANT SELECT to a reporting role, made by a DBA outside the migrations, is ordinary
    on a real database: doctor names it (info) and stays healthy; the same privilege for
    PUBLIC opens the table to every role: a warning, exit 1."""
    import secrets

    role = f"reader_{secrets.token_hex(3)}"
    ini = example_project / "alembic.ini"
    migrate.upgrade(Project.load(ini), database_url_18, "heads")
    sql(pg18.url, f"CREATE ROLE {role}")
    try:
        sql(database_url_18, f"GRANT SELECT ON transactions TO {role}")
        code, out = doctor(cli, ini, database_url_18)
        assert code == ExitCode.OK, out
        assert "DR105 [info]" in out and role in out
        sql(database_url_18, "GRANT SELECT ON vendors TO PUBLIC")
        code, out = doctor(cli, ini, database_url_18)
        assert code == ExitCode.FINDINGS, out
        assert "DR105 [warning]" in out and "a security finding" in out
    finally:
        sql(database_url_18, f"REVOKE ALL ON transactions FROM {role}")
        sql(pg18.url, f"DROP ROLE {role}")
