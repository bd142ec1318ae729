"""Labels with quotes, spaces, backslashes and unicode survive every enum statement."""

from __future__ import annotations

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revisor.db.url import DatabaseUrl
from revisor.enums.catalog import EnumColumn, default_labels
from revisor.enums.ops import (
    AddEnumValuesOp,
    CreateEnumTypeOp,
    RecreateEnumOp,
    RenameEnumValueOp,
    _execute,
    with_default,
)

# PostgreSQL labels: 1..63 bytes, no NUL.
label = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=12,
).filter(lambda s: len(s.encode()) <= 63)
labels = st.lists(label, min_size=2, max_size=5, unique=True)


def _labels(conn: psycopg.Connection, name: str) -> list[str]:
    rows = conn.execute(
        "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
        "WHERE t.typname = %s ORDER BY e.enumsortorder",
        (name,),
    ).fetchall()
    return [r[0] for r in rows]


def _run(conn: psycopg.Connection, op: object) -> None:
    for sql in op.statements():  # type: ignore[attr-defined]
        # the rendered Python must give back the same SQL
        rendered = "\n".join(_execute(sql))
        namespace: dict[str, list[str]] = {"seen": []}
        exec(rendered.replace("op.execute(", "seen.append(", 1), namespace)
        assert namespace["seen"] == [sql] or namespace["seen"][0].strip() == sql.strip()
        conn.execute(sql)


def test_generated_labels_round_trip(database_url_18: DatabaseUrl):
    with psycopg.connect(**database_url_18.libpq_kwargs(), autocommit=True) as conn:

        @settings(
            max_examples=30,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        )
        @given(old=labels, extra=label, renamed=label)
        def check(old: list[str], extra: str, renamed: str) -> None:
            conn.execute('DROP TABLE IF EXISTS q; DROP TYPE IF EXISTS "odd type"')
            _run(conn, CreateEnumTypeOp("odd type", None, tuple(old)))
            assert _labels(conn, "odd type") == old
            conn.execute('CREATE TABLE q (v "odd type", vs "odd type"[])')
            column = EnumColumn("public", "q", "v")
            array = EnumColumn("public", "q", "vs", is_array=True)
            conn.execute(
                'INSERT INTO q VALUES (%s::"odd type", ARRAY[%s, %s]::"odd type"[])',
                (old[0], old[0], old[-1]),
            )
            columns = (with_default(column, (old[0],)), with_default(array, (old[-1],)))
            if extra not in old:
                _run(conn, AddEnumValuesOp("odd type", None, tuple(old), (*old, extra), columns))
                assert _labels(conn, "odd type") == [*old, extra]
                _run(conn, RecreateEnumOp("odd type", None, (*old, extra), tuple(old), columns))
                assert _labels(conn, "odd type") == old
            if renamed not in old:
                _run(conn, RenameEnumValueOp("odd type", None, old[-1], renamed))
                assert _labels(conn, "odd type") == [*old[:-1], renamed]
                _run(conn, RenameEnumValueOp("odd type", None, renamed, old[-1]))
            reordered = tuple(reversed(old))
            _run(conn, RecreateEnumOp("odd type", None, tuple(old), reordered, columns))
            assert _labels(conn, "odd type") == list(reordered)
            row = conn.execute("SELECT v::text, vs::text[] FROM q").fetchone()
            assert row == (old[0], [old[0], old[-1]])
            conn.execute("INSERT INTO q DEFAULT VALUES")
            defaults = conn.execute("SELECT v::text, vs::text[] FROM q OFFSET 1").fetchone()
            assert defaults == (old[0], [old[-1]])
            text = conn.execute(
                "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef "
                "WHERE adrelid = 'q'::regclass ORDER BY adnum"
            ).fetchall()
            assert [default_labels(t[0]) for t in text] == [(old[0],), (old[-1],)]

        check()
