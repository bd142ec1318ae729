"""Which database a command uses: --url > $DATABASE_URL > sqlalchemy.url > embedded."""

from __future__ import annotations

import os
import re

from revisor.db.embedded import embedded_server_url
from revisor.db.scratch import create_database, database_exists
from revisor.db.url import DatabaseUrl, parse_url

# The embedded server's development database, created on first use.
EMBEDDED_DEV_PREFIX = "revisor_dev_"


def resolve_url(
    cli_url: str | None, *, config_url: str | None = None, env_var: str = "DATABASE_URL"
) -> DatabaseUrl:
    """The user's URL if they gave one anywhere; otherwise the embedded server's `postgres`
    database (callers that need a dev database use `embedded_dev_database`)."""
    given = given_url(cli_url, config_url=config_url, env_var=env_var)
    return given if given is not None else embedded_server_url()


def given_url(
    cli_url: str | None, *, config_url: str | None = None, env_var: str = "DATABASE_URL"
) -> DatabaseUrl | None:
    """The URL the user gave (--url > $env_var > sqlalchemy.url), parsed; None when they
    gave none. Starts nothing; raises InvalidDatabaseUrl / UnsupportedDatabase."""
    if cli_url:
        return parse_url(cli_url, source="--url")
    from_env = os.environ.get(env_var)
    if from_env:
        return parse_url(from_env, source=env_var)
    if usable_config_url(config_url):
        assert config_url is not None
        return parse_url(config_url, source="sqlalchemy.url")
    return None


def usable_config_url(config_url: str | None) -> bool:
    """Whether alembic.ini's sqlalchemy.url names a database: not empty, not built by
    interpolation (env.py fills it in), and not `alembic init`'s placeholder
    (driver://user:pass@localhost/dbname), which most projects never edit because env.py
    reads the URL from the environment."""
    if not config_url or "%(" in config_url:
        return False
    return not config_url.strip().startswith("driver://")


def embedded_dev_database(project_name: str) -> DatabaseUrl:
    """The embedded server's persistent database for this project (created if missing)."""
    server = embedded_server_url()
    name = EMBEDDED_DEV_PREFIX + re.sub(r"[^a-z0-9_]", "_", project_name.lower())[:40]
    if not database_exists(server, name):
        create_database(server, name)
    return server.with_database(name)
