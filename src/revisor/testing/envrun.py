"""Run revision steps that revisor chooses one at a time, through the project's own env.py.

`alembic upgrade` asks env.py for a MigrationContext and hands it the list of steps up
front. revisor instead hands it a generator: between two steps the generator runs its own
queries (catalog fingerprint, seed rows, lock reads) on the context's connection, inside the
same transaction the migrations use, so uncommitted DDL is visible and nothing is re-imported.
env.py runs once per call of `run_steps`, whatever the number of steps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import sqlalchemy as sa
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, RevisionStep

from revisor.db.connect import connect, translate_connect_error
from revisor.db.url import DatabaseUrl
from revisor.errors import EnvImportError, RevisorError
from revisor.project import Project, quiet_alembic_logging

StepSource = Callable[[MigrationContext], Iterator[RevisionStep]]


@dataclass
class EnvRunOutcome:
    """How a run ended: `error` is what a step (or the generator) raised, else None."""

    started: bool = False
    error: BaseException | None = None
    context_options: dict[str, Any] = field(default_factory=dict)


def revision_step(project: Project, revision: str, *, upgrade: bool) -> RevisionStep:
    """Alembic's own step object for one revision in one direction (no graph walk)."""
    script = project.script.get_revision(revision)
    assert script is not None
    return RevisionStep(project.script.revision_map, script, upgrade)


def run_steps(project: Project, url: DatabaseUrl, source: StepSource) -> EnvRunOutcome:
    """Run env.py once against `url` (sqlalchemy.url, the URL environment variable and an
    injected connection all point there) and execute the steps `source` yields.

    A step's exception ends the run: env.py's transaction handling rolls back what is not
    committed and the exception is returned in the outcome, not raised. Errors before the
    first step (env.py import, connection) are raised as RevisorError.
    Side effects: the migrations' DDL on `url`.
    """
    outcome = EnvRunOutcome()

    def migrations_fn(heads: Any, context: MigrationContext) -> Iterator[RevisionStep]:
        if outcome.started:
            return iter(())  # an env.py that runs migrations twice gets the steps once
        outcome.started = True
        outcome.context_options = dict(context.opts)
        return source(context)

    with (
        connect(url) as conn,
        quiet_alembic_logging(),
        project.pointed_at(url, connection=conn),
    ):
        try:
            with EnvironmentContext(project.config, project.script, fn=migrations_fn):
                project.script.run_env()
        except RevisorError:
            raise
        except Exception as exc:
            if not outcome.started:
                if _is_connect_error(exc):
                    raise translate_connect_error(url, exc) from exc
                raise EnvImportError(_env_path(project), exc) from exc
            outcome.error = exc
        finally:
            if conn.in_transaction():
                conn.rollback()
    if not outcome.started and outcome.error is None:
        raise EnvImportError(
            _env_path(project),
            RuntimeError("env.py never called context.run_migrations() in online mode"),
        )
    return outcome


def _is_connect_error(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    return isinstance(exc, sa.exc.OperationalError) or isinstance(orig, psycopg.OperationalError)


def _env_path(project: Project) -> Any:
    from pathlib import Path

    return Path(project.script.dir) / "env.py"
