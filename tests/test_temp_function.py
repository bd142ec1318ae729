"""Queries kept as functions in pg_temp, on every PostgreSQL version: the same rows as
the plain query, one function per connection that outlives psycopg's DEALLOCATE ALL, the
plain query where the session may not create temporary objects."""

from __future__ import annotations

import psycopg
import pytest

from revisor.db.temp_function import TempFunction, TempQuery
from tests.support.roles import role_without_temporary

# Catalog rows with a constant written into the function and an argument passed per call.
QUERY = """
SELECT c.relname, a.attname, a.attnum
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
WHERE c.relname = ANY(%(names)s) AND a.attname <> %(skip)s AND c.relname NOT LIKE 'x%%'
ORDER BY 1, 3
"""


def tables_query(skip: str = "secret") -> TempQuery:
    return TempQuery(
        "revisor_test_columns",
        QUERY,
        columns=("name", "name", "smallint"),
        arguments={"names": "name[]"},
        constants={"skip": skip},
    )


def function_count(conn: psycopg.Connection, name: str) -> int:
    return conn.execute("SELECT count(*) FROM pg_proc WHERE proname = %s", (name,)).fetchone()[0]


def test_rows_equal_the_plain_query_and_the_function_outlives_ddl(database_url):
    query = tables_query()
    with psycopg.connect(**database_url.libpq_kwargs(), autocommit=True) as conn:
        conn.execute("CREATE TABLE a (id integer, secret text, note text)")
        conn.execute("CREATE TABLE b (id integer)")
        expected = [("a", "id", 1), ("a", "note", 3), ("b", "id", 1)]
        assert query(conn, {"names": ["a", "b"]}) == expected
        assert query.plain(conn, {"names": ["a", "b"]}) == expected
        # psycopg sends DEALLOCATE ALL after a DROP once it has prepared anything; the
        # function is no prepared statement: it stays, and is not created again.
        conn.execute("DROP TABLE b")
        assert query(conn, {"names": ["a", "b"]}) == expected[:2]
        conn.execute("ALTER TABLE a ADD COLUMN more integer")
        assert query(conn, {"names": ["a"]}) == [*expected[:2], ("a", "more", 4)]
        assert function_count(conn, query.name) == 1


def test_constants_are_part_of_the_name(database_url):
    assert tables_query("secret").name != tables_query("note").name
    assert tables_query("secret").name == tables_query("secret").name
    with psycopg.connect(**database_url.libpq_kwargs(), autocommit=True) as conn:
        conn.execute("CREATE TABLE a (id integer, secret text, note text)")
        assert tables_query("note")(conn, {"names": ["a"]}) == [("a", "id", 1), ("a", "secret", 2)]


def test_without_the_temporary_privilege_the_plain_query_runs(database_url):
    query = tables_query()
    with (
        role_without_temporary(database_url) as role,
        psycopg.connect(**database_url.libpq_kwargs(), autocommit=True) as conn,
    ):
        conn.execute(f"SET ROLE {role}")
        conn.execute("CREATE TABLE a (id integer, secret text)")
        assert query(conn, {"names": ["a"]}) == [("a", "id", 1)]
        assert function_count(conn, query.name) == 0


def test_forget_after_the_creating_transaction_rolled_back(database_url):
    query = tables_query()
    with psycopg.connect(**database_url.libpq_kwargs()) as conn:
        conn.execute("CREATE TABLE a (id integer)")
        conn.commit()
        assert query(conn, {"names": ["a"]}) == [("a", "id", 1)]
        conn.rollback()  # the function went with the transaction
        assert function_count(conn, query.name) == 0
        query.forget()
        assert query(conn, {"names": ["a"]}) == [("a", "id", 1)]


def test_each_connection_gets_its_own_function(database_url):
    query = tables_query()
    kwargs = database_url.libpq_kwargs()
    with psycopg.connect(**kwargs, autocommit=True) as first:
        first.execute("CREATE TABLE a (id integer)")
        assert query(first, {"names": ["a"]}) == [("a", "id", 1)]
        with psycopg.connect(**kwargs, autocommit=True) as second:
            assert query(second, {"names": ["a"]}) == [("a", "id", 1)]
        assert query(first, {"names": ["a"]}) == [("a", "id", 1)]


def test_definitions_that_cannot_work_are_refused():
    with pytest.raises(ValueError, match="body"):
        TempFunction("x", "BEGIN RETURN '$revisor_fn$'; END", returns="text")
    with pytest.raises(ValueError, match="columns"):
        TempFunction("x", "BEGIN RETURN; END", returns="SETOF record")
    with pytest.raises(ValueError, match="placeholder"):
        TempQuery("x", "SELECT %(nope)s::text", scalar="text")
