"""Small Alembic projects written from a models source, for `revisor draft` scenarios.

`DraftScenario` writes `models.py`, drafts against a real database, applies, rolls back
and re-applies, so each test states only its models and its data checks.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from revisor import migrate
from revisor.db.url import DatabaseUrl
from revisor.draft import DraftResult, draft
from revisor.drafting import DraftOptions
from revisor.project import Project

EXAMPLE_TEMPLATE = (
    Path(__file__).resolve().parents[2]
    / "examples"
    / "better_call_buffet"
    / "migrations"
    / "script.py.mako"
)

ALEMBIC_INI = """\
[alembic]
script_location = migrations
prepend_sys_path = .
path_separator = os
"""

ENV_PY = """\
from alembic import context
from sqlalchemy import create_engine, pool

import models

config = context.config
target_metadata = models.Base.metadata
{extra}

def run_migrations_online():
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
        connection = engine.connect()
    context.configure(connection=connection, target_metadata=target_metadata,
                      compare_type=True{configure})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline():
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
"""

MODELS_HEADER = """\
import enum

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass

"""


def write_project(
    root: Path,
    models: str,
    *,
    env_extra: str = "",
    env_configure: str = "",
    migrations: dict[str, str] | None = None,
) -> Path:
    """An Alembic project in `root`: alembic.ini, models.py (header + `models`), env.py
    importing it, and `migrations` ({file name: source}) in versions/. Returns the ini path."""
    (root / "migrations" / "versions").mkdir(parents=True, exist_ok=True)
    (root / "alembic.ini").write_text(ALEMBIC_INI)
    (root / "migrations" / "script.py.mako").write_text(EXAMPLE_TEMPLATE.read_text())
    (root / "migrations" / "env.py").write_text(
        ENV_PY.format(extra=env_extra, configure=env_configure)
    )
    write_models(root, models)
    for name, source in (migrations or {}).items():
        (root / "migrations" / "versions" / name).write_text(textwrap.dedent(source))
    return root / "alembic.ini"


def write_models(root: Path, models: str) -> None:
    (root / "models.py").write_text(MODELS_HEADER + textwrap.dedent(models))


@dataclass
class DraftScenario:
    """A project in `root` and a database at `url`, driven step by step."""

    root: Path
    url: DatabaseUrl

    @property
    def project(self) -> Project:
        return Project.load(self.root / "alembic.ini")

    def draft(
        self,
        models: str | None = None,
        message: str = "change",
        *,
        renames: Iterable[str] = (),
        allow_drops: Iterable[str] = (),
        guess_renames: bool = True,
    ) -> DraftResult:
        """Optionally replace models.py, then draft against the database."""
        if models is not None:
            write_models(self.root, models)
        options = DraftOptions.build(
            renames, allow_drops, source_roots=[self.root], guess_renames=guess_renames
        )
        return draft(self.project, self.url, message, options)

    def upgrade(self) -> None:
        migrate.upgrade(self.project, self.url, "heads")

    def downgrade(self, target: str = "-1") -> None:
        migrate.downgrade(self.project, self.url, target)

    def sql(self, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(**self.url.libpq_kwargs(), autocommit=True) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def labels(self, type_name: str) -> list[str]:
        rows = self.sql(
            "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
            "WHERE t.typname = %s ORDER BY e.enumsortorder",
            (type_name,),
        )
        return [r[0] for r in rows]

    def drift(self) -> list[str]:
        """What `revisor check`'s drift engine still finds between models and database."""
        from revisor.drift import compare_models

        return [f"{f.code} {f.message}" for f in compare_models(self.project, self.url)]

    def round_trip(
        self, after: Callable[[], None], before: Callable[[], None], *, drift_free: bool = True
    ) -> None:
        """upgrade → after() → downgrade -1 → before() → upgrade → after(). With
        drift_free, the upgraded database must also match the models for the drift engine
        (the draft reconciled them)."""
        self.upgrade()
        after()
        if drift_free:
            assert self.drift() == []
        self.downgrade()
        before()
        self.upgrade()
        after()

    def start(self, models: str, seed: str | None = None) -> DraftResult:
        """Write the project, draft the initial migration from `models`, apply it and run
        `seed` SQL (the data rows every later check looks for)."""
        write_project(self.root, models)
        result = self.draft(message="initial")
        assert result.path is not None, "the initial draft must create the tables"
        self.upgrade()
        if seed:
            self.sql(seed)
        return result
