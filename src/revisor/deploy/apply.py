"""Applying the planned revisions: one env.py run per attempt, each revision committed on
its own under the session's lock_timeout, lock timeouts retried, failures described."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
from alembic.runtime.migration import MigrationContext, RevisionStep

from revisor import alembic_api
from revisor.db.advisory import APPLICATION_NAME, relation_holders
from revisor.db.sqlstate import LOCK_NOT_AVAILABLE
from revisor.db.url import DatabaseUrl
from revisor.deploy.result import (
    MAX_RETRY_DELAY,
    AppliedRevision,
    DeployEvent,
    DeployFailure,
    DeployOptions,
    DeployResult,
    PendingRevision,
    RevisionApplied,
    RevisionRetry,
    RevisionStarted,
    Status,
)
from revisor.migrate import revision_step, run_env
from revisor.project import Project


class Applier:
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
        alembic_api.commit_and_continue(mc)
        heads = set(mc.get_current_heads())
        if heads != self.heads:
            raise DatabaseMoved(self.heads, heads)
        alembic_api.watch_autocommit_blocks(mc, self._entered_autocommit_block)
        total = len(self.result.pending)
        while self.position < total:
            rev = self.result.pending[self.position]
            self.running = rev
            self.autocommit = not mc.impl.transactional_ddl
            self.emit(RevisionStarted(rev, self.position, total, self.attempt))
            self.step_started = time.perf_counter()
            yield revision_step(self.project, rev.revision, upgrade=True)
            # resumed: alembic ran the revision and stamped the version table
            alembic_api.commit_and_continue(mc)
            seconds = time.perf_counter() - self.step_started
            self.heads = set(mc.get_current_heads())
            self.result.applied.append(AppliedRevision(rev.revision, seconds, self.attempt))
            self.emit(RevisionApplied(rev, self.position, total, seconds))
            self.position += 1
            self.attempt = 1
            self.running = None

    def _entered_autocommit_block(self) -> None:
        """Work in an autocommit block is committed at once: a failure later in the same
        revision leaves it partly applied."""
        self.autocommit = True

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
                try:
                    holders = relation_holders(lock_conn, relation)
                except psycopg.Error:  # naming the blocker is a courtesy, not a need
                    break
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
