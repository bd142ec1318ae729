"""RV101's fix on autogenerate's shape after reading a database (full-stack-fastapi-template's
cascade revision): the upgrade creates the foreign key unnamed and the downgrade drops it by
PostgreSQL's name. The fixed history must still go up, down and up again."""

from __future__ import annotations

import json
from pathlib import Path

from revisor.cli import app
from tests.review.test_lock_fixes import server_url
from tests.support.mini_history import write_history

TABLES = (
    "a1",
    None,
    """
    op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))
    op.create_table(
        "items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("owner_id", sa.Integer, sa.ForeignKey("users.id")),
    )
    """,
    'op.drop_table("items")\nop.drop_table("users")',
)
CASCADE = (
    "b2",
    "a1",
    """
    op.drop_constraint("items_owner_id_fkey", "items", type_="foreignkey")
    op.create_foreign_key(None, "items", "users", ["owner_id"], ["id"], ondelete="CASCADE")
    """,
    """
    op.drop_constraint("items_owner_id_fkey", "items", type_="foreignkey")
    op.create_foreign_key("items_owner_id_fkey", "items", "users", ["owner_id"], ["id"])
    """,
)
MODELS = """
import sqlalchemy as sa

metadata = sa.MetaData()
sa.Table("users", metadata, sa.Column("id", sa.Integer, primary_key=True))
sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("owner_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE")),
)
"""


def test_fix_names_it_as_the_downgrade_drops_it_and_the_history_round_trips(
    cli, tmp_path: Path, pg_server, monkeypatch
) -> None:
    ini = write_history(tmp_path, [TABLES, CASCADE])
    (tmp_path / "rv101_models.py").write_text(MODELS)
    (tmp_path / "pyproject.toml").write_text('[tool.revisor]\nmetadata = "rv101_models:metadata"\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "migrations" / "versions" / "b2_rev.py"

    review = cli.invoke(app, ["review", "-c", str(ini), "--format", "json"])
    codes = [f["code"] for f in json.loads(review.stdout)["findings"]]
    assert "RV101" in codes, review.output

    fixed = cli.invoke(app, ["review", "-c", str(ini), "--fix"])
    assert fixed.exit_code in (0, 1), fixed.output
    assert 'op.create_foreign_key("items_owner_id_fkey", "items", "users"' in target.read_text()

    tested = cli.invoke(app, ["test", "-c", str(ini), "--url", server_url(pg_server)])
    assert tested.exit_code == 0, tested.output
