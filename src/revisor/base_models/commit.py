"""Which commit's models the running release maps while a migration deploys.

- A migration not in the base yet (uncommitted, or committed on a feature branch) deploys
  onto the base: `--since REF` when given, else the merge-base of HEAD with the default
  branch (git.py's choice for `review --since`), else HEAD.
- A migration the base already holds was checked when it was added; only when the base is
  HEAD and HEAD's own commit added it (CI on the default branch after a push) is it
  compared with HEAD's parent.
- Outside git, or before the first commit: no base.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from revisor import git


@dataclass
class ReleaseBase:
    """The commit of the running release for each migration file, found on demand."""

    top: Path
    start: str  # the base commit: REF, the merge-base, or HEAD
    head: str
    # HEAD added a migration but its parent is not in this (shallow) clone: the
    # comparison was skipped, and review says so
    shallow_gap: bool = False
    _parent: str | None = None
    _by_file: dict[Path, str | None] = field(default_factory=dict)
    _listed: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def commit_for(self, path: Path) -> str | None:
        """The commit whose models run while `path` deploys; None when the base already
        holds `path` (reviewed when it was added). Runs read-only git commands."""
        if path not in self._by_file:
            self._by_file[path] = self._find(path)
        return self._by_file[path]

    def _find(self, path: Path) -> str | None:
        name = git.relative(path, self.top)
        if name is None:
            return None
        if not self._holds(self.start, name):
            return self.start
        if self.start != self.head:
            return None
        if self._parent is None:
            self._parent = git.commit(self.top, "HEAD^") or ""
        if not self._parent:
            shallow = git.text(git.ask(self.top, "rev-parse", "--is-shallow-repository"))
            self.shallow_gap = shallow == "true"
            return None
        if not self._holds(self._parent, name):
            return self._parent
        return None

    def _holds(self, commit: str, name: str) -> bool:
        folder = name.rpartition("/")[0]
        if (commit, folder) not in self._listed:
            self._listed[commit, folder] = git.files_in(self.top, commit, folder)
        return name in self._listed[commit, folder]


def release_base(folder: Path, since: str | None) -> ReleaseBase | None:
    """Where the running release's models come from for the project in `folder`; None
    outside a git work tree or before the first commit. Raises ConfigError for a `since`
    git does not know, GitError when git fails."""
    top = git.toplevel(folder)
    if top is None:
        return None
    head = git.commit(top, "HEAD")
    if head is None:
        return None
    start: str | None
    if since is not None:
        start = git.commit(top, since)
        if start is None:
            from revisor.errors import ConfigError

            raise ConfigError(f"--since {since}: git does not know this ref.")
    else:
        found = git.default_base(top)
        start = found[1] if found else head
    return ReleaseBase(top, start, head)
