"""RV307 set-not-null."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Fix, Severity
from revisor.recipes.not_null import set_not_null
from revisor.recipes.source import call
from revisor.recipes.sql_text import set_not_null_target
from revisor.review.fix import recipe_target, rewrite_fix, sole_sql, source_lines
from revisor.review.nodes import kw, text_of
from revisor.review.rule import Rule
from revisor.review.rules._lock import on_existing_table, upgrade_actions
from revisor.sqltree import quote_ident

if TYPE_CHECKING:
    from revisor.review.actions import Action
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration


class SetNotNull(Rule):
    """`SET NOT NULL` on an existing column.

    ## What it does
    Flags `op.alter_column(table, column, nullable=False)` and `ALTER COLUMN ... SET NOT
    NULL` on a column that already existed, unless a `CHECK (column IS NOT NULL)` was
    added before it (PostgreSQL 12+ then skips the scan).

    ## Why is this bad?
    PostgreSQL scans the whole table to prove no row is NULL while holding the lock. (And
    if a row is NULL, the migration fails.)

    ## Lock
    `SET NOT NULL` takes an `ACCESS EXCLUSIVE` lock: every read and write of the table
    waits for the full scan.

    ## Example
    ```python
    def upgrade():
        op.alter_column("transactions", "category", nullable=False)
    ```

    ## Use instead
    ```python
    def upgrade():
        op.create_check_constraint(
            op.f("ck_transactions_category_not_null"),
            "transactions",
            "category IS NOT NULL",
            postgresql_not_valid=True,
        )
        with op.get_context().autocommit_block():
            op.execute(
                "ALTER TABLE transactions VALIDATE CONSTRAINT ck_transactions_category_not_null"
            )
        op.alter_column("transactions", "category", nullable=False)
        op.drop_constraint(op.f("ck_transactions_category_not_null"), "transactions", type_="check")
    ```

    ## Fix safety
    Unsafe (`--fix --unsafe-fixes`): the `op.alter_column(..., nullable=False)` is kept
    and preceded by `CHECK (column IS NOT NULL) NOT VALID` (named by the models' `ck`
    convention, `ck_<table>_<column>_not_null` in revisor's; in `op.f()`, so Alembic does
    not run it through that convention a second time) and its VALIDATE in
    `with op.get_context().autocommit_block():`, and followed by dropping the CHECK.
    Unsafe because the migration stops being atomic: the block commits what ran before
    it, and if a row is NULL the VALIDATE fails with the NOT VALID CHECK already
    committed; backfill the NULLs, then drop the CHECK or deploy again.
    `ALTER TABLE ... ALTER COLUMN ... SET NOT NULL` in SQL (an `op.execute("...")`
    running that one statement) is kept the same way. Batch operations are not rewritten.
    """

    code = "RV307"
    name = "set-not-null"
    severity = Severity.WARNING
    triggers = frozenset({"alter_column"})

    def check(self, migration: Migration, ctx: ReviewContext) -> Iterator[Finding]:
        actions = upgrade_actions(migration)
        for index, action in enumerate(actions):
            if action.kind != "alter_column" or action.nullable is not False:
                continue
            if action.extra.get("existing_nullable") is False or action.column is None:
                continue
            if not on_existing_table(migration, action, ctx):
                continue
            column = action.column.name or "?"
            if (action.table, column) in migration.columns_added:
                continue
            if _has_not_null_check(actions[:index], column):
                continue
            yield self.finding(
                migration,
                action.node,
                f"SET NOT NULL on {action.table}.{column} scans the whole table under an "
                "ACCESS EXCLUSIVE lock.",
                help=f"First add CHECK ({quote_ident(column)} IS NOT NULL) NOT VALID and "
                "VALIDATE it; "
                "PostgreSQL 12+ then sets NOT NULL without scanning.",
                fix=_check_first(migration, action, column, ctx),
            )


def _check_first(
    migration: Migration, action: Action, column: str, ctx: ReviewContext
) -> Fix | None:
    """The file's alter_column (or its SQL), between a validated NOT NULL CHECK and its
    drop."""
    target = recipe_target(migration, action)
    if target is None:
        return None
    upgrade, statement = target
    if action.from_sql:
        sql = sole_sql(upgrade.actions, action)
        target = set_not_null_target(sql or "")
        if sql is None or target is None:
            return None
        schema, table, column = target
        alter = call("op.execute", sql)
    else:
        schema_node = kw(action.node, "schema")
        schema = text_of(schema_node) if schema_node is not None else None
        if schema_node is not None and schema is None:
            return None
        table, alter = action.table, source_lines(migration.lines, action.node)
    lines = set_not_null(
        table, column, schema=schema, convention=ctx.naming_convention, alter_column=alter
    )
    return rewrite_fix(
        "prove NOT NULL with a CHECK validated in an autocommit block first",
        migration.lines,
        migration.path,
        statement,
        lines,
    )


def _has_not_null_check(before: list[Action], column: str) -> bool:
    """True when an earlier CHECK tests `column IS NOT NULL` (read by PostgreSQL's parser:
    `"Col" IS NOT NULL` is the column Col, an unquoted `Col` is col)."""
    from revisor.sqltree import expression, not_null_columns

    for action in before:
        if action.kind != "add_constraint" or action.constraint_type != "check":
            continue
        tree = action.extra.get("condition_tree")
        if tree is None:
            tree = expression(action.extra.get("condition"))  # type: ignore[arg-type]
        if column in not_null_columns(tree):
            return True
    return False
