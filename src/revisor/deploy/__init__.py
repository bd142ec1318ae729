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
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql

from revisor.db.advisory import APPLICATION_NAME, advisory_lock, lock_key
from revisor.db.connect import raw_connect
from revisor.db.url import DatabaseUrl
from revisor.deploy.apply import Applier
from revisor.deploy.errors import AmbiguousHead
from revisor.deploy.result import (
    AppliedRevision,
    DeployEvent,
    DeployFailure,
    DeployOptions,
    DeployResult,
    LockAcquired,
    LockWaiting,
    PendingRevision,
    Planned,
    Reviewed,
    RevisionApplied,
    RevisionRetry,
    RevisionStarted,
    Status,
)
from revisor.errors import ConfigError, EnvImportError, UnknownRevision
from revisor.findings import has_errors
from revisor.project import Project

__all__ = [
    "AppliedRevision",
    "DeployEvent",
    "DeployFailure",
    "DeployOptions",
    "DeployResult",
    "LockAcquired",
    "LockWaiting",
    "PendingRevision",
    "Planned",
    "Reviewed",
    "RevisionApplied",
    "RevisionRetry",
    "RevisionStarted",
    "Status",
    "deploy",
    "read_heads",
    "resolve_target",
]


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
    DatabaseError, EnvImportError; with dry_run and sql, NoOfflineMode or
    OfflineRenderFailed. Side effects: the pending migrations' DDL and version table
    updates, each committed on its own; nothing with dry_run.
    """
    options = options or DeployOptions()
    emit = on_event or (lambda event: None)
    started = time.perf_counter()
    target = resolve_target(project, options.to, url)
    schema, table = version_table_of(project, url)
    with raw_connect(url) as conn:
        if "application_name" not in url.url.query:  # a name the user gave wins
            conn.execute(sql.SQL("SET application_name = {}").format(sql.Literal(APPLICATION_NAME)))
        qualified = _qualified_name(conn, schema, table)
        result = DeployResult(
            url.masked,
            qualified,
            Status.DRY_RUN,
            target=target,
            target_is_head=set(target) == set(project.heads),
            lock_timeout=options.lock_timeout,
        )
        if options.dry_run:
            _plan(project, url, conn, schema, table, result, options, emit)
            if options.sql and result.pending:
                from revisor.deploy.offline_sql import pending_sql

                result.sql = pending_sql(project, url, result.current, result.target)
        else:
            with advisory_lock(
                conn,
                lock_key(qualified),
                wait=options.wait,
                on_wait=lambda holders: emit(LockWaiting(holders, options.wait)),
            ) as waited:
                result.lock_waited = waited
                emit(LockAcquired(qualified, waited))
                if _plan(project, url, conn, schema, table, result, options, emit):
                    Applier(project, url, options, result, emit).run(conn)
                    _read_after(project, conn, schema, table, result)
    result.seconds = time.perf_counter() - started
    return result


def _plan(
    project: Project,
    url: DatabaseUrl,
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
        from revisor.fix_commands import FixCommands

        raise UnknownRevision(unknown, FixCommands.for_project(project, url).doctor())
    done = project.ancestors(result.current)
    wanted = project.ancestors(result.target)
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


def _read_after(
    project: Project,
    conn: psycopg.Connection,
    schema: str | None,
    table: str,
    result: DeployResult,
) -> None:
    """Read the version table again after the run; after a success, verify it."""
    try:
        result.database_after = read_heads(conn, schema, table)
    except psycopg.Error as exc:  # the server went away, e.g. with the failure itself
        result.database_after = None
        result.unreadable = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
        if result.status is Status.APPLIED:
            result.status = Status.FAILED
            result.failure = DeployFailure(
                None, "VersionTableUnreadable", "cannot verify the deploy: " + result.unreadable
            )
        return
    if result.status is Status.APPLIED:
        _verify(project, result)


def _verify(project: Project, result: DeployResult) -> None:
    """After a run that reported success: every target revision must now be recorded."""
    assert result.database_after is not None
    missing = project.ancestors(result.target) - project.ancestors(result.database_after)
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


def resolve_target(
    project: Project, to: str | None, url: DatabaseUrl | None = None
) -> tuple[str, ...]:
    """The revisions to reach: `to` (a revision, unique prefix, "head" or "heads"), or the
    history's one head (`url`: the database, for the hint). Raises AmbiguousHead or
    HistoryError."""
    heads = project.heads
    if to is not None and (to == "base" or to.endswith("@base") or to.startswith("-")):
        from revisor.fix_commands import FixCommands

        downgrade = FixCommands.for_project(project, url).downgrade(to)
        raise ConfigError(
            f"--to {to!r} would downgrade: revisor deploy only upgrades.",
            hint=f"Downgrade with {downgrade.quoted}; deploy reaches a revision or the head.",
        )
    if to == "heads":
        return tuple(heads)
    if to is None or to == "head":
        if len(heads) > 1:
            raise AmbiguousHead(heads)
        return tuple(heads)
    return (project.revision(to).revision,)


def version_table_of(project: Project, url: DatabaseUrl) -> tuple[str | None, str]:
    """(schema, table) of the version table env.py configures for the database at `url`
    (its online branch, where version_table_schema is often set alone); alembic's
    defaults when env.py cannot tell."""
    try:
        opts = project.env_options(url)
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
