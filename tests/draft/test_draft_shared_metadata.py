"""`revisor draft` reviews the new file with the models it drafted from. SQLModel keeps one
MetaData inside the installed library (`SQLModel.metadata`): importing the app's models a
second time in the same process fails there ("Table 'user' is already defined"), which cost
full-stack-fastapi-template's drafts every model check. Here a module outside the project
plays sqlmodel's part."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from revisor.db.url import DatabaseUrl
from tests.support.draft_projects import write_project

SHARED = "import sqlalchemy as sa\n\nmetadata = sa.MetaData()\n"
MODELS = """\
import sqlalchemy as sa

import shared_metadata


class Base:  # env.py reads models.Base.metadata
    metadata = shared_metadata.metadata


sa.Table(
    "vendors",
    Base.metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    {columns}
)
"""
FIRST = '''\
"""vendors"""
import sqlalchemy as sa
from alembic import op

revision = "a1a1a1a1a1a1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "vendors",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=True),
        sa.Column("code", sa.Text, nullable=True),
    )


def downgrade():
    op.drop_table("vendors")
'''


def _revisor(root: Path, library: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command in its own process, as a user runs it: one import of the models."""
    env = {**os.environ, "PYTHONPATH": str(library)}
    return subprocess.run(
        [sys.executable, "-m", "revisor", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_draft_reviews_with_the_models_it_drafted_from(
    tmp_path: Path, database_url_18: DatabaseUrl
) -> None:
    library = tmp_path / "site"
    library.mkdir()
    (library / "shared_metadata.py").write_text(SHARED)
    root = tmp_path / "project"
    root.mkdir()
    write_project(root, "", migrations={"a1a1a1a1a1a1_vendors.py": FIRST})
    columns = 'sa.Column("name", sa.Text), sa.Column("code", sa.Text),'
    (root / "models.py").write_text(MODELS.format(columns=columns))
    (root / "pyproject.toml").write_text('[tool.revisor]\nmetadata = "models:Base.metadata"\n')
    url = database_url_18.url.render_as_string(hide_password=False)
    upgraded = _revisor(root, library, "db", "upgrade", "heads", "--url", url)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    # vendors.name dropped (RV110 reads the models to review that) and vendors.code indexed
    # (RV301 warns: review prints its notes only beside a finding)
    (root / "models.py").write_text(
        MODELS.format(columns='sa.Column("code", sa.Text, index=True),')
    )

    drafted = _revisor(
        root, library, "draft", "--url", url, "-m", "drop name", "--allow-drop", "vendors.name"
    )

    output = drafted.stdout + drafted.stderr
    assert "op.drop_column('vendors', 'name')" in output, output
    assert "model checks skipped" not in output, output
    assert "already defined" not in output, output
    assert "RV301" in output, output
    assert drafted.returncode == 0, output
