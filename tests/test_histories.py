"""Every fixture history loads with a clear outcome: its heads, or one error line."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revisor.cli import app
from revisor.exit_codes import ExitCode
from tests.conftest import HISTORIES

CASES = sorted(p for p in HISTORIES.iterdir() if (p / "case.toml").is_file())


def case_spec(case: Path) -> dict:
    return tomllib.loads((case / "case.toml").read_text())


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_status_survives_history(
    case: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = case_spec(case)
    monkeypatch.chdir(case)  # prepend_sys_path = . means the working directory
    result = cli.invoke(app, ["status", "--offline", "-c", str(case / "alembic.ini")])
    assert "Traceback" not in result.output
    if spec["roundtrip"] == "load-error":
        assert result.exit_code == ExitCode.USAGE, result.output
        assert result.output.startswith("error: "), result.output
        assert len(result.output.strip().splitlines()) == 2  # message + hint
    else:
        assert result.exit_code == ExitCode.OK, result.output
        for head in spec.get("alembic_heads", spec["heads"]):
            assert head in result.output
        assert f"revisions:  {spec['revision_count']}" in result.output
        if "target_metadata" in spec:
            assert "tables (" in result.output


def _expected_test_exit(spec: dict) -> int:
    if spec["roundtrip"] == "load-error":
        return ExitCode.USAGE
    if spec.get("needs_extension"):
        return ExitCode.DATABASE
    return ExitCode.OK if spec["roundtrip"] == "clean" else ExitCode.FINDINGS


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_every_command_survives_history(
    case: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, pg18
) -> None:
    """review, test and check on each messy history: a documented exit code, never a
    traceback; test's exit code follows the case's recorded round-trip outcome."""
    spec = case_spec(case)
    monkeypatch.chdir(case)
    url = pg18.url.sqlalchemy_url
    outcomes = {}
    for command in (["review"], ["test", "--no-data", "--url", url], ["check", "--url", url]):
        if command[0] == "check":
            command = ["check", "--no-review"]
            monkeypatch.setenv("DATABASE_URL", url)
        result = cli.invoke(app, [*command, "-c", str(case / "alembic.ini")])
        assert "Traceback" not in result.output, result.output
        assert result.exit_code in {0, 1, 2, 3}, (command, result.output)
        outcomes[command[0]] = result.exit_code
    assert outcomes["test"] == _expected_test_exit(spec), spec
    if spec["roundtrip"] == "clean" and "target_metadata" in spec and spec["heads"][1:] == []:
        assert outcomes["check"] == ExitCode.OK


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_workflow_commands_survive_history(
    case: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, database_url_18, tmp_path: Path
) -> None:
    """deploy to an empty database, doctor on it, then redo's plan, on each messy history:
    a documented exit code and never a traceback; a history that round-trips cleanly with
    one head deploys and is then healthy."""
    spec = case_spec(case)
    # A copy outside this repository: in the checkout, redo's git check sees the fixture
    # files in the local main branch (published: exit 2) on any other branch.
    case = Path(shutil.copytree(case, tmp_path / case.name))
    monkeypatch.chdir(case)
    url = database_url_18.sqlalchemy_url
    config = ["-c", str(case / "alembic.ini"), "--url", url]
    allowed = {
        "deploy": {0, 1, 2, 3, 4, 6},
        "doctor": {0, 1, 2, 3},
        "redo": {0, 2, 3, 5, 6},
    }
    outcomes = {}
    for command in (
        ["deploy", "--no-review", "--wait", "5"],
        ["doctor"],
        ["redo", "--dry-run"],
    ):
        result = cli.invoke(app, [*command, *config])
        assert "Traceback" not in result.output, result.output
        assert result.exit_code in allowed[command[0]], (command, result.output)
        outcomes[command[0]] = result.exit_code
    if spec["roundtrip"] == "load-error":
        assert set(outcomes.values()) == {ExitCode.USAGE}, outcomes
    elif spec["roundtrip"] == "clean" and len(spec["heads"]) == 1:
        # redo drafts again, so it needs the models: without them it says so (exit 2)
        redo = ExitCode.OK if "target_metadata" in spec else ExitCode.USAGE
        assert outcomes == {"deploy": 0, "doctor": 0, "redo": redo}, outcomes
    elif len(spec["heads"]) > 1:
        assert outcomes["deploy"] == ExitCode.USAGE  # several heads and no --to


def test_hundreds_of_revisions(cli: CliRunner, pg18, tmp_path: Path) -> None:
    """A 200-revision history with one planted fault: review and check stay clean of false
    positives at error level, and test names exactly the faulty revision."""
    from tests.support.history_factory import Fault, revision_id, write_history

    project = write_history(tmp_path / "long", 200, seed=3, faults={Fault.ENUM_LEFT_BEHIND: 150})
    ini = str(project / "alembic.ini")
    url = pg18.url.sqlalchemy_url
    result = cli.invoke(app, ["test", "--no-data", "--url", url, "-c", ini])
    assert result.exit_code == ExitCode.FINDINGS, result.output
    failing = {line.split()[1] for line in result.output.splitlines() if line.endswith("FAIL")}
    assert failing == {revision_id(150, 3)}, result.output
    result = cli.invoke(app, ["review", "-c", ini, "--format", "json"])
    errors = [f for f in json.loads(result.stdout)["findings"] if f["severity"] == "error"]
    assert {f["revision"] for f in errors} == {revision_id(150, 3)}, errors
