"""Shared by the lock rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from revisor.review.actions import Action
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration


def on_existing_table(migration: Migration, action: Action, ctx: ReviewContext) -> bool:
    """True when the action's table was not created earlier in the same upgrade, nor (on a
    partial run: `--since`, PATHS) by an earlier revision under review, which is not
    deployed yet: otherwise the table exists in production, holds rows, and is in use
    while the migration runs."""
    if action.table is None or action.table in migration.tables_created:
        return False
    return not ctx.table_created_before(migration, action.table)


def upgrade_actions(migration: Migration) -> list[Action]:
    return migration.upgrade.actions if migration.upgrade else []


def sql_or_op(action: Action) -> str:
    """How to name the statement in a message."""
    return "SQL" if action.from_sql else "op"
