"""A role without the TEMPORARY privilege, for the paths revisor takes when a session
cannot create temporary functions (a restricted role on a managed server)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from revisor.db.url import DatabaseUrl


@contextmanager
def role_without_temporary(url: DatabaseUrl) -> Iterator[str]:
    """Create a role that may create tables in `url`'s public schema but not temporary
    objects (TEMPORARY revoked from PUBLIC on that database); yield its name; drop it."""
    role = f"notemp_{secrets.token_hex(4)}"
    with psycopg.connect(**url.libpq_kwargs(), autocommit=True) as admin:
        database = admin.execute("SELECT current_database()").fetchone()[0]
        admin.execute(f"CREATE ROLE {role} NOSUPERUSER")
        admin.execute(f'REVOKE TEMPORARY ON DATABASE "{database}" FROM PUBLIC')
        admin.execute(f"GRANT CREATE, USAGE ON SCHEMA public TO {role}")
        try:
            yield role
        finally:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")
