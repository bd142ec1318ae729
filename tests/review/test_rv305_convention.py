"""RV305's fix under revisor init's `ck` convention (microblog after `revisor init
--write`): Alembic stores `op.create_check_constraint("karma_positive", ...)` as
ck_<table>_karma_positive, so the VALIDATE the fix writes must name that, and the fixed
history must run."""

from __future__ import annotations

from pathlib import Path

import psycopg

from revisor.cli import app
from tests.review.test_lock_fixes import server_url
from tests.support.mini_history import write_history

CONVENTION = {"ck": "ck_%(table_name)s_%(constraint_name)s"}
USERS = (
    "a1",
    None,
    'op.create_table("users", sa.Column("id", sa.Integer, primary_key=True), '
    'sa.Column("karma", sa.Integer))\n'
    'op.execute("INSERT INTO users (id, karma) SELECT g, g FROM generate_series(1, 50) g")',
    'op.drop_table("users")',
)
CHECK = (
    "b2",
    "a1",
    'op.create_check_constraint("karma_positive", "users", "karma >= 0")',
    'op.drop_constraint("karma_positive", "users", type_="check")',
)
MODELS = f"""
import sqlalchemy as sa

metadata = sa.MetaData(naming_convention={CONVENTION!r})
sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("karma", sa.Integer),
    sa.CheckConstraint("karma >= 0", name="karma_positive"),
)
"""


def test_the_fixed_validate_names_the_constraint_as_stored(
    cli, tmp_path: Path, pg_server, monkeypatch
) -> None:
    ini = write_history(tmp_path, [USERS, CHECK])
    (tmp_path / "rv305_models.py").write_text(MODELS)
    env_py = tmp_path / "migrations" / "env.py"
    env_py.write_text(
        env_py.read_text().replace(
            "target_metadata = None\n",
            "import rv305_models\ntarget_metadata = rv305_models.metadata\n",
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)

    fixed = cli.invoke(app, ["review", "-c", str(ini), "--fix", "--unsafe-fixes"])
    assert fixed.exit_code in (0, 1), fixed.output
    text = (tmp_path / "migrations" / "versions" / "b2_rev.py").read_text()
    assert "VALIDATE CONSTRAINT ck_users_karma_positive" in text, text

    tested = cli.invoke(app, ["test", "-c", str(ini), "--url", server_url(pg_server)])
    assert tested.exit_code == 0, tested.output


UNNAMED = (
    "b2",
    "a1",
    'op.create_check_constraint(None, "users", "karma >= 0")',
    'op.drop_constraint(None, "users", type_="check")',
)


def test_rv101_names_a_check_as_postgresql_then_stores_it(
    cli, tmp_path: Path, database_url, monkeypatch
) -> None:
    """RV101's fix under the same convention: the name it prints is the stored one (a
    plain name would be stored as ck_users_ck_users_karma), and the history round-trips."""
    ini = write_history(tmp_path, [USERS, UNNAMED])
    (tmp_path / "rv305_models.py").write_text(MODELS)
    env_py = tmp_path / "migrations" / "env.py"
    env_py.write_text(
        env_py.read_text().replace(
            "target_metadata = None\n",
            "import rv305_models\ntarget_metadata = rv305_models.metadata\n",
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)

    fixed = cli.invoke(app, ["review", "-c", str(ini), "--fix"])
    assert fixed.exit_code in (0, 1), fixed.output
    text = (tmp_path / "migrations" / "versions" / "b2_rev.py").read_text()
    assert 'op.create_check_constraint(op.f("ck_users_karma"), "users"' in text, text

    url = database_url.sqlalchemy_url
    assert cli.invoke(app, ["db", "upgrade", "heads", "-c", str(ini), "--url", url]).exit_code == 0
    with psycopg.connect(**database_url.libpq_kwargs()) as conn:
        names = conn.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'users'::regclass AND contype = 'c'"
        ).fetchall()
    assert names == [("ck_users_karma",)]
    downgraded = cli.invoke(app, ["db", "downgrade", "base", "-c", str(ini), "--url", url])
    assert downgraded.exit_code == 0, downgraded.output
