"""git, run the one way every command runs it (review --since, check, redo, doctor).

Each call:
- passes `-z` wherever git prints paths, so names arrive as raw bytes: without it git
  C-quotes any name with a byte outside ASCII (`"ab12_a\\303\\261adir.py"`, the default
  `core.quotepath`), and a migration named from an alembic slug with an accented letter
  was silently left out. `core.quotepath` does not apply to `-z` output;
- runs with `LC_ALL=C` (the same messages in every language), no credential prompt,
  no optional index lock (`GIT_OPTIONAL_LOCKS=0`: revisor only reads, and must not
  race a `git commit` the user runs meanwhile) and stdin closed;
- gives up after REVISOR_GIT_TIMEOUT seconds (default 60), killing git and whatever it
  started (a hook, an fsmonitor daemon's client) so that nothing holds the pipes open;
- raises GitNotFound, GitTimedOut or GitFailed, never OSError or a traceback. `ask`
  turns a non-zero exit into None for the questions whose "no" git says that way.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from revisor.errors import ConfigError, RevisorError

TIMEOUT_VARIABLE = "REVISOR_GIT_TIMEOUT"
DEFAULT_TIMEOUT = 60.0  # seconds; `git log -G` over a long history takes a few

# Where a branch's work is compared with when nobody names a base: origin's HEAD first
# (whatever the remote calls its default branch), then the usual names.
DEFAULT_BRANCHES = ("origin/main", "origin/master", "main", "master")


def timeout() -> float:
    """Seconds one git command may take: REVISOR_GIT_TIMEOUT, else 60. Raises ConfigError
    for a setting that is not a positive number."""
    setting = os.environ.get(TIMEOUT_VARIABLE, "").strip()
    if not setting:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(setting)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):  # also refuses nan
        raise ConfigError(
            f"{TIMEOUT_VARIABLE}={setting!r} is not a number of seconds.",
            hint=f"Set e.g. {TIMEOUT_VARIABLE}=120, or unset it for the default (60).",
        )
    return seconds


def run(cwd: Path, *args: str) -> bytes:
    """git's stdout for `git ARGS` run in `cwd`. Raises GitNotFound, GitTimedOut, or
    GitFailed when git exits non-zero. Runs only the command it is given."""
    done = _run(cwd, args)
    if done.returncode != 0:
        raise GitFailed(args, done.returncode, _decode(done.stderr))
    return done.stdout


def ask(cwd: Path, *args: str) -> bytes | None:
    """Like `run`, but None when git exits non-zero: for questions whose "no" is an exit
    status (`rev-parse --verify`, `cat-file -e`, `check-ignore`, a grep that finds
    nothing). A missing or hanging git still raises."""
    done = _run(cwd, args)
    return done.stdout if done.returncode == 0 else None


def text(output: bytes | None) -> str | None:
    """git's output as text (UTF-8; a byte that is not becomes U+FFFD), stripped."""
    return None if output is None else _decode(output).strip()


def paths(output: bytes | None) -> list[str]:
    """The NUL-separated names of a `-z` output, decoded the way the file system
    decodes names (so each one opens the file it names)."""
    return [os.fsdecode(name) for name in (output or b"").split(b"\0") if name]


# --- questions every command asks --------------------------------------------------------


def toplevel(folder: Path) -> Path | None:
    """The work tree that contains `folder`, or None outside a git work tree."""
    found = ask(folder, "rev-parse", "--show-toplevel")
    if found is None:
        return None
    # --show-toplevel prints the path as is (never quoted), then a newline
    return Path(os.fsdecode(found.rstrip(b"\n")))


def commit(cwd: Path, ref: str) -> str | None:
    """The commit `ref` names, or None when git does not know it."""
    return text(ask(cwd, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")) or None


def current_branch(cwd: Path) -> str | None:
    """The checked-out branch, or None (detached HEAD, not a repository)."""
    return text(ask(cwd, "symbolic-ref", "--quiet", "--short", "HEAD")) or None


def upstream(cwd: Path) -> str | None:
    """The branch the current one tracks (`origin/feature`), or None."""
    return (
        text(ask(cwd, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}")) or None
    )


def default_branches(cwd: Path) -> list[str]:
    """The branches that may be the default one, best first, each known to git:
    origin's HEAD, then origin/main, origin/master, main, master."""
    candidates: list[str] = []
    origin_head = text(ask(cwd, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"))
    if origin_head:
        candidates.append(origin_head)
    candidates.extend(DEFAULT_BRANCHES)
    return [b for b in dict.fromkeys(candidates) if commit(cwd, b) is not None]


def relative(path: Path, top: Path) -> str | None:
    """`path` relative to the work tree `top` (symbolic links resolved), or None when it
    lies outside."""
    try:
        return Path(os.path.realpath(path)).relative_to(os.path.realpath(top)).as_posix()
    except ValueError:
        return None


@dataclass(frozen=True)
class ChangedFiles:
    """Files added or changed since `ref` (resolved to the commit `base`): committed,
    staged, modified or untracked, deleted ones left out. Absolute, resolved, sorted."""

    ref: str
    base: str
    paths: tuple[Path, ...]


def changed_since(
    folder: Path, ref: str | None, within: Sequence[Path] = ()
) -> ChangedFiles | None:
    """The files under `within` (default: the whole work tree) changed since `ref`; by
    default since the merge-base of HEAD with the default branch. None when `folder` is
    not in a git work tree or, without `ref`, no default branch is found. Raises
    ConfigError for a `ref` outside a repository or unknown to git, GitError when git
    itself fails. Runs read-only git commands."""
    top = toplevel(folder)
    if top is None:
        if ref is not None:
            raise ConfigError(
                f"--since {ref}: {folder} is not inside a git repository.",
                hint="Run revisor in the repository's work tree, or drop --since.",
            )
        return None
    if ref is None:
        found = default_base(top)
        if found is None:
            return None
        ref, base = found
    else:
        resolved = commit(top, ref)
        if resolved is None:
            raise ConfigError(
                f"--since {ref}: git does not know this ref.",
                hint="In CI fetch the base branch (actions/checkout with fetch-depth: 0) "
                "and pass e.g. --since origin/main.",
            )
        base = resolved
    specs = [r for r in (relative(p, top) for p in within) if r is not None]
    if within and not specs:  # every folder lies outside this work tree
        return ChangedFiles(ref, base, ())
    # :(literal): a folder named `v[12]` is that folder, not a glob
    pathspec = ["--", *(f":(literal){spec}" for spec in specs or ["."])]
    # --no-renames: a renamed file is its new name, added (d: every change but deletions)
    diff = run(top, "diff", "--name-only", "-z", "--no-renames", "--diff-filter=d", base, *pathspec)
    untracked = run(
        top, "ls-files", "--others", "--exclude-standard", "--full-name", "-z", *pathspec
    )
    # both name files from the top level, whatever the current folder
    found_paths = {(top / name).resolve() for name in paths(diff) + paths(untracked)}
    return ChangedFiles(ref, base, tuple(sorted(p for p in found_paths if p.is_file())))


def default_base(top: Path) -> tuple[str, str] | None:
    """(branch, merge-base commit) of HEAD with the default branch, or None."""
    for branch in default_branches(top):
        base = text(ask(top, "merge-base", "HEAD", branch))
        if base:
            return branch, base
    return None


def archive(folder: Path, commit: str, output: Path) -> None:
    """Write the tree of `commit` (the whole repository that holds `folder`) as a tar file
    at `output`. Reads the object store only: the work tree, the index and the list of
    work trees stay as they are. Raises GitError."""
    run(folder, "archive", "--format=tar", f"--output={output}", commit)


def files_in(top: Path, commit: str, folder: str) -> set[str]:
    """The paths (from the top level `top`) of the files directly in `folder` in the tree
    of `commit`; empty when the folder is not there. One git command for a whole folder
    of migrations."""
    folder = folder.strip("/")
    spec = ["--", f":(literal){folder}/"] if folder not in ("", ".") else []
    return set(paths(ask(top, "ls-tree", "--name-only", "-z", commit, *spec)))


# --- running git -------------------------------------------------------------------------


def _environment() -> dict[str, str]:
    return {
        **os.environ,
        "LC_ALL": "C",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_PAGER": "cat",
    }


def _run(cwd: Path, args: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
    executable = shutil.which("git")
    if executable is None:
        raise GitNotFound(args)
    seconds = timeout()
    # Its own process group: on a timeout the whole group is killed, hooks included;
    # killing git alone leaves a child holding stdout open and the read never ends.
    try:
        process = subprocess.Popen(
            [executable, *args],
            cwd=cwd,
            env=_environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:  # the folder is gone, or git is not executable
        raise GitFailed(args, None, f"{exc.strerror or exc}: {exc.filename or cwd}") from None
    try:
        stdout, stderr = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        process.communicate()
        raise GitTimedOut(args, seconds) from None
    except BaseException:  # Ctrl-C: do not leave git running
        _kill_group(process)
        process.wait()
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()


def _decode(output: bytes) -> str:
    return output.decode("utf-8", errors="replace")


class GitError(RevisorError):
    """git could not answer (revisor.git runs every git command). `command`: git's
    arguments."""

    def __init__(self, command: Sequence[str], message: str, *, hint: str | None = None):
        self.command = tuple(command)
        super().__init__(message, hint=hint)


def _git_command(command: Sequence[str]) -> str:
    return "`" + " ".join(["git", *command]) + "`"


class GitNotFound(GitError):
    """No git program on PATH."""

    def __init__(self, command: Sequence[str]) -> None:
        super().__init__(
            command,
            f"git is not installed (no `git` on PATH), so revisor cannot run "
            f"{_git_command(command)}.",
            hint="Install git (e.g. apt install git), or leave out the option that needs "
            "it (--since).",
        )


class GitTimedOut(GitError):
    """A git command took longer than REVISOR_GIT_TIMEOUT seconds and was stopped."""

    def __init__(self, command: Sequence[str], seconds: float) -> None:
        self.seconds = seconds
        super().__init__(
            command,
            f"{_git_command(command)} did not finish within {seconds:g} s and was stopped.",
            hint="A hook or an fsmonitor (core.fsmonitor) may hang; try the command in a "
            "terminal. A very large repository may need more time: set "
            "REVISOR_GIT_TIMEOUT=SECONDS.",
        )


class GitFailed(GitError):
    """git exited non-zero where an answer was needed (`returncode` None: it could not
    even start, e.g. the folder is gone); `stderr` is what it said."""

    def __init__(self, command: Sequence[str], returncode: int | None, stderr: str) -> None:
        self.returncode = returncode
        self.stderr = stderr
        said = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
        detail = f": {said[-1]}" if said else ""
        status = "could not start" if returncode is None else f"failed (exit {returncode})"
        super().__init__(command, f"{_git_command(command)} {status}{detail}")
