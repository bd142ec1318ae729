"""`pytest --revisor` in a user's project: collected items, failures, fixtures; and nothing
at all without the flag."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.mini_history import ACCOUNTS, ORDERS, write_history

USER_TEST = """
import sqlalchemy as sa
from revisor import migrate
from revisor.db.url import parse_url


def test_data_migration(revisor_project, revisor_database):
    url = parse_url(revisor_database, source="test")
    migrate.upgrade(revisor_project, url, "a1")
    engine = sa.create_engine(revisor_database)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO accounts (email) VALUES ('x@example.com')"))
    migrate.upgrade(revisor_project, url, "heads")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM accounts")).scalar() == 1
    engine.dispose()
"""


def pytest_in(path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", *args],
        cwd=path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_plugin_collects_and_names_the_failing_revision(tmp_path, pg18):
    forgetful = ("c3", "b2", 'op.create_index("ix_o", "orders", ["placed_on"])', "pass")
    write_history(tmp_path, [ACCOUNTS, ORDERS, forgetful])
    (tmp_path / "test_user.py").write_text(USER_TEST)
    url = pg18.url.url.render_as_string(hide_password=False)
    run = pytest_in(tmp_path, "--revisor", "--revisor-url", url)
    out = run.stdout
    assert run.returncode == 1, out + run.stderr
    assert "PASSED revisor::single_head" in out
    assert "PASSED revisor::roundtrip[a1]" in out
    assert "PASSED revisor::roundtrip[b2]" in out
    assert "FAILED revisor::roundtrip[c3]" in out
    assert "RT103 downgrade of c3 left index ix_o on orders" in out
    assert "no models to compare" in out  # models_match runs check's engine; no models here
    assert "PASSED test_user.py::test_data_migration" in out


def test_plugin_is_silent_without_the_flag(tmp_path):
    write_history(tmp_path, [ACCOUNTS])
    (tmp_path / "test_nothing.py").write_text("def test_ok():\n    pass\n")
    run = pytest_in(tmp_path)
    assert run.returncode == 0, run.stdout
    assert "revisor::" not in run.stdout
    assert "1 passed" in run.stdout


def test_models_that_fail_to_import_fail_the_models_item(tmp_path, pg18):
    """[tool.revisor] metadata names a module that raises on import: models_match fails
    (it used to be skipped, and the run was green)."""
    write_history(tmp_path, [ACCOUNTS])
    (tmp_path / "broken_models.py").write_text("raise RuntimeError('settings missing')\n")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.revisor]\nmetadata = "broken_models:Base.metadata"\n'
    )
    url = pg18.url.url.render_as_string(hide_password=False)
    run = pytest_in(tmp_path, "--revisor", "--revisor-url", url)
    out = run.stdout
    assert run.returncode == 1, out + run.stderr
    assert "FAILED revisor::models_match" in out
    assert "settings missing" in out


def test_plugin_applies_tool_revisor_to_test_codes(tmp_path, pg18):
    """The round-trip items follow [tool.revisor] as `revisor test` does: a code made a
    warning no longer fails its revision's item."""
    forgetful = ("c3", "b2", 'op.create_index("ix_o", "orders", ["placed_on"])', "pass")
    write_history(tmp_path, [ACCOUNTS, ORDERS, forgetful])
    (tmp_path / "pyproject.toml").write_text('[tool.revisor]\nseverity = { RT103 = "warning" }\n')
    url = pg18.url.url.render_as_string(hide_password=False)
    run = pytest_in(tmp_path, "--revisor", "--revisor-url", url)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PASSED revisor::roundtrip[c3]" in run.stdout
