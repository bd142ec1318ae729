"""What `revisor deploy` is asked (DeployOptions), what it did (DeployResult) and the
progress events it reports on the way. Plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from revisor.db.advisory import Holder
from revisor.exit_codes import ExitCode
from revisor.findings import Finding

MAX_RETRY_DELAY = 60.0


@dataclass(frozen=True)
class DeployOptions:
    """What `revisor deploy`'s flags ask for. Durations are in seconds."""

    to: str | None = None  # a revision, "head" or "heads"; None: the one head
    wait: float = 60.0  # for the deploy lock
    lock_timeout: float = 5.0  # per statement, for the session (0: wait forever)
    statement_timeout: float | None = None
    retries: int = 3  # after a lock timeout inside a transaction
    retry_delay: float = 2.0  # doubled after each retry, at most MAX_RETRY_DELAY
    review: bool = True
    dry_run: bool = False
    sql: bool = False  # with dry_run: render the pending revisions' SQL offline


class Status(StrEnum):
    APPLIED = "applied"
    UP_TO_DATE = "up-to-date"
    DRY_RUN = "dry-run"
    REFUSED = "refused"  # the review found errors
    FAILED = "failed"
    LOCK_TIMEOUT = "lock-timeout"  # a migration's lock_timeout, after every retry


_EXIT_CODES = {
    Status.APPLIED: ExitCode.OK,
    Status.UP_TO_DATE: ExitCode.OK,
    Status.DRY_RUN: ExitCode.OK,
    Status.REFUSED: ExitCode.FINDINGS,
    Status.FAILED: ExitCode.MIGRATION_FAILED,
    Status.LOCK_TIMEOUT: ExitCode.LOCKED,
}


@dataclass(frozen=True)
class PendingRevision:
    revision: str
    message: str
    path: Path | None


@dataclass(frozen=True)
class AppliedRevision:
    revision: str
    seconds: float  # of the attempt that succeeded
    attempts: int


@dataclass
class DeployFailure:
    """Why the run stopped at `revision` (None: the check after a successful run)."""

    revision: str | None
    error_type: str  # e.g. "LockNotAvailable"
    error: str  # its first line
    sqlstate: str | None = None
    attempts: int = 1
    lock_timeout: bool = False
    # The revision entered an autocommit block (or env.py turned transactional DDL off):
    # what ran there is committed, so the revision may be partly applied.
    autocommit: bool = False
    relation: str | None = None  # the table a timed-out statement wanted to lock
    holders: list[Holder] = field(default_factory=list)  # who holds a lock on it now
    statement: str | None = None


@dataclass
class DeployResult:
    """What a deploy did. `database_after` is the version table read after the run (after
    a failure too); `exit_code` is the command's exit status."""

    database: str  # masked URL
    version_table: str  # schema.name
    status: Status
    current: tuple[str, ...] = ()
    target: tuple[str, ...] = ()
    target_is_head: bool = True  # the target is every head of the history
    lock_timeout: float = 0.0  # the session's lock_timeout, seconds (0: none)
    pending: list[PendingRevision] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    applied: list[AppliedRevision] = field(default_factory=list)
    lock_waited: float | None = None  # None: no lock taken (--dry-run)
    failure: DeployFailure | None = None
    database_after: tuple[str, ...] | None = ()  # None: could not be read (`unreadable`)
    unreadable: str | None = None
    seconds: float = 0.0
    sql: str | None = None  # dry run with sql: what the pending revisions would run

    @property
    def exit_code(self) -> ExitCode:
        return _EXIT_CODES[self.status]


# --- progress events (the CLI renders them) -------------------------------------------


@dataclass(frozen=True)
class LockWaiting:
    holders: list[Holder]
    wait: float


@dataclass(frozen=True)
class LockAcquired:
    version_table: str
    waited: float


@dataclass(frozen=True)
class Planned:
    result: DeployResult  # current, target, pending filled in


@dataclass(frozen=True)
class Reviewed:
    findings: list[Finding]


@dataclass(frozen=True)
class RevisionStarted:
    revision: PendingRevision
    index: int  # 0-based position in the pending list
    total: int
    attempt: int


@dataclass(frozen=True)
class RevisionApplied:
    revision: PendingRevision
    index: int
    total: int
    seconds: float


@dataclass(frozen=True)
class RevisionRetry:
    revision: PendingRevision
    attempt: int  # the attempt that timed out
    delay: float  # seconds before the next one
    failure: DeployFailure


DeployEvent = (
    LockWaiting
    | LockAcquired
    | Planned
    | Reviewed
    | RevisionStarted
    | RevisionApplied
    | RevisionRetry
)
