"""`revisor deploy --dry-run --sql`: the SQL the pending revisions would run, rendered by
alembic's offline mode (`alembic upgrade FROM:TO --sql`), like Django's `sqlmigrate`.

The database is only read (deploy's plan reads its version table); the SQL is rendered
from there with no connection at all: env.py runs its `context.is_offline_mode()` branch
and every connection it or a migration tries is stopped (`envrun`'s capture mode), so the
rendering can never change a database.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from revisor import alembic_api
from revisor.db.url import DatabaseUrl
from revisor.errors import RevisorError
from revisor.exit_codes import ExitCode
from revisor.migrate import _step_revision
from revisor.project import Project

_OFFLINE_BRANCH_HINT = (
    "Give env.py alembic's offline branch: `if context.is_offline_mode(): "
    "context.configure(url=config.get_main_option('sqlalchemy.url'), "
    "target_metadata=target_metadata, literal_binds=True)` then `with "
    "context.begin_transaction(): context.run_migrations()`; or drop --sql."
)


class NoOfflineMode(RevisorError):
    """env.py cannot run in alembic's offline mode (it connects, or never migrates)."""

    exit_code = ExitCode.USAGE

    def __init__(self, env_path: Path, what: str) -> None:
        self.env_path = env_path
        super().__init__(
            f"{env_path} has no offline mode ({what}): the SQL of the pending revisions "
            "cannot be rendered without running them.",
            hint=_OFFLINE_BRANCH_HINT,
        )


class OfflineRenderFailed(RevisorError):
    """A migration cannot be rendered as SQL offline: it needs a live connection."""

    exit_code = ExitCode.MIGRATION_FAILED

    def __init__(self, revision: str, cause: BaseException | str) -> None:
        self.revision = revision
        detail = cause if isinstance(cause, str) else f"{type(cause).__name__}: {cause}"
        super().__init__(
            f"Revision {revision} cannot be rendered as SQL offline ({detail}); nothing "
            "was applied.",
            hint="A migration that reads from the database (op.get_bind(), a query "
            "whose result it uses) has no SQL before it runs: review that file by "
            "hand, or run revisor deploy --dry-run without --sql.",
        )


def pending_sql(
    project: Project, url: DatabaseUrl, current: Sequence[str], target: Sequence[str]
) -> str:
    """The SQL `alembic upgrade` would run from the revisions `current` (empty: an
    unversioned database, so the version table is created too) to `target`, as alembic's
    offline mode writes it (env.py's options, e.g. transaction_per_migration, apply).
    Connects nowhere; raises NoOfflineMode or OfflineRenderFailed."""
    from revisor.envrun import run_env_py
    from revisor.envrun.redirect import _CaptureStop

    project.revisions  # noqa: B018 -- a broken history is reported as such, first
    buffer = io.StringIO()
    started: list[bool] = []
    running: list[str] = []

    def steps(heads: Any, context: Any) -> Iterator[Any]:
        started.append(True)
        for step in alembic_api.upgrade_steps(project.script, _destination(target), heads):
            running[:] = [_step_revision(step)]
            yield step
        running.clear()

    env_path = Path(project.script.dir) / "env.py"
    try:
        run_env_py(
            project,
            steps,
            url_for_env_py=url,
            as_sql=True,
            output_buffer=buffer,
            starting_rev=tuple(current) or None,
            destination_rev=_destination(target),
        )
    except _CaptureStop:
        if running:
            raise OfflineRenderFailed(running[0], "it connects to a database") from None
        raise NoOfflineMode(env_path, "it connects to a database in offline mode") from None
    except RevisorError:
        raise
    except Exception as exc:
        if running:
            raise OfflineRenderFailed(running[0], exc) from exc
        from revisor.errors import EnvImportError

        raise EnvImportError(env_path, exc) from exc
    if not started:
        raise NoOfflineMode(env_path, "it never calls context.run_migrations() offline")
    return buffer.getvalue()


def _destination(target: Sequence[str]) -> str:
    # alembic's revision map resolves a tuple of ids as several destinations (deploy
    # --to heads on a history with several heads)
    return target[0] if len(target) == 1 else tuple(target)  # type: ignore[return-value]
