"""`revisor merge -m MSG`: one merge revision for every head of the history, as `alembic
merge heads -m MSG` writes it (the project's script.py.mako and post-write hooks).

Unlike alembic's command, env.py is never run (alembic runs it when
`revision_environment = true`, online, on whatever database it connects to): a merge
revision has no operations, so nothing from a database belongs in it. The CLI then reviews
the new file.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
from dataclasses import dataclass
from pathlib import Path

from revisor.errors import ConfigError, RevisorError
from revisor.project import Project


class NothingToMerge(RevisorError):
    """The history has fewer than two heads."""

    def __init__(self, heads: tuple[str, ...], graph_command: str) -> None:
        self.heads = heads
        where = f"one head ({heads[0]})" if heads else "no revision"
        super().__init__(
            f"The migration history has {where}: there is nothing to merge, and no file "
            "was written.",
            hint="revisor merge joins several heads (after two branches each added a "
            f"revision); {graph_command} shows the history.",
        )


@dataclass(frozen=True)
class MergeResult:
    revision: str
    path: Path
    heads: tuple[str, ...]  # the merged heads, now its down_revision


def merge_heads(project: Project, message: str) -> MergeResult:
    """Write a merge revision whose down_revision is every head of the history. Raises
    ConfigError for an empty message, NothingToMerge for fewer than two heads. Side
    effect: the new file in the version folder alembic picks (its post-write hooks run)."""
    from alembic import util
    from alembic.script import ScriptDirectory

    if not message.strip():
        raise ConfigError(
            "-m/--message is empty: the merge revision needs a message.",
            hint='Say what the merge joins, e.g. revisor merge -m "merge billing and search".',
        )
    heads = tuple(project.heads)
    if len(heads) < 2:
        from revisor.fix_commands import FixCommands

        graph = FixCommands.for_project(project).revisor("graph", database=False)
        raise NothingToMerge(heads, graph.quoted)
    script = ScriptDirectory.from_config(project.config)  # a fresh map: a file is added
    # alembic prints "Generating <path> ... done" on stdout itself; revisor says it
    before = _revision_files(project)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            created = script.generate_revision(
                util.rev_id(), message.strip(), head=list(heads), config=project.config
            )
    except (util.CommandError, OSError, subprocess.SubprocessError) as exc:
        # a template error, or a post-write hook (ruff, black) missing or failing after
        # the file was written: no half-written merge is left behind
        for path in _revision_files(project) - before:
            path.unlink()
        raise ConfigError(
            f"alembic could not write the merge revision ({type(exc).__name__}: {exc}); "
            "no file was left.",
            hint="Check script.py.mako and the post-write hooks in the Alembic config.",
        ) from exc
    if created is None:  # the file alembic wrote (after its post-write hooks) is no revision
        raise ConfigError(
            "alembic wrote the merge file but cannot read it back as a revision.",
            hint="Check script.py.mako and the post-write hooks in the Alembic config.",
        )
    return MergeResult(created.revision, Path(created.path).resolve(), heads)


def _revision_files(project: Project) -> set[Path]:
    return {p for folder in project.version_locations for p in folder.glob("*.py")}
