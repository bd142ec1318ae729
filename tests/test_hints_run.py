"""Every command a fix line prints works as printed.

For each doctor diagnosis, on revisor's embedded dev database and on a user's database
(--url, DATABASE_URL), the test runs the command lines of the finding's fix (its
`commands` detail, each checked to be in the printed help in backticks) exactly as
printed: shlex-split, revisor through the real CLI, anything else (git, mv, rm) as a
subprocess, from the same folder with the same environment. Then doctor must report the
database at head and clean. Other commands' printed commands (check --url, redo's
restore, draft, deploy) are run the same way.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from revisor import migrate
from revisor.cli import app
from revisor.db.url import DatabaseUrl
from revisor.exit_codes import ExitCode
from revisor.project import Project
from tests.support.mini_history import ACCOUNTS, ORDERS, write_history

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
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


@dataclass
class Shop:
    """A three-revision project (a1 accounts, b2 orders, c3 status + index) in its own
    folder, the current directory, and the database doctor looks at."""

    root: Path
    url: DatabaseUrl  # for the test's own setup
    args: list[str]  # what doctor is given to reach that database (none: it resolves it)
    where: str

    def upgrade(self, target: str) -> None:
        migrate.upgrade(Project.load(self.root / "alembic.ini"), self.url, target)

    def sql(self, *statements: str) -> None:
        with psycopg.connect(**self.url.libpq_kwargs(), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)


@pytest.fixture(params=["embedded", "--url"])
def shop(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli
) -> Iterator[Shop]:
    """The shop on revisor's embedded dev database (reached by resolving, no URL) or on a
    fresh database of the test server given with --url."""
    root = tmp_path / f"shop_{secrets.token_hex(3)}"
    write_history(root, [ACCOUNTS, ORDERS, STATUS])
    monkeypatch.chdir(root)
    if request.param == "embedded":
        from revisor.db.embedded import embedded_server_url
        from revisor.db.resolve import embedded_dev_database
        from revisor.db.scratch import drop_database

        url = embedded_dev_database(root.name)
        yield Shop(root, url, [], "embedded")
        drop_database(embedded_server_url(), url.database or "")
    else:
        url = request.getfixturevalue("database_url_18")
        yield Shop(root, url, ["--url", url.shown(driver=None)], "--url")


def run_printed(cli: CliRunner, command: str) -> tuple[int, str]:
    """Run `command` as printed, from the current directory with this environment."""
    argv = shlex.split(command)
    if argv[0] == "revisor":
        result = cli.invoke(app, argv[1:])
        assert "Traceback" not in result.output, result.output
        return result.exit_code, result.output
    done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **GIT_ENV})
    return done.returncode, done.stdout + done.stderr


def doctor(cli: CliRunner, shop: Shop, *extra: str) -> dict:
    result = cli.invoke(app, ["doctor", "--format", "json", *shop.args, *extra])
    assert result.exit_code in (ExitCode.OK, ExitCode.FINDINGS), result.output
    return json.loads(result.stdout)


def fix_and_recheck(cli: CliRunner, shop: Shop, *, rounds: int = 3) -> list[list[str]]:
    """Run the first finding's printed commands until doctor finds nothing; returns the
    codes doctor reported each round (the last one empty)."""
    seen: list[list[str]] = []
    for _ in range(rounds):
        payload = doctor(cli, shop)
        seen.append([f["code"] for f in payload["findings"]])
        if not payload["findings"]:
            assert payload["state"] == "at-head" and payload["healthy"], payload
            return seen
        finding = next(f for f in payload["findings"] if f["details"].get("commands"))
        for command in finding["details"]["commands"]:
            assert f"`{command}`" in finding["help"], (command, finding["help"])
            if shop.where == "embedded":
                assert not command.startswith(("alembic", "revisor deploy")), command
            code, output = run_printed(cli, command)
            assert code == 0, (command, output)
    raise AssertionError(f"still not healthy after {rounds} rounds: {seen}")


def _create_all(url: DatabaseUrl, *, status: bool, index: bool) -> None:
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
    if status:
        orders.append_column(sa.Column("status", sa.Text, nullable=True))
        if index:
            sa.Index("ix_orders_status", orders.c.status)
    engine = sa.create_engine(url.sqlalchemy_url)
    md.create_all(engine)
    engine.dispose()


# --- doctor, one diagnosis each -----------------------------------------------------------


def test_empty_database(cli, shop):
    assert fix_and_recheck(cli, shop) == [["DR100"], []]


def test_pending_revisions(cli, shop):
    shop.upgrade("b2")
    assert fix_and_recheck(cli, shop) == [["DR103"], []]


def test_unstamped_create_all_schema(cli, shop):
    _create_all(shop.url, status=False, index=False)  # what b2 builds
    assert fix_and_recheck(cli, shop) == [["DR101"], []]


def test_unstamped_schema_closest_after_the_manual_step(cli, shop):
    _create_all(shop.url, status=True, index=False)  # c3 without its index
    (finding,) = doctor(cli, shop)["findings"]
    assert finding["code"] == "DR101" and "Closest: c3" in finding["message"]
    shop.sql("CREATE INDEX ix_orders_status ON orders (status)")  # "make the schema equal"
    for command in finding["details"]["commands"]:
        assert f"`{command}`" in finding["help"]
        assert run_printed(cli, command)[0] == 0, command
    assert doctor(cli, shop)["findings"] == []


def test_unknown_revision_nobody_has(cli, shop):
    shop.upgrade("heads")
    shop.sql("UPDATE alembic_version SET version_num = 'deadbeef0000'")
    assert fix_and_recheck(cli, shop) == [["DR102"], []]


def test_duplicate_version_rows(cli, shop):
    shop.upgrade("heads")
    shop.sql("INSERT INTO alembic_version VALUES ('b2')")
    assert fix_and_recheck(cli, shop) == [["DR104"], []]


def test_index_left_behind(cli, shop):
    shop.upgrade("heads")
    shop.sql("CREATE INDEX ix_orders_by_hand ON orders (placed_on)")
    assert fix_and_recheck(cli, shop) == [["DR105"], []]


def test_wrong_stamp(cli, shop):
    shop.upgrade("heads")
    shop.sql("UPDATE alembic_version SET version_num = 'b2'")
    assert fix_and_recheck(cli, shop) == [["DR106"], []]


@pytest.mark.parametrize("shop", ["embedded"], indirect=True)
def test_missing_index_on_the_embedded_dev_database_is_rebuilt(cli, shop):
    """(On the user's own database the rebuild starts with dropping it by hand.)"""
    shop.upgrade("heads")
    shop.sql("DROP INDEX ix_orders_status")
    assert fix_and_recheck(cli, shop) == [["DR105"], []]


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=root,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_unknown_revision_from_another_branch(cli, shop):
    root = shop.root
    status_file = root / "migrations" / "versions" / "c3_rev.py"
    status_text = status_file.read_text()
    status_file.unlink()
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "accounts and orders")
    _git(root, "switch", "-q", "-c", "feature/status")
    status_file.write_text(status_text)
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "order status")
    shop.upgrade("heads")  # migrated on the branch
    _git(root, "switch", "-q", "main")

    payload = doctor(cli, shop)
    (finding,) = payload["findings"]
    assert finding["code"] == "DR102"
    assert finding["details"]["commands"][0] == "git switch feature/status"
    assert fix_and_recheck(cli, shop) == [["DR102"], []]
    assert _git(root, "branch", "--show-current").strip() == "main"
    assert not status_file.exists()  # back on main, where c3 is not


def test_unknown_revision_deleted_in_git(cli, shop):
    root = shop.root
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "shop")
    shop.upgrade("heads")
    _git(root, "rm", "-q", "migrations/versions/c3_rev.py")
    _git(root, "commit", "-qm", "drop the status migration")

    (finding,) = doctor(cli, shop)["findings"]
    assert finding["details"]["commands"][0].startswith("git restore --source=")
    assert fix_and_recheck(cli, shop) == [["DR102"], []]
    assert not (root / "migrations" / "versions" / "c3_rev.py").exists()


def test_history_that_fails_names_revisor_test(cli, shop):
    failing = shop.root / "migrations" / "versions" / "c3_rev.py"
    failing.write_text(
        failing.read_text().replace(
            "op.add_column(", "op.execute('SELECT 1/0')\n    op.add_column(", 1
        )
    )
    shop.upgrade("b2")
    payload = doctor(cli, shop)
    (finding,) = [f for f in payload["findings"] if f["code"] == "DR107"]
    (command,) = finding["details"]["commands"]
    assert f"`{command}`" in finding["help"]
    code, output = run_printed(cli, command)
    assert code == ExitCode.FINDINGS and "c3" in output and "DivisionByZero" in output


# --- every SQL statement doctor prints, with names PostgreSQL must have quoted -----------

# Names with capitals, spaces, quotes, dots and keywords, in public and in other schemas.
# The history creates what the drift below is made on (a domain with a CHECK, a trigger
# function, a grant) and `billing.invoices`, the table in schema billing, next to which a
# table named "billing.invoices" in public is made by hand.
ODD_NAMES = (
    "a1",
    None,
    """
    op.execute('CREATE SCHEMA "Bill ing"')
    op.execute("CREATE SCHEMA billing")
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.Text, nullable=False, unique=True),
    )
    op.create_table(
        "Invoices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("Amount Due", sa.Numeric, nullable=False),
        schema="Bill ing",
    )
    op.create_table("invoices", sa.Column("id", sa.Integer, primary_key=True), schema="billing")
    op.execute('CREATE DOMAIN "Bill ing"."Positive Amount" AS numeric CHECK (VALUE > 0)')
    op.execute(
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$"
    )
    op.execute("GRANT SELECT ON accounts TO PUBLIC")
    """,
    """
    op.execute("DROP FUNCTION touch()")
    op.execute('DROP DOMAIN "Bill ing"."Positive Amount"')
    op.drop_table("invoices", schema="billing")
    op.drop_table("Invoices", schema="Bill ing")
    op.drop_table("accounts")
    op.execute("DROP SCHEMA billing")
    op.execute('DROP SCHEMA "Bill ing"')
    """,
)

# What a database at a1 has that a1 does not build: one object per kind doctor writes SQL
# for ({role} is a role whose name needs quotes).
ODD_DRIFT = [
    'CREATE INDEX "IxByHand" ON "Bill ing"."Invoices" ("Amount Due")',
    'ALTER TABLE accounts ADD COLUMN "Extra Col" text',
    'ALTER TABLE "Bill ing"."Invoices" ADD COLUMN "it\'s" integer',
    'ALTER TABLE "Bill ing"."Invoices" ADD CONSTRAINT "Ck ""Quoted""" CHECK ("Amount Due" >= 0)',
    'ALTER DOMAIN "Bill ing"."Positive Amount" ADD CONSTRAINT "Not Huge" CHECK (VALUE < 1e6)',
    """CREATE TYPE "Bill ing"."Mood" AS ENUM ('ok')""",
    'CREATE TYPE public."time" AS (a integer)',
    'CREATE DOMAIN "Bill ing"."Odd Domain" AS integer',
    'CREATE TABLE public."billing.invoices" (id integer)',
    'CREATE VIEW "Bill ing"."Rich View" AS SELECT 1 AS one',
    'CREATE MATERIALIZED VIEW "MV" AS SELECT 1 AS one',
    'CREATE SEQUENCE "Bill ing"."Seq No"',
    """CREATE FUNCTION "Bill ing"."Calc"(a integer, "b b" text) RETURNS integer
       LANGUAGE sql AS 'SELECT 1'""",
    """CREATE PROCEDURE "Do It"() LANGUAGE sql AS 'SELECT 1'""",
    'CREATE TRIGGER "Touch It" BEFORE UPDATE ON "Bill ing"."Invoices" '
    "FOR EACH ROW EXECUTE FUNCTION touch()",
    'CREATE POLICY "Own Rows" ON "Bill ing"."Invoices" USING (true)',
    'GRANT SELECT ON "Bill ing"."Invoices" TO PUBLIC',
    'GRANT UPDATE ON "Bill ing"."Invoices" TO {role} WITH GRANT OPTION',
    "GRANT INSERT ON accounts TO PUBLIC",  # a1 grants SELECT only
    'ALTER TABLE accounts RENAME CONSTRAINT accounts_email_key TO "Accounts Email Key"',
]

# (kind, change) of every finding above, each with one statement to run.
ODD_FIXES = {
    ("index", "left"),
    ("column", "left"),
    ("constraint", "left"),
    ("domain constraint", "left"),
    ("enum", "left"),
    ("composite type", "left"),
    ("domain", "left"),
    ("table", "left"),
    ("view", "left"),
    ("materialized view", "left"),
    ("sequence", "left"),
    ("function", "left"),
    ("procedure", "left"),
    ("trigger", "left"),
    ("policy", "left"),
    ("grant", "left"),
    ("grant", "changed"),
    ("constraint", "renamed"),
}


def test_every_sql_statement_doctor_prints_runs_as_printed(
    cli, tmp_path, monkeypatch, database_url
):
    """doctor's DROP / ALTER / REVOKE statements for objects whose names PostgreSQL must
    have quoted, on PostgreSQL 15 and 18: each runs as printed through `revisor db shell`,
    and then the database is what the history builds."""
    root = tmp_path / "odd"
    write_history(root, [ODD_NAMES])
    monkeypatch.chdir(root)
    shop = Shop(root, database_url, ["--url", database_url.shown(driver=None)], "--url")
    shop.upgrade("heads")
    role = f'Read "Only" {secrets.token_hex(3)}'
    quoted_role = '"' + role.replace('"', '""') + '"'
    shop.sql(f"CREATE ROLE {quoted_role}")
    try:
        shop.sql(*(statement.format(role=quoted_role) for statement in ODD_DRIFT))
        findings = doctor(cli, shop)["findings"]
        assert {f["code"] for f in findings} == {"DR105"}, findings
        fixed = set()
        for finding in findings:
            (command,) = finding["details"]["commands"]
            assert f"`{command}`" in finding["help"], finding
            assert command.startswith("revisor db shell --url "), command
            code, output = run_printed(cli, command)
            assert code == 0, (finding["message"], command, output)
            fixed.add((finding["details"]["kind"], finding["details"]["change"]))
        assert fixed == ODD_FIXES
        payload = doctor(cli, shop)
        assert payload["findings"] == [] and payload["healthy"], payload
    finally:
        shop.sql(f"DROP OWNED BY {quoted_role}", f"DROP ROLE {quoted_role}")

    # the messages name each object unambiguously
    said = {f["message"].split(" exists in")[0] for f in findings}
    assert 'table "billing.invoices"' in said  # public's, not billing.invoices
    assert 'index "Bill ing"."IxByHand" on "Bill ing"."Invoices"' in said
    assert 'column accounts."Extra Col"' in said
    assert "composite type time" in said


# --- the same project from another folder, and through DATABASE_URL ---------------------


def test_commands_printed_from_another_folder_name_the_config(cli, shop, monkeypatch):
    """From the parent folder, doctor needs -c; so does every command it prints."""
    monkeypatch.chdir(shop.root.parent)
    shop.args = [*shop.args, "-c", f"{shop.root.name}/alembic.ini"]
    _create_all(shop.url, status=False, index=False)
    result = cli.invoke(app, ["doctor", *shop.args])
    assert result.exit_code == ExitCode.FINDINGS, result.output
    stamp = f"revisor db stamp b2 -c {shop.root.name}/alembic.ini"
    assert f"fix: `{stamp}" in result.output  # the text output prints the same fix line
    assert fix_and_recheck(cli, shop) == [["DR101"], []]


def test_database_url_from_the_environment(cli, tmp_path, monkeypatch, database_url_18):
    root = tmp_path / "shop"
    write_history(root, [ACCOUNTS, ORDERS, STATUS])
    monkeypatch.chdir(root)
    monkeypatch.setenv("DATABASE_URL", database_url_18.shown(driver=None))
    shop = Shop(root, database_url_18, [], "DATABASE_URL")
    shop.upgrade("b2")
    payload = doctor(cli, shop)
    assert payload["findings"][0]["details"]["commands"] == ["revisor deploy"]
    assert fix_and_recheck(cli, shop) == [["DR103"], []]
    shop.sql("INSERT INTO alembic_version VALUES ('a1')")
    payload = doctor(cli, shop)
    assert payload["findings"][0]["details"]["commands"] == ["revisor db stamp --purge c3"]
    assert fix_and_recheck(cli, shop) == [["DR104"], []]


# --- the commands other commands print ---------------------------------------------------

EXAMPLE_HEAD = "f72272eba32a"
EXAMPLE_BEHIND = "e6995e90df34"


def printed(output: str, prefix: str) -> str:
    """The one command in backticks in `output` that starts with `prefix`."""
    found = [text for text in re.findall(r"`([^`]+)`", output) if text.startswith(prefix)]
    assert len(found) == 1, (prefix, output)
    return found[0]


@pytest.fixture
def example(example_project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The reference app's folder as the current directory."""
    monkeypatch.chdir(example_project)
    return example_project


def _invoke(cli: CliRunner, *args: str):
    result = cli.invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def test_check_url_behind_head_prints_the_deploy(cli, example, database_url_18):
    url = database_url_18.shown(driver=None)
    migrate.upgrade(Project.load(example / "alembic.ini"), database_url_18, EXAMPLE_BEHIND)
    behind = _invoke(cli, "check", "--url", url)
    assert behind.exit_code == ExitCode.PENDING, behind.output
    code, output = run_printed(cli, printed(behind.output, "revisor deploy"))
    assert code == 0, output
    assert _invoke(cli, "check", "--url", url).exit_code == 0


def test_check_url_unstamped_prints_doctor_fix(cli, example, database_url_18):
    url = database_url_18.shown(driver=None)
    engine = sa.create_engine(database_url_18.sqlalchemy_url)
    Project.load(example / "alembic.ini").metadata[0].create_all(engine)
    engine.dispose()
    unstamped = _invoke(cli, "check", "--url", url)
    assert unstamped.exit_code == ExitCode.PENDING, unstamped.output
    code, output = run_printed(cli, printed(unstamped.output, "revisor doctor --fix"))
    assert code == 0 and "stamping" in output, output
    assert _invoke(cli, "check", "--url", url).exit_code == 0


def test_check_url_unknown_revision_prints_doctor(cli, example, database_url_18):
    url = database_url_18.shown(driver=None)
    migrate.upgrade(Project.load(example / "alembic.ini"), database_url_18, "heads")
    with psycopg.connect(**database_url_18.libpq_kwargs(), autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'abcdef123456'")
    unknown = _invoke(cli, "check", "--url", url)
    assert unknown.exit_code == ExitCode.UNKNOWN_REVISION, unknown.output
    code, output = run_printed(cli, printed(unknown.output, "revisor doctor"))
    assert code == ExitCode.FINDINGS and "DR102" in output, output


def test_draft_on_a_database_behind_head_prints_the_upgrade(cli, example, database_url_18):
    url = database_url_18.shown(driver=None)
    migrate.upgrade(Project.load(example / "alembic.ini"), database_url_18, EXAMPLE_BEHIND)
    refused = _invoke(cli, "draft", "-m", "nothing", "--url", url)
    assert refused.exit_code == ExitCode.PENDING, refused.output
    code, output = run_printed(cli, printed(refused.output, "revisor db upgrade"))
    assert code == 0, output
    again = _invoke(cli, "draft", "-m", "nothing", "--url", url, "--exit-code-on-empty")
    assert again.exit_code == ExitCode.FINDINGS and "No changes" in again.output, again.output


def test_deploy_to_a_lower_revision_prints_the_downgrade(cli, example, database_url_18):
    url = database_url_18.shown(driver=None)
    migrate.upgrade(Project.load(example / "alembic.ini"), database_url_18, "heads")
    refused = _invoke(cli, "deploy", "--to", "-1", "--url", url)
    assert refused.exit_code == ExitCode.USAGE, refused.output
    code, output = run_printed(cli, printed(refused.output, "revisor db downgrade -1"))
    assert code == 0 and f"downgrade {EXAMPLE_HEAD}" in output, output
    assert migrate.current_heads(database_url_18) == ("2cffc65fb01a",)


def test_unknown_revision_prints_the_history(cli, example, database_url_18):
    refused = _invoke(cli, "db", "downgrade", "zzz", "--url", database_url_18.shown(driver=None))
    assert refused.exit_code == ExitCode.USAGE, refused.output
    code, output = run_printed(cli, printed(refused.output, "revisor db history"))
    assert code == 0 and f"-> {EXAMPLE_HEAD} (head)" in output, output


def test_constraint_named_by_review_fix_after_it_ran_is_renamed(cli, example, database_url_18):
    """The reference app's history: e6995e90df34 creates an unnamed foreign key, which the
    server names transactions_vendor_id_fkey. A database migrated before `revisor review
    --fix` named it in the file has the same constraint under the server's name: doctor
    says so and prints the RENAME, not a drop and a redeploy; run as printed, it makes
    the database what the history builds."""
    url = database_url_18.shown(driver=None)
    migrate.upgrade(Project.load(example / "alembic.ini"), database_url_18, "heads")
    fixed = _invoke(cli, "review", "--fix")
    revision = example / "migrations" / "versions" / "e6995e90df34_add_vendor_to_transactions.py"
    # the name --fix gives it (the naming convention's, whichever that is)
    named = re.search(r'create_foreign_key\(\s*"(\w+)"', revision.read_text())
    assert named, fixed.output
    name = named.group(1)
    shop = Shop(example, database_url_18, ["--url", url], "--url")
    (finding,) = doctor(cli, shop)["findings"]
    assert finding["code"] == "DR105" and finding["details"]["change"] == "renamed"
    assert finding["details"]["object"] == "transactions_vendor_id_fkey"
    assert finding["details"]["renamed_to"] == name
    assert finding["message"].startswith(
        f"constraint transactions_vendor_id_fkey on transactions is named {name} in the "
        f"history at {EXAMPLE_HEAD}"
    )
    (command,) = finding["details"]["commands"]
    assert command == (
        f"revisor db shell --url {shlex.quote(url)} -- -c 'ALTER TABLE public.transactions "
        f"RENAME CONSTRAINT transactions_vendor_id_fkey TO {name}'"
    )
    assert f"`{command}`" in finding["help"]
    code, output = run_printed(cli, command)
    assert code == 0, output
    payload = doctor(cli, shop)
    assert payload["findings"] == [] and payload["healthy"], payload
    # and the downgrade that --fix named now finds the constraint
    code, output = run_printed(cli, f"revisor db downgrade 42bbf4a64104 --url {shlex.quote(url)}")
    assert code == 0, output


def test_redo_prints_the_restore(cli, example, database_url_18):
    url = database_url_18.shown(driver=None)
    migrate.upgrade(Project.load(example / "alembic.ini"), database_url_18, "heads")
    done = _invoke(cli, "redo", "--no-draft", "--url", url)
    assert done.exit_code == 0, done.output
    assert Project.load(example / "alembic.ini").heads != (EXAMPLE_HEAD,)
    restore = done.output.split("restore with: ")[1].splitlines()[0]
    assert restore.startswith("mv .revisor/trash/")  # relative to where redo ran
    code, output = run_printed(cli, restore)
    assert code == 0, output
    assert Project.load(example / "alembic.ini").heads == (EXAMPLE_HEAD,)


def test_deploy_without_a_url_prints_the_embedded_upgrade(
    cli, example_project, tmp_path, monkeypatch
):
    from revisor.db.embedded import embedded_server_url
    from revisor.db.resolve import embedded_dev_database
    from revisor.db.scratch import drop_database

    root = example_project.rename(tmp_path / f"app_{secrets.token_hex(3)}")
    monkeypatch.chdir(root)
    try:
        refused = _invoke(cli, "deploy")
        assert refused.exit_code == ExitCode.USAGE, refused.output
        command = printed(refused.output, "revisor db upgrade")
        assert run_printed(cli, command)[0] == 0
        current = _invoke(cli, "db", "current")
        assert current.stdout.strip() == f"{EXAMPLE_HEAD} (head)", current.output
    finally:
        drop_database(embedded_server_url(), embedded_dev_database(root.name).database or "")


def test_x_arguments_are_repeated(cli, shop):
    """An env.py that needs `-x must=1`: the commands doctor prints pass it on."""
    env_py = shop.root / "migrations" / "env.py"
    env_py.write_text(
        "from alembic import context\n"
        'assert context.get_x_argument(as_dictionary=True).get("must") == "1", "-x must=1"\n'
        + env_py.read_text()
    )
    shop.args = [*shop.args, "-x", "must=1"]
    assert cli.invoke(app, ["db", "upgrade", "b2", *shop.args]).exit_code == 0
    (finding,) = doctor(cli, shop)["findings"]
    assert "-x must=1" in finding["details"]["commands"][0]
    assert fix_and_recheck(cli, shop) == [["DR103"], []]
