"""action.yml, the composite GitHub Action: its metadata, every input used, the revisor
commands it runs exist with the options it passes, and its steps' scripts run as GitHub's
runner would run them (bash -eo pipefail, the step's env) on the reference app; and the
reference app's workflow uses it with inputs it has."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from revisor.cli import app

REPO = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((REPO / "action.yml").read_text())
WORKFLOW = REPO / "examples/better_call_buffet/.github/workflows/migrations.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


def _steps() -> list[dict[str, Any]]:
    return ACTION["runs"]["steps"]


def _revisor_commands() -> list[list[str]]:
    """Each `revisor ...` command line of the action's scripts without its shell variables,
    up to the first redirection or operator."""
    commands = []
    for step in _steps():
        for line in step.get("run", "").splitlines():
            words = line.strip().split()
            if not words or words[0] != "revisor":
                continue
            literal = []
            for word in words[1:]:
                if word.startswith((">", "|")):
                    break
                if not word.startswith(("$", '"$')):
                    literal.append(word)
            commands.append(literal)
    return commands


def test_metadata_is_a_composite_action_whose_inputs_are_all_used() -> None:
    assert {"name", "description", "inputs", "runs"} <= set(ACTION)
    assert ACTION["runs"]["using"] == "composite"
    for name, spec in ACTION["inputs"].items():
        assert spec["description"] and "default" in spec, name
        assert isinstance(spec["default"], str), name  # inputs are strings on GitHub
    used = set()
    for step in _steps():
        if "run" in step:
            assert step["shell"] == "bash", step  # composite run steps must name a shell
            # inputs reach scripts through env only (no expression pasted into a script)
            assert "${{" not in step["run"], step["run"]
        text = json.dumps(step)
        used |= set(re.findall(r"inputs\.([a-z-]+)", text))
    assert used == set(ACTION["inputs"]), "inputs declared but unused, or used but undeclared"
    uploads = [s for s in _steps() if s.get("uses", "").startswith("github/codeql-action/")]
    assert [s["uses"].split("@")[0] for s in uploads] == ["github/codeql-action/upload-sarif"]


def test_the_commands_it_runs_exist_with_their_options(cli: CliRunner) -> None:
    commands = _revisor_commands()
    assert [c[0] for c in commands] == ["--version", "check", "test", "review"]
    for command in commands:
        if command == ["--version"]:
            continue
        result = cli.invoke(app, [command[0], "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        for option in (w for w in command if w.startswith("-")):
            assert option in result.output, (command, option)
        assert command[-2] == "--format" and command[-1] in {"github", "sarif"}, command


def _step_env(step: dict[str, Any], inputs: dict[str, str], temp: Path) -> dict[str, str]:
    contexts = {f"inputs.{k}": v for k, v in inputs.items()}
    contexts |= {"runner.temp": str(temp), "github.action_path": str(REPO)}
    env = {}
    for key, value in step.get("env", {}).items():
        env[key] = EXPRESSION.sub(lambda m: contexts[m.group(1)], str(value))
    return env


def test_its_steps_run_on_the_reference_app(example_project: Path, tmp_path: Path) -> None:
    """The check, test and SARIF steps, as the runner runs them, with the defaults: the
    unnamed foreign key's downgrade fails `revisor test` (an annotation on its line), and
    the SARIF file is written, holding RV101, though review found errors."""
    inputs = {k: v["default"] for k, v in ACTION["inputs"].items()}
    output = tmp_path / "github_output"
    output.touch()
    base = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(output),
    }
    base.pop("DATABASE_URL", None)
    outcomes = {}
    for step in _steps():
        if "run" not in step or step["name"] == "Install revisor":
            continue
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=example_project,
            env={**base, **_step_env(step, inputs, tmp_path)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        outcomes[step["name"].split(" (")[0]] = result
    check, test, sarif = (outcomes[k] for k in ("revisor check", "revisor test", "revisor review"))
    assert check.returncode == 0, check.stdout + check.stderr
    assert test.returncode == 1, test.stdout + test.stderr
    fk_file = "migrations/versions/e6995e90df34_add_vendor_to_transactions.py"
    assert f"::error file={fk_file},line=30,title=RT102::" in test.stdout
    assert "5 tested" in test.stderr
    assert sarif.returncode == 0, sarif.stdout + sarif.stderr
    written = Path(output.read_text().strip().removeprefix("file="))
    assert written == tmp_path / "revisor.sarif"
    results = json.loads(written.read_text())["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"RV101"}


def test_a_step_failure_other_than_findings_fails_the_sarif_step(
    example_project: Path, tmp_path: Path
) -> None:
    """review exits 1 on findings (the SARIF still uploads), but a usage error (2) fails."""
    (step,) = [s for s in _steps() if s.get("id") == "sarif"]
    inputs = {k: v["default"] for k, v in ACTION["inputs"].items()} | {"args": "--select RV999"}
    env = {**os.environ, "GITHUB_OUTPUT": str(tmp_path / "out")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=example_project,
        env={**env, **_step_env(step, inputs, tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert not (tmp_path / "out").exists() or "file=" not in (tmp_path / "out").read_text()


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


def test_reference_workflow_uses_the_action_with_inputs_it_has(workflow) -> None:
    (job,) = workflow["jobs"].values()
    uses = [s for s in job["steps"] if "uses" in s and "/revisor@" in s["uses"]]
    assert len(uses) == 1, job["steps"]
    given = uses[0]["with"]
    assert set(given) <= set(ACTION["inputs"]), set(given) - set(ACTION["inputs"])
    assert str(given["last"]) == "5"
    # the app's requirements name revisor: installed after the action's own revisor
    assert shlex.split(given["install"]) == ["-r", "requirements.txt"]
    assert (WORKFLOW.parents[2] / "requirements.txt").is_file()
    assert workflow["permissions"]["security-events"] == "write"  # SARIF upload
    # the bare alembic check and hand-written revisor steps are gone: the action runs them
    assert not [s for s in job["steps"] if "run" in s]
    checkout = job["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 0  # check reviews what the branch adds
