"""Migration files changed on the current branch, from git.

`revisor check` reviews what a pull request adds: the files in the project's version
folders that differ between a base commit and the working tree (committed, staged,
modified or untracked). The base is `--since REF`, or by default the merge-base of HEAD
with the default branch (origin's HEAD, else origin/main, origin/master, main, master).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from revisor.errors import ConfigError
from revisor.project import Project

_DEFAULT_BRANCHES = ("origin/main", "origin/master", "main", "master")


@dataclass(frozen=True)
class ChangedMigrations:
    """Migration files changed since `ref` (resolved to the commit `base`)."""

    ref: str
    base: str
    paths: tuple[Path, ...]


def git(cwd: Path, *args: str) -> str | None:
    """Output of `git -C cwd ARGS`, or None when git is missing or the command fails."""
    try:
        done = subprocess.run(
            ["git", "-C", str(cwd), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def default_base(cwd: Path) -> tuple[str, str] | None:
    """(branch, merge-base commit) of HEAD with the default branch, or None."""
    candidates: list[str] = []
    origin_head = git(cwd, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD")
    if origin_head and origin_head.strip():
        candidates.append(origin_head.strip())
    candidates.extend(_DEFAULT_BRANCHES)
    for branch in candidates:
        if git(cwd, "rev-parse", "--verify", "--quiet", f"{branch}^{{commit}}") is None:
            continue
        base = git(cwd, "merge-base", "HEAD", branch)
        if base and base.strip():
            return branch, base.strip()
    return None


def changed_migrations(project: Project, ref: str | None = None) -> ChangedMigrations | None:
    """The .py files in the version folders changed since `ref` (default: the merge-base
    with the default branch). None when the project is not in a git work tree (or, without
    `ref`, no default branch is found). Raises ConfigError for a `ref` git cannot resolve.
    Runs git; reads nothing else.
    """
    root = project.root
    toplevel = git(root, "rev-parse", "--show-toplevel")
    if toplevel is None:
        if ref is not None:
            raise ConfigError(
                f"--since {ref}: {root} is not inside a git repository.",
                hint="Run check in the repository's work tree, or drop --since.",
            )
        return None
    top = Path(toplevel.strip())
    if ref is None:
        found = default_base(root)
        if found is None:
            return None
        ref, base = found
    else:
        resolved = git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        if resolved is None:
            raise ConfigError(
                f"--since {ref}: git does not know this ref.",
                hint="In CI fetch the base branch (actions/checkout with fetch-depth: 0) "
                "and pass e.g. --since origin/main.",
            )
        base = resolved.strip()
    folders = [str(p) for p in project.version_locations]
    diff = git(root, "diff", "--name-only", "-z", "--diff-filter=ACMR", base, "--", *folders)
    untracked = git(
        root, "ls-files", "--others", "--exclude-standard", "--full-name", "-z", "--", *folders
    )
    names = {n for text in (diff, untracked) if text for n in text.split("\0") if n}
    paths = {(top / name).resolve() for name in names}  # both name files from the top level
    return ChangedMigrations(
        ref=ref,
        base=base,
        paths=tuple(sorted(p for p in paths if p.suffix == ".py" and p.is_file())),
    )
