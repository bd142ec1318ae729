"""A server that writes its messages in German gives the same errors, exit codes and hints.

revisor classifies server errors by SQLSTATE (and, for a refused connection, whose code
libpq does not pass on, by asking the server), never by the English message text. This
is tested for real: PostgreSQL translates its messages only when built with NLS and when
the locale exists on the machine. Debian's PostgreSQL 15 has the translations
(/usr/share/locale/de/LC_MESSAGES/postgres-15.mo); the embedded PostgreSQL 18 has none
(built without --enable-nls, no share/locale). This machine has no locale but C, so the
fixture compiles de_DE.UTF-8 with glibc's localedef into a private folder the server
finds through LOCPATH. Each test runs with the server's lc_messages in German and in C.
Skipped where Debian's PostgreSQL or glibc's locale sources are missing.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from revisor.cli import app
from revisor.exit_codes import ExitCode
from tests.support import postgres_servers
from tests.support.drift_project import write_project
from tests.support.postgres_servers import compile_locale, start_debian

PASSWORD = "s3cr3t-Pa55"
TABLES = """\
class A(Base):
    __tablename__ = "a"
    id: Mapped[int] = mapped_column(primary_key=True)
"""


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[postgres_servers.TestServer, str]]:
    """Debian's PostgreSQL with a German locale it can use; (server, the locale's name)."""
    shm = Path("/dev/shm")
    base = Path(tempfile.mkdtemp(prefix="revisor-nls-", dir=shm if shm.is_dir() else None))
    try:
        locale = compile_locale(base / "locales")
        if locale is None:
            pytest.skip("glibc's localedef or its de_DE source is not installed")
        started = start_debian(
            base,
            hba=("local all pw_user scram-sha-256",),
            env={"LOCPATH": str(base / "locales")},
        )
        if started is None:
            pytest.skip("Debian's PostgreSQL is not installed here")
        with psycopg.connect(**started.url.libpq_kwargs(), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE pw_user LOGIN CREATEDB PASSWORD '{PASSWORD}'")
        yield started, locale
        started.stop()  # type: ignore[operator]
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["de", "C"])
def language(
    request: pytest.FixtureRequest, server: tuple[postgres_servers.TestServer, str]
) -> str:
    """The server's lc_messages for this test (connection errors use the server's own
    setting, so it is set server-wide and reloaded)."""
    test_server, locale = server
    value = locale if request.param == "de" else "C"
    with psycopg.connect(**test_server.url.libpq_kwargs(), autocommit=True) as conn:
        conn.execute(f"ALTER SYSTEM SET lc_messages = '{value}'")
        conn.execute("SELECT pg_reload_conf()")
    with psycopg.connect(**test_server.url.libpq_kwargs(), autocommit=True) as conn:
        try:
            conn.execute("SELECT * FROM revisor_no_such_table")
        except psycopg.errors.UndefinedTable as exc:
            german = "existiert nicht" in str(exc)
    # The test is only worth something if the server really speaks German.
    assert german is (request.param == "de"), "the server did not switch languages"
    return request.param


def _url(
    server: tuple[postgres_servers.TestServer, str], *, user: str = "postgres", **query: str
) -> str:
    url = server[0].url.url.set(username=user)
    if user == "pw_user":
        url = url.set(password=query.pop("password", PASSWORD))
    return url.update_query_dict(query).render_as_string(hide_password=False)


def invoke(cli: CliRunner, *args: str) -> tuple[int, str]:
    result = cli.invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result.exit_code, " ".join(result.output.split())


def test_wrong_password(
    cli: CliRunner,
    example_project: Path,
    server: tuple[postgres_servers.TestServer, str],
    language: str,
) -> None:
    url = _url(server, user="pw_user", password="wrong")
    code, out = invoke(cli, "status", "-c", str(example_project / "alembic.ini"), "--url", url)
    assert code == ExitCode.DATABASE
    assert "PostgreSQL rejected the password for user 'pw_user'" in out
    assert "Check the password in --url / DATABASE_URL" in out


def test_missing_database(
    cli: CliRunner,
    example_project: Path,
    server: tuple[postgres_servers.TestServer, str],
    language: str,
) -> None:
    url = _url(server, user="pw_user").replace("/postgres?", "/revisor_no_such_db?")
    code, out = invoke(cli, "status", "-c", str(example_project / "alembic.ini"), "--url", url)
    assert code == ExitCode.DATABASE
    assert "Database 'revisor_no_such_db' does not exist on" in out
    assert "Create it first (createdb)" in out


def test_server_refuses_an_option_of_the_url(
    cli: CliRunner,
    example_project: Path,
    server: tuple[postgres_servers.TestServer, str],
    language: str,
) -> None:
    url = _url(server, options="-c statement_timeout=soon")
    code, out = invoke(cli, "status", "-c", str(example_project / "alembic.ini"), "--url", url)
    assert code == ExitCode.USAGE
    assert "Invalid database URL" in out and "statement_timeout" in out


@pytest.mark.parametrize(
    ("upgrade", "extension"),
    [
        (
            "op.execute('CREATE EXTENSION IF NOT EXISTS \"revisor_no_such_ext\"')",
            "revisor_no_such_ext",
        ),
        (
            'op.create_table("t", sa.Column("id", sa.Uuid(), '
            'server_default=sa.text("uuid_generate_v4()"), primary_key=True))',
            "uuid-ossp",
        ),
    ],
    ids=["create-extension", "extension-function"],
)
def test_missing_extension_is_named(
    cli: CliRunner,
    tmp_path: Path,
    server: tuple[postgres_servers.TestServer, str],
    language: str,
    monkeypatch: pytest.MonkeyPatch,
    upgrade: str,
    extension: str,
) -> None:
    """`revisor check` runs the history on a scratch database of DATABASE_URL's server."""
    monkeypatch.setenv("DATABASE_URL", _url(server))
    write_project(tmp_path, TABLES, [("r1", "a", None, upgrade, "")])
    code, out = invoke(cli, "check", "-c", str(tmp_path / "alembic.ini"))
    assert code == ExitCode.DATABASE, out
    assert f'needs the PostgreSQL extension "{extension}"' in out
    assert "Point revisor at a server that has it" in out
