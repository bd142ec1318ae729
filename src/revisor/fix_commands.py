"""The command lines revisor's hints tell the user to run, built in one place.

A printed command must work as printed: run from the folder revisor ran in, with the same
environment, it reaches the same project (the `-c`, `-n`, `-x` and `--app` the command was
given) and the same database (`--url` when it came from the command line).

The database work is named as revisor's commands, never as alembic's: `revisor db stamp`,
`db upgrade`, `db downgrade` are alembic's own commands run through env.py against the
database revisor resolved, where `alembic stamp` goes wherever env.py points (another
database when --url or DATABASE_URL chose this one, and nothing at all on revisor's
embedded dev database, which only revisor reaches). On the user's own database an upgrade
to head is `revisor deploy`; on the embedded dev database, which deploy refuses, it is
`revisor db upgrade`.

A `--url` with a password is printed masked (`***`): the one case where a printed command
needs editing, since revisor never prints a password.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from revisor.db.url import DatabaseUrl
    from revisor.project import Project


@dataclass(frozen=True)
class CommandLine:
    """One command line; `str()` is what to type (shell-quoted)."""

    argv: tuple[str, ...]

    def __str__(self) -> str:
        return shlex.join(self.argv)

    @property
    def quoted(self) -> str:
        """The command in backticks, as hints print it."""
        return f"`{self}`"


@dataclass(frozen=True)
class FixCommands:
    """The commands that act on the same project and database as this run."""

    project_options: tuple[str, ...] = ()  # -c/-n
    url_options: tuple[str, ...] = ()  # --url, when the database came from the command line
    embedded: bool = False  # revisor's embedded dev database
    several_heads: bool = False
    cwd: Path = field(default_factory=Path.cwd)

    @classmethod
    def for_project(
        cls, project: Project, url: DatabaseUrl | None = None, *, cwd: Path | None = None
    ) -> FixCommands:
        """The commands for `project` (and the database at `url`) from `cwd` (default:
        the current directory, where the user ran revisor)."""
        here = (cwd or Path.cwd()).resolve()
        options: list[str] = []
        if project.config_option is not None:
            options += ["-c", _relative(project.config_option, here)]
        section = project.config.config_ini_section
        if section != "alembic":
            options += ["-n", section]
        for x_arg in project.x_options:
            options += ["-x", x_arg]
        if project.app_option:
            options += ["--app", project.app_option]
        url_options: tuple[str, ...] = ()
        if url is not None and url.source == "--url":
            url_options = ("--url", url.shown(driver=url.original_driver))
        try:
            several = len(project.heads) > 1
        except Exception:  # a broken history: hints about it do not upgrade anything
            several = False
        return cls(
            project_options=tuple(options),
            url_options=url_options,
            embedded=url is not None and url.source == "embedded",
            several_heads=several,
            cwd=here,
        )

    # --- revisor's commands --------------------------------------------------------------

    def revisor(self, *args: str, database: bool = True, after: Sequence[str] = ()) -> CommandLine:
        """`revisor ARGS` with the options that reach this project (and, with `database`,
        this database); `after` goes last (e.g. a `--` and psql's arguments)."""
        options = self.project_options + (self.url_options if database else ())
        return CommandLine(("revisor", *args, *options, *after))

    def upgrade(self) -> CommandLine:
        """Apply every pending revision: `revisor db upgrade` on the embedded dev
        database, `revisor deploy` on the user's own."""
        if self.embedded:
            return self.revisor("db", "upgrade")
        return self.revisor("deploy", *(("--to", "heads") if self.several_heads else ()))

    def upgrade_to(self, revision: str) -> CommandLine:
        return self.revisor("db", "upgrade", revision)

    def downgrade(self, revision: str) -> CommandLine:
        return self.revisor("db", "downgrade", revision)

    def stamp(self, revisions: Iterable[str], *, purge: bool = False) -> CommandLine:
        return self.revisor("db", "stamp", *(("--purge",) if purge else ()), *revisions)

    def sql(self, statement: str) -> CommandLine:
        """Run one SQL statement on the database (psql's -c)."""
        return self.revisor("db", "shell", after=("--", "-c", statement))

    def reset(self) -> CommandLine | None:
        """Empty the embedded dev database; None for the user's own (revisor never drops
        it)."""
        return self.revisor("db", "reset", "--yes") if self.embedded else None

    def rebuild(self) -> str:
        """How to rebuild the database from the history, in words with the commands."""
        reset = self.reset()
        if reset is not None:
            return f"rebuild it: {reset.quoted} then {self.upgrade().quoted}"
        return f"rebuild the database: drop it and run {self.upgrade().quoted}"

    def start(self) -> CommandLine:
        return self.revisor("db", "start", database=False)

    def doctor(self, *flags: str) -> CommandLine:
        return self.revisor("doctor", *flags)

    def test(self, *flags: str) -> CommandLine:
        return self.revisor("test", *flags)

    def history(self) -> CommandLine:
        return self.revisor("db", "history", database=False)

    # --- files and git -------------------------------------------------------------------

    def relative(self, path: Path | str) -> str:
        """`path` as typed from the current directory."""
        return _relative(Path(path), self.cwd)

    def git(self, *args: str) -> CommandLine:
        return CommandLine(("git", *args))

    def git_restore(self, ref: str, path: Path) -> CommandLine:
        """Put `path` (absolute) back in the working tree as `ref` has it."""
        return self.git("restore", f"--source={ref}", "--", self.relative(path))

    def move(self, source: Path, target: Path) -> CommandLine:
        return CommandLine(("mv", self.relative(source), self.relative(target)))

    def remove(self, path: Path) -> CommandLine:
        return CommandLine(("rm", self.relative(path)))


def _relative(path: Path, cwd: Path) -> str:
    """`path` relative to `cwd` when it is below it, else absolute."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(cwd).as_posix()
    except ValueError:
        return str(resolved)
