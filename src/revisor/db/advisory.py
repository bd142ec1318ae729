"""The deploy lock: a session-level PostgreSQL advisory lock, and who holds a lock.

Key: the two-int4 form `pg_advisory_lock(namespace, key)`. `namespace` is fixed for
revisor, `key` is derived from the version table's `schema.name`, so two projects that
keep their revisions in different version tables of one database do not wait for each
other, and nothing else that uses one-bigint advisory locks can collide with revisor
(PostgreSQL keeps the two forms apart: objsubid 1 vs 2 in pg_locks). Both are CRC-32
values masked to 31 bits: stable across processes and Python versions (unlike hash()),
and non-negative, so they read the same in pg_locks' oid columns.
"""

from __future__ import annotations

import contextlib
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import psycopg

from revisor.errors import LockNotAcquired

APPLICATION_NAME = "revisor deploy"
NAMESPACE = zlib.crc32(b"revisor.deploy") & 0x7FFFFFFF


def lock_key(version_table: str) -> int:
    """The second advisory-lock key for a version table given as `schema.name`."""
    return zlib.crc32(version_table.encode("utf-8")) & 0x7FFFFFFF


@dataclass(frozen=True)
class Holder:
    """A backend holding a lock someone waits for (from pg_locks + pg_stat_activity)."""

    pid: int
    application_name: str
    user: str | None = None
    client: str | None = None
    state: str | None = None
    since: str | None = None  # when its transaction (or, idle, its session) started
    doing: str | None = None  # said instead of `state` when the state alone misleads

    def describe(self) -> str:
        """`pid 4242 (psql, user app, idle in transaction)` — one phrase for messages."""
        parts = [self.application_name or "no application_name"]
        if self.user:
            parts.append(f"user {self.user}")
        if self.client:
            parts.append(f"from {self.client}")
        if self.doing or self.state:
            parts.append(self.doing or self.state or "")
        return f"pid {self.pid} ({', '.join(parts)})"


_HOLDER_COLUMNS = """
a.pid, coalesce(a.application_name, ''), a.usename::text, host(a.client_addr), a.state,
to_char(coalesce(a.xact_start, a.backend_start), 'YYYY-MM-DD HH24:MI:SS TZ')
"""

_ADVISORY_HOLDERS_SQL = f"""
SELECT {_HOLDER_COLUMNS}
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid::bigint = %s AND l.objid::bigint = %s AND l.pid <> pg_backend_pid()
ORDER BY a.pid
"""

# Sessions holding any lock on a relation (granted), other than the asking one. The
# migration that timed out has rolled back by the time this runs, so what is left
# granted on the table is what it queued behind.
_RELATION_HOLDERS_SQL = f"""
SELECT DISTINCT {_HOLDER_COLUMNS}
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'relation' AND l.granted AND l.relation = to_regclass(%s)
  AND l.pid <> pg_backend_pid()
ORDER BY 1
"""


def _holders(conn: psycopg.Connection, sql: str, params: tuple[object, ...]) -> list[Holder]:
    rows = conn.execute(sql, params).fetchall()
    return [Holder(*row) for row in rows]


def advisory_holders(conn: psycopg.Connection, key: int) -> list[Holder]:
    """Backends (other than `conn`'s) holding revisor's deploy lock `key` in this database.

    A revisor deploy holds the lock on a session of its own and migrates on another, so
    pg_stat_activity shows the lock's session `idle` for the whole deploy: such a holder
    is described as deploying since its session started (when that deploy began)."""
    holders = _holders(conn, _ADVISORY_HOLDERS_SQL, (NAMESPACE, key))
    return [_deploying(h) for h in holders]


def _deploying(holder: Holder) -> Holder:
    if holder.state != "idle" or holder.application_name != APPLICATION_NAME or not holder.since:
        return holder
    _, _, time_of_day = holder.since.partition(" ")  # 'YYYY-MM-DD HH:MI:SS TZ'
    return replace(holder, doing=f"deploying since {time_of_day}")


def relation_holders(conn: psycopg.Connection, relation: str) -> list[Holder]:
    """Backends (other than `conn`'s) holding a granted lock on `relation` (a name as
    to_regclass reads it; unknown names give no rows)."""
    return _holders(conn, _RELATION_HOLDERS_SQL, (relation,))


@contextmanager
def advisory_lock(
    conn: psycopg.Connection,
    key: int,
    *,
    wait: float,
    on_wait: Callable[[list[Holder]], None] | None = None,
) -> Iterator[float]:
    """Hold revisor's advisory lock `key` on `conn` (an autocommit session used for
    nothing that could end it) while inside; yields the seconds spent waiting.

    Tries once without waiting; when another session holds it, reports the holders to
    `on_wait`, then queues for it (pg_advisory_lock under lock_timeout = the time left
    of `wait`, so waiters are served in order and show in pg_locks). Raises
    LockNotAcquired (exit 7) naming the holder when `wait` runs out. The lock is released
    when the context ends, and by PostgreSQL if the process dies (the session ends).
    """
    started = time.monotonic()
    got = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (NAMESPACE, key)).fetchone()
    if not (got and got[0]):
        holders = advisory_holders(conn, key)
        if on_wait is not None:
            on_wait(holders)
        left_ms = max(1, int((wait - (time.monotonic() - started)) * 1000))
        try:
            conn.execute(f"SET lock_timeout = {left_ms}")
            conn.execute("SELECT pg_advisory_lock(%s, %s)", (NAMESPACE, key))
        except psycopg.errors.LockNotAvailable:
            holders = advisory_holders(conn, key) or holders
            raise LockNotAcquired(
                holders[0].pid if holders else None,
                wait,
                holder=holders[0].describe() if holders else None,
            ) from None
        finally:
            if not conn.closed:
                conn.execute("RESET lock_timeout")
    try:
        yield time.monotonic() - started
    finally:
        # A lost connection has released the lock already (it was the session's).
        with contextlib.suppress(psycopg.Error):
            if not conn.closed and not conn.broken:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", (NAMESPACE, key))
