"""git as every command runs it (revisor.git): a missing git and a git that hangs are
messages, never a traceback or a stuck command; without --since they do not stop what
does not need git."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revisor import migrate
from revisor.cli import app
from revisor.exit_codes import ExitCode
from revisor.project import Project
from tests.support.mini_history import ACCOUNTS, ORDERS, write_history
from tests.test_doctor import STATUS, doctor, sql


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def _repository(project: Path) -> None:
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "base")


@pytest.fixture
def no_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PATH on which there is no git (revisor finds programs the way a shell does)."""
    empty = tmp_path / "bin-without-git"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


@pytest.fixture
def hanging_git(example_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The example project in a repository whose fsmonitor hook never answers (as a broken
    watchman does): `git diff` and `git ls-files` wait for it. Returns the file where the
    hook writes its process id; REVISOR_GIT_TIMEOUT is 1 second."""
    _repository(example_project)
    pid_file = tmp_path / "hook.pid"
    hook = tmp_path / "fsmonitor-hook"
    hook.write_text(f'#!/bin/sh\necho $$ > "{pid_file}"\nexec sleep 60\n')
    hook.chmod(0o755)
    _git(example_project, "config", "core.fsmonitor", str(hook))
    monkeypatch.setenv("REVISOR_GIT_TIMEOUT", "1")
    return pid_file


def _running(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def _review(cli: CliRunner, project: Path, *args: str):
    result = cli.invoke(app, ["review", "-c", str(project / "alembic.ini"), *args])
    assert "Traceback" not in result.output, result.output
    return result


def test_review_since_without_git_says_git_is_missing(
    cli: CliRunner, example_project: Path, no_git: None
) -> None:
    result = _review(cli, example_project, "--since", "HEAD")
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "git is not installed (no `git` on PATH)" in result.stderr
    assert "Install git" in result.stderr


def test_review_since_stops_a_hanging_git_and_everything_it_started(
    cli: CliRunner, example_project: Path, hanging_git: Path
) -> None:
    result = _review(cli, example_project, "--since", "HEAD")
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "`git diff --name-only -z" in result.stderr
    assert "did not finish within 1 s and was stopped" in result.stderr
    assert "core.fsmonitor" in result.stderr and "REVISOR_GIT_TIMEOUT" in result.stderr
    # the hook git started is gone too: it held git's output open, so killing git alone
    # would have left revisor waiting for it (killed, it may take a moment to exit)
    hook = int(hanging_git.read_text())
    deadline = time.monotonic() + 10
    while _running(hook) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(hook)


def test_bad_timeout_setting_is_a_usage_error(
    cli: CliRunner, example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _repository(example_project)
    monkeypatch.setenv("REVISOR_GIT_TIMEOUT", "soon")
    result = _review(cli, example_project, "--since", "HEAD")
    assert result.exit_code == ExitCode.USAGE
    assert "REVISOR_GIT_TIMEOUT='soon' is not a number of seconds" in result.stderr


def test_check_compares_the_models_when_git_hangs(
    cli: CliRunner, example_project: Path, hanging_git: Path, pg18, monkeypatch
) -> None:
    """Without --since the review of changed files is extra: a stuck git is a note and
    the comparison on the scratch database still decides the exit status."""
    monkeypatch.setenv("DATABASE_URL", pg18.url.sqlalchemy_url)
    result = cli.invoke(app, ["check", "-c", str(example_project / "alembic.ini")])
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == ExitCode.OK, result.output
    assert "No findings." in result.stdout
    assert "changed migrations not reviewed: `git diff" in result.output
    assert "did not finish within 1 s" in result.output
    # with --since the answer is the point: no answer is an error
    since = cli.invoke(
        app, ["check", "-c", str(example_project / "alembic.ini"), "--since", "HEAD"]
    )
    assert since.exit_code == ExitCode.USAGE, since.output
    assert "did not finish within 1 s" in since.output


def test_doctor_without_git_says_git_was_not_asked(
    cli: CliRunner, example_project: Path, database_url_18, no_git: None
) -> None:
    ini = example_project / "alembic.ini"
    migrate.upgrade(Project.load(ini), database_url_18, "heads")
    sql(database_url_18, "UPDATE alembic_version SET version_num = 'abcdef123456'")
    code, out = doctor(cli, ini, database_url_18)
    assert code == ExitCode.FINDINGS, out
    assert "DR102" in out and "abcdef123456" in out
    assert "git could not be asked for it (git is not installed" in " ".join(out.split())


def test_doctor_finds_a_revision_whose_file_name_has_accents(
    cli: CliRunner, tmp_path: Path, database_url_18
) -> None:
    """The database was migrated on a branch whose migration is named from an alembic
    slug with an ñ; `git grep` names it unquoted (-z), so doctor names the file and
    follows its down_revision to the revision this checkout has."""
    root = tmp_path / "shop"
    ini = write_history(root, [ACCOUNTS, ORDERS])
    _repository(root)
    _git(root, "switch", "-q", "-c", "feature/estado")
    write_history(root, [STATUS])
    versions = root / "migrations" / "versions"
    accented = versions / "c3_añadir_estado.py"
    (versions / "c3_rev.py").rename(accented)
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "estado")
    migrate.upgrade(Project.load(ini), database_url_18, "heads")
    _git(root, "switch", "-q", "main")
    assert not accented.exists()

    code, out = doctor(cli, ini, database_url_18, "--format", "json")
    assert code == ExitCode.FINDINGS, out
    (finding,) = json.loads(out)["findings"]
    assert finding["code"] == "DR102" and finding["revision"] == "c3"
    assert finding["details"]["path"] == "migrations/versions/c3_añadir_estado.py"
    assert "on branch feature/estado" in finding["message"]
    assert finding["details"]["ancestor"] == "b2"


def test_files_in_and_archive_read_a_commit_not_the_work_tree(tmp_path: Path) -> None:
    """The expand/contract rules read the running release's commit: one listing per folder
    (names with spaces, accents and glob characters as they are), and its tree as a tar."""
    import tarfile

    from revisor import git

    folder = tmp_path / "repo" / "v[12] ñ"
    folder.mkdir(parents=True)
    (folder / "a b.py").write_text("x = 1\n")
    (folder.parent / "v1 ñ").mkdir()
    (folder.parent / "v1 ñ" / "other.py").write_text("")
    top = folder.parent
    _git(top, "init", "-q")
    _git(top, "add", "-A")
    _git(top, "commit", "-qm", "one")
    (folder / "uncommitted.py").write_text("")
    assert git.files_in(top, "HEAD", "v[12] ñ") == {"v[12] ñ/a b.py"}
    assert git.files_in(top, "HEAD", "missing") == set()
    (folder / "a b.py").write_text("x = 2\n")  # the work tree changes; the commit does not
    git.archive(top, "HEAD", tmp_path / "tree.tar")
    with tarfile.open(tmp_path / "tree.tar") as tar:
        member = tar.extractfile("v[12] ñ/a b.py")
        assert member is not None and member.read() == b"x = 1\n"
