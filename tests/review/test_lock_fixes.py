"""Each fixable lock rule, proven end to end through the real CLI on real PostgreSQL:
`review` reports the code → `review --fix --unsafe-fixes` rewrites the file → `review`
no longer reports it (nor any error) → `test --locks` finds no blocking lock, and the
history still goes up, down and up again."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revisor.cli import app
from tests.support.mini_history import write_history

VENDORS = (
    "a1",
    None,
    """
    op.create_table("regions", sa.Column("id", sa.Integer, primary_key=True))
    op.create_table(
        "vendors",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(80)),
        sa.Column("email", sa.String(120)),
        sa.Column("region_id", sa.Integer),
    )
    """,
    'op.drop_table("vendors")\nop.drop_table("regions")',
)


@dataclass(frozen=True)
class Case:
    code: str
    upgrade: str
    downgrade: str
    # A line the fixed file must hold (the recipe is there, not only the code gone).
    expect: str
    # What `test --locks` reports on the history before the fix.
    before: str = "RT301"
    # The revision file has no `import sqlalchemy as sa` (the fix must add it).
    without_sa: bool = False


CASES = {
    "index": Case(
        "RV301",
        'op.create_index("ix_vendors_name", "vendors", ["name"])',
        'op.drop_index("ix_vendors_name", table_name="vendors")',
        "            postgresql_concurrently=True,\n        )",
    ),
    "index-multiline": Case(
        "RV301",
        'op.create_index(\n    "ix_vendors_name_email",\n    "vendors",\n    ["name", "email"]\n)',
        'op.drop_index(\n    "ix_vendors_name_email",\n    table_name="vendors",\n)',
        "        postgresql_concurrently=True,",
    ),
    "unique": Case(
        "RV301",
        'op.create_unique_constraint("uq_vendors_email", "vendors", ["email"])',
        'op.drop_constraint("uq_vendors_email", "vendors", type_="unique")',
        "UNIQUE USING INDEX uq_vendors_email",
    ),
    "foreign-key": Case(
        "RV305",
        "op.create_foreign_key(\n"
        '    "fk_vendors_region_id", "vendors", "regions", ["region_id"], ["id"]\n)',
        'op.drop_constraint("fk_vendors_region_id", "vendors", type_="foreignkey")',
        "ALTER TABLE vendors VALIDATE CONSTRAINT fk_vendors_region_id",
    ),
    "check": Case(
        "RV305",
        'op.create_check_constraint("ck_vendors_name", "vendors", "length(name) > 0")',
        'op.drop_constraint("ck_vendors_name", "vendors", type_="check")',
        '        "length(name) > 0",\n        postgresql_not_valid=True,',
    ),
    "set-not-null": Case(
        "RV307",
        'op.alter_column("vendors", "name", existing_type=sa.String(80), nullable=False)',
        'op.alter_column("vendors", "name", existing_type=sa.String(80), nullable=True)',
        "ALTER TABLE vendors VALIDATE CONSTRAINT ck_vendors_name_not_null",
    ),
    "volatile-default": Case(
        "RV309",
        'op.add_column(\n    "vendors",\n    sa.Column("token", sa.Uuid(), '
        'server_default=sa.text("gen_random_uuid()"), nullable=False),\n)',
        'op.drop_column("vendors", "token")',
        'op.alter_column("vendors", "token", server_default=sa.text("gen_random_uuid()"))',
    ),
    "index-sql": Case(
        "RV301",
        'op.execute("CREATE INDEX ix_vendors_lower_name ON vendors (lower(name))")',
        'op.execute(sa.text("DROP INDEX ix_vendors_lower_name"))',
        '        op.execute("DROP INDEX CONCURRENTLY ix_vendors_lower_name")',
    ),
    "foreign-key-sql": Case(
        "RV305",
        'op.execute("ALTER TABLE vendors ADD CONSTRAINT fk_vendors_region_id '
        'FOREIGN KEY (region_id) REFERENCES regions (id) ON DELETE CASCADE")',
        'op.execute("ALTER TABLE vendors DROP CONSTRAINT fk_vendors_region_id")',
        "REFERENCES regions (id) ON DELETE CASCADE NOT VALID",
    ),
    "set-not-null-sql": Case(
        "RV307",
        'op.execute("ALTER TABLE vendors ALTER COLUMN email SET NOT NULL")',
        'op.execute("ALTER TABLE vendors ALTER COLUMN email DROP NOT NULL")',
        '    op.execute("ALTER TABLE vendors ALTER COLUMN email SET NOT NULL")\n'
        '    op.drop_constraint(op.f("ck_vendors_email_not_null"), "vendors", type_="check")',
    ),
    "volatile-default-sql": Case(
        "RV309",
        'op.execute("ALTER TABLE vendors ADD COLUMN token uuid '
        'NOT NULL DEFAULT gen_random_uuid()")',
        'op.execute("ALTER TABLE vendors DROP COLUMN token")',
        '"ALTER TABLE vendors ALTER COLUMN token SET DEFAULT gen_random_uuid()",\n',
        without_sa=True,
    ),
    "validate-in-same-transaction": Case(
        "RV310",
        'op.create_check_constraint(\n    "ck_vendors_name", "vendors", "length(name) > 0", '
        "postgresql_not_valid=True\n)\n"
        'op.execute("ALTER TABLE vendors VALIDATE CONSTRAINT ck_vendors_name")',
        'op.drop_constraint("ck_vendors_name", "vendors", type_="check")',
        '        op.execute("ALTER TABLE vendors VALIDATE CONSTRAINT ck_vendors_name")',
    ),
    "concurrently-in-transaction": Case(
        "RV302",
        'op.create_index("ix_vendors_name", "vendors", ["name"], postgresql_concurrently=True)',
        'op.execute("DROP INDEX CONCURRENTLY ix_vendors_name")',
        '        op.execute("DROP INDEX CONCURRENTLY ix_vendors_name")',
        before="RT101",  # PostgreSQL refuses CONCURRENTLY in a transaction: the step fails
    ),
}


def _history(tmp_path: Path, case: Case) -> Path:
    ini = write_history(tmp_path, [VENDORS, ("b2", "a1", case.upgrade, case.downgrade)])
    if case.without_sa:
        target = tmp_path / "migrations" / "versions" / "b2_rev.py"
        target.write_text(target.read_text().replace("import sqlalchemy as sa\n", ""))
    return ini


def server_url(pg_server) -> str:
    return pg_server.url.url.render_as_string(hide_password=False)


def _review(cli: CliRunner, ini: Path, *args: str):
    return cli.invoke(app, ["review", "-c", str(ini), "--format", "json", *args])


def _findings(cli: CliRunner, ini: Path) -> list[tuple[str, str, int]]:
    result = _review(cli, ini)
    assert result.exit_code in (0, 1), result.output
    return [(f["code"], f["severity"], f["line"]) for f in json.loads(result.stdout)["findings"]]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_fix_removes_the_finding_and_writes_the_recipe(cli, tmp_path, case: Case):
    ini = _history(tmp_path, case)
    target = tmp_path / "migrations" / "versions" / "b2_rev.py"
    assert case.code in [code for code, _, _ in _findings(cli, ini)]

    # Only with --unsafe-fixes: each of these recipes splits the migration's transaction.
    safe_only = _review(cli, ini, "--fix")
    assert safe_only.exit_code in (0, 1)
    assert "more fix(es) with --fix --unsafe-fixes" in safe_only.stderr
    assert case.code in [code for code, _, _ in _findings(cli, ini)]

    result = _review(cli, ini, "--fix", "--unsafe-fixes")
    assert result.exit_code in (0, 1), result.output
    fixed = target.read_text()
    assert case.expect in fixed, fixed
    compile(fixed, str(target), "exec")
    after = _findings(cli, ini)
    assert [f for f in after if f[0] == case.code or f[1] == "error"] == [], (after, fixed)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_fixed_history_takes_no_blocking_lock_and_round_trips(cli, tmp_path, pg_server, case):
    """`revisor test --locks` on the fixed history: upgrade, downgrade and upgrade again
    on revisor's sample rows pass, and no statement of the fixed revision holds a
    blocking lock on vendors (created, and seeded, by the revision before)."""
    ini = _history(tmp_path, case)
    args = ["test", "-c", str(ini), "--url", server_url(pg_server), "--locks"]
    before = cli.invoke(app, [*args, "--format", "json"])
    codes = [f["code"] for f in json.loads(before.stdout)["findings"]]
    assert case.before in codes, before.output

    assert _review(cli, ini, "--fix", "--unsafe-fixes").exit_code in (0, 1)
    after = cli.invoke(app, [*args, "--format", "json"])
    assert after.exit_code == 0, after.output
    assert json.loads(after.stdout)["findings"] == []


PLANS = (
    "a1",
    None,
    """
    op.execute("CREATE TYPE cycle AS ENUM ('weekly', 'monthly')")
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("cycle", postgresql.ENUM(name="cycle", create_type=False)),
    )
    """,
    'op.drop_table("plans")\nop.execute("DROP TYPE cycle")',
)
DAILY = (
    "b2",
    "a1",
    """
    op.execute("ALTER TYPE cycle ADD VALUE 'daily'")
    op.execute("UPDATE plans SET cycle = 'daily' WHERE id % 2 = 0")
    """,
    """
    op.execute("UPDATE plans SET cycle = 'weekly' WHERE cycle = 'daily'")
    op.execute("ALTER TYPE cycle RENAME TO cycle_old")
    op.execute("CREATE TYPE cycle AS ENUM ('weekly', 'monthly')")
    op.execute("ALTER TABLE plans ALTER COLUMN cycle TYPE cycle USING cycle::text::cycle")
    op.execute("DROP TYPE cycle_old")
    """,
)


def test_enum_label_added_and_used_in_one_migration_is_fixed(cli, tmp_path, pg_server):
    """RV303 (error): the file fails on PostgreSQL ("unsafe use of new value"); after
    `--fix --unsafe-fixes` the label is committed first, `review` is clean and `revisor
    test` upgrades, downgrades and upgrades again (IF NOT EXISTS keeps a rerun working)."""
    ini = write_history(tmp_path, [PLANS, DAILY])
    for name in ("a1_rev.py", "b2_rev.py"):  # the base revision's ENUM needs the dialect
        path = tmp_path / "migrations" / "versions" / name
        path.write_text(
            path.read_text().replace(
                "import sqlalchemy as sa\n",
                "import sqlalchemy as sa\nfrom sqlalchemy.dialects import postgresql\n",
            )
        )
    args = ["test", "-c", str(ini), "--url", server_url(pg_server)]
    assert "RV303" in [code for code, _, _ in _findings(cli, ini)]
    before = cli.invoke(app, args)
    assert before.exit_code == 1 and "unsafe use of new value" in before.output, before.output

    assert _review(cli, ini, "--fix", "--unsafe-fixes").exit_code in (0, 1)
    fixed = (tmp_path / "migrations" / "versions" / "b2_rev.py").read_text()
    assert "ADD VALUE IF NOT EXISTS 'daily'" in fixed
    assert [f for f in _findings(cli, ini) if f[0] == "RV303" or f[1] == "error"] == []
    after = cli.invoke(app, args)
    assert after.exit_code == 0, after.output


FIXTURE_HISTORIES = Path(__file__).resolve().parents[1] / "fixtures" / "histories"


@pytest.mark.parametrize("history", ["linear", "lock_timeout_first", "merge_three_parents"])
def test_fixture_histories_after_unsafe_fixes_hold_no_blocking_lock(cli, tmp_path, pg18, history):
    """The repository's fixture histories with lock findings (written before these fixes
    existed): after `--fix --unsafe-fixes`, review reports none of them and `test --locks`
    finds no blocking lock and nothing it did not find before."""
    shutil.copytree(FIXTURE_HISTORIES / history, tmp_path / history)
    ini = next((tmp_path / history).rglob("alembic.ini"))
    args = ["test", "-c", str(ini), "--url", server_url(pg18), "--locks", "--format", "json"]
    before = {f["code"] for f in json.loads(cli.invoke(app, args).stdout)["findings"]}
    assert before & {"RT301", "RT302"}, before

    assert _review(cli, ini, "--fix", "--unsafe-fixes").exit_code in (0, 1)
    assert [f for f in _findings(cli, ini) if f[0].startswith("RV3") or f[1] == "error"] == []
    after = {f["code"] for f in json.loads(cli.invoke(app, args).stdout)["findings"]}
    assert not after & {"RT301", "RT302"} and after <= before, (before, after)


def test_fixed_volatile_default_stays_clean_on_many_pages(cli, tmp_path, pg18):
    """With 3,000 sample rows a table spans dozens of pages: RV309's backfill walks them a
    range per transaction, and `test --locks --rows 3000` still finds no blocking lock."""
    ini = _history(tmp_path, CASES["volatile-default"])
    assert _review(cli, ini, "--fix", "--unsafe-fixes").exit_code in (0, 1)
    args = ["test", "-c", str(ini), "--url", server_url(pg18), "--locks", "--rows", "3000"]
    result = cli.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["findings"] == []
