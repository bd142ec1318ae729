"""Database wiring: the declarative base, the URL from ``DATABASE_URL``, engine and sessions.

Nothing here connects at import time, so tools that only need ``Base.metadata``
(Alembic autogenerate, revisor) can import the models without a database.
"""

import os
from collections.abc import Iterator
from functools import cache

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    """Declarative base for every model.

    Deliberately has no ``naming_convention``: like the real app, constraints
    declared without a name get whatever name PostgreSQL invents.
    """


def normalize_database_url(url: str) -> str:
    """Return ``url`` with the psycopg 3 driver, accepting Heroku/Railway style URLs.

    ``postgres://`` and ``postgresql://`` both become ``postgresql+psycopg://``;
    a URL that already names a driver is returned unchanged.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def database_url() -> str:
    """Return the normalized ``DATABASE_URL``; raise ``RuntimeError`` if it is not set."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError(
            "DATABASE_URL is not set; export it, e.g. "
            "DATABASE_URL=postgresql://buffet:buffet@localhost:5432/buffet"
        )
    return normalize_database_url(url)


@cache
def get_engine() -> Engine:
    """Return the process-wide engine for ``DATABASE_URL`` (created on first call)."""
    return create_engine(database_url(), pool_pre_ping=True)


@cache
def _session_factory() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


def get_session() -> Iterator[Session]:
    """Yield a session and close it afterwards (a FastAPI dependency)."""
    with _session_factory()() as session:
        yield session
