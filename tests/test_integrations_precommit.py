"""The pre-commit hooks of .pre-commit-hooks.yaml, run by pre-commit itself (`try-repo`
installs this repository in pre-commit's own virtualenv, from PyPI), on a git copy of the
reference app: the unnamed foreign key fails the review hook, after `review --fix` it passes;
the check hook passes until a model gains a column no migration adds. And
`review --migrations-only`, which the review hook runs on pre-commit's list of files."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from revisor.cli import app
from revisor.init.ci import HOOK_IDS

REPO = Path(__file__).resolve().parents[1]
FK_REVISION = "migrations/versions/e6995e90df34_add_vendor_to_transactions.py"
# Not a revision file, yet written like one: reviewed as a migration, it would fire RV101.
SCRIPT_LIKE_A_MIGRATION = """from alembic import op


def upgrade():
    op.create_foreign_key(None, "transactions", "vendors", ["vendor_id"], ["id"])


def downgrade():
    op.drop_constraint(None, "transactions", type_="foreignkey")
"""


def _git(project: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=project,
        check=True,
        capture_output=True,
    )


def _review_json(cli: CliRunner, project: Path, *args: str):
    result = cli.invoke(
        app, ["review", "-c", str(project / "alembic.ini"), "--format", "json", *args]
    )
    files = sorted({f["path"] for f in json.loads(result.stdout)["findings"]})
    return result.exit_code, files


def test_migrations_only_skips_files_outside_the_history(
    cli: CliRunner, example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = example_project / "scripts" / "backfill.py"
    script.parent.mkdir()
    script.write_text(SCRIPT_LIKE_A_MIGRATION)
    monkeypatch.chdir(example_project)
    # what pre-commit passes: paths relative to the repository root, migrations or not
    given = ["app/models.py", "migrations/env.py", "scripts/backfill.py", FK_REVISION]
    assert _review_json(cli, example_project, "--migrations-only", *given) == (1, [FK_REVISION])
    assert _review_json(cli, example_project, "--migrations-only", *given[:3]) == (0, [])
    # without the flag, a named file is reviewed whatever it is
    assert _review_json(cli, example_project, "scripts/backfill.py") == (
        1,
        ["scripts/backfill.py"],
    )


def test_hooks_manifest_names_real_commands(cli: CliRunner) -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"revisor-review", "revisor-check"}
    # the ids `revisor init` writes into a project's .pre-commit-config.yaml
    assert set(HOOK_IDS) == set(hooks)
    assert hooks["revisor-check"]["pass_filenames"] is False
    for hook in hooks.values():
        program, *args = hook["entry"].split()
        assert program == "revisor"
        result = cli.invoke(app, [*args, "--help"])
        assert result.exit_code == 0, result.output
        options = [a for a in args if a.startswith("-")]
        assert all(o in result.output for o in options), (options, result.output)


def _try_repo(project: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """`pre-commit try-repo REPO --all-files`: every hook of the manifest, in a virtualenv
    pre-commit makes anew on each call (try-repo's store is temporary: ~30 s of pip)."""
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    # a working tree with changes is committed to a shadow repository first
    for role in ("AUTHOR", "COMMITTER"):
        env.setdefault(f"GIT_{role}_NAME", "t")
        env.setdefault(f"GIT_{role}_EMAIL", "t@example.com")
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "--all-files"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _status(run: subprocess.CompletedProcess[str], hook: str) -> str:
    """Passed / Failed / Skipped: the word ending the hook's line of pre-commit's output."""
    found = re.search(rf"^{re.escape(hook)}\.+(\w+)$", run.stdout, flags=re.MULTILINE)
    assert found, run.stdout + run.stderr
    return found.group(1)


@pytest.mark.slow
@pytest.mark.skipif(not (REPO / ".git").exists(), reason="try-repo needs revisor's git repository")
@pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")
def test_pre_commit_try_repo_runs_both_hooks(
    cli: CliRunner, example_project: Path, tmp_path: Path
) -> None:
    _git(example_project, "init", "-q")
    _git(example_project, "add", "-A")
    _git(example_project, "commit", "-qm", "the app with its unnamed foreign key")
    home = tmp_path / "pre-commit-home"

    before = _try_repo(example_project, home)
    assert before.returncode == 1, before.stdout + before.stderr
    assert _status(before, "revisor review") == "Failed"
    assert f"{FK_REVISION}:24:5: RV101" in before.stdout
    # models and migrations agree; check reviews only what a branch adds (none here)
    assert _status(before, "revisor check") == "Passed"

    fixed = cli.invoke(app, ["review", "-c", str(example_project / "alembic.ini"), "--fix"])
    assert "Fixed 2 finding(s) in 1 file(s)." in fixed.stderr, fixed.output
    models = example_project / "app" / "models.py"
    models.write_text(
        models.read_text().replace(
            "    category: Mapped[str | None] = mapped_column(sa.String(50))",
            "    category: Mapped[str | None] = mapped_column(sa.String(50))\n"
            "    note: Mapped[str | None] = mapped_column(sa.Text)",
            1,
        )
    )
    _git(example_project, "commit", "-qam", "name the foreign key; a column without migration")

    after = _try_repo(example_project, home)
    assert after.returncode == 1, after.stdout + after.stderr
    assert _status(after, "revisor review") == "Passed"
    assert "RV101" not in after.stdout
    assert _status(after, "revisor check") == "Failed"
    assert "transactions.note" in after.stdout
