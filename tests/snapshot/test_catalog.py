"""The catalog snapshot on a real database, on every PostgreSQL version: each object kind
is read, OIDs never leak in, and the server's fingerprint equals the local one."""

from __future__ import annotations

import psycopg

from revisor.snapshot.catalog import fingerprint, snapshot

SCHEMA = """
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
CREATE SCHEMA billing;
CREATE SEQUENCE billing.invoice_no START 1000;
CREATE TABLE accounts (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    mood mood DEFAULT 'ok',
    credit positive,
    email_lower text GENERATED ALWAYS AS (lower(email)) STORED
);
CREATE TABLE billing.invoices (
    id serial PRIMARY KEY,
    account_id integer NOT NULL REFERENCES accounts (id),
    amount numeric(12, 2) CHECK (amount >= 0)
);
CREATE INDEX ix_invoices_account ON billing.invoices (account_id) WHERE amount > 0;
CREATE VIEW rich AS SELECT account_id FROM billing.invoices WHERE amount > 100;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER accounts_touch BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION touch();
COMMENT ON TABLE accounts IS 'people who pay';
COMMENT ON COLUMN accounts.email IS 'login';
CREATE TABLE events (at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
"""


def build(url) -> psycopg.Connection:
    conn = psycopg.connect(**url.libpq_kwargs(), autocommit=True)
    conn.execute(SCHEMA)
    return conn


def test_snapshot_reads_every_kind(database_url):
    with build(database_url) as conn:
        snap = snapshot(conn)
    found = {(o.kind, o.schema, o.table, o.name) for o in snap.objects}
    for expected in [
        ("schema", None, None, "billing"),
        ("table", "public", None, "accounts"),
        ("table", "billing", None, "invoices"),
        ("enum", "public", None, "mood"),
        ("domain", "public", None, "positive"),
        ("domain constraint", "public", "positive", "positive_check"),
        ("sequence", "billing", None, "invoice_no"),
        ("index", "billing", "invoices", "ix_invoices_account"),
        ("view", "public", None, "rich"),
        ("function", "public", None, "touch()"),
        ("trigger", "public", "accounts", "accounts_touch"),
        ("comment", "public", None, "accounts"),
        ("comment", "public", "accounts", "email"),
        ("constraint", "billing", "invoices", "invoices_account_id_fkey"),
        ("constraint", "billing", "invoices", "invoices_amount_check"),
    ]:
        assert expected in found, expected
    columns = {o.name: o.definition for o in snap.of_kind("column") if o.table == "accounts"}
    assert columns["id"] == "integer NOT NULL GENERATED ALWAYS AS IDENTITY"
    assert columns["mood"] == "mood DEFAULT 'ok'::mood"
    assert columns["email_lower"].startswith("text GENERATED ALWAYS AS (lower(email)) STORED")
    assert [o.definition for o in snap.of_kind("enum")] == ["'sad', 'ok', 'happy'"]
    tables = {o.name: o.definition for o in snap.of_kind("table")}
    assert tables["events"] == "p partition by RANGE (at)"
    assert tables["events_2024"] == (
        "r partition of events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')"
    )
    # the version table is not part of the user's schema
    assert not any("alembic_version" in (o.name + (o.table or "")) for o in snap.objects)
    # messages quote where PostgreSQL needs it and leave out public
    described = {o.describe() for o in snap.objects}
    assert "index billing.ix_invoices_account on billing.invoices" in described
    assert "column accounts.email" in described and "comment on accounts.email" in described


def test_schema_and_name_stay_apart(database_url):
    """A table invoices in schema billing and a table named "billing.invoices" in public
    are two objects, told apart in messages and in the fingerprint."""
    with build(database_url) as conn:
        conn.execute('CREATE TABLE "billing.invoices" (id integer)')
        conn.execute('CREATE INDEX "IxByHand" ON "billing.invoices" (id)')
        snap = snapshot(conn)
        assert fingerprint(conn) == snap.fingerprint
    tables = {(o.schema, o.name): o.describe() for o in snap.of_kind("table")}
    assert tables[("billing", "invoices")] == "table billing.invoices"
    assert tables[("public", "billing.invoices")] == 'table "billing.invoices"'
    (index,) = [o for o in snap.of_kind("index") if o.name == "IxByHand"]
    assert index.describe() == 'index "IxByHand" on "billing.invoices"'


def test_server_fingerprint_equals_local_and_ignores_oids(database_url):
    with build(database_url) as conn:
        first = snapshot(conn)
        assert fingerprint(conn) == first.fingerprint
        # drop and recreate: new OIDs, same schema, same fingerprint
        conn.execute("DROP INDEX billing.ix_invoices_account")
        changed = fingerprint(conn)
        conn.execute(
            "CREATE INDEX ix_invoices_account ON billing.invoices (account_id) WHERE amount > 0"
        )
        assert changed != first.fingerprint
        assert fingerprint(conn) == first.fingerprint


def test_extension_is_listed_but_not_what_it_created(database_url):
    # citext and hstore add types, functions and operators; the user created the extension
    # and a column of its type, and only those belong to the schema.
    with build(database_url) as conn:
        conn.execute("CREATE EXTENSION citext")
        conn.execute("CREATE SCHEMA ext")
        conn.execute("CREATE EXTENSION hstore SCHEMA ext")
        conn.execute("ALTER TABLE accounts ADD COLUMN nick citext, ADD COLUMN tags ext.hstore")
        snap = snapshot(conn)
        assert fingerprint(conn) == snap.fingerprint
    found = {(o.kind, o.name) for o in snap.objects}
    assert ("extension", "citext") in found and ("extension", "hstore") in found
    assert ("schema", "ext") in found
    columns = {o.name: o.definition for o in snap.of_kind("column") if o.table == "accounts"}
    assert columns["nick"] == "citext" and columns["tags"] == "ext.hstore"
    kinds = {o.kind for o in snap.objects}
    assert not [o for o in snap.objects if o.kind == "function" and o.name != "touch()"]
    assert "composite type" not in kinds
    assert {o.name for o in snap.of_kind("enum")} == {"mood"}
