"""Which database a command uses: --url > $DATABASE_URL > sqlalchemy.url > embedded."""

from __future__ import annotations

import os
import re

from revisor.db.embedded import embedded_server_url, running_server_url
from revisor.db.scratch import create_database, database_exists, drop_database
from revisor.db.url import DatabaseUrl, parse_url

# The embedded server's development database, created on first use.
EMBEDDED_DEV_PREFIX = "revisor_dev_"


def resolve_url(
    cli_url: str | None,
    *,
    config_url: str | None = None,
    env_var: str = "DATABASE_URL",
    start_embedded: bool = True,
) -> DatabaseUrl:
    """The user's URL if they gave one anywhere; otherwise the embedded server's `postgres`
    database (callers that need a dev database use `embedded_dev_database`). With
    `start_embedded=False` the embedded server is neither started nor joined: its URL is
    returned only while it runs (EmbeddedServerStopped otherwise)."""
    if cli_url:
        return parse_url(cli_url, source="--url")
    from_env = os.environ.get(env_var)
    if from_env:
        return parse_url(from_env, source=env_var)
    if usable_config_url(config_url):
        assert config_url is not None
        return parse_url(config_url, source="sqlalchemy.url")
    return embedded_server_url() if start_embedded else running_server_url()


def usable_config_url(config_url: str | None) -> bool:
    """Whether alembic.ini's sqlalchemy.url names a database: not empty, not built by
    interpolation (env.py fills it in), and not `alembic init`'s placeholder
    (driver://user:pass@localhost/dbname), which most projects never edit because env.py
    reads the URL from the environment."""
    if not config_url or "%(" in config_url:
        return False
    return not config_url.strip().startswith("driver://")


def dev_database_name(project_name: str) -> str:
    """The name of the project's development database on the embedded server."""
    return EMBEDDED_DEV_PREFIX + re.sub(r"[^a-z0-9_]", "_", project_name.lower())[:40]


def embedded_dev_database(project_name: str, server: DatabaseUrl | None = None) -> DatabaseUrl:
    """The embedded server's persistent database for this project (created if missing) on
    `server` (default: the embedded server, started or joined)."""
    server = server or embedded_server_url()
    name = dev_database_name(project_name)
    if not database_exists(server, name):
        create_database(server, name)
    return server.with_database(name)


def reset_embedded_dev_database(dev: DatabaseUrl) -> None:
    """Drop the embedded dev database `dev` (its sessions are disconnected) and create it
    again, empty. Side effect: every table and row in it is gone."""
    name = dev.database
    assert name and name.startswith(EMBEDDED_DEV_PREFIX), name
    drop_database(dev, name)
    create_database(dev, name)
