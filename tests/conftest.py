"""Shared fixtures: real PostgreSQL servers (PG 18 embedded, PG 15 where installed), a fresh
database per test, and the CLI runner."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revisor.db.scratch import create_database, drop_database
from revisor.db.url import DatabaseUrl
from tests.support.postgres_servers import TestServer, start_debian, start_embedded

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "better_call_buffet"
HISTORIES = ROOT / "tests" / "fixtures" / "histories"

_servers: dict[str, TestServer | None] = {}
# The servers' data in memory where the machine has a tmpfs: CREATE DATABASE (every test's
# database, every scratch database) copies and WAL-logs the template, 5-10x faster there.
_shm = Path("/dev/shm")
_base = Path(
    tempfile.mkdtemp(
        prefix="revisor-tests-", dir=_shm if _shm.is_dir() and os.access(_shm, os.W_OK) else None
    )
)


def _server(version: str) -> TestServer | None:
    if version not in _servers:
        _servers[version] = start_embedded(_base) if version == "18" else start_debian(_base)
    return _servers[version]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for server in _servers.values():
        if server is not None:
            server.stop()  # type: ignore[operator]
    shutil.rmtree(_base, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache() -> Iterator[None]:
    """CLI runs without --url use the embedded server: give it a per-session cache dir and
    keep the developer's DATABASE_URL out of the tests.

    Not under pytest's basetemp: pytest re-chmods pytest-of-<user> to 0700 whenever a
    (xdist) worker starts, which locks out the server's own system user mid-run."""
    old = {k: os.environ.get(k) for k in ("REVISOR_CACHE_DIR", "DATABASE_URL")}
    os.environ["REVISOR_CACHE_DIR"] = str(_base / "revisor-cache")
    os.environ.pop("DATABASE_URL", None)
    yield
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session", params=["18", "15"], ids=lambda v: f"pg{v}")
def pg_server(request: pytest.FixtureRequest) -> TestServer:
    """A running PostgreSQL server; tests using it run once per available version."""
    server = _server(request.param)
    if server is None:
        pytest.skip(f"PostgreSQL {request.param} is not installed here")
    return server


@pytest.fixture(scope="session")
def pg18() -> TestServer:
    """The embedded PostgreSQL 18 alone, for tests that need not run on every version."""
    server = _server("18")
    assert server is not None
    return server


@pytest.fixture
def database_url(pg_server: TestServer) -> Iterator[DatabaseUrl]:
    """A fresh empty database on each server version, dropped after the test."""
    name = f"t_{secrets.token_hex(5)}"
    url = create_database(pg_server.url, name)
    yield url
    drop_database(pg_server.url, name)


@pytest.fixture
def database_url_18(pg18: TestServer) -> Iterator[DatabaseUrl]:
    """A fresh empty database on PostgreSQL 18 only."""
    name = f"t_{secrets.token_hex(5)}"
    url = create_database(pg18.url, name)
    yield url
    drop_database(pg18.url, name)


@pytest.fixture
def example_project(tmp_path: Path) -> Path:
    """A private copy of the Better Call Buffet example (tests may rewrite its files)."""
    target = tmp_path / "better_call_buffet"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="session")
def password_role(pg18: TestServer) -> str:
    """A role that must log in with a password (scram) on the PG 18 server; returns its URL
    with the placeholder RIGHT where the password goes. The password is s3cr3t-Pa55."""
    import psycopg

    with psycopg.connect(**pg18.url.libpq_kwargs(), autocommit=True) as conn:
        conn.execute("CREATE ROLE pwuser LOGIN PASSWORD 's3cr3t-Pa55'")
        conn.execute("CREATE DATABASE pwdb OWNER pwuser")
        hba = conn.execute("SHOW hba_file").fetchone()[0]
    lines = Path(hba).read_text()
    Path(hba).write_text("local all pwuser scram-sha-256\n" + lines)
    with psycopg.connect(**pg18.url.libpq_kwargs(), autocommit=True) as conn:
        conn.execute("SELECT pg_reload_conf()")
    host = pg18.url.url.query["host"]
    return f"postgresql://pwuser:RIGHT@/pwdb?host={host}"
