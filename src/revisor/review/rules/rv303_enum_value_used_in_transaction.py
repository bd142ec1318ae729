"""RV303 enum-value-used-in-transaction."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Fix, Severity
from revisor.recipes.source import call, in_autocommit
from revisor.recipes.sql_text import add_value_if_not_exists
from revisor.review.fix import rewrite_fix, sole_sql, statement_of
from revisor.review.nodes import literal, text_of
from revisor.review.rule import Rule
from revisor.review.rules._lock import upgrade_actions
from revisor.sqltree import expression, string_constants

if TYPE_CHECKING:
    from revisor.review.actions import Action
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration

ADD_VALUE_WHY = "The new label must be committed before this migration can use it."


class EnumValueUsedInTransaction(Rule):
    """`ALTER TYPE ... ADD VALUE` and a use of the new value in the same transaction.

    ## What it does
    Flags `ALTER TYPE t ADD VALUE 'x'` run in the migration's transaction when a later
    statement of the same upgrade uses `'x'` (an UPDATE, a default, a CHECK).

    ## Why is this bad?
    PostgreSQL does not let a transaction use an enum label it added: "unsafe use of new
    value 'x' of enum type t ... New enum values must be committed before they can be
    used." The migration fails (and before PostgreSQL 12, ADD VALUE cannot run in a
    transaction block at all).

    ## Lock
    `ALTER TYPE ... ADD VALUE` takes an `EXCLUSIVE` lock on the type itself (not on the
    tables using it) until the transaction ends; the hazard is the failure, not the wait.

    ## Example
    ```python
    def upgrade():
        op.execute("ALTER TYPE cycle ADD VALUE 'daily'")
        op.execute("UPDATE subscriptions SET cycle = 'daily' WHERE days = 1")
    ```

    ## Use instead
    ```python
    def upgrade():
        with op.get_context().autocommit_block():
            op.execute("ALTER TYPE cycle ADD VALUE IF NOT EXISTS 'daily'")
        op.execute("UPDATE subscriptions SET cycle = 'daily' WHERE days = 1")
    ```

    ## Fix safety
    Unsafe (`--fix --unsafe-fixes`): the `op.execute("ALTER TYPE ... ADD VALUE ...")`
    (running that one statement) goes into `with op.get_context().autocommit_block():`,
    with `IF NOT EXISTS` so that running the migration again after a later failure does
    not stop at the label it already committed. Unsafe because the block commits what
    ran before it and the label stays when a later statement fails. Or use the new value
    in a later revision.
    """

    code = "RV303"
    name = "enum-value-used-in-transaction"
    severity = Severity.ERROR
    triggers = frozenset({"enum_add_value"})

    def check(self, migration: Migration, ctx: ReviewContext) -> Iterator[Finding]:
        actions = upgrade_actions(migration)
        for index, action in enumerate(actions):
            if action.kind != "enum_add_value" or action.in_autocommit or not action.new_name:
                continue
            user = next((a for a in actions[index + 1 :] if _uses(a, action.new_name)), None)
            if user is None:
                continue
            yield self.finding(
                migration,
                action.node,
                f"Enum value {action.new_name!r} is added to {action.name!r} and used on line "
                f"{user.line} in the same transaction: PostgreSQL raises 'unsafe use of new "
                "value'.",
                help="Run the ADD VALUE inside `with op.get_context().autocommit_block():`, or "
                "use the value in a later revision.",
                fix=_committed_first(migration, action),
            )


def _committed_first(migration: Migration, action: Action) -> Fix | None:
    """The ADD VALUE, IF NOT EXISTS, in an autocommit block of its own."""
    upgrade = migration.upgrade
    statement = statement_of(upgrade.node, action.node) if upgrade else None
    if upgrade is None or statement is None:
        return None
    sql = add_value_if_not_exists(sole_sql(upgrade.actions, action) or "")
    if sql is None:
        return None
    lines = in_autocommit(call("op.execute", sql), ADD_VALUE_WHY)
    return rewrite_fix(
        "add the label in an autocommit block", migration.lines, migration.path, statement, lines
    )


def _uses(action: Action, value: str) -> bool:
    if action.in_autocommit and action.kind == "enum_add_value":
        return False
    if action.from_sql:
        # The label as a string literal of the statement (a comment or an identifier
        # spelled the same is not a use of it).
        return value in _sql_strings(action)
    # In op calls only a server default can hold the label (a column or constraint that
    # merely shares the label's spelling is not a use of it).
    for node in ast.walk(action.node):
        if isinstance(node, ast.keyword) and node.arg == "server_default":
            if literal(node.value) == value:
                return True  # server_default="monthly": the label itself
            text = text_of(node.value)
            if text is not None and value in string_constants(expression(text)):
                return True
    return False


def _sql_strings(action: Action) -> set[str]:
    """The string literals of the statement an action comes from."""
    from revisor.sqltree import SqlSyntaxError, parse

    tree = action.extra.get("tree")
    if tree is not None:
        return string_constants(tree)
    try:
        return string_constants(parse(action.sql or ""))
    except SqlSyntaxError:
        return set()
