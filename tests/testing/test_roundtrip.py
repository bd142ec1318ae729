"""`revisor test`'s engine on real PostgreSQL: planted faults are each named, clean
histories pass, autocommit blocks round-trip, locks are measured, merges work."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from revisor.findings import Severity
from revisor.project import Project
from revisor.testing.plan import make_plan
from revisor.testing.roundtrip import RoundTripOptions, RoundTripResult, round_trip
from tests.support.mini_history import ACCOUNTS, ORDERS, Revision, write_history


def run(tmp_path: Path, server, revisions: list[Revision], **options) -> RoundTripResult:
    per_migration = options.pop("per_migration", False)
    ini = write_history(tmp_path, revisions, per_migration=per_migration)
    project = Project.load(ini)
    return round_trip(project, make_plan(project), server.url, RoundTripOptions(**options))


def messages(result: RoundTripResult, code: str | None = None) -> list[str]:
    return [f.message for f in result.findings if code is None or f.code == code]


INDEX_ON_ORDERS = (
    "c3",
    "b2",
    'op.create_index("ix_orders_placed_on", "orders", ["placed_on"])',
    'op.drop_index("ix_orders_placed_on", table_name="orders")',
)


def test_clean_history_passes(tmp_path, pg_server):
    result = run(tmp_path, pg_server, [ACCOUNTS, ORDERS, INDEX_ON_ORDERS])
    assert result.findings == []
    assert result.tested == ["a1", "b2", "c3"]
    assert result.ok


def test_downgrade_that_forgets_an_index_is_named(tmp_path, pg_server):
    forgetful = (*INDEX_ON_ORDERS[:3], "pass")
    result = run(tmp_path, pg_server, [ACCOUNTS, ORDERS, forgetful], data=False)
    assert messages(result, "RT103") == ["downgrade of c3 left index ix_orders_placed_on on orders"]
    finding = result.findings[0]
    assert finding.revision == "c3" and finding.path.name == "c3_rev.py"
    assert finding.line == 14  # def downgrade()
    assert not result.ok


def test_downgrade_that_forgets_the_enum_type_is_named(tmp_path, pg_server):
    # autogenerate's classic: create_table makes the type, drop_table leaves it
    mood = (
        "d4",
        "a1",
        """
        op.create_table("moods", sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("mood", sa.Enum("sad", "happy", name="mood"), nullable=False))
        """,
        'op.drop_table("moods")',
    )
    result = run(tmp_path, pg_server, [ACCOUNTS, mood])
    assert messages(result, "RT103") == ["downgrade of d4 left enum mood"]
    # the next upgrade would fail on the leftover type: said once, not twice
    assert messages(result, "RT104") == []


def test_pass_downgrade_is_named(tmp_path, pg_server):
    nickname = (
        "e5",
        "a1",
        'op.add_column("accounts", sa.Column("nickname", sa.Text))',
        "pass",
    )
    result = run(tmp_path, pg_server, [ACCOUNTS, nickname])
    assert messages(result, "RT103") == ["downgrade of e5 left column accounts.nickname"]


def test_not_null_column_without_default_fails_on_a_table_with_rows(tmp_path, pg_server):
    required = (
        "f6",
        "a1",
        'op.add_column("accounts", sa.Column("plan", sa.String(20), nullable=False))',
        'op.drop_column("accounts", "plan")',
    )
    result = run(tmp_path, pg_server, [ACCOUNTS, required])
    [finding] = result.findings
    assert finding.code == "RT101" and finding.revision == "f6"
    assert "NotNullViolation" in finding.message
    assert "server_default" in (finding.help or "")
    # on empty tables (--no-data) the same history passes: the rows make the difference
    empty = run(tmp_path / "nodata", pg_server, [ACCOUNTS, required], data=False)
    assert empty.findings == []


def test_downgrade_failure_is_a_finding_and_the_run_continues(tmp_path, pg18):
    broken = ("g7", "b2", 'op.add_column("orders", sa.Column("note", sa.Text))', "1 / 0")
    after = (
        "h8",
        "g7",
        'op.create_index("ix_orders_note", "orders", ["note"])',
        "pass",
    )
    result = run(tmp_path, pg18, [ACCOUNTS, ORDERS, broken, after])
    assert [f.code for f in result.findings] == ["RT102", "RT103"]
    assert "ZeroDivisionError" in result.findings[0].message
    assert result.tested == ["a1", "b2", "g7", "h8"]


def test_exit_first_stops_after_the_first_failure(tmp_path, pg18):
    broken = ("g7", "b2", 'op.add_column("orders", sa.Column("note", sa.Text))', "1 / 0")
    after = ("h8", "g7", 'op.create_index("ix_orders_note", "orders", ["note"])', "pass")
    result = run(tmp_path, pg18, [ACCOUNTS, ORDERS, broken, after], fail_fast=True)
    assert [f.code for f in result.findings] == ["RT102"]
    assert "h8" not in result.tested


def test_exit_first_still_names_a_schema_mismatch(tmp_path, pg18):
    forgetful = (*INDEX_ON_ORDERS[:3], "pass")
    later = ("d4", "c3", 'op.add_column("orders", sa.Column("x", sa.Integer))', "pass")
    result = run(tmp_path, pg18, [ACCOUNTS, ORDERS, forgetful, later], fail_fast=True)
    assert messages(result) == ["downgrade of c3 left index ix_orders_placed_on on orders"]
    assert "d4" not in result.tested


def test_keep_leaves_the_scratch_database(tmp_path, pg18):
    from revisor.db.scratch import database_exists, drop_database

    result = run(tmp_path, pg18, [ACCOUNTS], keep=True)
    [name] = result.databases_kept
    assert database_exists(pg18.url, name)
    drop_database(pg18.url, name)


def test_downgrade_losing_existing_data_is_a_warning(tmp_path, pg18):
    rebuild = (
        "i9",
        "a1",
        'op.add_column("accounts", sa.Column("age", sa.Integer))',
        'op.drop_table("accounts")\n'
        'op.create_table("accounts", sa.Column("id", sa.Integer, primary_key=True),'
        ' sa.Column("email", sa.String(120), nullable=False, unique=True))',
    )
    result = run(tmp_path, pg18, [ACCOUNTS, rebuild])
    warnings = [f for f in result.findings if f.code == "RT201"]
    assert result.ok  # warnings only
    assert [w.severity for w in warnings] == [Severity.WARNING]
    assert "table accounts" in warnings[0].message


AUTOCOMMIT = [
    (
        "m1",
        None,
        """
        op.create_table("people", sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.Text, nullable=False),
            sa.Column("mood", sa.Enum("sad", "ok", name="mood")))
        """,
        'op.drop_table("people")\nop.execute("DROP TYPE mood")',
    ),
    (
        "m2",
        "m1",
        """
        with op.get_context().autocommit_block():
            op.execute("ALTER TYPE mood ADD VALUE 'happy'")
        """,
        """
        op.execute("ALTER TYPE mood RENAME TO mood_old")
        op.execute("CREATE TYPE mood AS ENUM ('sad', 'ok')")
        op.execute("ALTER TABLE people ALTER COLUMN mood TYPE mood USING mood::text::mood")
        op.execute("DROP TYPE mood_old")
        """,
    ),
    (
        "m3",
        "m2",
        """
        with op.get_context().autocommit_block():
            op.create_index("ix_people_name", "people", ["name"],
                            postgresql_concurrently=True)
        """,
        """
        with op.get_context().autocommit_block():
            op.drop_index("ix_people_name", table_name="people",
                          postgresql_concurrently=True)
        """,
    ),
]


@pytest.mark.parametrize("per_migration", [False, True], ids=["one-transaction", "per-migration"])
def test_autocommit_block_revisions_round_trip(tmp_path, pg_server, per_migration):
    result = run(tmp_path, pg_server, AUTOCOMMIT, per_migration=per_migration, locks=True)
    # the enum label's removal in m2's downgrade casts the column: a real rewrite, and the
    # only lock finding (the upgrade's ADD VALUE and CONCURRENTLY block nothing)
    assert [(f.code, f.revision, f.extra["direction"]) for f in result.findings] == [
        ("RT301", "m2", "downgrade"),
        ("RT302", "m2", "downgrade"),
    ]
    assert result.tested == ["m1", "m2", "m3"]


def test_locks_reports_plain_create_index_on_an_existing_table(tmp_path, pg18):
    result = run(tmp_path, pg18, [ACCOUNTS, ORDERS, INDEX_ON_ORDERS], locks=True, data=False)
    [finding] = result.findings
    assert finding.code == "RT301" and finding.revision == "c3"
    assert finding.extra["table"] == "orders"
    assert finding.extra["mode"] == "ShareLock"
    assert finding.line == 11  # the op.create_index line, not just def upgrade()
    assert "CREATE INDEX ix_orders_placed_on" in str(finding.extra["statement"])


def test_merge_with_three_parents(tmp_path, pg18):
    revisions: list[Revision] = [ACCOUNTS]
    for rev, column in (("p1", "a"), ("p2", "b"), ("p3", "c")):
        revisions.append(
            (
                rev,
                "a1",
                f'op.add_column("accounts", sa.Column("{column}", sa.Integer))',
                f'op.drop_column("accounts", "{column}")',
            )
        )
    revisions.append(("mm", ("p1", "p2", "p3"), "pass", "pass"))
    revisions.append(
        ("z9", "mm", 'op.create_index("ix_a", "accounts", ["a"])', 'op.drop_index("ix_a")')
    )
    result = run(tmp_path, pg18, revisions)
    assert result.findings == []
    assert sorted(result.tested) == ["a1", "mm", "p1", "p2", "p3", "z9"]
    assert result.tested[0] == "a1" and result.tested[-2:] == ["mm", "z9"]


def test_empty_base_revision_is_explained(tmp_path, pg18):
    revisions: list[Revision] = [
        ("e0", None, "pass", "pass"),
        ("e1", "e0", 'op.add_column("users", sa.Column("x", sa.Integer))', "pass"),
    ]
    result = run(tmp_path, pg18, revisions)
    [finding] = result.findings
    assert finding.code == "RT101" and "UndefinedTable" in finding.message
    assert "create_all" in (finding.help or "")


def test_last_and_range_select_revisions(tmp_path, pg18):
    ini = write_history(tmp_path, [ACCOUNTS, ORDERS, INDEX_ON_ORDERS])
    project = Project.load(ini)
    plan = make_plan(project, last=1)
    assert plan.tested_in_order == ["c3"] and list(plan.order) == ["a1", "b2", "c3"]
    assert not plan.full
    assert make_plan(project, from_rev="b2", to_rev="c3").tested_in_order == ["b2", "c3"]
    result = round_trip(project, plan, pg18.url, RoundTripOptions())
    assert result.tested == ["c3"] and result.findings == []


def test_each_revision_is_committed_as_deploy_applies_them(tmp_path, pg_server):
    # env.py runs the whole history in one transaction, but the scratch database gets one
    # commit per revision (as `revisor deploy` applies them): a label added by one revision
    # can be used by the next, which one transaction would refuse ("unsafe use of new
    # value"), and the catalogs do not carry every replaced row to the end of the run.
    mood_type = (
        "b2",
        "a1",
        """
        op.execute("CREATE TYPE mood AS ENUM ('sad')")
        op.add_column("accounts", sa.Column("mood", sa.Enum(name="mood", create_type=False)))""",
        """
        op.drop_column("accounts", "mood")
        op.execute("DROP TYPE mood")""",
    )
    add_label = (
        "c3",
        "b2",
        """op.execute("ALTER TYPE mood ADD VALUE 'happy'")""",
        """
        op.execute("ALTER TYPE mood RENAME TO mood_old")
        op.execute("CREATE TYPE mood AS ENUM ('sad')")
        op.execute("ALTER TABLE accounts ALTER mood TYPE mood USING mood::text::mood")
        op.execute("DROP TYPE mood_old")""",
    )
    use_label = ("d4", "c3", """op.execute("UPDATE accounts SET mood = 'happy'")""", "pass")
    result = run(tmp_path, pg_server, [ACCOUNTS, mood_type, add_label, use_label], data=False)
    assert result.findings == []
    assert result.tested == ["a1", "b2", "c3", "d4"]


def test_a_step_that_fails_on_every_fresh_database_stops_the_run(tmp_path, pg_server):
    """A role is global to the server, and one created in an autocommit block stays: the
    downgrade leaves it, so the re-upgrade fails, and so does every rebuild of a fresh
    scratch database up to that revision. The run stops with one finding instead of
    rebuilding forever."""
    import secrets

    import psycopg

    role = f"revisor_t_{secrets.token_hex(4)}"
    creates_role = (
        "d4",
        "a1",
        f"""
        with op.get_context().autocommit_block():
            op.execute("CREATE ROLE {role}")
        """,
        "pass",
    )
    try:
        result = run(
            tmp_path, pg_server, [ACCOUNTS, creates_role, (*ORDERS[:1], "d4", *ORDERS[2:])]
        )
    finally:
        with psycopg.connect(**pg_server.url.libpq_kwargs(), autocommit=True) as conn:
            conn.execute(f"DROP ROLE IF EXISTS {role}")
    codes = [f.code for f in result.findings]
    assert "RT107" in codes, messages(result)
    assert "again, on a fresh scratch database" in messages(result, "RT107")[0]
    assert not result.ok


# --- who may do what, and how tables are partitioned ------------------------------------

ROW_SECURITY = (
    "d4",
    "a1",
    """
    op.execute("ALTER TABLE accounts ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY own_account ON accounts USING (email = current_user)")
    op.execute("GRANT SELECT ON accounts TO PUBLIC")
    """,
    """
    op.execute("DROP POLICY own_account ON accounts")
    op.execute("REVOKE SELECT ON accounts FROM PUBLIC")
    op.execute("ALTER TABLE accounts DISABLE ROW LEVEL SECURITY")
    """,
)


def test_downgrade_that_leaves_a_policy_and_a_public_grant_is_a_security_finding(
    tmp_path, pg_server
):
    # Undone, they pass: REVOKE leaves the owner's privileges spelled out in relacl where
    # there was NULL, the same privileges.
    assert run(tmp_path / "undone", pg_server, [ACCOUNTS, ROW_SECURITY]).findings == []
    leaky = (*ROW_SECURITY[:3], 'op.execute("ALTER TABLE accounts DISABLE ROW LEVEL SECURITY")')
    result = run(tmp_path / "leaky", pg_server, [ACCOUNTS, leaky])
    [finding] = result.findings
    assert finding.code == "RT103" and finding.revision == "d4"
    assert finding.message.startswith(
        "downgrade of d4 left grant of SELECT on accounts to PUBLIC; "
        "downgrade of d4 left policy own_account on accounts (a security finding: "
    )
    assert finding.extra["security"] is True
    assert "Revoke in the downgrade what the upgrade granted" in (finding.help or "")


@pytest.fixture
def other_role(pg_server) -> Iterator[str]:
    """A role of the test server besides the one that migrates (dropped afterwards)."""
    import secrets

    import psycopg

    role = f"revisor_owner_{secrets.token_hex(3)}"
    with psycopg.connect(**pg_server.url.libpq_kwargs(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role}")
    yield role
    with psycopg.connect(**pg_server.url.libpq_kwargs(), autocommit=True) as conn:
        conn.execute(f"DROP ROLE {role}")


def test_owner_given_away_and_back_passes_and_kept_is_named(tmp_path, pg_server, other_role):
    give = (
        "e5",
        "b2",
        f'op.execute("ALTER TABLE orders OWNER TO {other_role}")',
        'op.execute("ALTER TABLE orders OWNER TO CURRENT_USER")',
    )
    assert run(tmp_path / "back", pg_server, [ACCOUNTS, ORDERS, give]).findings == []
    kept = (*give[:3], "pass")
    result = run(tmp_path / "kept", pg_server, [ACCOUNTS, ORDERS, kept])
    # the serial's sequence changes owner with its table
    assert messages(result, "RT103") == [
        f"downgrade of e5 left table orders changed: 'r' became 'r (owner {other_role})'; "
        "downgrade of e5 left sequence orders_id_seq changed: 'integer start 1 increment 1 "
        "min 1 max 2147483647 cache 1' became 'integer start 1 increment 1 min 1 max "
        f"2147483647 cache 1 (owner {other_role})'"
    ]


PARTITIONS = (
    "f6",
    "a1",
    """
    op.execute("CREATE TABLE events (id integer, at date NOT NULL) PARTITION BY RANGE (at)")
    op.execute(
        "CREATE TABLE events_2024 PARTITION OF events "
        "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')"
    )
    """,
    'op.execute("DROP TABLE events")',
)


def test_downgrade_that_leaves_a_partition_detached_is_named(tmp_path, pg_server):
    widen = (
        "g7",
        "f6",
        """
        op.execute("ALTER TABLE events DETACH PARTITION events_2024")
        op.execute(
            "ALTER TABLE events ATTACH PARTITION events_2024 "
            "FOR VALUES FROM ('2024-01-01') TO ('2026-01-01')"
        )
        """,
        'op.execute("ALTER TABLE events DETACH PARTITION events_2024")',
    )
    result = run(tmp_path, pg_server, [ACCOUNTS, PARTITIONS, widen])
    assert messages(result, "RT103") == [
        'downgrade of g7 left table events_2024 changed: "r partition of events FOR VALUES '
        "FROM ('2024-01-01') TO ('2025-01-01')\" became 'r'"
    ]
