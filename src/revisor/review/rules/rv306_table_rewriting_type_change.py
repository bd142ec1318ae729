"""RV306 table-rewriting-type-change."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity
from revisor.review.rule import Rule
from revisor.review.rules._lock import on_existing_table, upgrade_actions
from revisor.review.types import possibly_free, rewrites_table

if TYPE_CHECKING:
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration


class TableRewritingTypeChange(Rule):
    """Column type change that rewrites the whole table.

    ## What it does
    Flags `op.alter_column(..., type_=...)` and `ALTER COLUMN ... TYPE` on an existing
    column unless the change is binary coercible: `varchar(n)` → `varchar(m ≥ n)`,
    `varchar` → `text`, `text` → `varchar`, `numeric(p, s)` → `numeric(p' ≥ p, s)` or
    unconstrained `numeric`, `cidr` → `inet`. The old type comes from `existing_type` or
    from the history.

    ## Why is this bad?
    PostgreSQL rewrites the table and rebuilds its indexes while holding the lock: on a
    large table that is minutes of downtime.

    ## Lock
    `ALTER COLUMN TYPE` takes an `ACCESS EXCLUSIVE` lock, which blocks every read and
    write of the table for the whole rewrite.

    ## Example
    ```python
    def upgrade():
        op.alter_column("transactions", "id", type_=sa.BigInteger(), existing_type=sa.Integer())
    ```

    ## Use instead
    ```python
    def upgrade():
        op.alter_column(
            "transactions", "description", type_=sa.Text(), existing_type=sa.String(255)
        )
    ```

    ## Fix safety
    No automatic fix. For big tables add a new column, backfill in batches, and swap (or
    accept a maintenance window).
    """

    code = "RV306"
    name = "table-rewriting-type-change"
    severity = Severity.WARNING
    triggers = frozenset({"alter_column"})

    def check(self, migration: Migration, ctx: ReviewContext) -> Iterator[Finding]:
        for action in upgrade_actions(migration):
            if action.kind != "alter_column" or not action.type_text or action.column is None:
                continue
            if not on_existing_table(migration, action, ctx):
                continue
            column = action.column.name or "?"
            if (action.table, column) in migration.columns_added:
                continue
            old = action.existing_type_text or ctx.column_type_before(
                migration, action.table or "", column
            )
            rewrites = rewrites_table(old, action.type_text)
            if rewrites is False and not action.using:
                continue
            if rewrites is None and possibly_free(action.type_text):
                continue
            was = f" from {old}" if old else ""
            yield self.finding(
                migration,
                action.node,
                f"Changing {action.table}.{column}{was} to {action.type_text} rewrites the "
                "table under an ACCESS EXCLUSIVE lock.",
                help="Add a new column, backfill it in batches, then swap; or schedule a "
                "maintenance window.",
            )
