"""RV404 type-change-running-release-cannot-write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity
from revisor.review.rule import Rule
from revisor.review.rules._release import STOPPED_TRAFFIC, column_name, release_actions
from revisor.review.types import keeps_values

if TYPE_CHECKING:
    from revisor.review.actions import Action
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration


class TypeChangeRunningReleaseCannotWrite(Rule):
    """Changing a column's type to one the release still running during the deploy
    cannot write or read back the same.

    ## What it does
    Flags `op.alter_column(..., type_=...)` (batch and SQL `ALTER COLUMN ... TYPE` too)
    when the running release maps the column with a type whose values the new type does
    not all take, or returns as other Python values: a shorter varchar, text to varchar(n),
    a number to text, timestamp to timestamptz. A wider type (varchar(n) to text, integer
    to bigint, a longer varchar) is fine.

    ## Why is this bad?
    The old code keeps writing what its model says: strings longer than the new limit fail
    with `value too long`, an int bound to a text column fails with `column is of type
    character varying but expression is of type bigint`, naive datetimes come back aware.
    Each fails only at run time, during the deploy.

    ## Example
    ```python base models
    import sqlalchemy as sa
    metadata = sa.MetaData()
    sa.Table(
        "vendors",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(100)),
    )
    ```
    ```python
    def upgrade():
        op.alter_column(
            "vendors", "code", type_=sa.String(20), existing_type=sa.String(100)
        )
    ```

    ## Use instead
    Add a column of the new type, write both and backfill, release code that reads the
    new one, then drop the old column in a later release. Widening is safe in one step:
    ```python base models
    import sqlalchemy as sa
    metadata = sa.MetaData()
    sa.Table(
        "vendors",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(100)),
    )
    ```
    ```python
    def upgrade():
        op.alter_column("vendors", "code", type_=sa.Text(), existing_type=sa.String(100))
    ```

    ## Fix safety
    No automatic fix: the sequence spans releases. A team that stops traffic while
    migrating sets `deploy-stops-traffic = true` in `[tool.revisor]`.
    """

    code = "RV404"
    name = "type-change-running-release-cannot-write"
    severity = Severity.ERROR
    triggers = frozenset({"alter_column"})

    def check(self, migration: Migration, ctx: ReviewContext) -> Iterator[Finding]:
        def wanted(action: Action) -> bool:
            return action.kind == "alter_column" and action.type_text is not None

        for action, base in release_actions(migration, ctx, wanted):
            column = column_name(action)
            mapped = base.column(action.table, column, action.schema)
            if mapped is None or keeps_values(mapped.type, action.type_text) is not False:
                continue
            yield self.finding(
                migration,
                action.node,
                f"Changing {action.table}.{column} from {mapped.type} to {action.type_text} "
                f"breaks the release that runs during the deploy (commit {base.short}): it "
                f"still writes {mapped.type} values.",
                help=f"Expand and contract: add a column of type {action.type_text}, write "
                "both and backfill it, release code that reads the new column, then drop the "
                "old one in a later release. " + STOPPED_TRAFFIC.format(code=self.code),
            )
