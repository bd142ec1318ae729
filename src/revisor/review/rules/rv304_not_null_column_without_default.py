"""RV304 not-null-column-without-default."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity
from revisor.review.rule import Rule
from revisor.review.rules._lock import on_existing_table, upgrade_actions

if TYPE_CHECKING:
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration


class NotNullColumnWithoutDefault(Rule):
    """NOT NULL column added to an existing table without a server default.

    ## What it does
    Flags `op.add_column(table, sa.Column(..., nullable=False))` and `ALTER TABLE ... ADD
    COLUMN ... NOT NULL` without a `server_default` / `DEFAULT`, on a table that was not
    created earlier in the same upgrade.

    ## Why is this bad?
    Every existing row would get NULL, so PostgreSQL refuses: "column ... contains null
    values". The migration passes on an empty development database and fails in
    production, mid-deploy.

    ## Lock
    `ADD COLUMN` takes an `ACCESS EXCLUSIVE` lock (blocks reads and writes) until the
    transaction ends; with a constant default (PostgreSQL 11+) that is only a catalog
    change, no table rewrite.

    ## Example
    ```python
    def upgrade():
        op.add_column("subscriptions", sa.Column("active", sa.Boolean(), nullable=False))
    ```

    ## Use instead
    ```python
    def upgrade():
        op.add_column(
            "subscriptions",
            sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        )
    ```

    ## Fix safety
    No automatic fix: the default value is a product decision (or add the column nullable,
    backfill, then SET NOT NULL, see RV307).
    """

    code = "RV304"
    name = "not-null-column-without-default"
    severity = Severity.ERROR
    triggers = frozenset({"add_column"})

    def check(self, migration: Migration, ctx: ReviewContext) -> Iterator[Finding]:
        for action in upgrade_actions(migration):
            column = action.column
            if action.kind != "add_column" or column is None or column.nullable:
                continue
            if column.has_server_default or column.primary_key:
                continue
            if not on_existing_table(migration, action, ctx):
                continue
            yield self.finding(
                migration,
                action.node,
                f"Column {action.table}.{column.name} is added NOT NULL without a server "
                "default: PostgreSQL rejects it as soon as the table has a row.",
                help="Give it a server_default (a constant is free since PostgreSQL 11), or add "
                "it nullable, backfill, then set NOT NULL.",
            )
