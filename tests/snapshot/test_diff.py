"""SnapshotDiff on two in-memory snapshots: plain words, owners before their parts."""

from __future__ import annotations

from revisor.snapshot.catalog import CatalogObject as O
from revisor.snapshot.catalog import Snapshot
from revisor.snapshot.diff import Change, diff_snapshots

BASE = Snapshot(
    (
        O("column", "public", "id", "orders", "integer NOT NULL"),
        O("column", "public", "total", "orders", "numeric(12,2)"),
        O("table", "public", "orders", None, "r"),
    )
)


def test_equal_snapshots_have_no_difference():
    assert not diff_snapshots(BASE, BASE)
    assert BASE.fingerprint == Snapshot(tuple(BASE.objects)).fingerprint


def test_leftover_index_and_enum_are_named():
    after = Snapshot(
        (
            *BASE.objects,
            O("enum", "public", "mood", None, "'sad', 'happy'"),
            O("index", "public", "ix_orders_total", "orders", "CREATE INDEX ..."),
        )
    )
    diff = diff_snapshots(BASE, after)
    assert diff.sentences("downgrade of 3f2a") == [
        "downgrade of 3f2a left enum mood",
        "downgrade of 3f2a left index ix_orders_total on orders",
    ]
    assert [d.change for d in diff.left] == [Change.LEFT, Change.LEFT]


def test_changed_column_shows_both_definitions():
    after = Snapshot(
        (
            O("column", "public", "id", "orders", "integer NOT NULL"),
            O("column", "public", "total", "orders", "numeric(10,2)"),
            O("table", "public", "orders", None, "r"),
        )
    )
    [sentence] = diff_snapshots(BASE, after).sentences("downgrade of x")
    assert sentence == (
        "downgrade of x left column orders.total changed: 'numeric(12,2)' became 'numeric(10,2)'"
    )


def test_a_leftover_table_is_one_difference_not_one_per_column():
    after = Snapshot(
        (
            *BASE.objects,
            O("table", "public", "audit", None, "r"),
            O("column", "public", "id", "audit", "integer"),
            O("constraint", "public", "audit_pkey", "audit", "PRIMARY KEY (id)"),
        )
    )
    assert diff_snapshots(BASE, after).sentences("downgrade of r") == [
        "downgrade of r left table audit"
    ]
    missing = diff_snapshots(after, BASE)
    assert missing.sentences("downgrade of r") == ["downgrade of r removed table audit"]


def test_a_constraint_under_another_name_is_one_rename():
    fk = "FOREIGN KEY (account_id) REFERENCES accounts(id)"
    history = Snapshot(
        (*BASE.objects, O("constraint", "public", "fk_orders_account", "orders", fk))
    )
    database = Snapshot(
        (*BASE.objects, O("constraint", "public", "orders_account_fkey", "orders", fk))
    )
    [difference] = diff_snapshots(history, database).differences
    assert difference.change is Change.RENAMED
    assert difference.describe() == (
        "constraint fk_orders_account on orders renamed to orders_account_fkey"
    )
    # another definition is not the same constraint
    other = Snapshot((*BASE.objects, O("constraint", "public", "ck_x", "orders", "CHECK (id > 0)")))
    assert {d.change for d in diff_snapshots(history, other).differences} == {
        Change.LEFT,
        Change.MISSING,
    }


def test_names_are_quoted_where_postgresql_needs_it():
    odd = Snapshot(
        (
            O("table", "public", "billing.invoices", None, "r"),
            O("table", "billing", "invoices", None, "r"),
            O("column", "Bill ing", "Extra Col", 'In"voices', "text"),
            O("grant", "public", "public", "orders", "SELECT"),
            O("grant", "public", "Read Only", "orders", "INSERT"),
        )
    )
    assert [d.describe() for d in diff_snapshots(Snapshot(()), odd).differences] == [
        "table billing.invoices",
        'table "billing.invoices"',
        'column "Bill ing"."In""voices"."Extra Col"',
        'grant of INSERT on orders to "Read Only"',
        "grant of SELECT on orders to PUBLIC",
    ]


def test_a_grant_beyond_the_expected_ones_widens_privileges():
    def grant(privileges: str) -> Snapshot:
        return Snapshot((*BASE.objects, O("grant", "public", "public", "orders", privileges)))

    assert [d.widens_privileges for d in diff_snapshots(BASE, grant("SELECT")).differences] == [
        True
    ]
    wider = diff_snapshots(grant("SELECT"), grant("INSERT, SELECT"))
    assert wider.widened_privileges == list(wider.differences)
    narrower = diff_snapshots(grant("INSERT, SELECT"), grant("SELECT"))
    assert narrower and not narrower.widened_privileges
    assert not diff_snapshots(grant("SELECT"), BASE).widened_privileges
