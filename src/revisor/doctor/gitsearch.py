"""Find a revision that is not in the checkout in the project's git history.

A database stamped with a revision the files do not define was usually migrated from
another branch, or from a file deleted before its downgrade ran. git knows both: the
branch tips whose version folders define it, or the last commit that had the file.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

_GIT_TIMEOUT = 20  # seconds; a repository with a huge history must not hang doctor


@dataclass(frozen=True)
class GitSighting:
    """Where git has the file defining a revision.

    `branches`: branch tips (local first, then remote) whose version folders define it;
    empty when it is gone from every branch, and then `commit` is the last commit that
    had the file (`deleted_in` the one that removed it). `path` is relative to `top`.
    `down_revisions`: the revision's ancestors as that file (and its neighbours on the
    same ref) state them, nearest first, up to the first one the checkout knows.
    """

    top: Path
    path: str
    ref: str
    branches: tuple[str, ...]
    commit: str | None = None
    subject: str | None = None
    deleted_in: str | None = None
    down_revisions: tuple[str, ...] = ()


def find_revision(
    version_locations: list[Path], revision: str, known: set[str]
) -> GitSighting | None:
    """Search every branch, then every commit, for the file that defines `revision`.
    Returns None outside a git repository or when git never saw it. Runs git (read-only)."""
    if not version_locations:
        return None
    top = _git(version_locations[0], "rev-parse", "--show-toplevel")
    if top is None:
        return None
    root = Path(top.strip())
    paths = [_relative(loc, root) for loc in version_locations]
    paths = [p for p in paths if p is not None]
    if not paths:
        return None
    pattern = _defines(revision)
    refs = _git(root, "for-each-ref", "--format=%(refname:short)", "refs/heads", "refs/remotes")
    branches = [r for r in (refs or "").split() if r and not r.endswith("/HEAD")]
    hits: dict[str, str] = {}
    if branches:
        found = _git(root, "grep", "-l", "-E", pattern, *branches, "--", *paths) or ""
        for line in found.splitlines():
            ref, _, path = line.partition(":")
            hits.setdefault(ref, path)
    if hits:
        ref = next(iter(hits))
        return GitSighting(
            top=root,
            path=hits[ref],
            ref=ref,
            branches=tuple(hits),
            down_revisions=_ancestry(root, ref, hits[ref], paths, known),
        )
    log = _git(root, "log", "--all", "--format=%H%x09%s", "-G", pattern, "--", *paths)
    for line in (log or "").splitlines():  # newest first
        commit, _, subject = line.partition("\t")
        for candidate, deleted_in in ((commit, None), (f"{commit}^", commit)):
            found = _git(root, "grep", "-l", "-E", pattern, candidate, "--", *paths)
            if found:
                path = found.splitlines()[0].partition(":")[2]
                short = _short(root, candidate)
                return GitSighting(
                    top=root,
                    path=path,
                    ref=short,
                    branches=(),
                    commit=short,
                    subject=subject if deleted_in is None else _subject(root, candidate),
                    deleted_in=_short(root, deleted_in) if deleted_in else None,
                    down_revisions=_ancestry(root, candidate, path, paths, known),
                )
    return None


def current_branch(top: Path) -> str | None:
    """The checked-out branch, or None (detached HEAD, not a repository)."""
    name = _git(top, "symbolic-ref", "--quiet", "--short", "HEAD")
    return name.strip() if name else None


def _defines(revision: str) -> str:
    # `revision = "abc"` and the newer template's `revision: str = "abc"` (ERE syntax)
    ident = re.escape(revision)
    return r"^[[:space:]]*revision[[:space:]]*(:[^=]*)?=[[:space:]]*['\"]" + ident + r"['\"]"


_DOWN = re.compile(r"^\s*down_revision\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)
_IDS = re.compile(r"['\"]([^'\"]+)['\"]")


def _ancestry(
    root: Path, ref: str, path: str, paths: list[str], known: set[str]
) -> tuple[str, ...]:
    """Follow down_revision on `ref` until a revision the checkout knows (at most 100)."""
    chain: list[str] = []
    current = path
    for _ in range(100):
        text = _git(root, "show", f"{ref}:{current}")
        match = _DOWN.search(text or "")
        ids = _IDS.findall(match.group(1)) if match else []
        if not ids:
            break
        chain.extend(ids)
        if any(i in known for i in ids):
            break
        found = _git(root, "grep", "-l", "-E", _defines(ids[0]), ref, "--", *paths)
        if not found:
            break
        current = found.splitlines()[0].partition(":")[2]
    return tuple(chain)


def _subject(root: Path, commit: str) -> str | None:
    out = _git(root, "log", "-1", "--format=%s", commit)
    return out.strip() if out else None


def _short(root: Path, commit: str) -> str:
    out = _git(root, "rev-parse", "--short", commit)
    return out.strip() if out else commit


def _relative(location: Path, root: Path) -> str | None:
    try:
        return Path(os.path.realpath(location)).relative_to(os.path.realpath(root)).as_posix()
    except ValueError:
        return None


def _git(cwd: Path, *args: str) -> str | None:
    """git's stdout, or None when git is missing, fails or finds nothing."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None
