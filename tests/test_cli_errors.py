"""Bad input: one clear message, a documented exit code, no traceback, no password."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revisor.cli import app
from revisor.exit_codes import ExitCode

SECRET = "s3cr3t-Pa55"


def invoke(cli: CliRunner, *args: str) -> tuple[int, str]:
    code, _, _, output = invoke_streams(cli, *args)
    return code, output


def invoke_streams(cli: CliRunner, *args: str, debug: bool = False) -> tuple[int, str, str, str]:
    """(exit code, stdout, stderr, both interleaved); never a password, and never a
    traceback unless `debug`."""
    result = cli.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert SECRET not in result.output
    assert ("Traceback" in result.output) == debug, result.output
    return result.exit_code, result.stdout, result.stderr, result.output


def test_missing_alembic_ini(cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / ".git").mkdir()  # the search goes up to the repository root, no further
    monkeypatch.chdir(tmp_path)
    code, out = invoke(cli, "status", "--offline")
    assert code == ExitCode.USAGE
    assert "No alembic.ini or [tool.alembic]" in out


def test_status_says_the_config_was_found_in_a_parent_folder(
    cli: CliRunner, example_project: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(example_project / "app")
    code, out = invoke(cli, "status", "--offline")
    assert code == ExitCode.OK, out
    ini = (example_project / "alembic.ini").resolve()
    assert f"config:     {ini} (found in a parent folder of the current one)" in out
    assert "heads:      f72272eba32a" in out
    monkeypatch.chdir(example_project)
    code, out = invoke(cli, "status", "--offline")
    assert f"config:     {ini}\n" in out
    monkeypatch.setenv("REVISOR_CONFIG", str(ini))
    code, out = invoke(cli, "status", "--offline")
    assert f"config:     {ini} (-c/REVISOR_CONFIG)" in out


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


def test_doctor_on_a_role_without_createdb_replays_elsewhere(
    cli: CliRunner, example_project: Path, password_role: str
):
    """doctor --url on a server where the role may not create databases: the replay goes
    to the embedded server (said in one line), the database is still read and diagnosed,
    and nothing is created on it."""
    import psycopg

    url = password_role.replace("RIGHT", SECRET)
    code, out = invoke(cli, "doctor", "-c", str(example_project / "alembic.ini"), "--url", url)
    assert code in (ExitCode.OK, ExitCode.FINDINGS), out
    assert "scratch databases on revisor's embedded PostgreSQL" in out, out
    assert "DR100" in out  # the empty database, diagnosed
    assert SECRET not in out
    with psycopg.connect(url) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone()[0] == 0


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


# --- malformed URLs: exit 2, the password masked, wherever the URL came from ------------

MALFORMED = {
    "scheme-without-colon": (
        f"postgresql//app:{SECRET}@db.example.com/app",
        "'postgresql//app:***@db.example.com/app' (from {source}): it does not start with "
        "postgresql://",
    ),
    "port-not-a-number": (
        f"postgresql://app:{SECRET}@db.example.com:notaport/app",
        "'postgresql://app:***@db.example.com:notaport/app' (from {source}): the port "
        "'notaport' is not a number",
    ),
}
URL_COMMANDS = {
    "status": ["status"],
    "test": ["test"],
    "check": ["check"],
    "draft": ["draft", "-m", "probe"],
    "deploy": ["deploy"],
    "doctor": ["doctor"],
    "redo": ["redo", "--dry-run"],
    "demo": ["demo"],
}


def with_config_url(ini: Path, url: str) -> None:
    """Put `url` in alembic.ini as sqlalchemy.url."""
    ini.write_text(ini.read_text().replace("[alembic]\n", f"[alembic]\nsqlalchemy.url = {url}\n"))


@pytest.mark.parametrize("source", ["--url", "DATABASE_URL", "sqlalchemy.url"])
@pytest.mark.parametrize("shape", sorted(MALFORMED))
@pytest.mark.parametrize("command", sorted(URL_COMMANDS))
def test_malformed_url_is_a_usage_error_with_the_password_masked(
    cli: CliRunner,
    example_project: Path,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
    shape: str,
    command: str,
):
    url, expected = MALFORMED[shape]
    ini = example_project / "alembic.ini"
    args = list(URL_COMMANDS[command])
    if command != "demo":
        args += ["-c", str(ini)]
    elif source == "sqlalchemy.url":
        pytest.skip("demo uses its own example project, not the user's alembic.ini")
    if source == "--url":
        args += ["--url", url]
    elif source == "DATABASE_URL":
        monkeypatch.setenv("DATABASE_URL", url)
    else:
        with_config_url(ini, url)
    code, _, err, out = invoke_streams(cli, *args)
    assert code == ExitCode.USAGE, out
    assert err.count("error:") == 1 and err.startswith("error: Invalid database URL"), out
    assert expected.format(source=source) in err


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"postgresql://app:{SECRET}@db.example.com:99999/app", "port 99999 is out of range"),
        (
            f"postgresql://app:{SECRET}@db.example.com/app?ssl=require",
            "'ssl' is not a PostgreSQL connection option",
        ),
        (
            f"postgresql://app@db.example.com/app?password={SECRET}&bogus=1",
            "?bogus=1&password=***' (from --url): 'bogus' is not a PostgreSQL connection option",
        ),
    ],
    ids=["port-out-of-range", "asyncpg-ssl-option", "unknown-option"],
)
def test_url_libpq_would_refuse_is_a_usage_error(
    cli: CliRunner, example_project: Path, url: str, message: str
):
    code, out = invoke(cli, "status", "-c", str(example_project / "alembic.ini"), "--url", url)
    assert code == ExitCode.USAGE, out
    assert message in out
    if "ssl=" in url:
        assert "write sslmode= instead of ssl=" in out


@pytest.mark.parametrize("command", ["status", "check", "doctor", "deploy"])
def test_option_value_libpq_refuses_is_a_usage_error(
    cli: CliRunner, example_project: Path, pg18, command: str
):
    """Values are only checked by libpq when it connects (`sslmode=nonsense`)."""
    host = pg18.url.url.query["host"]
    url = f"postgresql://postgres:{SECRET}@/postgres?host={host}&sslmode=nonsense"
    code, out = invoke(cli, command, "-c", str(example_project / "alembic.ini"), "--url", url)
    assert code == ExitCode.USAGE, out
    assert 'invalid sslmode value: "nonsense"' in out and "postgres:***@" in out
    assert "libpq-connect" in out  # the hint points at libpq's parameters


def test_url_without_host_is_a_connection_error_that_says_so(
    cli: CliRunner, example_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PGHOST", str(tmp_path))  # libpq's default socket: nothing there
    url = f"postgresql://:{SECRET}@/app"
    code, out = invoke(cli, "status", "-c", str(example_project / "alembic.ini"), "--url", url)
    assert code == ExitCode.DATABASE, out
    assert "Cannot connect to postgresql+psycopg://:***@/app" in out
    assert "The URL names no host" in out


@pytest.mark.parametrize(
    ("password", "why"),
    [(f"{SECRET}%zz", "a % is neither %% nor %(name)s"), (f"{SECRET}%(pw)s", "%(pw)s is not")],
    ids=["lone-percent", "undefined-key"],
)
@pytest.mark.parametrize("command", ["status", "review", "check"])
def test_config_url_configparser_cannot_read(
    cli: CliRunner, example_project: Path, password: str, why: str, command: str
):
    """alembic.ini is read with %-interpolation: a percent-encoded password must be %%."""
    ini = example_project / "alembic.ini"
    with_config_url(ini, f"postgresql://app:{password}@localhost/app")
    code, out = invoke(cli, command, "-c", str(ini))
    assert code == ExitCode.USAGE, out
    assert (
        "sqlalchemy.url in" in out and "cannot be read (postgresql://app:***@localhost/app)" in out
    )
    assert why in out and "p%%40ss" in out


# --- --debug shows the traceback and keeps the exit code -------------------------------


def crash(*args: object, **kwargs: object) -> None:
    raise RuntimeError(f"boom at postgresql://app:{SECRET}@db.example.com/app")


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_debug_keeps_the_exit_code_of_a_revisor_error(cli: CliRunner, tmp_path: Path, debug):
    args = ["status", "--offline", "-c", str(tmp_path / "nope.ini")]
    code, _, err, _ = invoke_streams(cli, *args, *(["--debug"] if debug else []), debug=debug)
    assert code == ExitCode.USAGE
    assert "error: Alembic config file not found" in err
    assert ("raise ConfigNotFound" in err) == debug


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_debug_keeps_the_exit_code_of_an_internal_error(
    cli: CliRunner, example_project: Path, monkeypatch: pytest.MonkeyPatch, debug: bool
):
    monkeypatch.setattr("revisor.status.project_status", crash)
    args = ["status", "--offline", "-c", str(example_project / "alembic.ini")]
    code, _, err, _ = invoke_streams(cli, *args, *(["--debug"] if debug else []), debug=debug)
    assert code == ExitCode.INTERNAL
    assert "internal error: RuntimeError: boom at postgresql://app:***@db.example.com" in err
    assert ("in crash" in err) == debug  # the traceback's last frame


# --- --format json: every error exit is one JSON object on stdout -----------------------

JSON_COMMANDS = ["check", "deploy", "doctor", "review", "test"]


def error_object(stdout: str, code: ExitCode) -> dict[str, object]:
    payload = json.loads(stdout)  # stdout holds the object and nothing else
    assert payload["status"] == "error" and payload["exit_code"] == int(code)
    assert set(payload) == {"status", "exit_code", "error", "hint"}
    return payload


@pytest.mark.parametrize("command", JSON_COMMANDS)
def test_json_error_on_a_usage_error(cli: CliRunner, tmp_path: Path, command: str):
    args = [command, "-c", str(tmp_path / "nope.ini"), "--format", "json"]
    code, out, err, _ = invoke_streams(cli, *args)
    assert code == ExitCode.USAGE
    payload = error_object(out, ExitCode.USAGE)
    assert str(payload["error"]).startswith("Alembic config file not found")
    assert "error: Alembic config file not found" in err  # people still read stderr


@pytest.mark.parametrize("command", [c for c in JSON_COMMANDS if c != "review"])
def test_json_error_on_a_database_error(cli: CliRunner, example_project: Path, command: str):
    url = f"postgresql://app:{SECRET}@127.0.0.1:1/app"
    args = [command, "-c", str(example_project / "alembic.ini"), "--url", url, "-f", "json"]
    code, out, _, _ = invoke_streams(cli, *args)
    assert code == ExitCode.DATABASE
    assert "Cannot connect to postgresql+psycopg://app:***@127.0.0.1:1" in str(
        error_object(out, ExitCode.DATABASE)["error"]
    )


@pytest.mark.parametrize("command", JSON_COMMANDS)
def test_json_error_on_a_command_line_error(cli: CliRunner, command: str):
    code, out, _, _ = invoke_streams(cli, command, "--format=json", "--no-such-option")
    assert code == ExitCode.USAGE
    assert "No such option: --no-such-option" in str(error_object(out, ExitCode.USAGE)["error"])


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_json_error_on_an_internal_error(
    cli: CliRunner, example_project: Path, monkeypatch: pytest.MonkeyPatch, debug: bool
):
    monkeypatch.setattr("revisor.review.review", crash)
    args = ["review", "-c", str(example_project / "alembic.ini"), "-f", "json"]
    code, out, _, _ = invoke_streams(cli, *args, *(["--debug"] if debug else []), debug=debug)
    assert code == ExitCode.INTERNAL
    payload = error_object(out, ExitCode.INTERNAL)
    assert payload["error"] == (
        "internal error: RuntimeError: boom at postgresql://app:***@db.example.com/app"
    )


def test_a_reader_that_goes_away_is_an_interruption_not_an_internal_error() -> None:
    """`revisor rules | head -1`: the pipe closes before revisor is done writing."""
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "revisor", "rules"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line is written
    stderr = proc.stderr.read()
    assert proc.wait(timeout=60) == ExitCode.INTERRUPTED, stderr
    assert "internal error" not in stderr and "Traceback" not in stderr, stderr
