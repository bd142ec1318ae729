"""Run a project's migrations in-process through its own env.py.

The ScriptDirectory is the Project's (loaded once); env.py is pointed at the target
database via sqlalchemy.url, the URL environment variable and an injected connection.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
import sqlalchemy as sa
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script.revision import RevisionError
from alembic.util import CommandError

from revisor.db.connect import connect, translate_connect_error
from revisor.db.url import DatabaseUrl
from revisor.errors import (
    EnvImportError,
    ExtensionMissing,
    HistoryError,
    MigrationFailed,
    RevisorError,
)
from revisor.project import Project, quiet_alembic_logging

_EXTENSION_UNAVAILABLE = re.compile(r'extension "([^"]+)" is not available')
_CONTROL_FILE = re.compile(r"extension control file \"[^\"]*/([^/\"]+)\.control\"")
# Functions whose absence means an extension is missing.
_EXTENSION_FUNCTIONS = {
    "uuid_generate_v1": "uuid-ossp",
    "uuid_generate_v4": "uuid-ossp",
    "gen_random_bytes": "pgcrypto",
    "crypt": "pgcrypto",
    "gen_salt": "pgcrypto",
    "digest": "pgcrypto",
    "hmac": "pgcrypto",
}
_MISSING_FUNCTION = re.compile(r"function (?:public\.)?([a-z0-9_]+)\(")


@dataclass
class MigrationRun:
    """What a run applied, in order: (revision id, direction) pairs."""

    applied: list[tuple[str, str]] = field(default_factory=list)


def upgrade(project: Project, url: DatabaseUrl, target: str = "heads") -> MigrationRun:
    """Upgrade the database at `url` to `target`. Each revision runs in env.py's transaction
    mode; a failure rolls back what env.py's transaction holds and raises MigrationFailed."""
    return _run(project, url, target, "upgrade")


def downgrade(project: Project, url: DatabaseUrl, target: str) -> MigrationRun:
    """Downgrade the database at `url` to `target` (a revision, "-1", or "base")."""
    return _run(project, url, target, "downgrade")


def current_heads(url: DatabaseUrl, *, version_table: str = "alembic_version") -> tuple[str, ...]:
    """The revisions the database is stamped with (empty when unversioned)."""
    with connect(url) as conn:
        context = MigrationContext.configure(conn, opts={"version_table": version_table})
        return tuple(context.get_current_heads())


def _run(project: Project, url: DatabaseUrl, target: str, direction: str) -> MigrationRun:
    # Load the whole graph first: a broken history is a HistoryError/RevisionImportError
    # naming the file, not a failure of "revision ?" halfway through a run.
    project.revisions  # noqa: B018
    script = project.script
    result = MigrationRun()
    planned: list[str] = []
    state = {"started": False}

    def steps(rev: Any, context: Any) -> Sequence[Any]:
        state["started"] = True
        if direction == "upgrade":
            found = script._upgrade_revs(target, rev)
        else:
            found = script._downgrade_revs(target, rev)
        planned.extend(_step_revision(step) for step in found)
        # env.py's configure() replaces on_version_apply; add ours to the live context.
        context.on_version_apply_callbacks = (*context.on_version_apply_callbacks, applied)
        return found

    def applied(*, ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
        result.applied.append((_step_revision(step), direction))

    with (
        connect(url) as conn,
        quiet_alembic_logging(),
        project.pointed_at(url, connection=conn),
    ):
        try:
            with EnvironmentContext(
                project.config,
                script,
                fn=steps,
                destination_rev=target,
            ):
                script.run_env()
        except RevisorError:
            raise
        except (RevisionError, CommandError) as exc:
            if not state["started"]:
                raise HistoryError(f"Cannot {direction} to {target!r}: {exc}") from exc
            raise MigrationFailed(_failed(planned, result), direction, exc) from exc
        except Exception as exc:
            failed = _failed(planned, result)
            missing = missing_extension(exc)
            if missing:
                raise ExtensionMissing(missing, failed, url.source == "embedded") from exc
            if not state["started"]:
                if _is_connect_error(exc):
                    raise translate_connect_error(url, exc) from exc
                raise EnvImportError(_env_path(project), exc) from exc
            raise MigrationFailed(failed, direction, exc) from exc
        finally:
            if conn.in_transaction():
                conn.rollback()
    return result


def _step_revision(step: Any) -> str:
    # Merge steps carry several revisions; the script's own id names the step.
    revision = getattr(step, "revision", None)
    if revision is not None and hasattr(revision, "revision"):
        return str(revision.revision)
    return str(getattr(step, "up_revision_id", "?"))


def _failed(planned: list[str], result: MigrationRun) -> str | None:
    index = len(result.applied)
    return planned[index] if index < len(planned) else None


def _env_path(project: Project) -> Any:
    from pathlib import Path

    return Path(project.script.dir) / "env.py"


def _is_connect_error(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    return isinstance(exc, sa.exc.OperationalError) or isinstance(orig, psycopg.OperationalError)


def missing_extension(exc: BaseException) -> str | None:
    """The extension a failed statement needed but the server lacks, if that is the cause."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = str(getattr(current, "orig", None) or current)
        for pattern in (_EXTENSION_UNAVAILABLE, _CONTROL_FILE):
            match = pattern.search(text)
            if match:
                return match.group(1)
        if "does not exist" in text:
            match = _MISSING_FUNCTION.search(text)
            if match and match.group(1) in _EXTENSION_FUNCTIONS:
                return _EXTENSION_FUNCTIONS[match.group(1)]
        current = current.__cause__ or current.__context__
    return None


ProgressCallback = Callable[[str, str], None]
