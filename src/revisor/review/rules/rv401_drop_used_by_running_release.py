"""RV401 drop-used-by-running-release."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity
from revisor.review.rule import Rule
from revisor.review.rules._release import STOPPED_TRAFFIC, column_name, release_actions
from revisor.review.rules.rv110_drop_of_modelled_object import _recreated

if TYPE_CHECKING:
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration


class DropUsedByRunningRelease(Rule):
    """Dropping a column or table that the release still running during the deploy maps.

    ## What it does
    Flags `op.drop_column` (also `batch_op.drop_column` and `ALTER TABLE ... DROP
    COLUMN`) and `op.drop_table` when the models of the running release still map that
    column or table. The running release is the code at the base of the change: `review
    --since REF`, else the merge-base with the default branch, else HEAD for a migration
    not committed yet (see "Expand and contract" in docs/review.md). Outside git the rule
    is silent.

    ## Why is this bad?
    The migration runs while the previous release serves traffic (a pre-deploy step).
    SQLAlchemy names every mapped column in its SELECT, INSERT and UPDATE statements, so
    from the moment the column is gone each of them fails with `column "..." does not
    exist` until the new release replaces every old instance, and a rollback of the code
    cannot bring the data back.

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
        op.drop_column("vendors", "description")
    ```

    ## Use instead
    Two releases: first deploy the code that no longer maps the column (delete it from the
    model); then drop it in a migration of its own.
    ```python base models
    import sqlalchemy as sa
    metadata = sa.MetaData()
    sa.Table("vendors", metadata, sa.Column("id", sa.Integer, primary_key=True))
    ```
    ```python
    def upgrade():
        op.drop_column("vendors", "description")
    ```

    ## Fix safety
    No automatic fix: the code change has to ship first. A team that stops traffic while
    migrating sets `deploy-stops-traffic = true` in `[tool.revisor]`.
    """

    code = "RV401"
    name = "drop-used-by-running-release"
    severity = Severity.ERROR
    triggers = frozenset({"drop_column", "drop_table"})

    def check(self, migration: Migration, ctx: ReviewContext) -> Iterator[Finding]:
        for action, base in release_actions(migration, ctx, lambda a: a.kind in self.triggers):
            if action.kind == "drop_table":
                if base.table(action.table, action.schema) is None:
                    continue
                what, where = f"table {action.table}", "the model and every query of it"
            else:
                column = column_name(action)
                if base.column(action.table, column, action.schema) is None:
                    continue
                what, where = f"column {action.table}.{column}", "the column in the model"
            if _recreated(migration, action, ctx):
                continue
            yield self.finding(
                migration,
                action.node,
                f"Dropping {what} breaks the release that runs during the deploy: its "
                f"models (commit {base.short}) still map it, and every query naming it fails.",
                help=f"Two steps: first release code that no longer maps {what} (delete "
                f"{where}), then drop it in a migration of a later release. "
                + STOPPED_TRAFFIC.format(code=self.code),
            )
