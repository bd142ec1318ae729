"""RV307 set-not-null."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity
from revisor.review.rule import Rule
from revisor.review.rules._lock import on_existing_table, upgrade_actions
from revisor.sqltree import quote_ident

if TYPE_CHECKING:
    from revisor.review.actions import Action
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration


class SetNotNull(Rule):
    """`SET NOT NULL` on an existing column.

    ## What it does
    Flags `op.alter_column(table, column, nullable=False)` and `ALTER COLUMN ... SET NOT
    NULL` on a column that already existed, unless a `CHECK (column IS NOT NULL)` was
    added before it (PostgreSQL 12+ then skips the scan).

    ## Why is this bad?
    PostgreSQL scans the whole table to prove no row is NULL while holding the lock. (And
    if a row is NULL, the migration fails.)

    ## Lock
    `SET NOT NULL` takes an `ACCESS EXCLUSIVE` lock: every read and write of the table
    waits for the full scan.

    ## Example
    ```python
    def upgrade():
        op.alter_column("transactions", "category", nullable=False)
    ```

    ## Use instead
    ```python
    def upgrade():
        op.execute(
            "ALTER TABLE transactions ADD CONSTRAINT ck_transactions_category_not_null "
            "CHECK (category IS NOT NULL) NOT VALID"
        )
        op.execute("ALTER TABLE transactions VALIDATE CONSTRAINT ck_transactions_category_not_null")
        op.alter_column("transactions", "category", nullable=False)
    ```

    ## Fix safety
    No automatic fix (the CHECK and its VALIDATE are best split over two deploys).
    """

    code = "RV307"
    name = "set-not-null"
    severity = Severity.WARNING
    triggers = frozenset({"alter_column"})

    def check(self, migration: Migration, ctx: ReviewContext) -> Iterator[Finding]:
        actions = upgrade_actions(migration)
        for index, action in enumerate(actions):
            if action.kind != "alter_column" or action.nullable is not False:
                continue
            if action.extra.get("existing_nullable") is False or action.column is None:
                continue
            if not on_existing_table(migration, action, ctx):
                continue
            column = action.column.name or "?"
            if (action.table, column) in migration.columns_added:
                continue
            if _has_not_null_check(actions[:index], column):
                continue
            yield self.finding(
                migration,
                action.node,
                f"SET NOT NULL on {action.table}.{column} scans the whole table under an "
                "ACCESS EXCLUSIVE lock.",
                help=f"First add CHECK ({quote_ident(column)} IS NOT NULL) NOT VALID and "
                "VALIDATE it; "
                "PostgreSQL 12+ then sets NOT NULL without scanning.",
            )


def _has_not_null_check(before: list[Action], column: str) -> bool:
    """True when an earlier CHECK tests `column IS NOT NULL` (read by PostgreSQL's parser:
    `"Col" IS NOT NULL` is the column Col, an unquoted `Col` is col)."""
    from revisor.sqltree import expression, not_null_columns

    for action in before:
        if action.kind != "add_constraint" or action.constraint_type != "check":
            continue
        tree = action.extra.get("condition_tree")
        if tree is None:
            tree = expression(action.extra.get("condition"))  # type: ignore[arg-type]
        if column in not_null_columns(tree):
            return True
    return False
