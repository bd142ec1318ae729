"""Sample rows and the catalog reads behind them, on every PostgreSQL version: parents
filled before children, a table refusing rows is skipped without spoiling the
transaction, the required-columns retry, the same rows without the TEMPORARY privilege
(savepoints instead of a function in pg_temp), and a table read again exactly when it
changed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy.engine import Connection

from revisor.db.connect import connect
from revisor.testing.seed_catalog import TableCatalog, foreign_keys
from revisor.testing.seed_data import ROWS_PER_TABLE, DataSeeder
from tests.support.roles import role_without_temporary

SCHEMA = """
CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE TABLE parents (id serial PRIMARY KEY, name varchar(3) NOT NULL, mood mood NOT NULL);
CREATE TABLE children (
    id serial PRIMARY KEY,
    parent_id integer NOT NULL REFERENCES parents (id),
    note text
);
CREATE TABLE picky (id serial PRIMARY KEY, n integer NOT NULL CHECK (n < 0));
CREATE TABLE partial (id serial PRIMARY KEY, code text CHECK (code = 'x'), n integer NOT NULL);
CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
"""


@contextmanager
def session(url, *, temporary: bool) -> Iterator[Connection]:
    """A SQLAlchemy connection in a transaction, as env.py gives one, with SCHEMA built;
    without `temporary`, as a role that may not create temporary functions."""
    if temporary:
        with connect(url) as conn:
            conn.exec_driver_sql(SCHEMA)
            yield conn
            conn.rollback()
        return
    with role_without_temporary(url) as role, connect(url) as conn:
        conn.exec_driver_sql(f"SET ROLE {role}")
        conn.exec_driver_sql(SCHEMA)
        yield conn
        conn.rollback()


def rows(conn: Connection, sql: str) -> list[Any]:
    return [tuple(r) for r in conn.exec_driver_sql(sql).fetchall()]


def temp_functions(conn: Connection) -> int:
    return rows(conn, "SELECT count(*) FROM pg_proc WHERE proname LIKE 'revisor_seed%%'")[0][0]


@pytest.mark.parametrize("temporary", [True, False], ids=["pg_temp", "savepoints"])
def test_tables_are_filled_parents_first_and_a_refusing_table_is_skipped(database_url, temporary):
    seeder = DataSeeder()
    with session(database_url, temporary=temporary) as conn:
        tables = {t.name: t for t in seeder.seed(conn)}
        assert rows(conn, "SELECT count(*) FROM parents") == [(ROWS_PER_TABLE,)]
        # every child points at a parent revisor inserted first
        assert rows(
            conn, "SELECT count(*) FROM children JOIN parents ON parents.id = parent_id"
        ) == [(ROWS_PER_TABLE,)]
        assert rows(conn, "SELECT DISTINCT mood::text FROM parents ORDER BY 1") == [
            ("ok",),
            ("sad",),
        ]
        # the CHECK refuses revisor's values: skipped, and the transaction goes on
        assert seeder.skipped == {"picky"}
        assert rows(conn, "SELECT count(*) FROM picky") == [(0,)]
        assert not tables["picky"].has_rows
        # all columns first; when that fails, the required ones only
        assert rows(conn, "SELECT code, count(*) FROM partial GROUP BY code") == [
            (None, ROWS_PER_TABLE)
        ]
        assert {n for n, t in tables.items() if t.has_rows} == {"parents", "children", "partial"}
        assert temp_functions(conn) == (3 if temporary else 0)
        # what the round trip asks before and after a step
        assert seeder.populated_columns(conn)["children"] == {"id", "parent_id", "note"}
        assert "picky" in seeder.table_columns(conn)
        assert "picky" not in seeder.populated_columns(conn)


def test_a_filled_table_is_filled_again_only_when_its_columns_change(database_url):
    seeder = DataSeeder()
    with session(database_url, temporary=True) as conn:
        seeder.seed(conn)
        seeder.seed(conn)
        assert rows(conn, "SELECT count(*) FROM children") == [(ROWS_PER_TABLE,)]
        conn.exec_driver_sql("ALTER TABLE children ADD COLUMN size integer")
        seeder.seed(conn)
        assert rows(conn, "SELECT count(*), count(size) FROM children") == [
            (2 * ROWS_PER_TABLE, ROWS_PER_TABLE)
        ]
        assert rows(conn, "SELECT count(*) FROM parents") == [(ROWS_PER_TABLE,)]


@pytest.mark.parametrize("temporary", [True, False], ids=["pg_temp", "savepoints"])
def test_more_rows_fill_each_table_once_with_valid_distinct_values(database_url, temporary):
    """`--rows 500`: each table revisor fills for the first time gets 500 rows (a table
    refusing them keeps nothing, as before); a later column change adds the usual few."""
    seeder = DataSeeder(rows=500)
    with session(database_url, temporary=temporary) as conn:
        seeder.seed(conn)
        assert rows(conn, "SELECT count(*), count(DISTINCT name) FROM parents") == [(500, 500)]
        assert rows(conn, "SELECT count(DISTINCT mood) FROM parents") == [(2,)]
        assert rows(
            conn, "SELECT count(*) FROM children JOIN parents ON parents.id = parent_id"
        ) == [(500,)]
        assert rows(conn, "SELECT count(*), count(code) FROM partial") == [(500, 0)]
        assert rows(conn, "SELECT count(*) FROM picky") == [(0,)]
        conn.exec_driver_sql("ALTER TABLE children ADD COLUMN size integer")
        seeder.seed(conn)
        assert rows(conn, "SELECT count(*), count(size) FROM children") == [
            (500 + ROWS_PER_TABLE, ROWS_PER_TABLE)
        ]


class CountingReads:
    """Wraps a catalog's table read: which oids it was asked for."""

    def __init__(self, read: Any) -> None:
        self.read = read
        self.asked: list[int] = []

    def __call__(self, conn: Any, params: dict[str, Any]) -> Any:
        self.asked.extend(params["oids"])
        return self.read(conn, params)


# Each change makes the changed table be read again, and only it.
CHANGES = [
    ("children", "ALTER TABLE children ADD COLUMN size integer"),
    ("children", "ALTER TABLE children DROP COLUMN note"),
    ("children", "ALTER TABLE children ALTER note TYPE varchar(10)"),
    ("children", "ALTER TABLE children ALTER note SET NOT NULL"),
    ("children", "ALTER TABLE children ALTER note SET DEFAULT 'n'"),
    ("parents", "ALTER TABLE parents ALTER id DROP DEFAULT"),
    ("children", "ALTER TABLE children RENAME note TO remark"),
    ("children", "ALTER TABLE children RENAME TO kids"),
    ("children", "ALTER TABLE children DROP CONSTRAINT children_parent_id_fkey"),
    (
        "partial",
        "ALTER TABLE partial ADD CONSTRAINT partial_n_fkey FOREIGN KEY (n) REFERENCES parents",
    ),
]


@pytest.mark.parametrize(("table", "change"), CHANGES, ids=[c for _, c in CHANGES])
def test_a_table_is_read_again_when_it_changed(database_url, table, change):
    catalog = TableCatalog()
    with session(database_url, temporary=True) as conn:
        oid = rows(conn, f"SELECT '{table}'::regclass::oid")[0][0]
        before = catalog.read(conn)
        catalog._tables = counting = CountingReads(catalog._tables)
        conn.exec_driver_sql("CREATE INDEX ix_children_note ON children (note)")
        conn.exec_driver_sql("INSERT INTO parents (name, mood) VALUES ('a', 'ok')")
        catalog.read(conn)
        assert counting.asked == []  # neither an index nor rows change what seeding needs
        conn.exec_driver_sql(change)
        after = catalog.read(conn)
        assert counting.asked == [oid]
        assert set(after) == set(before)


def test_a_renamed_parent_is_named_as_it_is_now(database_url):
    catalog = TableCatalog()
    with session(database_url, temporary=True) as conn:
        catalog.read(conn)
        conn.exec_driver_sql("ALTER TABLE parents RENAME TO folks")
        conn.exec_driver_sql("ALTER TABLE folks RENAME id TO folk_id")
        tables = catalog.read(conn)
        children = next(t for t in tables.values() if t.name == "children")
        [key] = foreign_keys(children, tables)
        assert (key.referenced_sql, key.columns, key.referenced_columns) == (
            "public.folks",
            ["parent_id"],
            ['"folk_id"'],
        )
        # and the seeder fills through it
        seeder = DataSeeder()
        seeder.seed(conn)
        assert rows(conn, "SELECT count(*) FROM children JOIN folks ON folk_id = parent_id") == [
            (ROWS_PER_TABLE,)
        ]
