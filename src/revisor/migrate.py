"""Run a project's migrations in-process through its own env.py.

The ScriptDirectory is the Project's (loaded once); env.py is pointed at the target
database via sqlalchemy.url, the URL environment variable and an injected connection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext, RevisionStep
from alembic.script.revision import RevisionError
from alembic.util import CommandError

from revisor import alembic_api
from revisor.db.connect import connect, translate_connect_error
from revisor.db.sqlstate import (
    FEATURE_NOT_SUPPORTED,
    UNDEFINED_FILE,
    UNDEFINED_FUNCTION,
    causes,
    sqlstate,
)
from revisor.db.url import DatabaseUrl
from revisor.errors import (
    EnvImportError,
    ExtensionMissing,
    HistoryError,
    MigrationFailed,
    RevisorError,
)
from revisor.project import Project

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


# Revision names alembic resolves itself rather than looking up a file.
_SYMBOLIC = ("base", "head", "heads")


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


def stamp(
    project: Project, url: DatabaseUrl, revisions: Sequence[str], *, purge: bool = False
) -> MigrationRun:
    """Record `revisions` in the version table without running migrations, as `alembic
    stamp` does, through env.py (its version table name and schema). With `purge` the
    table's rows are deleted first (`alembic stamp --purge`), which also replaces rows of
    revisions the history does not have. Writes only the version table."""
    targets = tuple(
        rev if rev in _SYMBOLIC else project.revision(rev).revision for rev in revisions
    )
    result = MigrationRun()

    def steps(context: MigrationContext) -> Iterator[RevisionStep]:
        for step in alembic_api.stamp_steps(project.script, targets, context.get_current_heads()):
            yield step  # type: ignore[misc]
            result.applied.append((_step_revision(step), "stamp"))

    error = run_env(project, url, steps, purge=purge).error
    if error is None:
        return result
    if isinstance(error, RevisionError | CommandError):
        raise HistoryError(
            f"Cannot stamp {' '.join(targets)}: {error}",
            hint="A version table holding a revision the history lacks is replaced with --purge.",
        ) from error
    raise MigrationFailed(None, "stamp", error) from error


def pending_revisions(project: Project, current: Sequence[str]) -> list[str]:
    """Revisions (base first) that `upgrade heads` would apply to a database at `current`."""
    for rev in current:
        project.revision(rev)  # a revision not in the history is an error, not "none applied"
    applied = project.ancestors(current)
    return [s.revision for s in project.revisions if s.revision not in applied]


def current_heads(
    url: DatabaseUrl,
    *,
    version_table: str = "alembic_version",
    version_table_schema: str | None = None,
) -> tuple[str, ...]:
    """The revisions the database is stamped with (empty when unversioned)."""
    opts = {"version_table": version_table, "version_table_schema": version_table_schema}
    with connect(url) as conn:
        context = MigrationContext.configure(conn, opts=opts)
        return tuple(context.get_current_heads())


def database_heads(project: Project, url: DatabaseUrl) -> tuple[str, ...]:
    """`current_heads` in the version table env.py configures for that database."""
    options = project.env_options(url)
    return current_heads(
        url,
        version_table=options.get("version_table") or "alembic_version",
        version_table_schema=options.get("version_table_schema"),
    )


StepSource = Callable[[MigrationContext], Iterator[RevisionStep]]


@dataclass
class EnvRunOutcome:
    """How a run ended: `error` is what a step (or the step source) raised, else None."""

    started: bool = False
    error: BaseException | None = None
    context_options: dict[str, Any] = field(default_factory=dict)


def revision_step(project: Project, revision: str, *, upgrade: bool) -> RevisionStep:
    """Alembic's own step object for one revision in one direction (no graph walk)."""
    script = project.script.get_revision(revision)
    assert script is not None
    return alembic_api.revision_step(project.script, script, upgrade=upgrade)


def run_env(
    project: Project, url: DatabaseUrl, source: StepSource, **env_options: Any
) -> EnvRunOutcome:
    """Run the project's env.py once against `url` (sqlalchemy.url, the URL environment
    variable and an injected connection all point there) and execute the steps `source`
    yields. `source` is a generator, so callers can run their own queries on the
    migration connection between two steps (revisor test's fingerprints and sample
    rows).

    `env_options` go to `envrun.run_env_py` (inert, read_only) and alembic's context
    (dont_mutate; purge empties the version table before the first step, as `stamp
    --purge`). A step's exception ends the run: env.py's transaction handling rolls
    back what is not committed, and the exception is returned in the outcome, not raised.
    Errors before the first step (env.py import, connection) are raised as RevisorError.
    Side effects: the migrations' DDL on `url`.
    """
    from revisor.envrun import run_env_py

    outcome = EnvRunOutcome()

    def migrations_fn(heads: Any, context: MigrationContext) -> Iterator[RevisionStep]:
        outcome.started = True
        outcome.context_options = dict(context.opts)
        return source(context)

    with connect(url) as conn:
        try:
            run_env_py(project, migrations_fn, target=url, connection=conn, **env_options)
        except RevisorError:
            raise
        except Exception as exc:
            if not outcome.started:
                missing = missing_extension(exc)
                if missing:  # env.py itself ran CREATE EXTENSION
                    raise ExtensionMissing(missing, None, url.source == "embedded") from exc
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


def _run(project: Project, url: DatabaseUrl, target: str, direction: str) -> MigrationRun:
    # Load the whole graph first: a broken history is a HistoryError/RevisionImportError
    # naming the file, not a failure of "revision ?" halfway through a run.
    project.revisions  # noqa: B018
    script = project.script
    result = MigrationRun()
    running: list[str] = []  # the revision of the step being run, once one is

    def steps(context: MigrationContext) -> Iterator[RevisionStep]:
        heads = context.get_current_heads()
        if direction == "upgrade":
            found = alembic_api.upgrade_steps(script, target, heads)
        else:
            found = alembic_api.downgrade_steps(script, target, heads)
        for step in found:
            running[:] = [_step_revision(step)]
            yield step
            # resumed: alembic ran the step (and stamped the version table)
            result.applied.append((running.pop(), direction))

    error = run_env(project, url, steps).error
    if error is None:
        return result
    failed = running[0] if running else None
    missing = missing_extension(error)
    if missing:
        raise ExtensionMissing(missing, failed, url.source == "embedded") from error
    if isinstance(error, RevisionError | CommandError) and failed is None:
        from revisor.fix_commands import FixCommands

        history = FixCommands.for_project(project).history()
        raise HistoryError(
            f"Cannot {direction} to {target!r}: {error}",
            hint=f"{history.quoted} lists the revisions; a target is a revision (or a unique "
            "prefix), head, heads, base, or relative: +1, -1.",
        ) from error
    raise MigrationFailed(failed, direction, error) from error


def _step_revision(step: Any) -> str:
    # Merge steps carry several revisions; the script's own id names the step.
    revision = getattr(step, "revision", None)
    if revision is not None and hasattr(revision, "revision"):
        return str(revision.revision)
    return str(getattr(step, "up_revision_id", "?"))


def _env_path(project: Project) -> Path:
    return Path(project.script.dir) / "env.py"


def _is_connect_error(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    return isinstance(exc, sa.exc.OperationalError) or isinstance(orig, psycopg.OperationalError)


def missing_extension(exc: BaseException) -> str | None:
    """The extension a failed statement needed but the server lacks, if that is the
    cause. Told by the error's SQLSTATE and the failed statement's parse tree, never by
    the server's (translated) message: CREATE EXTENSION x refused as unavailable names x;
    an undefined function that an extension provides (uuid_generate_v4) names it."""
    from revisor.sqltree import SqlSyntaxError, function_names, parse

    for error in causes(exc):
        state = sqlstate(error)
        statement = getattr(error, "statement", None)
        if state is None or not isinstance(statement, str):
            continue
        try:
            tree = parse(statement)
        except SqlSyntaxError:
            continue
        if state in (FEATURE_NOT_SUPPORTED, UNDEFINED_FILE):
            for raw in tree:
                created = raw["stmt"].get("CreateExtensionStmt")
                if created and created.get("extname"):
                    return str(created["extname"])
        if state == UNDEFINED_FUNCTION:
            for name in function_names(tree):
                if name in _EXTENSION_FUNCTIONS:
                    return _EXTENSION_FUNCTIONS[name]
    return None


ProgressCallback = Callable[[str, str], None]
