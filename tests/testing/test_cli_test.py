"""The real `revisor test` command: output, formats and exit codes."""

from __future__ import annotations

import json

import pytest

from revisor.cli import app
from revisor.exit_codes import ExitCode
from tests.support.mini_history import ACCOUNTS, ORDERS, write_history
from tests.support.scratch import scratch_databases

FORGETFUL_INDEX = (
    "c3",
    "b2",
    'op.create_index("ix_orders_placed_on", "orders", ["placed_on"])',
    "pass",
)


def server_url(pg18) -> str:
    return pg18.url.url.render_as_string(hide_password=False)


def test_clean_history_exits_0(cli, tmp_path, pg18):
    ini = write_history(tmp_path, [ACCOUNTS, ORDERS])
    result = cli.invoke(app, ["test", "-c", str(ini), "--url", server_url(pg18)])
    assert result.exit_code == 0, result.output
    assert "[2/2] b2 ok" in result.output
    assert "ok: 2 tested" in result.output


def test_failing_history_exits_1_with_the_finding(cli, tmp_path, pg18):
    ini = write_history(tmp_path, [ACCOUNTS, ORDERS, FORGETFUL_INDEX])
    result = cli.invoke(app, ["test", "-c", str(ini), "--url", server_url(pg18), "--no-data"])
    assert result.exit_code == 1, result.output
    assert (
        "migrations/versions/c3_rev.py:14: RT103 [error] downgrade of c3 left index "
        "ix_orders_placed_on on orders" in result.output
    )


def test_json_format(cli, tmp_path, pg18):
    ini = write_history(tmp_path, [ACCOUNTS, ORDERS, FORGETFUL_INDEX])
    result = cli.invoke(
        app, ["test", "-c", str(ini), "--url", server_url(pg18), "--format", "json", "--last", "1"]
    )
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert [f["code"] for f in payload["findings"]] == ["RT103"]
    assert payload["findings"][0]["revision"] == "c3"


def test_github_format(cli, tmp_path, pg18):
    ini = write_history(tmp_path, [ACCOUNTS, ORDERS, FORGETFUL_INDEX])
    result = cli.invoke(
        app, ["test", "-c", str(ini), "--url", server_url(pg18), "-f", "github", "--no-data"]
    )
    assert result.exit_code == 1
    assert "::error file=migrations/versions/c3_rev.py,line=14" in result.stdout


def test_missing_config_exits_2(cli, tmp_path):
    result = cli.invoke(app, ["test", "-c", str(tmp_path / "nope.ini")])
    assert result.exit_code == 2
    assert "not found" in result.output


def test_in_place_needs_an_explicit_url(cli, tmp_path):
    ini = write_history(tmp_path, [ACCOUNTS])
    result = cli.invoke(app, ["test", "-c", str(ini), "--in-place"])
    assert result.exit_code == 2
    assert "--in-place needs an explicit --url" in result.output


def test_unknown_revision_exits_2(cli, tmp_path, pg18):
    ini = write_history(tmp_path, [ACCOUNTS])
    result = cli.invoke(app, ["test", "-c", str(ini), "--url", server_url(pg18), "--from", "zz"])
    assert result.exit_code == 2
    assert "zz" in result.output


def test_unreachable_server_exits_3_without_password(cli, tmp_path):
    ini = write_history(tmp_path, [ACCOUNTS])
    url = "postgresql://bob:hunter2@127.0.0.1:1/db"
    result = cli.invoke(app, ["test", "-c", str(ini), "--url", url])
    assert result.exit_code == 3, result.output
    assert "hunter2" not in result.output
    assert "Traceback" not in result.output


def test_in_place_round_trips_the_last_revision_and_keeps_data(cli, tmp_path, database_url_18):
    import psycopg

    from revisor import migrate
    from revisor.project import Project

    ini = write_history(tmp_path, [ACCOUNTS, ORDERS])
    migrate.upgrade(Project.load(ini), database_url_18, "heads")
    with psycopg.connect(**database_url_18.libpq_kwargs(), autocommit=True) as conn:
        conn.execute("INSERT INTO accounts (email) VALUES ('kept@example.com')")
    url = database_url_18.url.render_as_string(hide_password=False)
    result = cli.invoke(app, ["test", "-c", str(ini), "--url", url, "--in-place", "--last", "1"])
    assert result.exit_code == 0, result.output
    assert "[1/1] b2 ok" in result.output
    assert migrate.current_heads(database_url_18) == ("b2",)
    with psycopg.connect(**database_url_18.libpq_kwargs()) as conn:
        assert conn.execute("SELECT email FROM accounts").fetchall() == [("kept@example.com",)]


def test_a_run_leaves_no_scratch_database(cli, tmp_path, pg18):
    ini = write_history(tmp_path, [ACCOUNTS, ORDERS, FORGETFUL_INDEX])
    before = scratch_databases(pg18.url)
    result = cli.invoke(app, ["test", "-c", str(ini), "--url", server_url(pg18), "--no-data"])
    assert result.exit_code == 1, result.output  # the failure rebuilds on a second database
    assert scratch_databases(pg18.url) == before


def test_a_project_error_leaves_no_scratch_database(cli, tmp_path, pg18):
    # With --url the scratch database is created while the project loads.
    before = scratch_databases(pg18.url)
    result = cli.invoke(app, ["test", "-c", str(tmp_path / "nope.ini"), "--url", server_url(pg18)])
    assert result.exit_code == 2, result.output
    assert scratch_databases(pg18.url) == before


@pytest.mark.parametrize(
    "where", ["revisor.project.Project.load", "revisor.testing.plan.make_plan"]
)
def test_ctrl_c_before_the_run_leaves_no_scratch_database(cli, tmp_path, pg18, monkeypatch, where):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    ini = write_history(tmp_path, [ACCOUNTS])
    monkeypatch.setattr(where, interrupted)
    before = scratch_databases(pg18.url)
    result = cli.invoke(app, ["test", "-c", str(ini), "--url", server_url(pg18)])
    assert result.exit_code == ExitCode.INTERRUPTED, result.output
    assert scratch_databases(pg18.url) == before


def test_the_collector_is_unfrozen_after_a_run(cli, tmp_path, pg18):
    """The run freezes the garbage collector's view of what was loaded; an in-process
    caller (this test process) must get it back."""
    import gc

    ini = write_history(tmp_path, [ACCOUNTS, ORDERS, FORGETFUL_INDEX])
    frozen = gc.get_freeze_count()
    result = cli.invoke(app, ["test", "-c", str(ini), "--url", server_url(pg18), "--no-data"])
    assert result.exit_code == 1, result.output
    assert gc.get_freeze_count() == frozen


def test_ctrl_c_while_a_failure_rebuilds_leaves_no_scratch_database(tmp_path, pg18):
    """A real SIGINT while `revisor test` creates the fresh scratch database that follows
    a failed round trip: psycopg cancels but waits, the CREATE DATABASE mostly completes,
    and that database was left behind. The run is a subprocess tagged with PGAPPNAME so
    its CREATE DATABASE can be seen in pg_stat_activity and interrupted mid-statement."""
    import os
    import re
    import secrets
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    import psycopg

    ini = write_history(tmp_path, [ACCOUNTS, ORDERS, FORGETFUL_INDEX])
    tag = f"revisor-sigint-{secrets.token_hex(4)}"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PGAPPNAME": tag, "PYTHONPATH": str(root / "src")}
    argv = [sys.executable, "-m", "revisor", "test", "-c", str(ini), "--no-data"]
    argv += ["--url", server_url(pg18)]
    first: set[str] = set()  # the scratch database(s) of the first round trip
    second = None
    with psycopg.connect(**pg18.url.libpq_kwargs(), autocommit=True) as watch:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + 60
            while second is None and proc.poll() is None and time.monotonic() < deadline:
                rows = watch.execute(
                    "SELECT datname, query, state FROM pg_stat_activity "
                    "WHERE application_name = %s",
                    (tag,),
                ).fetchall()
                for datname, query, state in rows:
                    if datname and datname.startswith("revisor_scratch_"):
                        first.add(datname)
                    created = re.match(r'CREATE DATABASE "?(\w+)"?', query or "")
                    if created and state == "active":
                        if first and created.group(1) not in first:
                            second = created.group(1)
                        else:
                            first.add(created.group(1))
            assert second is not None, proc.communicate()[0]
            proc.send_signal(signal.SIGINT)
            output = proc.communicate(timeout=30)[0].decode()
        finally:
            proc.kill()
        assert proc.returncode == ExitCode.INTERRUPTED, output
        left = watch.execute("SELECT 1 FROM pg_database WHERE datname = %s", (second,)).fetchall()
    assert left == [], f"{second} left behind"


def test_in_place_mismatch_is_a_finding_and_rolls_back(cli, tmp_path, database_url_18):
    """In place, a downgrade that does not restore the schema was shown as FAIL, but its
    finding waited for a rebuilt database that in place never comes: 'ok', exit 0. And
    docs/test.md: nothing is committed before the end, so the failure rolls it all back."""
    from revisor import migrate

    ini = write_history(tmp_path, [ACCOUNTS, ORDERS, FORGETFUL_INDEX])
    url = database_url_18.url.render_as_string(hide_password=False)
    result = cli.invoke(app, ["test", "-c", str(ini), "--url", url, "--in-place"])
    assert result.exit_code == 1, result.output
    assert "RT103 [error] downgrade of c3 left index ix_orders_placed_on on orders" in result.output
    assert migrate.current_heads(database_url_18) == ()


def test_in_place_with_locks_still_rolls_back_on_failure(cli, tmp_path, database_url_18):
    """--locks committed before each revision's upgrade, in place too: a failure left the
    user's database half-migrated (at b2) although docs/test.md says it rolls back."""
    from revisor import migrate

    ini = write_history(tmp_path, [ACCOUNTS, ORDERS, FORGETFUL_INDEX])
    url = database_url_18.url.render_as_string(hide_password=False)
    result = cli.invoke(app, ["test", "-c", str(ini), "--url", url, "--in-place", "--locks"])
    assert result.exit_code == 1, result.output
    assert "downgrade of c3 left index ix_orders_placed_on" in result.output
    assert migrate.current_heads(database_url_18) == ()


LOSES_ROWS = (
    "i9",
    "a1",
    'op.add_column("accounts", sa.Column("age", sa.Integer))',
    'op.drop_table("accounts")\n'
    'op.create_table("accounts", sa.Column("id", sa.Integer, primary_key=True),'
    ' sa.Column("email", sa.String(120), nullable=False, unique=True))',
)


def test_tool_revisor_ignores_and_relevels_test_codes(cli, tmp_path, pg18):
    """[tool.revisor] applies to RT codes: an ignored code is not reported and does not
    fail the run; `severity` moves a code across the line that fails it; per-file-ignores
    drops a revision file's findings; SARIF's rule metadata comes from the registry."""
    ini = write_history(tmp_path / "forgetful", [ACCOUNTS, ORDERS, FORGETFUL_INDEX])
    settings = tmp_path / "forgetful" / "pyproject.toml"
    args = ["test", "-c", str(ini), "--url", server_url(pg18), "--no-data"]

    settings.write_text('[tool.revisor]\nignore = ["RT103"]\n')
    result = cli.invoke(app, [*args, "--format", "json", "--exitfirst"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["findings"] == []

    settings.write_text('[tool.revisor]\nseverity = { RT103 = "warning" }\n')
    result = cli.invoke(app, [*args, "--format", "sarif"])
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)["runs"][0]
    assert [(r["ruleId"], r["level"]) for r in run["results"]] == [("RT103", "warning")]
    (rule,) = run["tool"]["driver"]["rules"]
    assert rule["name"] == "downgrade-does-not-undo-upgrade"
    assert rule["defaultConfiguration"] == {"level": "error"}
    assert rule["properties"] == {"tags": ["revisor test"]}

    settings.write_text('[tool.revisor.per-file-ignores]\n"migrations/versions/c3_*" = ["RT1"]\n')
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "RT103" not in result.output

    ini = write_history(tmp_path / "loses_rows", [ACCOUNTS, LOSES_ROWS])
    args = ["test", "-c", str(ini), "--url", server_url(pg18), "--format", "github"]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output  # a warning by default
    assert "::warning file=migrations/versions/i9_rev.py" in result.stdout
    assert "title=RT201" in result.stdout
    (tmp_path / "loses_rows" / "pyproject.toml").write_text(
        '[tool.revisor]\nseverity = { RT201 = "error" }\n'
    )
    result = cli.invoke(app, args)
    assert result.exit_code == ExitCode.FINDINGS, result.output
    assert "::error file=migrations/versions/i9_rev.py" in result.stdout
