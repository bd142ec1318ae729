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


@pytest.mark.parametrize(
    ("text", "shown", "secret"),
    [
        ("postgresql//app:Pw-1xz@db/app", "postgresql//app:***@db/app", "Pw-1xz"),
        ("postgresql:/app:Pw-2xz@db/app", "postgresql:/app:***@db/app", "Pw-2xz"),
        (
            "postgresql://app:Pw-3xz@db:notaport/app",
            "postgresql://app:***@db:notaport/app",
            "Pw-3xz",
        ),
        ("postgresql://app:Pw/4:x@z@db/app", "postgresql://app:***@db/app", "Pw/4:x@z"),
        ("app:Pw-5xz@db/app", "app:***@db/app", "Pw-5xz"),
        ("postgresql//Pw-6xz@db/app", "postgresql//***@db/app", None),  # no user: all hidden
        (
            "postgresql//db/app?user=app&password=Pw-7xz",
            "postgresql//db/app?user=app&password=***",
            "Pw-7xz",
        ),
    ],
)
def test_a_url_that_does_not_parse_is_masked_and_its_password_registered(
    text: str, shown: str, secret: str | None
):
    from revisor.db.redaction import mask_malformed_url

    assert mask_malformed_url(text) == shown
    if secret:  # later output that quotes the password alone is scrubbed too
        assert redact(f"env.py said: {secret}") == "env.py said: ***"


def test_free_text_url_without_the_scheme_colon_is_masked():
    assert redact("connect postgresql//app:pw@db/app failed") == (
        "connect postgresql//app:***@db/app failed"
    )
    assert redact("'...?sslmode=require&password=pw'") == "'...?sslmode=require&password=***'"


def test_server_masked_names_the_server_without_the_database():
    """'a scratch database on <server>' must not read as the user's own database."""
    from revisor.db.url import parse_url

    assert parse_url("postgresql://u:pw-x9@h:5433/app", source="x").server_masked == (
        "postgresql+psycopg://u:***@h:5433"
    )
    socket = parse_url("postgresql://u@/app?host=/tmp/s", source="x").server_masked
    assert "app" not in socket and "host=" in socket
