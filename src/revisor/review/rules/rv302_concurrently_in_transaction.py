"""RV302 concurrently-in-transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity
from revisor.review.rule import Rule

if TYPE_CHECKING:
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration


class ConcurrentlyInTransaction(Rule):
    """`CREATE/DROP INDEX CONCURRENTLY` inside the migration's transaction.

    ## What it does
    Flags `postgresql_concurrently=True` and `CREATE INDEX CONCURRENTLY` / `DROP INDEX
    CONCURRENTLY` outside `with op.get_context().autocommit_block():`.

    ## Why is this bad?
    Alembic runs each migration in a transaction, and PostgreSQL refuses: "CREATE INDEX
    CONCURRENTLY cannot run inside a transaction block". The deploy fails.

    ## Lock
    None is taken: the statement errors out before it starts. Inside `autocommit_block`
    it takes `SHARE UPDATE EXCLUSIVE`, which lets reads and writes continue.

    ## Example
    ```python
    def upgrade():
        op.create_index("ix_t_a", "t", ["a"], postgresql_concurrently=True)
    ```

    ## Use instead
    ```python
    def upgrade():
        with op.get_context().autocommit_block():
            op.create_index("ix_t_a", "t", ["a"], postgresql_concurrently=True)
    ```

    ## Fix safety
    No automatic fix: statements before the block are committed when the block starts,
    so where to put it is a decision about the migration's atomicity.
    """

    code = "RV302"
    name = "concurrently-in-transaction"
    severity = Severity.ERROR
    triggers = frozenset({"create_index", "drop_index"})

    def check(self, migration: Migration, ctx: ReviewContext) -> Iterator[Finding]:
        for function in migration.functions.values():
            for action in function.actions:
                if (
                    action.kind in ("create_index", "drop_index")
                    and action.concurrently
                    and not action.in_autocommit
                ):
                    verb = "CREATE" if action.kind == "create_index" else "DROP"
                    yield self.finding(
                        migration,
                        action.node,
                        f"{verb} INDEX CONCURRENTLY in {function.name}() runs inside the "
                        "migration's transaction, where PostgreSQL refuses it.",
                        help="Wrap it in `with op.get_context().autocommit_block():`.",
                    )
