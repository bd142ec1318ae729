"""RV301 add-index-non-concurrently."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity
from revisor.review.rule import Rule
from revisor.review.rules._lock import on_existing_table, upgrade_actions

if TYPE_CHECKING:
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration


class AddIndexNonConcurrently(Rule):
    """Index built on an existing table without CONCURRENTLY.

    ## What it does
    Flags `op.create_index(...)` without `postgresql_concurrently=True`, `CREATE INDEX`
    without `CONCURRENTLY`, and unique constraints added to an existing table without
    `USING INDEX`, when the table was not created earlier in the same upgrade.

    ## Why is this bad?
    Building the index reads the whole table while writes wait: on a busy table the
    application's INSERT/UPDATE/DELETE queue up for the duration and requests time out.

    ## Lock
    `CREATE INDEX` takes a `SHARE` lock on the table, which conflicts with `ROW EXCLUSIVE`
    (taken by INSERT, UPDATE, DELETE): reads continue, every write blocks until the index
    is built. `CREATE INDEX CONCURRENTLY` takes `SHARE UPDATE EXCLUSIVE`, which does not
    block writes.

    ## Example
    ```python
    def upgrade():
        op.create_index("ix_transactions_vendor_id", "transactions", ["vendor_id"])
    ```

    ## Use instead
    ```python
    def upgrade():
        with op.get_context().autocommit_block():
            op.create_index(
                "ix_transactions_vendor_id",
                "transactions",
                ["vendor_id"],
                postgresql_concurrently=True,
            )
    ```

    ## Fix safety
    No automatic fix: CONCURRENTLY must also leave the migration's transaction
    (`autocommit_block`), and a failed concurrent build leaves an INVALID index to drop.
    """

    code = "RV301"
    name = "add-index-non-concurrently"
    severity = Severity.WARNING
    triggers = frozenset({"create_index", "add_constraint"})

    def check(self, migration: Migration, ctx: ReviewContext) -> Iterator[Finding]:
        for action in upgrade_actions(migration):
            if not on_existing_table(migration, action, ctx):
                continue
            if action.kind == "create_index" and not action.concurrently:
                yield self.finding(
                    migration,
                    action.node,
                    f"Index {action.name or ''} on existing table {action.table!r} is built "
                    "without CONCURRENTLY: writes to the table block until it is built.",
                    help="Use postgresql_concurrently=True inside "
                    "`with op.get_context().autocommit_block():` (CREATE INDEX CONCURRENTLY).",
                )
            elif (
                action.kind == "add_constraint"
                and action.constraint_type in ("unique", "primary")
                and not action.extra.get("using_index")
            ):
                yield self.finding(
                    migration,
                    action.node,
                    f"Adding a {action.constraint_type} constraint to existing table "
                    f"{action.table!r} builds its index while holding an ACCESS EXCLUSIVE "
                    "lock.",
                    help="CREATE UNIQUE INDEX CONCURRENTLY first (in an autocommit_block), "
                    "then ALTER TABLE ... ADD CONSTRAINT ... USING INDEX.",
                )
