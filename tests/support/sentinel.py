"""A sentinel database: the one a project's env.py names, which revisor must never change.

Made once per server as a template (`install_template`), then copied for each test
(`Sentinel.create`). It records what reaches it:

- an event trigger on `ddl_command_start` that calls `nextval('sentinel_ddl_seq')` and logs
  the command tag and statement into `sentinel_ddl_log`. A sequence is not transactional:
  DDL that was rolled back (a migration that failed, a transaction revisor rolled back)
  still moves it, although its log row is gone;
- a table `sentinel_rows` with three rows, and row-level INSERT/UPDATE/DELETE plus a
  statement-level TRUNCATE trigger that move `sentinel_dml_seq`.

`Sentinel.breaches()` compares the database with the state it was created in: the two
sequences, the log, the rows, the schemas and tables, and any `alembic_version` table.
Temporary objects (a session's pg_temp schema) are left out of the schema comparison, but
their DDL still moves the sequence.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from revisor.db.url import DatabaseUrl

TEMPLATE = "sentinel_template"

# Everything schema-qualified: an env.py may have changed search_path on the session whose
# DDL the trigger records (schema-per-tenant env.py files do).
SENTINEL_SQL = """
CREATE SEQUENCE public.sentinel_ddl_seq;
CREATE SEQUENCE public.sentinel_dml_seq;
CREATE TABLE public.sentinel_ddl_log (
    id bigserial PRIMARY KEY,
    command_tag text NOT NULL,
    statement text,
    role name NOT NULL DEFAULT current_user
);
CREATE FUNCTION public.sentinel_log_ddl() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM nextval('public.sentinel_ddl_seq');
    INSERT INTO public.sentinel_ddl_log (command_tag, statement, role)
    VALUES (tg_tag, left(current_query(), 300), session_user);
END
$$;
CREATE TABLE public.sentinel_rows (id integer PRIMARY KEY, label text NOT NULL);
INSERT INTO public.sentinel_rows VALUES (1, 'one'), (2, 'two'), (3, 'three');
CREATE FUNCTION public.sentinel_count_dml() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM nextval('public.sentinel_dml_seq');
    RETURN NULL;
END
$$;
CREATE TRIGGER sentinel_rows_dml AFTER INSERT OR UPDATE OR DELETE ON public.sentinel_rows
    FOR EACH ROW EXECUTE FUNCTION public.sentinel_count_dml();
CREATE TRIGGER sentinel_rows_truncate AFTER TRUNCATE ON public.sentinel_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.sentinel_count_dml();
GRANT ALL ON public.sentinel_rows TO PUBLIC;
-- last: from here on every DDL command is recorded
CREATE EVENT TRIGGER sentinel_ddl ON ddl_command_start
    EXECUTE FUNCTION public.sentinel_log_ddl();
"""

EXPECTED_ROWS = [(1, "one"), (2, "two"), (3, "three")]

_RELATIONS = """
SELECT n.nspname || '.' || c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast%'
"""
_SCHEMAS = """
SELECT nspname FROM pg_namespace
WHERE nspname NOT LIKE 'pg_temp_%' AND nspname NOT LIKE 'pg_toast_temp_%'
"""
_TYPES = """
SELECT n.nspname || '.' || t.typname
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'e'
"""


def _connect(url: DatabaseUrl, database: str | None = None) -> psycopg.Connection[Any]:
    target = url.with_database(database) if database else url
    return psycopg.connect(**target.libpq_kwargs(), autocommit=True)


def install_template(admin: DatabaseUrl) -> None:
    """Create the sentinel template database on `admin`'s server (a superuser URL: event
    triggers need one) unless it exists. Side effect: CREATE DATABASE sentinel_template."""
    with _connect(admin, "postgres") as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (TEMPLATE,)).fetchone():
            return
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
    with _connect(admin, TEMPLATE) as conn:
        conn.execute(SENTINEL_SQL)


@dataclass(frozen=True)
class SentinelState:
    """What the sentinel holds at one moment."""

    ddl_seq: int | None
    dml_seq: int | None
    ddl_log: tuple[tuple[str, str], ...]
    rows: tuple[tuple[int, str], ...]
    schemas: frozenset[str]
    relations: frozenset[str]
    enum_types: frozenset[str]
    version_tables: frozenset[str]


@dataclass
class Sentinel:
    """One sentinel database, owned by `owner` (the role env.py logs in as)."""

    admin: DatabaseUrl  # a superuser on the same server, `postgres` database
    name: str
    owner: str
    baseline: SentinelState | None = None

    @classmethod
    def create(cls, admin: DatabaseUrl, owner: str, *, prefix: str = "sentinel") -> Sentinel:
        """Copy the template into a new database owned by `owner`; record its state."""
        sentinel = cls(admin, f"{prefix}_{secrets.token_hex(4)}", owner)
        sentinel._copy_template()
        sentinel.baseline = sentinel.state()
        return sentinel

    def _copy_template(self) -> None:
        with _connect(self.admin, "postgres") as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {}").format(
                    sql.Identifier(self.name),
                    sql.Identifier(TEMPLATE),
                    sql.Identifier(self.owner),
                )
            )

    def drop(self) -> None:
        """DROP DATABASE, disconnecting whoever is still connected (an app's pool)."""
        with _connect(self.admin, "postgres") as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )

    def reset(self) -> None:
        """Drop and copy the template again under the same name: after a breach, the next
        command starts from an untouched sentinel, so each breach is attributed to the
        command that made it."""
        self.drop()
        self._copy_template()

    def state(self) -> SentinelState:
        """Read the sentinel (as the superuser, in autocommit: no DDL, no writes)."""
        with _connect(self.admin, self.name) as conn:

            def names(query: str) -> frozenset[str]:
                return frozenset(row[0] for row in conn.execute(query).fetchall())

            ddl_seq, dml_seq = conn.execute(
                "SELECT pg_sequence_last_value('public.sentinel_ddl_seq'),"
                " pg_sequence_last_value('public.sentinel_dml_seq')"
            ).fetchone() or (None, None)
            log = conn.execute(
                "SELECT command_tag, coalesce(statement, '') FROM public.sentinel_ddl_log"
                " ORDER BY id"
            ).fetchall()
            rows = conn.execute("SELECT id, label FROM public.sentinel_rows ORDER BY id").fetchall()
            version_tables = names(
                "SELECT n.nspname || '.' || c.relname FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind = 'r' AND c.relname LIKE 'alembic%'"
            )
            return SentinelState(
                ddl_seq=ddl_seq,
                dml_seq=dml_seq,
                ddl_log=tuple((tag, statement) for tag, statement in log),
                rows=tuple((id_, label) for id_, label in rows),
                schemas=names(_SCHEMAS),
                relations=names(_RELATIONS),
                enum_types=names(_TYPES),
                version_tables=version_tables,
            )

    def breaches(self) -> list[str]:
        """What changed since the sentinel was made, one line each; empty when untouched."""
        assert self.baseline is not None
        before, after = self.baseline, self.state()
        found: list[str] = []
        if after.ddl_seq != before.ddl_seq:
            ran = (after.ddl_seq or 0) - (before.ddl_seq or 0)
            new_rows = after.ddl_log[len(before.ddl_log) :]
            logged = "; ".join(
                f"{tag}: {' '.join(statement.split())[:80]!r}" for tag, statement in new_rows[:3]
            )
            found.append(
                f"{ran} DDL command(s) started ({len(new_rows)} committed"
                + (f": {logged}" if logged else ", the rest rolled back")
                + ")"
            )
        elif after.ddl_log != before.ddl_log:
            found.append(f"DDL log changed: {after.ddl_log}")
        if after.dml_seq != before.dml_seq:
            found.append("rows of sentinel_rows were inserted, updated, deleted or truncated")
        if after.rows != before.rows:
            found.append(f"sentinel_rows holds {list(after.rows)}, not {list(before.rows)}")
        if after.version_tables:
            found.append(f"version table(s) {sorted(after.version_tables)}")
        for kind, old, new in (
            ("schema", before.schemas, after.schemas),
            ("table/sequence/view", before.relations, after.relations),
            ("enum type", before.enum_types, after.enum_types),
        ):
            if new - old:
                found.append(f"new {kind}(s) {sorted(new - old)}")
            if old - new:
                found.append(f"{kind}(s) gone: {sorted(old - new)}")
        return found

    def assert_untouched(self, after: str = "") -> None:
        """Raise AssertionError naming every change (and the command `after`)."""
        found = self.breaches()
        if found:
            raise AssertionError(
                f"sentinel {self.name} changed{f' by {after}' if after else ''}: "
                + " | ".join(found)
            )


TRAP_SQL = """
CREATE SEQUENCE IF NOT EXISTS public.trap_ddl_seq;
CREATE OR REPLACE FUNCTION public.trap_count_ddl() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    done record;
BEGIN
    FOR done IN SELECT schema_name FROM pg_event_trigger_ddl_commands() LOOP
        IF done.schema_name IS NULL OR done.schema_name NOT LIKE 'pg_temp%' THEN
            PERFORM nextval('public.trap_ddl_seq');
        END IF;
    END LOOP;
END
$$;
CREATE OR REPLACE FUNCTION public.trap_count_drop() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF EXISTS (SELECT FROM pg_event_trigger_dropped_objects() WHERE NOT is_temporary) THEN
        PERFORM nextval('public.trap_ddl_seq');
    END IF;
END
$$;
CREATE EVENT TRIGGER trap_ddl ON ddl_command_end EXECUTE FUNCTION public.trap_count_ddl();
CREATE EVENT TRIGGER trap_drop ON sql_drop EXECUTE FUNCTION public.trap_count_drop();
"""


class DdlTrap:
    """A lighter recorder for a database a command may only read (OTHER, once a deploy has
    migrated it). Unlike the sentinel it counts what DDL did (`ddl_command_end`, `sql_drop`)
    rather than what started: an env.py's own `CREATE SCHEMA IF NOT EXISTS` of a schema
    that is there changes nothing and is not counted; temporary objects are not counted.
    Rolled-back DDL still moves the sequence. Install it after the deploy (its sequence and
    functions are objects doctor would report)."""

    def __init__(self, admin: DatabaseUrl, database: str) -> None:
        self.admin = admin
        self.database = database
        with _connect(admin, database) as conn:
            conn.execute(TRAP_SQL)
        self.baseline = self.count()

    def count(self) -> int:
        with _connect(self.admin, self.database) as conn:
            row = conn.execute("SELECT pg_sequence_last_value('public.trap_ddl_seq')").fetchone()
        return int(row[0] or 0) if row else 0

    def fired(self) -> int:
        """How many DDL commands changed the database since the trap was installed."""
        return self.count() - self.baseline
