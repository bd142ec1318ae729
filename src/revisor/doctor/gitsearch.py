"""Find a revision that is not in the checkout in the project's git history.

A database stamped with a revision the files do not define was usually migrated from
another branch, or from a file deleted before its downgrade ran. git knows both: the
branch tips whose version folders define it, or the last commit that had the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from revisor import git


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
    Returns None outside a git repository or when git never saw it. Runs git (read-only);
    raises GitError when git is missing, hangs or fails."""
    if not version_locations:
        return None
    root = git.toplevel(version_locations[0])
    if root is None:
        return None
    paths = [p for p in (git.relative(loc, root) for loc in version_locations) if p is not None]
    if not paths:
        return None
    pattern = _defines(revision)
    refs = git.text(
        git.ask(root, "for-each-ref", "--format=%(refname:short)", "refs/heads", "refs/remotes")
    )
    branches = [r for r in (refs or "").split() if r and not r.endswith("/HEAD")]
    hits: dict[str, str] = {}
    if branches:
        for ref, path in _grep(root, pattern, branches, paths):
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
    # a repository without commits has no log: nothing found, as for a grep without hits
    log = git.text(
        git.ask(root, "log", "--all", "--format=%H%x09%s", "-G", pattern, "--", *_literal(paths))
    )
    for line in (log or "").splitlines():  # newest first
        commit, _, subject = line.partition("\t")
        for candidate, deleted_in in ((commit, None), (f"{commit}^", commit)):
            found = _grep(root, pattern, [candidate], paths)
            if found:
                path = found[0][1]
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
        text = git.text(git.ask(root, "show", f"{ref}:{current}"))
        match = _DOWN.search(text or "")
        ids = _IDS.findall(match.group(1)) if match else []
        if not ids:
            break
        chain.extend(ids)
        if any(i in known for i in ids):
            break
        found = _grep(root, _defines(ids[0]), [ref], paths)
        if not found:
            break
        current = found[0][1]
    return tuple(chain)


def _grep(root: Path, pattern: str, refs: list[str], paths: list[str]) -> list[tuple[str, str]]:
    """(ref, path) of each file on `refs` under `paths` with a line matching `pattern`
    (ERE). `-z`: names come unquoted, whatever letters they hold."""
    found = git.ask(root, "grep", "-l", "-z", "-E", pattern, *refs, "--", *_literal(paths))
    hits = []
    for name in git.paths(found):
        ref, _, path = name.partition(":")  # "<ref>:<path>"; a ref never holds a colon
        hits.append((ref, path))
    return hits


def _subject(root: Path, commit: str) -> str | None:
    return git.text(git.ask(root, "log", "-1", "--format=%s", commit)) or None


def _short(root: Path, commit: str) -> str:
    return git.text(git.ask(root, "rev-parse", "--short", commit)) or commit


def _literal(paths: list[str]) -> list[str]:
    """Pathspecs that match these folders only, whatever characters their names hold."""
    return [f":(literal){path}" for path in paths]
