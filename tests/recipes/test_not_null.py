"""The NOT NULL recipes' source, run as a real migration on real PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest
from alembic import command
from alembic.config import Config

from revisor.recipes.not_null import backfill, not_null_check_name, set_not_null
from tests.support.mini_history import write_history

SEED = """
op.execute("CREATE SCHEMA app")
op.create_table(
    "Vendors",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("Country", sa.Text),
    schema="app",
)
op.execute(
    'INSERT INTO app."Vendors" (id, "Country") '
    "SELECT g, CASE WHEN g % 3 = 0 THEN 'FR' END FROM generate_series(1, 25) g"
)
"""


def _upgrade(tmp_path, url, body: list[str]) -> None:
    ini = write_history(
        tmp_path,
        [("a1", None, SEED, "pass"), ("b2", "a1", "\n".join(body), "pass")],
    )
    config = Config(str(ini))
    config.set_main_option("sqlalchemy.url", url.sqlalchemy_url.replace("%", "%%"))
    command.upgrade(config, "head")


def _column(url) -> tuple[str, list[tuple[str | None, int]], list[str]]:
    with psycopg.connect(**url.libpq_kwargs()) as conn:
        nullable = conn.execute(
            "SELECT is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'app' AND table_name = 'Vendors' AND column_name = 'Country'"
        ).fetchone()[0]
        values = conn.execute(
            'SELECT "Country", count(*) FROM app."Vendors" GROUP BY 1 ORDER BY 1'
        ).fetchall()
        checks = [
            row[0]
            for row in conn.execute(
                "SELECT conname FROM pg_constraint WHERE conrelid = 'app.\"Vendors\"'::regclass "
                "AND contype = 'c'"
            )
        ]
    return nullable, values, checks


def test_backfill_then_set_not_null_on_a_quoted_table_in_a_schema(tmp_path, database_url):
    """Batches smaller than the table (25 rows, 4 a batch) fill every NULL, the NOT NULL
    holds, and the temporary CHECK is gone."""
    body = [
        *backfill("Vendors", "Country", "'US'", schema="app", batch_size=4),
        *set_not_null("Vendors", "Country", schema="app"),
    ]
    _upgrade(tmp_path, database_url, body)
    assert _column(database_url) == ("NO", [("FR", 8), ("US", 17)], [])


def test_set_not_null_fails_at_validate_when_a_row_is_null(tmp_path, database_url):
    """Without the backfill the VALIDATE refuses and the column stays nullable; the NOT
    VALID check was committed before it (why the fix that writes this is unsafe)."""
    with pytest.raises(Exception, match="is violated by some row"):
        _upgrade(tmp_path, database_url, set_not_null("Vendors", "Country", schema="app"))
    nullable, _, checks = _column(database_url)
    assert (nullable, checks) == ("YES", ["ck_Vendors_Country_not_null"])


def test_set_not_null_under_the_projects_ck_convention(tmp_path, database_url):
    """env.py's target_metadata with revisor init's `ck` template (%(constraint_name)s):
    Alembic runs a plain name given to op.create_check_constraint through it, which
    would turn ck_Vendors_Country_not_null into ck_Vendors_ck_Vendors_... and leave the
    VALIDATE naming a constraint that does not exist. op.f() keeps the name final."""
    convention = {"ck": "ck_%(table_name)s_%(constraint_name)s"}
    body = [
        *backfill("Vendors", "Country", "'US'", schema="app", batch_size=4),
        *set_not_null("Vendors", "Country", schema="app", convention=convention),
    ]
    ini = write_history(
        tmp_path, [("a1", None, SEED, "pass"), ("b2", "a1", "\n".join(body), "pass")]
    )
    env_py = tmp_path / "migrations" / "env.py"
    env_py.write_text(
        env_py.read_text().replace(
            "target_metadata = None\n",
            "import sqlalchemy as sa\n"
            f"target_metadata = sa.MetaData(naming_convention={convention!r})\n",
        )
    )
    config = Config(str(ini))
    config.set_main_option("sqlalchemy.url", database_url.sqlalchemy_url.replace("%", "%%"))
    command.upgrade(config, "head")
    assert _column(database_url) == ("NO", [("FR", 8), ("US", 17)], [])


def test_check_name_follows_the_projects_convention():
    assert not_null_check_name("vendors", "country") == "ck_vendors_country_not_null"
    convention = {"ck": "chk_%(table_name)s_%(constraint_name)s"}
    assert (
        not_null_check_name("vendors", "country", convention=convention)
        == "chk_vendors_country_not_null"
    )


MANY = """
op.create_table(
    "notes",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("body", sa.Text),
    sa.Column("tag", sa.Text),
)
op.execute(
    "INSERT INTO notes (id, body, tag) SELECT g, repeat('x', 200), "
    "CASE WHEN g % 10 = 0 THEN 'kept' END FROM generate_series(1, 3000) g"
)
op.execute("ANALYZE notes")
"""


def test_backfill_walks_every_page_and_keeps_colons_literal(tmp_path, database_url):
    """3,000 rows of ~230 bytes span ~100 pages, 50 rows a batch: many page ranges. Each
    NULL gets its own value (an expression of the row, with a `:` that sa.text() must not
    take for a parameter, next to a `::` cast); the rows that had a value keep it."""
    body = backfill("notes", "tag", "' :v' || id::text", batch_size=50)
    ini = write_history(
        tmp_path, [("a1", None, MANY, "pass"), ("b2", "a1", "\n".join(body), "pass")]
    )
    config = Config(str(ini))
    config.set_main_option("sqlalchemy.url", database_url.sqlalchemy_url.replace("%", "%%"))
    command.upgrade(config, "head")
    with psycopg.connect(**database_url.libpq_kwargs()) as conn:
        wrong = conn.execute(
            "SELECT count(*) FROM notes WHERE tag IS DISTINCT FROM "
            "CASE WHEN id % 10 = 0 THEN 'kept' ELSE ' :v' || id END"
        ).fetchone()[0]
        pages = conn.execute("SELECT pg_relation_size('notes') / 8192").fetchone()[0]
    assert wrong == 0
    assert pages > 60  # the walk really had many ranges to cover
