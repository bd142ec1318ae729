"""What scratch databases a server holds, for tests that nothing is left behind."""

from __future__ import annotations

import threading

import psycopg

from revisor.db.url import DatabaseUrl


def scratch_databases(server: DatabaseUrl) -> set[str]:
    """The server's revisor_scratch_* databases, once every background CREATE DATABASE
    (revisor.db.scratch.PendingDatabase) has finished: a leak then shows."""
    for thread in threading.enumerate():
        if thread.name.startswith("create revisor_scratch_"):
            thread.join(timeout=30)
    with psycopg.connect(**server.with_database("postgres").libpq_kwargs()) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'revisor_scratch_%'"
        ).fetchall()
    return {name for (name,) in rows}
