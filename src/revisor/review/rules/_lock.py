"""Shared by the lock rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from revisor.review.actions import Action
    from revisor.review.parse import Migration


def on_existing_table(migration: Migration, action: Action) -> bool:
    """True when the action's table was not created earlier in the same upgrade: it exists
    in production, holds rows, and is used while the migration runs."""
    return action.table is not None and action.table not in migration.tables_created


def upgrade_actions(migration: Migration) -> list[Action]:
    return migration.upgrade.actions if migration.upgrade else []


def sql_or_op(action: Action) -> str:
    """How to name the statement in a message."""
    return "SQL" if action.from_sql else "op"
