"""PendingDatabase: a scratch database created in the background has exactly one owner
that drops it, and its creation errors surface where the database is needed."""

from __future__ import annotations

import pytest

from revisor.db.scratch import PendingDatabase, database_exists, drop_database
from revisor.db.url import parse_url
from revisor.errors import DatabaseUnreachable


def test_a_claimed_database_exists_and_belongs_to_the_claimer(pg18):
    pending = PendingDatabase(pg18.url, label="t")
    url, name = pending.claim()
    assert url.database == name == pending.name
    assert name.startswith("revisor_scratch_t_")
    pending.release()  # claimed: not dropped behind the owner's back
    assert database_exists(pg18.url, name)
    drop_database(pg18.url, name)


def test_release_drops_an_unclaimed_database(pg18):
    pending = PendingDatabase(pg18.url)
    pending.release()  # waits for the CREATE, then drops
    assert not database_exists(pg18.url, pending.name)
    pending.release()  # idempotent


def test_a_creation_error_is_raised_by_claim_only():
    server = parse_url("postgresql://bob:pw-123456@127.0.0.1:1/db", source="--url")
    pending = PendingDatabase(server)
    with pytest.raises(DatabaseUnreachable):
        pending.claim()
    pending.release()  # nothing was created: nothing to drop, nothing raised


def test_release_after_a_creation_error_is_quiet():
    server = parse_url("postgresql://bob@127.0.0.1:1/db", source="--url")
    PendingDatabase(server).release()


def test_ctrl_c_during_create_database_leaves_no_scratch_database(pg18):
    """A real SIGINT while scratch_database's CREATE DATABASE runs (doctor, check --keep,
    demo): psycopg cancels but waits for the statement, which mostly completes; the
    database was left behind. Several moments inside the CREATE, each must leave none."""
    import os
    import signal
    import threading
    import time

    from revisor.db.connect import raw_connect
    from revisor.db.scratch import scratch_database

    def leftovers() -> list[str]:
        with raw_connect(pg18.url.with_database("postgres")) as conn:
            rows = conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'revisor_scratch_sigint_%'"
            ).fetchall()
        return [row[0] for row in rows]

    started = time.perf_counter()
    with scratch_database(pg18.url, label="sigint"):
        took = time.perf_counter() - started  # connect + CREATE DATABASE on this server
    armed = threading.Event()

    def on_sigint(signum, frame):  # only inside the region under test, never pytest's
        if armed.is_set():
            armed.clear()
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        for fraction in (0.3, 0.5, 0.7, 0.9):
            timer = threading.Timer(took * fraction, os.kill, (os.getpid(), signal.SIGINT))
            armed.set()
            timer.start()
            with pytest.raises(KeyboardInterrupt), scratch_database(pg18.url, label="sigint"):
                time.sleep(took * 2)
            timer.join()
            assert leftovers() == [], f"left behind at {fraction:.0%} of {took:.3f}s"
    finally:
        armed.clear()
        signal.signal(signal.SIGINT, previous)
        for name in leftovers():
            drop_database(pg18.url, name)
