"""`revisor draft` on the shared fixture histories: no false changes, clear errors."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revisor import migrate
from revisor.cli import app
from revisor.db.url import DatabaseUrl
from revisor.draft import draft
from revisor.project import Project
from tests.conftest import HISTORIES


def _cases(with_metadata: bool) -> list[str]:
    found = []
    for case in sorted(HISTORIES.glob("*/case.toml")):
        meta = tomllib.loads(case.read_text())
        if meta.get("roundtrip") != "clean" or meta.get("needs_extension"):
            continue
        if len(meta.get("heads", [])) != 1:
            continue
        if ("target_metadata" in meta) == with_metadata:
            found.append(case.parent.name)
    return found


def _copy(case: str, tmp_path: Path) -> Path:
    target = tmp_path / case
    shutil.copytree(HISTORIES / case, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.mark.parametrize("case", _cases(with_metadata=True))
def test_models_matching_their_history_draft_nothing(
    case: str, tmp_path: Path, database_url_18: DatabaseUrl
):
    root = _copy(case, tmp_path)
    migrate.upgrade(Project.load(root / "alembic.ini"), database_url_18, "heads")
    result = draft(Project.load(root / "alembic.ini"), database_url_18, "probe")
    assert result.empty, result.operations
    assert not result.report.left_out


def test_env_without_target_metadata_is_a_usage_error(
    tmp_path: Path, database_url_18: DatabaseUrl, cli: CliRunner
):
    [case, *_] = _cases(with_metadata=False)
    root = _copy(case, tmp_path)
    migrate.upgrade(Project.load(root / "alembic.ini"), database_url_18, "heads")
    url = database_url_18.url.render_as_string(hide_password=False)
    result = cli.invoke(app, ["draft", "-c", str(root / "alembic.ini"), "--url", url, "-m", "x"])
    assert result.exit_code == 2, result.output
    assert "no target_metadata" in result.output
