"""A second deploy while one migrates: it names the holder by what it is doing ("revisor
deploy ... deploying since HH:MM:SS"), not by its lock session's "idle"; and the hint's
--wait example is a duration deploy takes, run as printed."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from revisor.db.advisory import NAMESPACE, lock_key
from revisor.db.url import DatabaseUrl
from revisor.exit_codes import ExitCode
from tests import test_deploy_cli
from tests.test_deploy_cli import HEAD, ROOT, add_revision, heads, invoke

reviewed_example = test_deploy_cli.reviewed_example  # the example with its FK named


def _lock_granted(url: DatabaseUrl) -> bool:
    with psycopg.connect(**url.libpq_kwargs(), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid::bigint = %s AND objid::bigint = %s",
            (NAMESPACE, lock_key("public.alembic_version")),
        ).fetchone()
    return bool(row and row[0])


def test_second_deploy_names_what_the_first_is_doing(
    cli: CliRunner, reviewed_example: Path, database_url_18: DatabaseUrl
) -> None:
    add_revision(reviewed_example, "5l0w5l0w5l0w", HEAD, 'op.execute("SELECT pg_sleep(4)")')
    argv = [
        sys.executable,
        "-m",
        "revisor",
        "deploy",
        "-c",
        str(reviewed_example / "alembic.ini"),
        "--url",
        database_url_18.sqlalchemy_url,
        "--no-review",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    first = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while not _lock_granted(database_url_18):
            if time.monotonic() > deadline or first.poll() is not None:
                pytest.fail("the first deploy never took the lock")
            time.sleep(0.05)
        time.sleep(0.5)  # inside its migrations (the sleeping one is the last)
        code, _, both = invoke(cli, reviewed_example, database_url_18, "--wait", "200ms")
    finally:
        output = first.communicate(timeout=60)[0]
    assert first.returncode == 0, output
    assert code == ExitCode.LOCKED, both
    held = re.search(r"held by (pid \d+ \([^)]*\))", both)
    assert held, both
    assert re.fullmatch(
        r"pid \d+ \(revisor deploy, user \w+, deploying since \d\d:\d\d:\d\d \w+\)", held.group(1)
    ), held.group(1)
    assert "idle" not in both

    # the hint's example, run as printed, once the first deploy is done
    example = re.search(r"(--wait \S+?)[),.]?(\s|$)", both)
    assert example, both
    code, out, both = invoke(cli, reviewed_example, database_url_18, *shlex.split(example.group(1)))
    assert code == ExitCode.OK, both
    assert "is already at head (5l0w5l0w5l0w)" in out
    assert heads(database_url_18) == ("5l0w5l0w5l0w",)
