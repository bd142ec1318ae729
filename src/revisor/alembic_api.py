"""Every use of alembic's private API, in one place.

revisor drives alembic below its command layer: it runs single revision steps between its
own catalog reads, commits between revisions whatever env.py's transaction layout, and
renders ops alembic's renderer leaves incomplete. That needs attributes alembic does not
document. Each one is reached only through a function here, which says what it relies on,
so an alembic release that moves one breaks one function, and the test suite says which.

CI runs the whole suite on the oldest supported versions (.ci/oldest.txt: alembic 1.16.1,
SQLAlchemy 2.0.30) and on the newest (what pip picks today); pyproject.toml caps alembic
and SQLAlchemy below the next minor release, which is raised on purpose once CI has run on
it.
"""

from __future__ import annotations

import logging
import logging.config
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from alembic.autogenerate import render
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, RevisionStep
from alembic.script import Script, ScriptDirectory

# --- the revision graph -------------------------------------------------------------------


def version_locations(script_directory: ScriptDirectory) -> list[str]:
    """The version folders alembic reads, as it resolved them (`_version_locations`)."""
    return list(script_directory._version_locations)


def down_revisions(script: Script) -> tuple[str, ...]:
    """The revision's parents by down_revision (`_versioned_down_revisions`)."""
    return tuple(script._versioned_down_revisions)


def down_revisions_and_depends_on(script: Script) -> tuple[str, ...]:
    """Parents and depends_on, branch labels resolved to revisions (`_all_down_revisions`)."""
    return tuple(script._all_down_revisions)


# --- steps ----------------------------------------------------------------------------------


def upgrade_steps(
    script_directory: ScriptDirectory, target: str, heads: Sequence[str]
) -> Iterable[RevisionStep]:
    """The steps `alembic upgrade target` would run from `heads` (`_upgrade_revs`)."""
    return script_directory._upgrade_revs(target, heads)  # type: ignore[return-value]


def downgrade_steps(
    script_directory: ScriptDirectory, target: str, heads: Sequence[str]
) -> Iterable[RevisionStep]:
    """The steps `alembic downgrade target` would run from `heads` (`_downgrade_revs`)."""
    return script_directory._downgrade_revs(target, heads)  # type: ignore[return-value]


def stamp_steps(
    script_directory: ScriptDirectory, targets: Sequence[str], heads: Sequence[str]
) -> Iterable[Any]:
    """The version-table steps `alembic stamp targets` would run (`_stamp_revs`)."""
    return script_directory._stamp_revs(tuple(targets), heads)


def revision_step(script_directory: ScriptDirectory, script: Script, *, upgrade: bool) -> Any:
    """alembic's step object for one revision in one direction, without a graph walk
    (RevisionStep with the directory's `revision_map`)."""
    return RevisionStep(script_directory.revision_map, script, upgrade)


# --- the migration context's transaction -----------------------------------------------------


def commit_and_continue(mc: MigrationContext) -> None:
    """Commit what the connection holds and go on in a new transaction that alembic takes
    as its own, as autocommit_block() does (`MigrationContext._transaction`), so a revision
    just run stays applied whatever env.py's transaction layout (one for all, one per
    migration, or env.py's own `connection.begin()`)."""
    conn = mc.connection
    assert conn is not None
    if conn.in_transaction():
        transaction = conn.get_transaction()
        assert transaction is not None
        transaction.commit()
    mc._transaction = conn.begin()  # type: ignore[attr-defined]


def watch_autocommit_blocks(mc: MigrationContext, on_enter: Callable[[], None]) -> None:
    """Call `on_enter` whenever a migration enters `op.get_context().autocommit_block()`
    (the context's method replaced on this instance)."""
    original = mc.autocommit_block

    @contextmanager
    def watched() -> Iterator[None]:
        on_enter()
        with original():
            yield

    mc.autocommit_block = watched  # type: ignore[method-assign]


def forget_created_types(impl: Any) -> None:
    """SQLAlchemy notes each enum type it created in the DDL runner's memo (alembic's impl,
    one per MigrationContext) and skips CREATE TYPE when it sees the name again: a
    re-upgrade in the same context would miss the type. Emptied before each revision, as
    when each runs in its own alembic command (`impl.memo`)."""
    impl.memo = {}


# --- autogenerate and rendering --------------------------------------------------------------


def last_autogen_context(revision_context: Any) -> Any:
    """The AutogenContext alembic rendered the draft with (`_last_autogen_context`)."""
    return revision_context._last_autogen_context


def render_alter_column(autogen_context: Any, op: Any) -> str:
    """alembic's own rendering of an alter_column op (`render._alter_column`)."""
    return str(render._alter_column(autogen_context, op))


# --- env.py's `context` module and logging ----------------------------------------------------


def share_context_module(subclass: type[EnvironmentContext]) -> None:
    """env.py's `from alembic import context` is a module alembic fills with the methods
    of the entered EnvironmentContext, looked up by class (`ModuleClsProxy._setups`): a
    subclass shares EnvironmentContext's entry."""
    subclass._setups[subclass] = EnvironmentContext._setups[EnvironmentContext]  # type: ignore[attr-defined]


@contextmanager
def quiet_alembic_logging() -> Iterator[None]:
    """While env.py runs under revisor, its `fileConfig(...)` is skipped (the stdlib's
    logging.config.fileConfig replaced for the run: env.py would reconfigure the whole
    process's logging) and alembic's INFO lines are muted: revisor reports progress itself
    and keeps stdout machine-readable."""
    original = logging.config.fileConfig
    alembic_logger = logging.getLogger("alembic")
    level = alembic_logger.level
    logging.config.fileConfig = lambda *args, **kwargs: None  # type: ignore[assignment]
    alembic_logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logging.config.fileConfig = original
        alembic_logger.setLevel(level)


__all__ = [
    "commit_and_continue",
    "down_revisions",
    "down_revisions_and_depends_on",
    "downgrade_steps",
    "forget_created_types",
    "last_autogen_context",
    "quiet_alembic_logging",
    "render_alter_column",
    "revision_step",
    "share_context_module",
    "stamp_steps",
    "upgrade_steps",
    "version_locations",
    "watch_autocommit_blocks",
]
