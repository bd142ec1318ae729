"""`revisor deploy`: upgrade a real database safely, as a pre-deploy step.

    lock (advisory, per version table) -> read the version table -> plan -> review the
    pending files -> apply them one at a time through env.py -> read the version table
    again -> release the lock

What `alembic upgrade head` as a pre-deploy command gets wrong, and what this does instead:
- two replicas starting together both migrate: the second now waits for the first's
  advisory lock and then finds nothing pending;
- a migration queued behind a long transaction's lock blocks every query queued behind
  it: the session runs with lock_timeout, and a revision that timed out inside its
  transaction (rolled back whole) is retried after a pause;
- a failure leaves nobody knowing where the database is: each revision is committed on
  its own, and after a failure the version table is read again and reported.

Never prints, never exits: returns a `DeployResult` and reports progress as events.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import psycopg
from alembic.runtime.migration import MigrationContext, RevisionStep
from psycopg import sql

from revisor.db.advisory import (
    APPLICATION_NAME,
    Holder,
    advisory_lock,
    lock_key,
    relation_holders,
)
from revisor.db.connect import raw_connect
from revisor.db.url import DatabaseUrl
from revisor.errors import AmbiguousHead, ConfigError, EnvImportError, UnknownRevision
from revisor.exit_codes import ExitCode
from revisor.findings import Finding, has_errors
from revisor.migrate import revision_step, run_env
from revisor.project import Project

LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE of "canceling statement due to lock timeout"
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
    pending: list[PendingRevision] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    applied: list[AppliedRevision] = field(default_factory=list)
    lock_waited: float | None = None  # None: no lock taken (--dry-run)
    failure: DeployFailure | None = None
    database_after: tuple[str, ...] = ()
    seconds: float = 0.0

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


# --- the command -----------------------------------------------------------------------


def deploy(
    project: Project,
    url: DatabaseUrl,
    options: DeployOptions | None = None,
    *,
    on_event: Callable[[DeployEvent], None] | None = None,
) -> DeployResult:
    """Upgrade the database at `url` to the target, one revision per transaction, under
    revisor's advisory lock. Returns what happened, failures included (see `Status`).

    Raises AmbiguousHead (several heads, no `to`), HistoryError (unknown `to`, broken
    history), LockNotAcquired (another deploy held the lock for `wait` seconds),
    UnknownRevision (the database is stamped with a revision not in the history),
    DatabaseError, EnvImportError. Side effects: the pending migrations' DDL and version
    table updates, each committed on its own; nothing with dry_run.
    """
    options = options or DeployOptions()
    emit = on_event or (lambda event: None)
    started = time.perf_counter()
    target = resolve_target(project, options.to)
    schema, table = version_table_of(project)
    with raw_connect(url) as conn:
        if "application_name" not in url.url.query:  # a name the user gave wins
            conn.execute(sql.SQL("SET application_name = {}").format(sql.Literal(APPLICATION_NAME)))
        qualified = _qualified_name(conn, schema, table)
        result = DeployResult(url.masked, qualified, Status.DRY_RUN, target=target)
        if options.dry_run:
            _plan(project, conn, schema, table, result, options, emit)
        else:
            with advisory_lock(
                conn,
                lock_key(qualified),
                wait=options.wait,
                on_wait=lambda holders: emit(LockWaiting(holders, options.wait)),
            ) as waited:
                result.lock_waited = waited
                emit(LockAcquired(qualified, waited))
                if _plan(project, conn, schema, table, result, options, emit):
                    _Applier(project, url, options, result, emit).run(conn)
                    result.database_after = read_heads(conn, schema, table)
                    if result.status is Status.APPLIED:
                        _verify(project, result)
    result.seconds = time.perf_counter() - started
    return result


def _plan(
    project: Project,
    conn: psycopg.Connection,
    schema: str | None,
    table: str,
    result: DeployResult,
    options: DeployOptions,
    emit: Callable[[DeployEvent], None],
) -> bool:
    """Fill in current, pending and the review; True when there is something to apply."""
    result.current = read_heads(conn, schema, table)
    result.database_after = result.current
    known = {script.revision for script in project.revisions}
    unknown = [head for head in result.current if head not in known]
    if unknown:
        raise UnknownRevision(unknown)
    done = ancestry(project, result.current)
    wanted = ancestry(project, result.target)
    result.pending = [
        PendingRevision(s.revision, (s.doc or "").strip(), Path(s.path) if s.path else None)
        for s in project.revisions
        if s.revision in wanted and s.revision not in done
    ]
    emit(Planned(result))
    if not result.pending:
        result.status = Status.UP_TO_DATE
        return False
    if options.review:
        from revisor.review import review

        paths = [p.path for p in result.pending if p.path is not None]
        result.findings = review(project, paths).findings
        emit(Reviewed(result.findings))
        if has_errors(result.findings):
            result.status = Status.REFUSED
            return False
    if options.dry_run:
        return False
    result.status = Status.APPLIED
    return True


def _verify(project: Project, result: DeployResult) -> None:
    """After a run that reported success: every target revision must now be recorded."""
    missing = ancestry(project, result.target) - ancestry(project, result.database_after)
    if missing:
        at = ", ".join(result.database_after) or "no revision"
        result.status = Status.FAILED
        result.failure = DeployFailure(
            None,
            "TargetNotReached",
            f"after the run the version table says {at}, which does not include "
            f"{', '.join(sorted(missing))}",
        )


# --- planning helpers (no database) ---------------------------------------------------


def resolve_target(project: Project, to: str | None) -> tuple[str, ...]:
    """The revisions to reach: `to` (a revision, unique prefix, "head" or "heads"), or the
    history's one head. Raises AmbiguousHead or HistoryError."""
    heads = project.heads
    if to is not None and (to == "base" or to.endswith("@base") or to.startswith("-")):
        raise ConfigError(
            f"--to {to!r} would downgrade: revisor deploy only upgrades.",
            hint="Downgrade with `alembic downgrade`; deploy reaches a revision or the head.",
        )
    if to == "heads":
        return tuple(heads)
    if to is None or to == "head":
        if len(heads) > 1:
            raise AmbiguousHead(heads)
        return tuple(heads)
    return (project.revision(to).revision,)


def ancestry(project: Project, revisions: Sequence[str]) -> set[str]:
    """`revisions` and everything they depend on (down revisions and depends_on)."""
    found: set[str] = set()
    stack = list(revisions)
    while stack:
        rev = stack.pop()
        if rev in found:
            continue
        found.add(rev)
        stack.extend(project.revision(rev)._all_down_revisions)
    return found


def version_table_of(project: Project) -> tuple[str | None, str]:
    """(schema, table) of the version table env.py configures (read in offline mode);
    alembic's defaults when env.py cannot run offline."""
    try:
        opts = project.offline_env_options()
    except EnvImportError:
        opts = {}
    return opts.get("version_table_schema"), opts.get("version_table") or "alembic_version"


# --- the version table, read on the lock's own connection ------------------------------


def _qualified_name(conn: psycopg.Connection, schema: str | None, table: str) -> str:
    # Without a schema alembic creates the table in current_schema(): the lock key must
    # name the same table whether env.py spells the schema out or not.
    row = conn.execute("SELECT coalesce(%s, current_schema())", (schema,)).fetchone()
    return f"{row[0] if row else 'public'}.{table}"


def read_heads(conn: psycopg.Connection, schema: str | None, table: str) -> tuple[str, ...]:
    """The revisions the version table holds (empty when it does not exist). Read only:
    unlike alembic's own reading at the start of a run, it never creates the table."""
    name = sql.Identifier(schema, table) if schema else sql.Identifier(table)
    exists = conn.execute("SELECT to_regclass(%s)", (name.as_string(conn),)).fetchone()
    if not exists or exists[0] is None:
        return ()
    rows = conn.execute(sql.SQL("SELECT version_num FROM {}").format(name)).fetchall()
    return tuple(sorted(str(r[0]) for r in rows))


# --- applying ---------------------------------------------------------------------------


class _Applier:
    """Applies `result.pending` in order; one env.py run per attempt, each revision
    committed as soon as it is done (so a failure keeps what was applied before it)."""

    def __init__(
        self,
        project: Project,
        url: DatabaseUrl,
        options: DeployOptions,
        result: DeployResult,
        emit: Callable[[DeployEvent], None],
    ) -> None:
        self.project = project
        self.url = url
        self.options = options
        self.result = result
        self.emit = emit
        self.position = 0  # index in result.pending of the next revision
        self.heads = set(result.current)  # what the version table should hold now
        self.attempt = 1
        self.running: PendingRevision | None = None
        self.autocommit = False
        self.step_started = 0.0

    def run(self, lock_conn: psycopg.Connection) -> None:
        pending = self.result.pending
        while self.position < len(pending):
            self.running = None
            error = run_env(self.project, self.url, self._steps).error
            if error is None:
                return
            failure = self._failure(error, lock_conn)
            if (
                failure.lock_timeout
                and not failure.autocommit
                and self.running is not None
                and self.attempt <= self.options.retries
            ):
                delay = min(self.options.retry_delay * 2 ** (self.attempt - 1), MAX_RETRY_DELAY)
                self.emit(RevisionRetry(self.running, self.attempt, delay, failure))
                time.sleep(delay)
                self.attempt += 1
                continue
            self.result.failure = failure
            self.result.status = Status.LOCK_TIMEOUT if _retryable(failure) else Status.FAILED
            return

    def _steps(self, mc: MigrationContext) -> Iterator[RevisionStep]:
        conn = mc.connection
        assert conn is not None
        for setting, seconds in (
            ("lock_timeout", self.options.lock_timeout),
            ("statement_timeout", self.options.statement_timeout),
        ):
            if seconds is not None:  # session-level: a migration's SET LOCAL still wins
                conn.exec_driver_sql(f"SET {setting} = {int(seconds * 1000)}")
        if "application_name" not in self.url.url.query:
            conn.exec_driver_sql(f"SET application_name = '{APPLICATION_NAME}'")
        _commit(mc)
        heads = set(mc.get_current_heads())
        if heads != self.heads:
            raise DatabaseMoved(self.heads, heads)
        _watch_autocommit(mc, self)
        total = len(self.result.pending)
        while self.position < total:
            rev = self.result.pending[self.position]
            self.running = rev
            self.autocommit = not mc.impl.transactional_ddl
            self.emit(RevisionStarted(rev, self.position, total, self.attempt))
            self.step_started = time.perf_counter()
            yield revision_step(self.project, rev.revision, upgrade=True)
            # resumed: alembic ran the revision and stamped the version table
            _commit(mc)
            seconds = time.perf_counter() - self.step_started
            self.heads = set(mc.get_current_heads())
            self.result.applied.append(AppliedRevision(rev.revision, seconds, self.attempt))
            self.emit(RevisionApplied(rev, self.position, total, seconds))
            self.position += 1
            self.attempt = 1
            self.running = None

    def _failure(self, error: BaseException, lock_conn: psycopg.Connection) -> DeployFailure:
        orig = getattr(error, "orig", None) or error
        sqlstate = getattr(orig, "sqlstate", None)
        text = str(orig).strip()
        failure = DeployFailure(
            self.running.revision if self.running else None,
            type(orig).__name__,
            text.splitlines()[0] if text else "",
            sqlstate=sqlstate,
            attempts=self.attempt,
            lock_timeout=sqlstate == LOCK_NOT_AVAILABLE,
            autocommit=self.autocommit,
            statement=getattr(error, "statement", None),
        )
        if failure.lock_timeout and failure.statement:
            for relation in statement_relations(failure.statement):
                holders = relation_holders(lock_conn, relation)
                if holders or failure.relation is None:
                    failure.relation, failure.holders = relation, holders
                if holders:
                    break
        return failure


def _retryable(failure: DeployFailure) -> bool:
    return failure.lock_timeout and not failure.autocommit and failure.revision is not None


class DatabaseMoved(Exception):
    """The version table changed between two revisions of this deploy: someone migrated
    without revisor's lock (plain alembic)."""

    def __init__(self, expected: set[str], found: set[str]) -> None:
        super().__init__(
            f"the version table changed during the deploy (expected "
            f"{', '.join(sorted(expected)) or 'no revision'}, found "
            f"{', '.join(sorted(found)) or 'no revision'}): another tool migrated this "
            "database without revisor's lock"
        )


def _commit(mc: MigrationContext) -> None:
    """Commit what the connection holds and open the next transaction, handing it to
    alembic as its own (as autocommit_block() does), so the revision just run stays
    applied whatever env.py's transaction layout (one for all, or one per migration)."""
    conn = mc.connection
    assert conn is not None
    if conn.in_transaction():
        transaction = conn.get_transaction()
        assert transaction is not None
        transaction.commit()
    mc._transaction = conn.begin()  # type: ignore[attr-defined]


def _watch_autocommit(mc: MigrationContext, applier: _Applier) -> None:
    """Note when a revision enters `op.get_context().autocommit_block()`: its work there
    is committed at once, so a failure later in it leaves it partly applied."""
    original = mc.autocommit_block

    @contextmanager
    def watched() -> Iterator[None]:
        applier.autocommit = True
        with original():
            yield

    mc.autocommit_block = watched  # type: ignore[method-assign]


def statement_relations(statement: str) -> list[str]:
    """The tables and indexes a SQL statement names, in order (empty when it does not parse,
    e.g. with bound-parameter placeholders)."""
    try:
        from pglast import parse_sql
        from pglast.parser import ParseError
        from pglast.visitors import Visitor
    except ImportError:  # pragma: no cover - pglast is a dependency
        return []
    found: list[str] = []

    class _Relations(Visitor):  # type: ignore[misc]
        def visit_RangeVar(self, ancestors: Any, node: Any) -> None:
            name = f"{node.schemaname}.{node.relname}" if node.schemaname else node.relname
            if name not in found:
                found.append(name)

    try:
        tree = parse_sql(statement)
    except ParseError:
        return []
    _Relations()(tree)
    return found
