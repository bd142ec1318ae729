"""Locks really taken, and what the statement did under them: after every statement of a
step, read revisor's own backend's strong table locks, its table scan counts and each
table's relfilenode. The counts (`pg_stat_get_xact_numscans`, what
`pg_stat_xact_user_tables` shows) are those the backend has not flushed yet: they only grow
within a transaction, but an idle backend may flush them to zero after a commit, so the
first statement after one is compared with a reading taken in its own transaction.

A statement *blocks* an existing table when, while this backend holds a lock on it that
stops other sessions' writes (SHARE, SHARE ROW EXCLUSIVE, EXCLUSIVE or ACCESS EXCLUSIVE,
taken by this statement or an earlier one of the same step's transaction), the statement
reads or rewrites the table's rows: a sequential or index scan (counted when the scan
starts, so on an empty table too), or a
new relfilenode (a rewrite). The scan is what makes the lock last as long as the table is
big; a catalog-only change under ACCESS EXCLUSIVE (a nullable column, a constant default,
`NOT VALID`, a rename) holds it for a moment and is not reported.

A table the step creates is invisible to other sessions until commit, so its locks harm
nobody. Inside an autocommit block each statement commits at once and its locks are gone
when it returns, so only a rewrite is seen there (CREATE INDEX CONCURRENTLY and VALIDATE
CONSTRAINT take SHARE UPDATE EXCLUSIVE, which lets reads and writes through: they are what
autocommit blocks are for).
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event

from revisor.snapshot.catalog import _qualified, _scope

# Every mode that conflicts with ROW EXCLUSIVE, the lock INSERT, UPDATE and DELETE take.
BLOCKING_MODES = ("ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock")

# pg_locks is a function reading the whole lock table: read once, not per table. The
# scans are pg_stat_xact_user_tables' seq_scan + idx_scan, without the view's joins.
_STATE_SQL = f"""
WITH held AS (
  SELECT relation, array_agg(mode::text) AS modes FROM pg_locks
  WHERE pid = pg_backend_pid() AND granted AND relation IS NOT NULL
    AND mode IN ({", ".join(f"'{m}'" for m in BLOCKING_MODES)})
  GROUP BY relation
)
SELECT {_qualified("c.relname")}, c.relfilenode,
       pg_stat_get_xact_numscans(c.oid) + coalesce((
         SELECT sum(pg_stat_get_xact_numscans(i.indexrelid))
         FROM pg_index i WHERE i.indrelid = c.oid), 0),
       held.modes
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN held ON held.relation = c.oid
WHERE c.relkind IN ('r', 'p') AND {_scope()}
""".replace("%%", "%")


@dataclass(frozen=True)
class _TableState:
    relfilenode: int
    scans: int
    modes: frozenset[str]


@dataclass(frozen=True)
class LockEvent:
    """`statement` blocked the existing `table` under `mode` while running `revision`'s
    `direction` ("upgrade" or "downgrade"): it scanned the table (`scanned`) or rewrote it
    (`rewrote`), in `seconds`."""

    revision: str
    table: str
    mode: str
    statement: str
    line: int | None = None  # the line of the revision file that ran the statement
    direction: str = "upgrade"
    scanned: bool = False
    rewrote: bool = False
    seconds: float = 0.0


@dataclass
class LockWatcher:
    """Attach to the migration connection; bracket each step with begin/end."""

    _conn: Any = None
    _revision: str | None = None
    _direction: str = "upgrade"
    _path: str | None = None
    _existing: dict[str, _TableState] = field(default_factory=dict)
    _last: dict[str, _TableState] = field(default_factory=dict)
    _stale: bool = False  # a transaction ended since `_last` was read
    _held_before: set[tuple[str, str]] = field(default_factory=set)
    _started: float = 0.0
    _events: list[LockEvent] = field(default_factory=list)

    def _listeners(self) -> list[tuple[str, Any]]:
        return [
            ("before_cursor_execute", self._before_execute),
            ("after_cursor_execute", self._after_execute),
            ("commit", self._ended),
            ("rollback", self._ended),
        ]

    def attach(self, conn: Any) -> None:
        self._conn = conn
        for name, fn in self._listeners():
            event.listen(conn, name, fn)

    def detach(self) -> None:
        if self._conn is not None:
            for name, fn in self._listeners():
                if event.contains(self._conn, name, fn):
                    event.remove(self._conn, name, fn)
        self._conn = None

    def begin_step(
        self, conn: Any, revision: str, path: str | None = None, *, direction: str = "upgrade"
    ) -> None:
        """Remember the tables that exist, their files, scan counts and the locks already
        held (by earlier revisions of the same transaction). Read-only."""
        states = _read(conn.connection.dbapi_connection)
        self._existing = self._last = states
        self._stale = False
        self._held_before = {(t, m) for t, s in states.items() for m in s.modes}
        self._events = []
        self._revision = revision
        self._direction = direction
        self._path = str(Path(path).resolve()) if path else None

    def end_step(self) -> list[LockEvent]:
        """The blocking statements of the step, one event per statement and table."""
        self._revision = None
        return self._events

    def _ended(self, conn: Any) -> None:
        self._stale = True

    def _before_execute(self, conn: Any, *args: Any) -> None:
        if self._revision is None:
            return
        raw = conn.connection.dbapi_connection
        # Within a transaction the backend keeps its counts, so the reading after the last
        # statement is this one's base. After a commit it may have flushed them (to zero)
        # or not: read again in the new transaction. In autocommit mode no lock outlives
        # the statement, so its scans do not matter and no base is needed.
        if self._stale and not getattr(raw, "autocommit", False):
            try:
                self._last = _read(raw)
                self._stale = False
            except Exception:  # an aborted transaction: the statement fails too
                self._last = {}
        self._started = time.perf_counter()

    def _after_execute(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: Any
    ) -> None:
        if self._revision is None:
            return
        seconds = time.perf_counter() - self._started
        raw = conn.connection.dbapi_connection
        try:
            # the DBAPI connection itself: a statement through SQLAlchemy would come back here
            states = _read(raw)
        except Exception:  # the statement left the transaction unusable; the step will fail
            return
        last, self._last = self._last, states
        if getattr(raw, "autocommit", False):
            self._stale = True
        text = " ".join(statement.split())
        text = text[:200] + ("…" if len(text) > 200 else "")
        for table, state in states.items():
            before = self._existing.get(table)
            if before is None:
                continue
            rewrote = state.relfilenode != before.relfilenode and state.relfilenode != 0
            previous = last.get(table)
            scanned = state.scans > (previous.scans if previous else 0)
            modes = sorted(
                (m for m in state.modes if (table, m) not in self._held_before),
                key=BLOCKING_MODES.index,
            )
            if not (rewrote or (scanned and modes)):
                continue
            if rewrote:
                # Seen once: the next statement compares with the new file.
                self._existing[table] = _TableState(state.relfilenode, 0, before.modes)
            self._events.append(
                LockEvent(
                    self._revision,
                    table,
                    # A rewrite always holds ACCESS EXCLUSIVE while it runs, even when an
                    # autocommit block has released it by now.
                    modes[-1] if modes else "AccessExclusiveLock",
                    text,
                    self._caller_line(),
                    self._direction,
                    scanned=scanned,
                    rewrote=rewrote,
                    seconds=seconds,
                )
            )

    def _caller_line(self) -> int | None:
        if self._path is None:
            return None
        for frame in reversed(traceback.extract_stack()):
            if frame.filename == self._path or str(Path(frame.filename).resolve()) == self._path:
                return frame.lineno
        return None


def _read(raw: Any) -> dict[str, _TableState]:
    """{table: its file, the scans of this transaction so far, the blocking locks held}"""
    if isinstance(raw, psycopg.Connection):
        # psycopg prepares it after a few runs, unless env.py turned that off (a pooler)
        rows = raw.execute(_STATE_SQL).fetchall()
    else:
        cursor = raw.cursor()
        try:
            cursor.execute(_STATE_SQL)
            rows = cursor.fetchall()
        finally:
            cursor.close()
    return {
        name: _TableState(int(node), int(scans), frozenset(modes or ()))
        for name, node, scans, modes in rows
    }
