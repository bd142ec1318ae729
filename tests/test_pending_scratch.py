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
