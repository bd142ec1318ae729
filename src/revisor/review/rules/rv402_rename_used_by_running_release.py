"""RV402 rename-used-by-running-release."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity
from revisor.review.rule import Rule
from revisor.review.rules._release import STOPPED_TRAFFIC, column_name, release_actions

if TYPE_CHECKING:
    from revisor.review.actions import Action
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration


class RenameUsedByRunningRelease(Rule):
    """Renaming a column or table that the release still running during the deploy maps.

    ## What it does
    Flags `op.rename_table` and `op.alter_column(..., new_column_name=...)` (batch and SQL
    `RENAME` too) when the models of the running release map the old name. RV308 warns
    about every rename of an existing object; this rule knows the old code uses it.

    ## Why is this bad?
    From the rename on, every statement of the old release that names the table or column
    fails (`relation "..." does not exist`), until the new release replaces every old
    instance; rolling the code back breaks again.

    ## Example
    ```python base models
    import sqlalchemy as sa
    metadata = sa.MetaData()
    sa.Table(
        "vendors",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("description", sa.Text),
    )
    ```
    ```python
    def upgrade():
        op.alter_column("vendors", "description", new_column_name="memo")
    ```

    ## Use instead
    Expand, then contract over releases: add the new column, write both and backfill,
    move the readers, and drop the old column once no release maps it.
    ```python base models
    import sqlalchemy as sa
    metadata = sa.MetaData()
    sa.Table(
        "vendors",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("description", sa.Text),
    )
    ```
    ```python
    def upgrade():
        op.add_column("vendors", sa.Column("memo", sa.Text(), nullable=True))
        op.execute("UPDATE vendors SET memo = description")
    ```

    ## Fix safety
    No automatic fix: the sequence spans releases. A team that stops traffic while
    migrating sets `deploy-stops-traffic = true` in `[tool.revisor]`.
    """

    code = "RV402"
    name = "rename-used-by-running-release"
    severity = Severity.ERROR
    triggers = frozenset({"rename_table", "alter_column"})

    def check(self, migration: Migration, ctx: ReviewContext) -> Iterator[Finding]:
        for action, base in release_actions(migration, ctx, _renames):
            if action.kind == "rename_table":
                if base.table(action.table, action.schema) is None:
                    continue
                what = f"table {action.table} to {action.new_name}"
                steps = (
                    "create the new table (or a view under the new name), write both, move "
                    "the readers, then drop the old one in a later release"
                )
            else:
                column = column_name(action)
                if base.column(action.table, column, action.schema) is None:
                    continue
                what = f"column {action.table}.{column} to {action.new_name}"
                steps = (
                    f"add {action.new_name}, write both and backfill it, release code that "
                    f"reads {action.new_name}, then drop {column} in a later release"
                )
            yield self.finding(
                migration,
                action.node,
                f"Renaming {what} breaks the release that runs during the deploy: its "
                f"models (commit {base.short}) still use the old name.",
                help=f"Expand and contract: {steps}. " + STOPPED_TRAFFIC.format(code=self.code),
            )


def _renames(action: Action) -> bool:
    return action.kind in ("rename_table", "alter_column") and bool(action.new_name)
