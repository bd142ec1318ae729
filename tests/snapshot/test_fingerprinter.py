"""The fast fingerprint (a session-temporary PL/pgSQL function) on a real database, on
every PostgreSQL version: it tells apart a change to each object kind the snapshot covers,
comes back to the same value when the change is undone with new OIDs, and always equals
the plain server fingerprint."""

from __future__ import annotations

import psycopg
import pytest

from revisor.snapshot.catalog import Fingerprinter, fingerprint, snapshot
from tests.snapshot.test_catalog import SCHEMA, build

# (kind, change, undo): the undo rebuilds the schema as it was, usually by dropping and
# recreating an object, so that OIDs differ while the schema does not.
CHANGES = [
    ("schema", "CREATE SCHEMA extra", "DROP SCHEMA extra"),
    ("table", "CREATE TABLE notes (id integer)", "DROP TABLE notes"),
    (
        "table",
        "ALTER TABLE accounts ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE accounts DISABLE ROW LEVEL SECURITY",
    ),
    (
        "column",
        "ALTER TABLE accounts ADD COLUMN note text",
        "ALTER TABLE accounts DROP COLUMN note",
    ),
    (
        "column",
        "ALTER TABLE accounts ALTER credit TYPE bigint",
        "ALTER TABLE accounts ALTER credit TYPE positive",
    ),
    (
        "column",
        "ALTER TABLE accounts ALTER credit SET NOT NULL",
        "ALTER TABLE accounts ALTER credit DROP NOT NULL",
    ),
    (
        "column",
        "ALTER TABLE accounts ALTER mood SET DEFAULT 'sad'",
        "ALTER TABLE accounts ALTER mood SET DEFAULT 'ok'",
    ),
    (
        "constraint",
        "ALTER TABLE billing.invoices ADD CONSTRAINT ck_small CHECK (amount < 1000)",
        "ALTER TABLE billing.invoices DROP CONSTRAINT ck_small",
    ),
    (
        "constraint",
        "ALTER TABLE billing.invoices DROP CONSTRAINT invoices_amount_check, "
        "ADD CONSTRAINT invoices_amount_check CHECK (amount >= 1)",
        "ALTER TABLE billing.invoices DROP CONSTRAINT invoices_amount_check, "
        "ADD CONSTRAINT invoices_amount_check CHECK (amount >= 0)",
    ),
    (
        "constraint",
        "ALTER TABLE billing.invoices DROP CONSTRAINT invoices_account_id_fkey",
        "ALTER TABLE billing.invoices ADD CONSTRAINT invoices_account_id_fkey "
        "FOREIGN KEY (account_id) REFERENCES accounts (id)",
    ),
    ("index", "CREATE INDEX ix_accounts_mood ON accounts (mood)", "DROP INDEX ix_accounts_mood"),
    (
        "index",
        "DROP INDEX billing.ix_invoices_account",
        "CREATE INDEX ix_invoices_account ON billing.invoices (account_id) WHERE amount > 0",
    ),
    ("enum", "CREATE TYPE color AS ENUM ('red')", "DROP TYPE color"),
    (
        "enum",
        "ALTER TYPE mood RENAME VALUE 'ok' TO 'fine'",
        "ALTER TYPE mood RENAME VALUE 'fine' TO 'ok'",
    ),
    ("domain", "ALTER DOMAIN positive SET DEFAULT 1", "ALTER DOMAIN positive DROP DEFAULT"),
    ("composite type", "CREATE TYPE pair AS (a integer, b text)", "DROP TYPE pair"),
    (
        "sequence",
        "ALTER SEQUENCE billing.invoice_no INCREMENT BY 2",
        "ALTER SEQUENCE billing.invoice_no INCREMENT BY 1",
    ),
    (
        "view",
        "CREATE OR REPLACE VIEW rich AS SELECT account_id FROM billing.invoices WHERE amount > 200",
        "CREATE OR REPLACE VIEW rich AS SELECT account_id FROM billing.invoices WHERE amount > 100",
    ),
    (
        "materialized view",
        "CREATE MATERIALIZED VIEW ones AS SELECT 1 AS one",
        "DROP MATERIALIZED VIEW ones",
    ),
    (
        "function",
        "CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql "
        "AS $$BEGIN RETURN OLD; END$$",
        "CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql "
        "AS $$BEGIN RETURN NEW; END$$",
    ),
    (
        "trigger",
        "DROP TRIGGER accounts_touch ON accounts",
        "CREATE TRIGGER accounts_touch BEFORE UPDATE ON accounts FOR EACH ROW "
        "EXECUTE FUNCTION touch()",
    ),
    (
        "comment",
        "COMMENT ON COLUMN accounts.email IS 'username'",
        "COMMENT ON COLUMN accounts.email IS 'login'",
    ),
    ("comment", "COMMENT ON TYPE mood IS 'how they feel'", "COMMENT ON TYPE mood IS NULL"),
    (
        "table",
        "ALTER TABLE accounts FORCE ROW LEVEL SECURITY",
        "ALTER TABLE accounts NO FORCE ROW LEVEL SECURITY",
    ),
    (
        "policy",
        "CREATE POLICY mine ON accounts TO pg_monitor USING (email = current_user)",
        "DROP POLICY mine ON accounts",
    ),
    (
        "policy",
        "CREATE POLICY mine ON accounts AS RESTRICTIVE FOR UPDATE USING (true) WITH CHECK (true)",
        "DROP POLICY mine ON accounts",
    ),
    # REVOKE leaves the owner's privileges spelled out where there was NULL: the same schema
    ("grant", "GRANT SELECT ON accounts TO PUBLIC", "REVOKE SELECT ON accounts FROM PUBLIC"),
    (
        "grant",
        "GRANT UPDATE ON billing.invoice_no TO pg_monitor WITH GRANT OPTION",
        "REVOKE UPDATE ON billing.invoice_no FROM pg_monitor",
    ),
    (
        "table",
        "ALTER TABLE accounts OWNER TO pg_monitor",
        "ALTER TABLE accounts OWNER TO CURRENT_USER",
    ),
    ("view", "ALTER VIEW rich OWNER TO pg_monitor", "ALTER VIEW rich OWNER TO CURRENT_USER"),
    (
        "table",
        "ALTER TABLE events DETACH PARTITION events_2024",
        "ALTER TABLE events ATTACH PARTITION events_2024 "
        "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
    ),
    (
        "table",
        "ALTER TABLE events DETACH PARTITION events_2024; ALTER TABLE events ATTACH PARTITION "
        "events_2024 FOR VALUES FROM ('2024-01-01') TO ('2026-01-01')",
        "ALTER TABLE events DETACH PARTITION events_2024; ALTER TABLE events ATTACH PARTITION "
        "events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
    ),
    # a partitioned table's own index (relkind I), without the partitions' (ON ONLY)
    ("index", "CREATE INDEX ix_events_at ON ONLY events (at)", "DROP INDEX ix_events_at"),
]

# Everything SCHEMA creates, dropped: building it again gives the same schema, new OIDs.
DROP_ALL = """
DROP SCHEMA billing CASCADE;
DROP TABLE accounts, alembic_version, events;
DROP FUNCTION touch();
DROP DOMAIN positive;
DROP TYPE mood;
"""


@pytest.mark.parametrize(("kind", "change", "undo"), CHANGES, ids=[c[1] for c in CHANGES])
def test_each_kind_changes_the_fingerprint_and_undoing_restores_it(
    database_url, kind, change, undo
):
    fast = Fingerprinter()
    with build(database_url) as conn:
        original = fast(conn)
        assert original == fingerprint(conn) == snapshot(conn).fingerprint
        conn.execute(change)
        changed = fast(conn)
        assert changed != original, kind
        assert changed == fingerprint(conn)
        # the snapshot names the change under its kind (the diff message relies on it)
        assert snapshot(conn).fingerprint == changed
        conn.execute(undo)
        assert fast(conn) == original


def test_identical_schema_rebuilt_with_new_oids_has_the_same_fingerprint(database_url):
    fast = Fingerprinter()
    with build(database_url) as conn:
        original = fast(conn)
        oids = conn.execute("SELECT 'accounts'::regclass::oid").fetchone()
        conn.execute(DROP_ALL)
        empty = fast(conn)
        assert empty != original
        conn.execute(SCHEMA)
        assert conn.execute("SELECT 'accounts'::regclass::oid").fetchone() != oids
        assert fast(conn) == original == fingerprint(conn)


def test_function_outlives_psycopg_deallocating_its_statements(database_url):
    """psycopg sends DEALLOCATE ALL after a DROP once it has prepared anything; the
    function is not a prepared statement, and is created once per connection."""
    fast = Fingerprinter()
    with build(database_url) as conn:
        fast(conn)
        conn.execute("SELECT 1", prepare=True)
        conn.execute("CREATE TABLE gone (id integer)")
        conn.execute("DROP TABLE gone")
        fast(conn)
        count = conn.execute(
            "SELECT count(*) FROM pg_proc WHERE proname = %s", (fast.function,)
        ).fetchone()
        assert count == (1,)
        # not part of the user's schema
        assert not any(fast.function in o.name for o in snapshot(conn).objects)


def test_each_connection_gets_its_own_function(database_url):
    fast = Fingerprinter()
    with build(database_url) as first:
        value = fast(first)
        with psycopg.connect(**database_url.libpq_kwargs(), autocommit=True) as second:
            assert fast(second) == value


def test_one_schema_variant_reads_that_schema_only(database_url):
    """doctor's variant for schema-per-tenant projects: the tenant's objects, its policies
    and grants among them, and nothing of the other schemas."""
    with build(database_url) as conn:
        conn.execute("ALTER TABLE billing.invoices ENABLE ROW LEVEL SECURITY")
        conn.execute("CREATE POLICY paid ON billing.invoices USING (amount > 0)")
        conn.execute("GRANT SELECT ON billing.invoices TO PUBLIC")
        conn.execute("GRANT SELECT ON accounts TO PUBLIC")
        scoped = snapshot(conn, only="billing")
        assert Fingerprinter(only="billing")(conn) == scoped.fingerprint
        assert scoped.fingerprint != snapshot(conn).fingerprint
    assert {o.schema for o in scoped.objects} == {None, "billing"}
    assert [o.describe() for o in scoped.objects if o.kind in ("grant", "policy")] == [
        "grant of SELECT on billing.invoices to PUBLIC",
        "policy paid on billing.invoices",
    ]
