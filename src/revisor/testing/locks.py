"""Locks really taken: after every statement of an upgrade, read pg_locks for revisor's own
backend and note the relation locks that block other sessions' writes.

Reported: ACCESS EXCLUSIVE (blocks reads and writes) and SHARE (blocks writes, e.g. a
plain CREATE INDEX), on tables that existed before the revision started. SHARE ROW
EXCLUSIVE, which a new foreign key takes on the referenced table for a moment, is left out:
every CREATE TABLE with a foreign key would be reported. A table the
revision creates is invisible to other sessions until commit, so its locks harm nobody.
Inside an autocommit block locks end with each statement, and CREATE INDEX CONCURRENTLY
only takes SHARE UPDATE EXCLUSIVE, which lets reads and writes through.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event

from revisor.db.driver import driver_connection
from revisor.snapshot.catalog import _qualified, _scope

BLOCKING_MODES = ("AccessExclusiveLock", "ShareLock")

_HELD_SQL = f"""
SELECT {_qualified("c.relname")}, l.mode
FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE l.pid = pg_backend_pid() AND l.granted AND c.relkind IN ('r', 'p')
  AND l.mode IN ('AccessExclusiveLock', 'ShareLock')
"""
_TABLES_SQL = f"""
SELECT {_qualified("c.relname")} FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND {_scope()}
"""


@dataclass(frozen=True)
class LockEvent:
    """`statement` took `mode` on the existing `table` while upgrading `revision`."""

    revision: str
    table: str
    mode: str
    statement: str
    line: int | None = None  # the line of the revision file that ran the statement


@dataclass
class LockWatcher:
    """Attach to the migration connection; bracket each upgrade step with begin/end."""

    _conn: Any = None
    _revision: str | None = None
    _path: str | None = None
    _existing: set[str] = field(default_factory=set)
    _held_before: set[tuple[str, str]] = field(default_factory=set)
    _events: list[LockEvent] = field(default_factory=list)

    def attach(self, conn: Any) -> None:
        self._conn = conn
        event.listen(conn, "after_cursor_execute", self._after_execute)

    def detach(self) -> None:
        if self._conn is not None and event.contains(
            self._conn, "after_cursor_execute", self._after_execute
        ):
            event.remove(self._conn, "after_cursor_execute", self._after_execute)
        self._conn = None

    def begin_step(self, conn: Any, revision: str, path: str | None = None) -> None:
        """Remember which tables exist and which locks are already held (earlier
        revisions in the same transaction). Read-only."""
        raw = driver_connection(conn)
        self._existing = {r[0] for r in raw.execute(_TABLES_SQL.replace("%%", "%")).fetchall()}
        self._held_before = {(r[0], r[1]) for r in raw.execute(_HELD_SQL).fetchall()}
        self._events = []
        self._revision = revision
        self._path = str(Path(path).resolve()) if path else None

    def end_step(self) -> list[LockEvent]:
        """The strong locks taken by the step, first statement that took each."""
        self._revision = None
        return self._events

    def _after_execute(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: Any
    ) -> None:
        if self._revision is None:
            return
        try:
            # a DBAPI cursor of its own: a statement through SQLAlchemy would come back here
            held = conn.connection.dbapi_connection.cursor()
            held.execute(_HELD_SQL)
            rows = held.fetchall()
            held.close()
        except Exception:  # the statement left the transaction unusable; the step will fail
            return
        for table, mode in rows:
            key = (table, mode)
            if key in self._held_before or table not in self._existing:
                continue
            self._held_before.add(key)
            line = self._caller_line()
            text = " ".join(statement.split())
            self._events.append(
                LockEvent(
                    self._revision,
                    table,
                    mode,
                    text[:200] + ("…" if len(text) > 200 else ""),
                    line,
                )
            )

    def _caller_line(self) -> int | None:
        if self._path is None:
            return None
        for frame in reversed(traceback.extract_stack()):
            if frame.filename == self._path or str(Path(frame.filename).resolve()) == self._path:
                return frame.lineno
        return None
