"""RV309 add-column-volatile-default."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity
from revisor.review.actions import volatile_function
from revisor.review.rule import Rule
from revisor.review.rules._lock import on_existing_table, upgrade_actions

if TYPE_CHECKING:
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration


class VolatileDefault(Rule):
    """Column added to an existing table with a volatile default (`gen_random_uuid()`).

    ## What it does
    Flags `op.add_column` / `ADD COLUMN` whose server default calls a volatile function
    (gen_random_uuid, uuid_generate_v4, random, clock_timestamp, nextval, ...) on a table
    that was not created in the same upgrade.

    ## Why is this bad?
    Since PostgreSQL 11 a constant or stable default (`now()`, `'x'`, `true`) is stored
    once in the catalog; a volatile one must be computed per row, so PostgreSQL rewrites
    the entire table.

    ## Lock
    `ADD COLUMN` takes an `ACCESS EXCLUSIVE` lock; with a volatile default it is held
    for the whole table rewrite, blocking every read and write.

    ## Example
    ```python
    def upgrade():
        op.add_column(
            "vendors",
            sa.Column("token", sa.Uuid(), server_default=sa.text("gen_random_uuid()")),
        )
    ```

    ## Use instead
    ```python
    def upgrade():
        op.add_column("vendors", sa.Column("token", sa.Uuid(), nullable=True))
        op.alter_column("vendors", "token", server_default=sa.text("gen_random_uuid()"))
    ```

    ## Fix safety
    No automatic fix: add the column without default, set the default for new rows, then
    backfill existing rows in batches.
    """

    code = "RV309"
    name = "add-column-volatile-default"
    severity = Severity.WARNING
    triggers = frozenset({"add_column"})

    def check(self, migration: Migration, ctx: ReviewContext) -> Iterator[Finding]:
        for action in upgrade_actions(migration):
            if action.kind != "add_column" or action.column is None:
                continue
            if not on_existing_table(migration, action, ctx):
                continue
            function = volatile_function(action.column)
            if function is None:
                continue
            yield self.finding(
                migration,
                action.node,
                f"Column {action.table}.{action.column.name} is added with volatile default "
                f"{function}(): PostgreSQL rewrites the whole table under an ACCESS EXCLUSIVE "
                "lock.",
                help="Add it without a default, then ALTER COLUMN ... SET DEFAULT for new rows "
                "and backfill existing rows in batches.",
            )
