from __future__ import annotations

import pytest

from revisor.db.url import parse_url, redact
from revisor.errors import UnsupportedDatabase


def test_async_and_heroku_urls_become_psycopg():
    assert parse_url("postgresql+asyncpg://u:p@h/db", source="x").url.drivername == (
        "postgresql+psycopg"
    )
    url = parse_url("postgres://u:p@h:5433/db", source="x")
    assert url.url.port == 5433 and url.database == "db"


def test_masked_url_and_redaction_hide_the_password():
    url = parse_url("postgresql://app:hunter2-xyz@db:5432/app", source="x")
    assert "hunter2-xyz" not in url.masked
    assert redact("failed for postgresql://app:hunter2-xyz@db/app") == (
        "failed for postgresql://app:***@db/app"
    )
    assert redact("password was hunter2-xyz") == "password was ***"


def test_other_databases_are_rejected():
    with pytest.raises(UnsupportedDatabase):
        parse_url("mysql://root@localhost/app", source="x")
