"""RV308 rename-table-or-column."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity
from revisor.review.rule import Rule
from revisor.review.rules._lock import on_existing_table, upgrade_actions

if TYPE_CHECKING:
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration


class RenameTableOrColumn(Rule):
    """Renaming a table or column the running application uses.

    ## What it does
    Flags `op.rename_table(...)`, `op.alter_column(..., new_column_name=...)` and `ALTER
    TABLE ... RENAME [COLUMN]` on objects that existed before the upgrade. When revisor
    knows the models of the release running during the deploy (git, see RV402), RV402
    decides instead: an error when that release uses the old name, nothing when it does
    not.

    ## Why is this bad?
    During a deploy the old application version keeps running against the migrated
    schema: every query that names the old table or column fails until the new version
    is fully rolled out (and a rollback of the code breaks again).

    ## Lock
    `RENAME` takes an `ACCESS EXCLUSIVE` lock, briefly: the hazard is the application
    errors, not the wait (unless a long query holds the table, then everything queues).

    ## Example
    ```python
    def upgrade():
        op.alter_column("vendors", "name", new_column_name="display_name")
    ```

    ## Use instead
    ```python
    def upgrade():
        op.add_column("vendors", sa.Column("display_name", sa.Text(), nullable=True))
        op.execute("UPDATE vendors SET display_name = name")
    ```

    ## Fix safety
    No automatic fix: expand (add the new name, write both), migrate readers, then contract
    (drop the old name) in a later release.
    """

    code = "RV308"
    name = "rename-table-or-column"
    severity = Severity.WARNING
    triggers = frozenset({"rename_table", "alter_column"})

    def check(self, migration: Migration, ctx: ReviewContext) -> Iterator[Finding]:
        renames = [a for a in upgrade_actions(migration) if a.new_name]
        if renames and ctx.base_models(migration) is not None:
            return  # RV402 knows whether the running release uses the old name
        for action in renames:
            if not on_existing_table(migration, action, ctx):
                continue
            if action.kind == "rename_table":
                what = f"table {action.table!r} to {action.new_name!r}"
            elif action.kind == "alter_column" and action.column is not None:
                if (action.table, action.column.name) in migration.columns_added:
                    continue
                what = f"column {action.table}.{action.column.name} to {action.new_name!r}"
            else:
                continue
            yield self.finding(
                migration,
                action.node,
                f"Renaming {what} breaks the application version still running during the deploy.",
                help="Expand and contract: add the new name, copy and write both, switch "
                "readers, drop the old name in a later release.",
            )
