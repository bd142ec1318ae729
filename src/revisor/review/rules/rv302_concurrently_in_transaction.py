"""RV302 concurrently-in-transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Fix, Severity
from revisor.recipes.indexes import CREATE_WHY, DROP_WHY
from revisor.recipes.source import in_autocommit
from revisor.review.fix import rewrite_fix, source_lines, statement_of
from revisor.review.rule import Rule

if TYPE_CHECKING:
    from revisor.review.actions import Action
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Function, Migration


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
    Unsafe (`--fix --unsafe-fixes`): the `op.create_index(...)` / `op.drop_index(...)`
    statement is wrapped in `with op.get_context().autocommit_block():`. Unsafe because
    the block commits the statements before it, so the migration stops being atomic (where
    the block goes is a decision about that; the fix puts it where the statement is).
    An `op.execute(...)` that runs other statements too, and statements inside other
    blocks, are not rewritten.
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
                        fix=_in_autocommit(migration, function, action),
                    )


def _in_autocommit(migration: Migration, function: Function, action: Action) -> Fix | None:
    statement = statement_of(function.node, action.node)
    # One op.execute may run several statements: wrap it only when this is its only one.
    alone = sum(other.node is action.node for other in function.actions) == 1
    if statement is None or not alone or action.batch:
        return None
    why = CREATE_WHY if action.kind == "create_index" else DROP_WHY
    lines = in_autocommit(source_lines(migration.lines, action.node), why)
    return rewrite_fix(
        "run it in an autocommit block", migration.lines, migration.path, statement, lines
    )
