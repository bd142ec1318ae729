"""What `revisor redo` refuses, and how it failed, as errors with their facts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from revisor.errors import MigrationFailed, PendingRevisions, RevisorError, UnknownRevision
from revisor.exit_codes import ExitCode

if TYPE_CHECKING:
    from revisor.fix_commands import CommandLine


class RedoRefused(RevisorError):
    """`revisor redo` will not touch this revision (not a head, several heads, ...)."""


class AlreadyPublished(RedoRefused):
    """The revision file is in a branch others can see: rewriting it would fork history."""

    def __init__(self, path: Path, refs: Sequence[str]) -> None:
        self.path = path
        self.refs = list(refs)
        super().__init__(
            f"{path.name} is already pushed/merged ({', '.join(self.refs)}): write a new "
            "migration instead.",
            hint="Other databases may have applied it. `revisor draft -m ...` writes a new "
            "migration on top; --force redoes it anyway.",
        )


class DowngradeIncomplete(RedoRefused):
    """The revision's downgrade() does not undo its upgrade(): undoing it would leave its
    changes in the dev database, and the new draft (made against that database) would
    leave them out of the migration."""

    def __init__(self, revision: str, problems: Sequence[str], test: CommandLine) -> None:
        self.revision = revision
        self.problems = list(problems)
        super().__init__(
            f"The downgrade of {revision} does not undo its upgrade ({'; '.join(problems)}): "
            "redo would leave its changes in the database and the new draft would leave "
            "them out.",
            hint=f"Make downgrade() undo upgrade() first ({test.quoted} checks it), "
            "or pass --force to redo it anyway.",
        )


class DatabaseElsewhere(RedoRefused):
    """The dev database is on a revision from which redo cannot downgrade one step."""

    def __init__(
        self,
        current: Sequence[str],
        revision: str,
        parents: Sequence[str],
        upgrade: CommandLine,
    ) -> None:
        self.current = list(current)
        self.revision = revision
        self.parents = list(parents)
        at = ", ".join(self.current) or "no revision"
        super().__init__(
            f"The database is at {at}, neither at {revision} nor at its parent "
            f"{', '.join(self.parents) or '(base)'}: downgrading it one step would not undo "
            f"{revision}.",
            hint=f"Bring the database to {revision} first ({upgrade.quoted}; redo then "
            "undoes it), or point --url at the database where you applied it.",
        )


class DatabaseUnknownForRedo(UnknownRevision):
    """The dev database is stamped with a revision the history does not have."""

    def __init__(self, revisions: Sequence[str], revision: str, doctor: CommandLine) -> None:
        super().__init__(revisions, doctor)
        self.hint = (
            f"redo only downgrades a database at {revision} or skips one at its parent. Was "
            "another migration deleted? Point --url at the right database, or restore the "
            "file from .revisor/trash/."
        )


class DatabaseBehindForRedo(PendingRevisions):
    """Without the redone revision the dev database is behind the history's head, so a
    draft against it would repeat the pending migrations."""

    def __init__(
        self,
        current: Sequence[str],
        pending: Sequence[str],
        revision: str,
        heads: Sequence[str],
        upgrade: CommandLine,
    ) -> None:
        super().__init__(current, pending, upgrade)
        self.message = (
            f"Without {revision} the database is behind {', '.join(heads)} "
            f"({len(self.pending)} revision(s) pending: {', '.join(self.pending[:5])}"
            f"{', …' if len(self.pending) > 5 else ''}): a draft against it would repeat "
            "those migrations."
        )
        self.args = (self.message,)
        self.hint = (
            f"Upgrade it first ({upgrade.quoted}), or pass --no-draft to only remove the revision."
        )


class RedoDowngradeFailed(MigrationFailed):
    """The one-step downgrade failed: nothing was moved."""

    def __init__(
        self, failure: MigrationFailed, path: Path, database_heads: Sequence[str] | None
    ) -> None:
        super().__init__(failure.revision, failure.direction, failure.cause)
        self.path = path
        self.database_heads = None if database_heads is None else list(database_heads)
        if database_heads is None:
            state = "its revision could not be read"
        else:
            state = f"it is at {', '.join(database_heads) or 'no revision'}"
        self.hint = (
            f"Nothing was moved: {path} is still in place. The downgrade's transaction was "
            f"rolled back; {state}. Fix the downgrade() (or the database), then rerun redo."
        )


class RedoDraftFailed(RevisorError):
    """The revision was removed, but drafting its replacement failed."""

    def __init__(self, cause: BaseException, trash_path: Path, restore: str) -> None:
        self.cause = cause
        self.trash_path = trash_path
        if isinstance(cause, RevisorError):
            self.exit_code = cause.exit_code
            text, hint = cause.message, cause.hint
        elif isinstance(cause, KeyboardInterrupt):  # Ctrl-C while drafting
            self.exit_code = ExitCode.INTERRUPTED
            text, hint = "interrupted", None
        else:
            self.exit_code = ExitCode.INTERNAL
            text, hint = f"{type(cause).__name__}: {cause}", None
        super().__init__(
            f"The old revision was moved to {trash_path}, but the new draft failed: {text}",
            hint=(f"{hint} " if hint else "")
            + f"Draft again with `revisor draft -m ...`, or restore the old file: {restore}",
        )


class TrashFailed(RevisorError):
    """The revision file could not be moved to the trash."""

    def __init__(self, path: Path, trash: Path, cause: OSError, state: str) -> None:
        self.path = path
        self.trash = trash
        super().__init__(
            f"Could not move {path} to {trash}: {cause.strerror or cause}.",
            hint=f"{state} Move or delete the file yourself, or rerun redo once fixed.",
        )
