"""Bad input: one clear message, a documented exit code, no traceback, no password."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revisor.cli import app
from revisor.exit_codes import ExitCode

SECRET = "s3cr3t-Pa55"


def invoke(cli: CliRunner, *args: str) -> tuple[int, str]:
    result = cli.invoke(app, list(args))
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "Traceback" not in output
    assert SECRET not in output
    return result.exit_code, output


def test_missing_alembic_ini(cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    code, out = invoke(cli, "status", "--offline")
    assert code == ExitCode.USAGE
    assert "No alembic.ini or [tool.alembic]" in out


def test_explicit_config_missing(cli: CliRunner, tmp_path: Path):
    code, out = invoke(cli, "status", "-c", str(tmp_path / "nope.ini"), "--offline")
    assert code == ExitCode.USAGE
    assert "not found" in out and "nope.ini" in out


@pytest.mark.parametrize(
    ("url", "dialect"),
    [("sqlite:///app.db", "sqlite"), (f"mysql+pymysql://root:{SECRET}@localhost/app", "mysql")],
)
def test_non_postgresql_url(cli: CliRunner, example_project: Path, url: str, dialect: str):
    code, out = invoke(cli, "status", "-c", str(example_project / "alembic.ini"), "--url", url)
    assert code == ExitCode.USAGE
    assert "PostgreSQL only" in out and dialect in out


def test_unreachable_database(cli: CliRunner, example_project: Path):
    url = f"postgresql://app:{SECRET}@127.0.0.1:1/app"
    code, out = invoke(cli, "status", "-c", str(example_project / "alembic.ini"), "--url", url)
    assert code == ExitCode.DATABASE
    assert "Cannot connect" in out and "app:***@127.0.0.1:1" in out


def test_wrong_password(cli: CliRunner, example_project: Path, password_role: str):
    url = password_role.replace("RIGHT", "wrong-" + SECRET)
    code, out = invoke(cli, "status", "-c", str(example_project / "alembic.ini"), "--url", url)
    assert code == ExitCode.DATABASE
    assert "rejected the password" in out


def test_right_password_works(cli: CliRunner, example_project: Path, password_role: str):
    url = password_role.replace("RIGHT", SECRET)
    code, out = invoke(cli, "status", "-c", str(example_project / "alembic.ini"), "--url", url)
    assert code == ExitCode.OK, out
    assert "db at:      (not stamped) (6 revision(s) pending)" in out


def test_env_py_that_fails_to_import(cli: CliRunner, example_project: Path):
    env = example_project / "migrations" / "env.py"
    env.write_text("import app.no_such_module\n" + env.read_text())
    code, out = invoke(cli, "status", "-c", str(example_project / "alembic.ini"), "--offline")
    # status reports the models problem and still shows the rest
    assert code == ExitCode.OK
    assert "env.py failed to load" in out and "app.no_such_module" in out


def test_revision_file_that_does_not_import(cli: CliRunner, example_project: Path):
    bad = example_project / "migrations" / "versions" / "0000_broken.py"
    bad.write_text(
        textwrap.dedent("""
        revision = "0000broken"
        down_revision = "f72272eba32a"
        def upgrade(:
            pass
    """)
    )
    code, out = invoke(cli, "status", "-c", str(example_project / "alembic.ini"), "--offline")
    assert code == ExitCode.USAGE
    assert "0000_broken.py cannot be imported" in out and "SyntaxError" in out


def test_bad_pyproject_settings(cli: CliRunner, example_project: Path):
    (example_project / "pyproject.toml").write_text("[tool.revisor]\nmetadata = 3\n")
    code, out = invoke(cli, "status", "-c", str(example_project / "alembic.ini"), "--offline")
    assert code == ExitCode.USAGE
    assert "metadata" in out and "must be a string" in out


def test_exit_code_docs_are_current():
    from revisor.exit_codes import render_markdown

    docs = Path(__file__).resolve().parents[1] / "docs" / "exit-codes.md"
    assert docs.read_text() == render_markdown()


def test_config_that_is_not_an_ini_file(cli: CliRunner, tmp_path: Path):
    bogus = tmp_path / "alembic.ini"
    bogus.write_text("this is not\nan ini file\n")
    code, out = invoke(cli, "status", "-c", str(bogus), "--offline")
    assert code == ExitCode.USAGE
    assert "is not an Alembic ini file" in out


def test_role_without_createdb_gets_scratch_databases_elsewhere(
    cli: CliRunner, example_project: Path, password_role: str
):
    """--url names a server whose role may not create databases: the scratch databases go
    to the embedded server, said in one line; naming that server for the scratch
    databases themselves is an error that says what is missing."""
    url = password_role.replace("RIGHT", SECRET)
    code, out = invoke(cli, "test", "-c", str(example_project / "alembic.ini"), "--url", url)
    assert code == ExitCode.FINDINGS, out  # the example's unnamed FK: the run happened
    assert "scratch databases on revisor's embedded PostgreSQL" in out
    assert "may not create databases" in out
    code, out = invoke(
        cli, "test", "-c", str(example_project / "alembic.ini"), "--scratch-url", url
    )
    assert code == ExitCode.DATABASE, out
    assert "may not create databases" in out and "CREATEDB" in out


def test_unknown_revision_argument(cli: CliRunner, example_project: Path):
    code, out = invoke(cli, "test", "-c", str(example_project / "alembic.ini"), "--from", "nosuch")
    assert code == ExitCode.USAGE
    assert "Unknown revision 'nosuch'" in out and "history is broken" not in out


@pytest.mark.parametrize("command", ["deploy", "doctor", "redo", "test", "check", "status"])
def test_wrong_password_in_the_query_string_is_not_printed(
    cli: CliRunner, example_project: Path, password_role: str, command: str
):
    """libpq also takes the password as `?password=...`; SQLAlchemy's masking hides only the
    user:password@ form, so every message naming the database printed it."""
    url = password_role.replace(":RIGHT@", "@").replace("?", f"?password=wrong-{SECRET}&")
    code, out = invoke(cli, command, "-c", str(example_project / "alembic.ini"), "--url", url)
    assert code == ExitCode.DATABASE, out
    assert "rejected the password" in out
    assert "password=***" in out


def test_alembic_init_placeholder_url_means_no_url(cli: CliRunner, example_project: Path):
    # `alembic init` writes sqlalchemy.url = driver://user:pass@localhost/dbname and most
    # projects leave it, reading DATABASE_URL in env.py: it is not a database to use.
    ini = example_project / "alembic.ini"
    ini.write_text(
        ini.read_text().replace(
            "[alembic]\n", "[alembic]\nsqlalchemy.url = driver://user:pass@localhost/dbname\n"
        )
    )
    code, output = invoke(cli, "status", "-c", str(ini))
    assert code == ExitCode.OK, output
    assert "revisor_dev_" in output  # the embedded development database
    code, output = invoke(cli, "deploy", "-c", str(ini))
    assert code == ExitCode.USAGE, output
    assert "needs the database to migrate" in output and "pass@" not in output
