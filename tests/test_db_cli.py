"""`revisor db …` through the real CLI on real PostgreSQL: alembic's commands on the
resolved database (through env.py), the URL (masked), psql, the embedded server kept up
by `db start` while other revisor processes come and go, and reset."""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from revisor import migrate
from revisor.cli import app
from revisor.db.url import DatabaseUrl
from revisor.exit_codes import ExitCode
from revisor.project import Project
from tests.support.mini_history import ACCOUNTS, ORDERS, Revision, write_history

STATUS = (
    "c3",
    "b2",
    'op.add_column("orders", sa.Column("status", sa.Text, nullable=True))',
    'op.drop_column("orders", "status")',
)
REVISOR = str(Path(sys.executable).parent / "revisor")  # the installed console script


def shop(root: Path, *revisions: Revision) -> Path:
    """The three-revision shop (a1, b2, c3) in `root`, or `revisions`; its alembic.ini."""
    return write_history(root, list(revisions or (ACCOUNTS, ORDERS, STATUS)))


def db(cli: CliRunner, ini: Path, url: DatabaseUrl | str | None, *args: str):
    argv = ["db", *args, "-c", str(ini)]
    if url is not None:
        argv += ["--url", url if isinstance(url, str) else url.sqlalchemy_url]
    result = cli.invoke(app, argv)
    assert "Traceback" not in result.output, result.output
    return result


def revisor(*args: str, cwd: Path, env: dict[str, str], timeout: float = 120):
    return subprocess.run(
        [REVISOR, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


# --- alembic's commands, through env.py ----------------------------------------------------


def test_upgrade_downgrade_stamp_current_history(cli, tmp_path, database_url):
    ini = shop(tmp_path / "shop")
    assert db(cli, ini, database_url, "current").stdout == "no revision (base)\n"

    up = db(cli, ini, database_url, "upgrade")
    assert up.exit_code == 0, up.output
    assert up.stdout.splitlines() == ["upgrade a1", "upgrade b2", "upgrade c3", "at: c3 (head)"]
    assert migrate.current_heads(database_url) == ("c3",)

    down = db(cli, ini, database_url, "downgrade", "-1")  # relative, not an option
    assert down.exit_code == 0, down.output
    assert down.stdout.splitlines() == ["downgrade c3", "at: b2"]
    assert migrate.current_heads(database_url) == ("b2",)

    stamped = db(cli, ini, database_url, "stamp", "c3")
    assert stamped.stdout == "stamped: c3 (head) (was: b2)\n", stamped.output
    assert db(cli, ini, database_url, "current").stdout == "c3 (head)\n"
    again = db(cli, ini, database_url, "upgrade")
    assert again.stdout == "nothing to upgrade: at c3 (head)\n", again.output

    history = db(cli, ini, None, "history")
    assert history.stdout.splitlines() == ["b2 -> c3 (head), ", "a1 -> b2, ", "<base> -> a1, "]


def test_unknown_revisions(cli, tmp_path, database_url_18):
    ini = shop(tmp_path / "shop")
    migrate.upgrade(Project.load(ini), database_url_18, "b2")
    with psycopg.connect(**database_url_18.libpq_kwargs(), autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'deadbeef0000'")

    current = db(cli, ini, database_url_18, "current")
    assert current.exit_code == ExitCode.UNKNOWN_REVISION, current.output
    assert "deadbeef0000 (not in the history)" in current.stdout
    (doctor,) = [c for c in current.output.split("`") if c.startswith("revisor doctor -c ")]
    explained = cli.invoke(app, shlex.split(doctor)[1:])  # as printed
    assert explained.exit_code == ExitCode.FINDINGS and "DR102" in explained.output

    plain = db(cli, ini, database_url_18, "stamp", "b2")
    assert plain.exit_code == ExitCode.USAGE and "--purge" in plain.output, plain.output
    purged = db(cli, ini, database_url_18, "stamp", "--purge", "b2")
    assert purged.exit_code == 0, purged.output
    assert "stamped: b2 (was: deadbeef0000)" in purged.stdout
    assert migrate.current_heads(database_url_18) == ("b2",)

    for args in (["stamp", "zzz"], ["upgrade", "zzz"]):
        refused = db(cli, ini, database_url_18, *args)
        assert refused.exit_code == ExitCode.USAGE, refused.output
        assert "zzz" in refused.output and "`revisor db history -c " in refused.output


def test_a_failing_migration_exits_4_and_rolls_back(cli, tmp_path, database_url_18):
    failing = (
        "c3",
        "b2",
        'op.add_column("orders", sa.Column("s", sa.Text))\nop.execute("SELECT 1/0")',
        "pass",
    )
    ini = shop(tmp_path / "shop", ACCOUNTS, ORDERS, failing)
    result = db(cli, ini, database_url_18, "upgrade")
    assert result.exit_code == ExitCode.MIGRATION_FAILED, result.output
    assert "upgrade of revision c3 failed: " in result.output and "DivisionByZero" in result.output
    # this env.py runs the whole upgrade in one transaction: a1 and b2 are rolled back too
    assert migrate.current_heads(database_url_18) == ()
    with psycopg.connect(**database_url_18.libpq_kwargs()) as conn:
        assert conn.execute("SELECT to_regclass('accounts')").fetchone() == (None,)


def test_the_version_table_is_env_pys(cli, tmp_path, database_url_18):
    """stamp and current run env.py: its version_table is the one written and read."""
    ini = shop(tmp_path / "shop")
    env_py = ini.parent / "migrations" / "env.py"
    env_py.write_text(
        env_py.read_text().replace(
            "target_metadata=target_metadata)", 'target_metadata=None, version_table="shop_v")'
        )
    )
    assert db(cli, ini, database_url_18, "stamp", "b2").exit_code == 0
    assert migrate.current_heads(database_url_18, version_table="shop_v") == ("b2",)
    with psycopg.connect(**database_url_18.libpq_kwargs()) as conn:
        assert conn.execute("SELECT to_regclass('alembic_version')").fetchone() == (None,)
    assert db(cli, ini, database_url_18, "current").stdout == "b2\n"


# --- url and shell ----------------------------------------------------------------------------


def test_url_is_masked_unless_asked(cli, tmp_path, password_role):
    ini = shop(tmp_path / "shop")
    url = password_role.replace("RIGHT", "s3cr3t-Pa55")
    shown = db(cli, ini, url, "url")
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith("postgresql://pwuser:***@/pwdb?host=/")
    assert "s3cr3t" not in shown.output
    revealed = db(cli, ini, url, "url", "--show-password")
    assert revealed.stdout.startswith("postgresql://pwuser:s3cr3t-Pa55@/pwdb?host=/")
    asyncpg = db(cli, ini, url.replace("postgresql://", "postgresql+asyncpg://"), "url")
    assert asyncpg.stdout.startswith("postgresql+asyncpg://pwuser:***@")  # the user's driver
    assert db(cli, ini, asyncpg.stdout.strip(), "url", "--libpq").stdout.startswith(
        "postgresql://pwuser:***@"
    )


def test_shell_runs_psql_on_the_database(tmp_path, password_role):
    ini = shop(tmp_path / "shop")
    url = password_role.replace("RIGHT", "s3cr3t-Pa55")
    env = dict(os.environ)
    base = ["db", "shell", "-c", str(ini), "--url", url, "--"]
    done = revisor(*base, "-tAc", "SELECT current_user", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "pwuser"
    failed = revisor(*base, "-c", "SELECT nope", cwd=tmp_path, env=env)
    assert failed.returncode == ExitCode.FINDINGS and "nope" in failed.stderr
    wrong = revisor(
        "db",
        "shell",
        "-c",
        str(ini),
        "--url",
        password_role.replace("RIGHT", "wrong-pass"),
        cwd=tmp_path,
        env=env,
    )
    assert wrong.returncode == ExitCode.DATABASE and "rejected the password" in wrong.stderr
    assert "wrong-pass" not in wrong.stderr + wrong.stdout and "Traceback" not in wrong.stderr


# --- the embedded server: url, start, reset --------------------------------------------------


@pytest.fixture
def own_cache(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A project folder and an environment whose embedded server is this test's alone
    (not under tmp_path: that is 0700, and the server runs as its own system user)."""
    cache = Path(tempfile.mkdtemp(prefix="revisor-dbstart-"))
    env = {**os.environ, "REVISOR_CACHE_DIR": str(cache)}
    env.pop("DATABASE_URL", None)
    root = tmp_path / "shop"
    shop(root)
    yield root, env
    pid_file = cache / "postgres-18" / "postmaster.pid"
    if pid_file.exists():
        subprocess.run(["kill", "-INT", pid_file.read_text().split()[0]], check=False)
    shutil.rmtree(cache, ignore_errors=True)


def _read_until(proc: subprocess.Popen, prefix: str, timeout: float = 90) -> dict[str, str]:
    """The `key: value` lines `revisor db start` prints, up to the one starting `prefix`."""
    lines: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"db start ended: {proc.wait()} {proc.stderr.read()}")
        key, _, value = line.rstrip("\n").partition(" ")
        lines[key.rstrip(":")] = value
        if line.startswith(prefix):
            return lines
    raise AssertionError("db start printed no URL in time")


def _connects(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            return conn.execute("SELECT current_database()").fetchone() is not None
    except psycopg.OperationalError:
        return False


def test_db_start_keeps_the_server_up_for_other_tools(own_cache):
    root, env = own_cache
    stopped = revisor("db", "url", cwd=root, env=env)
    assert stopped.returncode == ExitCode.DATABASE, stopped.stderr
    assert "is not running" in stopped.stderr and stopped.stdout == ""
    (start,) = [c for c in stopped.stderr.split("`") if c.startswith("revisor db start")]
    (shell,) = [c for c in stopped.stderr.split("`") if c.startswith("revisor db shell")]
    psql = subprocess.run(
        [REVISOR, *shlex.split(shell)[1:]],  # as printed: psql reads its input, then exits
        cwd=root,
        env=env,
        input="SELECT 40 + 2 AS answer;\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert psql.returncode == 0 and "42" in psql.stdout, psql.stderr

    proc = subprocess.Popen(
        [REVISOR, *shlex.split(start)[1:]],  # as the hint prints it
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = _read_until(proc, "psql:")
        url, psql = lines["url"], lines["psql"]
        assert url.startswith("postgresql+psycopg://postgres@/revisor_dev_shop?host=/")
        assert lines["export"] == f"DATABASE_URL={shlex.quote(url)}"
        assert _connects(psql)

        shown = revisor("db", "url", cwd=root, env=env)
        assert shown.returncode == 0 and shown.stdout.strip() == url, shown.stderr
        assert "kept up by `revisor db start`" in shown.stderr

        # Other revisor processes join the server and leave: it stays up.
        joined = revisor("db", "upgrade", cwd=root, env=env)
        assert joined.returncode == 0 and "at: c3 (head)" in joined.stdout, joined.stderr
        assert _connects(psql)
        # The exported URL reaches the same database from outside the embedded resolution.
        outside = revisor("db", "current", cwd=root, env={**env, "DATABASE_URL": url})
        assert outside.returncode == 0 and outside.stdout == "c3 (head)\n", outside.stderr
        assert "($DATABASE_URL)" in outside.stderr
        assert _connects(psql)

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        assert "stopping the embedded PostgreSQL" in proc.stderr.read()
    finally:
        proc.kill()
    assert not _connects(psql)
    assert revisor("db", "url", cwd=root, env=env).returncode == ExitCode.DATABASE


def test_ctrl_c_ends_db_start_but_not_a_server_another_process_uses(own_cache):
    """db start joins a server another revisor process started; Ctrl-C in db start leaves
    it up for that process (the last one to leave stops it)."""
    root, env = own_cache
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from revisor.db.embedded import embedded_server_url as u; "
            "u(); print('up', flush=True); input()",
        ],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    proc = None
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "up\n"
        proc = subprocess.Popen(
            [REVISOR, "db", "start"],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        psql = _read_until(proc, "psql:")["psql"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        assert "stays up while 1 other revisor process(es) use it" in proc.stderr.read()
        assert _connects(psql)
        holder.communicate("\n", timeout=60)  # the last one leaves: the server stops
        assert not _connects(psql)
    finally:
        holder.kill()
        if proc is not None:
            proc.kill()


def test_reset_empties_only_the_embedded_dev_database(cli, tmp_path, monkeypatch, database_url_18):
    from revisor.db.embedded import embedded_server_url
    from revisor.db.resolve import embedded_dev_database
    from revisor.db.scratch import drop_database

    root = tmp_path / f"shop_{secrets.token_hex(3)}"
    ini = shop(root)
    monkeypatch.chdir(root)
    try:
        assert db(cli, ini, None, "upgrade").exit_code == 0
        asked = db(cli, ini, None, "reset")  # no terminal to ask on
        assert asked.exit_code == ExitCode.USAGE and "--yes" in asked.output, asked.output
        assert db(cli, ini, None, "current").stdout == "c3 (head)\n"
        done = db(cli, ini, None, "reset", "--yes")
        assert done.exit_code == 0, done.output
        assert db(cli, ini, None, "current").stdout == "no revision (base)\n"
        dev = embedded_dev_database(root.name)
        with psycopg.connect(**dev.libpq_kwargs()) as conn:
            tables = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            assert conn.execute(tables).fetchone() == (0,)
    finally:
        drop_database(embedded_server_url(), embedded_dev_database(root.name).database or "")

    migrate.upgrade(Project.load(ini), database_url_18, "heads")
    refused = db(cli, ini, database_url_18, "reset", "--yes")
    assert refused.exit_code == ExitCode.USAGE and "your own database" in refused.output
    assert migrate.current_heads(database_url_18) == ("c3",)


def test_status_says_the_embedded_dev_database_is_not_durable_and_its_rebuild_runs(
    cli, tmp_path, monkeypatch
):
    """The note status prints on the embedded dev database names a command line that
    rebuilds it; run exactly as printed (a shell line), the database is back at head."""
    import re

    from revisor.db.embedded import embedded_server_url
    from revisor.db.resolve import embedded_dev_database
    from revisor.db.scratch import drop_database

    root = tmp_path / f"shop_{secrets.token_hex(3)}"
    ini = shop(root)
    monkeypatch.chdir(root)
    try:
        status = cli.invoke(app, ["status"])
        assert status.exit_code == 0, status.output
        assert "fsync=off" in status.output
        line = re.search(r"rebuilds it: (revisor db reset .*?)\)", status.output.replace("\n", " "))
        assert line, status.output
        env = {**os.environ, "PATH": f"{Path(REVISOR).parent}{os.pathsep}{os.environ['PATH']}"}
        ran = subprocess.run(
            ["bash", "-c", re.sub(r"\s+", " ", line.group(1))],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert db(cli, ini, None, "current").stdout == "c3 (head)\n"
    finally:
        drop_database(embedded_server_url(), embedded_dev_database(root.name).database or "")
