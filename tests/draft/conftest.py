"""Fixtures for `revisor draft` scenarios on a real PostgreSQL (18 and 15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from revisor.db.url import DatabaseUrl
from tests.support.draft_projects import DraftScenario


@pytest.fixture
def scenario(tmp_path: Path, database_url: DatabaseUrl) -> DraftScenario:
    """An empty project folder and a fresh database, on every PostgreSQL version."""
    return DraftScenario(tmp_path / "proj", database_url)
