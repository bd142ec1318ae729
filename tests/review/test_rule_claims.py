"""What the lock rules claim, checked on real PostgreSQL (every available version): the
statements they call failing do fail inside a migration's transaction, and the type
changes / defaults they call rewriting do give the table a new file (relfilenode)."""

from __future__ import annotations

import psycopg
import pytest

from revisor.db.connect import raw_connect
from revisor.db.url import DatabaseUrl
from revisor.review.types import rewrites_table


def _in_transaction(url: DatabaseUrl, *statements: str) -> None:
    """Run `statements` in one transaction (as Alembic runs a migration), then roll back."""
    with raw_connect(url, autocommit=False) as conn:
        try:
            for statement in statements:
                conn.execute(statement)
        finally:
            conn.rollback()


def _setup(url: DatabaseUrl, *statements: str) -> None:
    with raw_connect(url) as conn:
        for statement in statements:
            conn.execute(statement)


def test_rv302_concurrently_fails_in_a_transaction(database_url: DatabaseUrl) -> None:
    _setup(database_url, "CREATE TABLE t (a int)")
    with pytest.raises(psycopg.errors.ActiveSqlTransaction, match="transaction block"):
        _in_transaction(database_url, "CREATE INDEX CONCURRENTLY ix_t_a ON t (a)")


def test_rv303_new_enum_value_cannot_be_used_before_commit(database_url: DatabaseUrl) -> None:
    _setup(
        database_url,
        "CREATE TYPE cycle AS ENUM ('weekly')",
        "CREATE TABLE s (c cycle)",
        "INSERT INTO s VALUES ('weekly')",
    )
    with pytest.raises(psycopg.errors.UnsafeNewEnumValueUsage):
        _in_transaction(
            database_url, "ALTER TYPE cycle ADD VALUE 'daily'", "UPDATE s SET c = 'daily'"
        )
    with pytest.raises(psycopg.errors.UnsafeNewEnumValueUsage):
        _in_transaction(
            database_url,
            "ALTER TYPE cycle ADD VALUE 'daily'",
            "ALTER TABLE s ALTER COLUMN c SET DEFAULT 'daily'",
        )
    # Added without using it: fine (RV303 stays quiet).
    _in_transaction(database_url, "ALTER TYPE cycle ADD VALUE 'daily'")


def test_rv304_not_null_without_default_fails_once_rows_exist(database_url: DatabaseUrl):
    _setup(database_url, "CREATE TABLE t (a int)")
    _in_transaction(database_url, "ALTER TABLE t ADD COLUMN b int NOT NULL")  # empty: passes
    _setup(database_url, "INSERT INTO t VALUES (1)")
    with pytest.raises(psycopg.errors.NotNullViolation):
        _in_transaction(database_url, "ALTER TABLE t ADD COLUMN b int NOT NULL")
    _in_transaction(database_url, "ALTER TABLE t ADD COLUMN b int NOT NULL DEFAULT 0")


def _filenode_changes(url: DatabaseUrl, create: str, alter: str) -> bool:
    with raw_connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS r")
        conn.execute(create)
        conn.execute("INSERT INTO r SELECT FROM generate_series(1, 10)")
        before = conn.execute("SELECT pg_relation_filenode('r')").fetchone()[0]
        conn.execute(alter)
        after = conn.execute("SELECT pg_relation_filenode('r')").fetchone()[0]
    return before != after


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("varchar(50)", "varchar(80)"),
        ("varchar(80)", "varchar(50)"),
        ("varchar(50)", "text"),
        ("text", "varchar(20)"),
        ("numeric(12,2)", "numeric(14,2)"),
        ("numeric(12,2)", "numeric(14,3)"),
        ("integer", "bigint"),
        ("cidr", "inet"),
    ],
)
def test_rv306_rewrite_table_matches_postgresql(database_url: DatabaseUrl, old: str, new: str):
    rewritten = _filenode_changes(
        database_url, f"CREATE TABLE r (c {old})", f"ALTER TABLE r ALTER COLUMN c TYPE {new}"
    )
    assert rewrites_table(old, new) is rewritten


@pytest.mark.parametrize(
    ("default", "rewrites"),
    [
        ("now()", False),
        ("'x'", False),
        ("random()", True),
        ("clock_timestamp()", True),
        # a function's name inside a string literal calls nothing
        ("'random() is not called'", False),
        ("(('gen_random_uuid()'))", False),
        ("pg_catalog.random()", True),
        ('"random"()', True),
        ("md5(random()::text)", True),
    ],
)
def test_rv309_volatile_default_rewrites(database_url: DatabaseUrl, default: str, rewrites):
    from revisor.review.specs import ColumnSpec, volatile_function

    rewritten = _filenode_changes(
        database_url,
        "CREATE TABLE r (id int)",
        f"ALTER TABLE r ADD COLUMN c text DEFAULT {default}",
    )
    assert rewritten is rewrites
    column = ColumnSpec(name="c", server_default=default)
    assert (volatile_function(column) is not None) is rewrites


def _locks(url: DatabaseUrl, statement: str, table: str) -> set[str]:
    """Lock modes this backend holds on `table` right after `statement`, in a transaction."""
    with raw_connect(url, autocommit=False) as conn:
        try:
            conn.execute(statement)
            rows = conn.execute(
                "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() "
                "AND locktype = 'relation' AND relation = %s::regclass",
                (table,),
            ).fetchall()
        finally:
            conn.rollback()
    return {row[0] for row in rows}


@pytest.mark.parametrize(
    ("statement", "table", "mode"),
    [
        ("CREATE INDEX ix ON t (a)", "t", "ShareLock"),  # RV301
        ("ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES p (id)", "t", "ShareRowExclusiveLock"),
        ("ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES p (id)", "p", "ShareRowExclusiveLock"),
        ("ALTER TABLE t ADD CHECK (a > 0)", "t", "AccessExclusiveLock"),  # RV305
        ("ALTER TABLE t ALTER COLUMN a SET NOT NULL", "t", "AccessExclusiveLock"),  # RV307
        ("ALTER TABLE t ALTER COLUMN a TYPE bigint", "t", "AccessExclusiveLock"),  # RV306
        ("ALTER TABLE t RENAME COLUMN a TO b", "t", "AccessExclusiveLock"),  # RV308
        ("ALTER TABLE t ADD CONSTRAINT u UNIQUE (a)", "t", "AccessExclusiveLock"),  # RV301
        ("ALTER TABLE t ADD COLUMN b int DEFAULT 1", "t", "AccessExclusiveLock"),  # RV304/309
        # RV310: NOT VALID still takes these, held to the end of the transaction.
        (
            "ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES p (id) NOT VALID",
            "t",
            "ShareRowExclusiveLock",
        ),
        (
            "ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES p (id) NOT VALID",
            "p",
            "ShareRowExclusiveLock",
        ),
        ("ALTER TABLE t ADD CHECK (a > 0) NOT VALID", "t", "AccessExclusiveLock"),
    ],
)
def test_lock_modes_the_docs_name(database_url: DatabaseUrl, statement, table, mode) -> None:
    _setup(
        database_url,
        "CREATE TABLE p (id int PRIMARY KEY)",
        "CREATE TABLE t (a int)",
    )
    assert mode in _locks(database_url, statement, table)


def test_validate_constraint_takes_the_weaker_lock(database_url: DatabaseUrl) -> None:
    _setup(
        database_url,
        "CREATE TABLE p (id int PRIMARY KEY)",
        "CREATE TABLE t (a int)",
        "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES p (id) NOT VALID",
    )
    modes = _locks(database_url, "ALTER TABLE t VALIDATE CONSTRAINT fk", "t")
    assert "ShareUpdateExclusiveLock" in modes
    assert "AccessExclusiveLock" not in modes and "ShareRowExclusiveLock" not in modes


def test_add_value_locks_the_type_not_the_tables(database_url: DatabaseUrl) -> None:
    _setup(database_url, "CREATE TYPE e AS ENUM ('a')", "CREATE TABLE t (c e)")
    with raw_connect(database_url, autocommit=False) as conn:
        try:
            conn.execute("ALTER TYPE e ADD VALUE 'b'")
            rows = conn.execute(
                "SELECT locktype, mode, relation::regclass::text FROM pg_locks "
                "WHERE pid = pg_backend_pid() AND (objid = 'e'::regtype::oid "
                "OR relation = 't'::regclass)"
            ).fetchall()
        finally:
            conn.rollback()
    assert ("object", "ExclusiveLock", None) in rows  # RV303's Lock section
    assert not [r for r in rows if r[2] == "t"]
