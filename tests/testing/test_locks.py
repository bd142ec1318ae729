"""`revisor test --locks` on real PostgreSQL (15 and 18): a statement is reported only when
it reads or rewrites an existing table's rows under a lock that blocks its writes; the
catalog-only steps of the safe recipes are not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from revisor.cli import app
from revisor.exit_codes import ExitCode
from revisor.findings import Finding
from revisor.project import Project
from revisor.testing.plan import make_plan
from revisor.testing.roundtrip import RoundTripOptions, round_trip
from tests.support.lock_cases import BLOCKING, BLOCKING_DOWNGRADE, NOT_BLOCKING
from tests.support.mini_history import ACCOUNTS, ORDERS, write_history

FIRST_LINE = 11  # the first line of upgrade()'s body in a mini_history revision file


def lock_findings(tmp_path: Path, server, upgrade: str, downgrade: str, **options):
    case = ("c3", "b2", upgrade, downgrade)
    ini = write_history(tmp_path, [ACCOUNTS, ORDERS, case])
    project = Project.load(ini)
    result = round_trip(
        project, make_plan(project), server.url, RoundTripOptions(locks=True, **options)
    )
    assert [f for f in result.findings if not f.code.startswith("RT3")] == []
    return [f for f in result.findings if f.code.startswith("RT3")]


def summary(findings: list[Finding], direction: str = "upgrade") -> list[tuple]:
    return [
        (f.code, f.revision, f.line, f.extra["table"], f.extra["mode"])
        for f in findings
        if f.extra["direction"] == direction
    ]


@pytest.mark.parametrize("case", BLOCKING, ids=list(BLOCKING))
def test_blocking_statement_is_reported_at_its_line(tmp_path, pg_server, case):
    upgrade, downgrade, expected, statement = BLOCKING[case]
    findings = lock_findings(tmp_path, pg_server, upgrade, downgrade)
    line = FIRST_LINE + upgrade.count("\n")  # the last op of the body is the blocking one
    assert sorted(summary(findings)) == [(code, "c3", line, t, m) for code, t, m in expected]
    for finding in findings:
        if finding.extra["direction"] == "upgrade":
            assert str(finding.extra["statement"]).startswith(statement)
            assert finding.path is not None and finding.path.name == "c3_rev.py"


@pytest.mark.parametrize("case", NOT_BLOCKING, ids=list(NOT_BLOCKING))
def test_catalog_only_and_concurrent_statements_are_not_reported(tmp_path, pg_server, case):
    upgrade, downgrade = NOT_BLOCKING[case]
    assert lock_findings(tmp_path, pg_server, upgrade, downgrade) == []


@pytest.mark.parametrize("case", BLOCKING_DOWNGRADE, ids=list(BLOCKING_DOWNGRADE))
def test_catalog_only_upgrade_with_a_blocking_downgrade(tmp_path, pg_server, case):
    upgrade, downgrade, expected = BLOCKING_DOWNGRADE[case]
    findings = lock_findings(tmp_path, pg_server, upgrade, downgrade)
    assert summary(findings) == []
    line = FIRST_LINE + 3 + upgrade.count("\n") + 1  # def downgrade's first body line
    assert sorted(summary(findings, "downgrade")) == [
        (code, "c3", line, t, m) for code, t, m in expected
    ]


def test_tables_the_revision_creates_are_not_reported(tmp_path, pg18):
    upgrade = (
        'op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True),'
        ' sa.Column("body", sa.Text))\n'
        'op.create_index("ix_notes_body", "notes", ["body"])\n'
        'op.alter_column("notes", "body", nullable=False)'
    )
    assert lock_findings(tmp_path, pg18, upgrade, 'op.drop_table("notes")') == []


def test_empty_tables_are_scanned_too(tmp_path, pg_server):
    """Without rows the statement still starts a scan: the finding does not depend on the
    sample data (on production the table has rows)."""
    upgrade, downgrade, *_ = BLOCKING["plain-create-index"]
    findings = lock_findings(tmp_path, pg_server, upgrade, downgrade, data=False)
    assert summary(findings) == [("RT301", "c3", FIRST_LINE, "orders", "ShareLock")]


def test_downgrades_are_checked_too(tmp_path, pg_server):
    """A downgrade that builds a dropped index again, plainly, blocks writes as an upgrade
    would; the upgrade's DROP INDEX changes the catalog only."""
    index = (
        "b3",
        "b2",
        "with op.get_context().autocommit_block():\n"
        '    op.create_index("ix_orders_placed_on", "orders", ["placed_on"],'
        " postgresql_concurrently=True)",
        'op.drop_index("ix_orders_placed_on", table_name="orders")',
    )
    drop = (
        "c3",
        "b3",
        'op.drop_index("ix_orders_placed_on", table_name="orders")',
        'op.create_index("ix_orders_placed_on", "orders", ["placed_on"])',
    )
    project = Project.load(write_history(tmp_path, [ACCOUNTS, ORDERS, index, drop]))
    result = round_trip(project, make_plan(project), pg_server.url, RoundTripOptions(locks=True))
    downgrade_line = FIRST_LINE + 4  # the body, two blank lines, def downgrade, its body
    assert [
        (f.code, f.revision, f.line, f.extra["table"], f.extra["direction"])
        for f in result.findings
    ] == [("RT301", "c3", downgrade_line, "orders", "downgrade")]
    assert result.findings[0].message.startswith(
        "downgrade of c3 scans existing table orders under ShareLock ("
    )


def test_cli_reports_direction_duration_and_rewrite_in_text_and_json(cli, tmp_path, pg18):
    """`revisor test --locks --rows 3000`: the text names direction, lock and duration; the
    JSON carries them as details. The type change rewrites orders both ways."""
    case = ("c3", "b2", *BLOCKING["type-change-that-rewrites"][:2])
    ini = write_history(tmp_path, [ACCOUNTS, ORDERS, case])
    url = pg18.url.url.render_as_string(hide_password=False)
    base = ["test", "-c", str(ini), "--url", url, "--locks", "--rows", "3000", "--last", "1"]
    text = cli.invoke(app, base)
    assert text.exit_code == 0, text.output  # RT3xx are warnings
    assert (
        f"c3_rev.py:{FIRST_LINE}: RT302 [warning] upgrade of c3 rewrites existing table orders ("
        in text.stdout
    )
    assert "RT301 [warning] downgrade of c3 rewrites existing table orders under " in text.stdout
    assert " ms) during: ALTER TABLE orders ALTER COLUMN placed_on TYPE TIMESTAMP" in text.stdout

    payload = json.loads(cli.invoke(app, [*base, "--format", "json"]).stdout)
    details = [
        (f["code"], f["details"]["direction"], f["details"]["rewrite"]) for f in payload["findings"]
    ]
    assert details == [
        ("RT301", "upgrade", True),
        ("RT302", "upgrade", True),
        ("RT301", "downgrade", True),
        ("RT302", "downgrade", True),
    ]
    seconds = [f["details"]["seconds"] for f in payload["findings"]]
    assert all(isinstance(s, float) and 0 < s < 60 for s in seconds)


def test_cli_rows_fill_the_scratch_tables(cli, tmp_path, pg18):
    """--rows N really puts N rows in each existing table: a CHECK that holds for at most
    2500 rows fails the upgrade with --rows 3000 and passes with the default."""
    case = (
        "c3",
        "b2",
        'op.execute("DO $$ BEGIN IF (SELECT count(*) FROM orders) > 2500 THEN '
        "RAISE EXCEPTION 'orders has % rows', (SELECT count(*) FROM orders); "
        'END IF; END $$")',
        "pass",
    )
    ini = write_history(tmp_path, [ACCOUNTS, ORDERS, case])
    url = pg18.url.url.render_as_string(hide_password=False)
    base = ["test", "-c", str(ini), "--url", url, "--last", "1"]
    default = cli.invoke(app, base)
    assert default.exit_code == 0, default.output
    result = cli.invoke(app, [*base, "--rows", "3000"])
    assert result.exit_code == 1
    assert "orders has 3000 rows" in result.stdout


@pytest.mark.parametrize(
    ("flag", "named"), [("--no-data", "--no-data"), ("--in-place", "--in-place")]
)
def test_cli_rows_with_no_data_or_in_place_is_a_usage_error(cli, tmp_path, pg18, flag, named):
    ini = write_history(tmp_path, [ACCOUNTS])
    url = pg18.url.url.render_as_string(hide_password=False)
    result = cli.invoke(app, ["test", "-c", str(ini), "--url", url, "--rows", "10", flag])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert f"--rows cannot be combined with {named}" in result.output
    assert "Traceback" not in result.output


def test_a_scan_after_the_backend_flushed_its_counts_is_still_seen(tmp_path, pg_server):
    """At a commit an idle backend flushes its scan counts (once a second has passed since
    the last flush), so they drop to zero: the CREATE INDEX after the commit must be
    compared with a reading of its own transaction, not with the higher count before."""
    upgrade = (
        "import time\n"
        'op.execute("SELECT count(*) FROM orders")\n'
        "time.sleep(1.2)\n"
        "with op.get_context().autocommit_block():\n"
        "    pass\n"
        'op.create_index("ix_orders_placed_on", "orders", ["placed_on"])'
    )
    downgrade = 'op.drop_index("ix_orders_placed_on", table_name="orders")'
    findings = lock_findings(tmp_path, pg_server, upgrade, downgrade)
    assert summary(findings) == [("RT301", "c3", FIRST_LINE + 5, "orders", "ShareLock")]
