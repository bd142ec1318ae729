"""Running a project's migrations in-process, on every available PostgreSQL version."""

from __future__ import annotations

from pathlib import Path

import pytest

from revisor import migrate
from revisor.db.url import DatabaseUrl
from revisor.errors import ExtensionMissing, MigrationFailed
from revisor.project import Project


def test_example_upgrade_downgrade_reapply(example_project: Path, database_url: DatabaseUrl):
    project = Project.load(example_project / "alembic.ini")
    run = migrate.upgrade(project, database_url, "heads")
    assert [rev for rev, _ in run.applied][-1] == "f72272eba32a"
    assert len(run.applied) == 6
    migrate.downgrade(project, database_url, "-1")
    assert migrate.current_heads(database_url) == ("2cffc65fb01a",)
    migrate.upgrade(project, database_url, "heads")
    assert migrate.current_heads(database_url) == ("f72272eba32a",)


def test_unnamed_constraint_downgrade_fails_with_revision(
    example_project: Path, database_url: DatabaseUrl
):
    project = Project.load(example_project / "alembic.ini")
    migrate.upgrade(project, database_url, "e6995e90df34")
    with pytest.raises(MigrationFailed) as caught:
        migrate.downgrade(project, database_url, "-1")
    assert caught.value.revision == "e6995e90df34"
    assert "no name" in caught.value.message
    # the failed step rolled back: still at the same revision
    assert migrate.current_heads(database_url) == ("e6995e90df34",)


def test_missing_extension_is_named(example_project: Path, database_url_18: DatabaseUrl):
    versions = example_project / "migrations" / "versions"
    (versions / "aaaa_uuid.py").write_text(
        'from alembic import op\nrevision = "aaaa11112222"\ndown_revision = "f72272eba32a"\n'
        "branch_labels = None\ndepends_on = None\n"
        "def upgrade():\n    op.execute('CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\"')\n"
        "def downgrade():\n    pass\n"
    )
    project = Project.load(example_project / "alembic.ini")
    embedded = DatabaseUrl(database_url_18.url, "embedded")
    with pytest.raises(ExtensionMissing) as caught:
        migrate.upgrade(project, embedded, "heads")
    assert caught.value.extension == "uuid-ossp"
    assert caught.value.revision == "aaaa11112222"
    assert "--url" in (caught.value.hint or "")
