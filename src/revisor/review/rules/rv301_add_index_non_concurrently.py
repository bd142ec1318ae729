"""RV301 add-index-non-concurrently."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Applicability, Finding, Fix, Severity
from revisor.recipes.indexes import (
    CONCURRENTLY,
    CREATE_WHY,
    DROP_WHY,
    unique_constraint_using_index,
)
from revisor.recipes.source import call, in_autocommit
from revisor.recipes.sql_text import concurrently
from revisor.review.fix import (
    call_with_keyword,
    parses,
    replace_statement,
    rewrite_fix,
    sole_sql,
    source_lines,
    statement_of,
)
from revisor.review.nodes import arg, kw
from revisor.review.rule import Rule
from revisor.review.rules._lock import on_existing_table, upgrade_actions

if TYPE_CHECKING:
    from revisor.findings import Edit
    from revisor.review.actions import Action
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Function, Migration


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
    block writes. `ADD CONSTRAINT ... UNIQUE` builds its index under `ACCESS EXCLUSIVE`;
    `ADD CONSTRAINT ... UNIQUE USING INDEX` only attaches an index already built.

    ## Example
    ```python
    def upgrade():
        op.create_index("ix_transactions_vendor_id", "transactions", ["vendor_id"])


    def downgrade():
        op.drop_index("ix_transactions_vendor_id", table_name="transactions")
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


    def downgrade():
        with op.get_context().autocommit_block():
            op.drop_index(
                "ix_transactions_vendor_id",
                table_name="transactions",
                postgresql_concurrently=True,
            )
    ```

    ## Fix safety
    Unsafe (`--fix --unsafe-fixes`): an `op.create_index(...)` gets
    `postgresql_concurrently=True` inside `with op.get_context().autocommit_block():`,
    and the downgrade's `op.drop_index(...)` of the same index likewise. A named
    `op.create_unique_constraint(...)` becomes `op.create_index(..., unique=True,
    postgresql_concurrently=True)` in an autocommit block followed by `ALTER TABLE ... ADD
    CONSTRAINT ... UNIQUE USING INDEX` (the downgrade's `drop_constraint` still drops
    both). Unsafe because the migration stops being atomic: the autocommit block commits
    what ran before it, and a concurrent build that fails (a duplicate value for a unique
    index, a deadlock) leaves an INVALID index behind that must be dropped before a retry.
    `CREATE INDEX` / `DROP INDEX` in SQL (`op.execute("...")` running that one statement)
    is re-printed with CONCURRENTLY by PostgreSQL's parser (pglast), in an autocommit block
    too. Batch operations, multi-statement SQL and primary keys (`ADD PRIMARY KEY USING
    INDEX` still scans to set the columns NOT NULL) are not rewritten.
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
                    fix=_concurrent_index(migration, action),
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
                    fix=_unique_using_index(migration, action),
                )


def _rewritable(function: Function | None, action: Action) -> bool:
    return function is not None and not action.from_sql and not action.batch


def _concurrent_index(migration: Migration, action: Action) -> Fix | None:
    """CREATE INDEX CONCURRENTLY in an autocommit block, and DROP INDEX CONCURRENTLY for
    the same index in the downgrade."""
    upgrade = migration.upgrade
    edit = _made_concurrent(migration, upgrade, action, CREATE_WHY) if upgrade else None
    if edit is None:
        return None
    edits = [edit]
    downgrade = migration.downgrade
    for drop in downgrade.actions if downgrade else []:
        if drop.kind != "drop_index" or drop.name != action.name or not action.name:
            continue
        if not drop.concurrently:
            assert downgrade is not None
            undo = _made_concurrent(migration, downgrade, drop, DROP_WHY)
            if undo is not None:
                edits.append(undo)
        break
    return Fix(
        "build it CONCURRENTLY in an autocommit block"
        + (" (and drop it so in the downgrade)" if len(edits) > 1 else ""),
        tuple(edits),
        Applicability.UNSAFE,
    )


def _made_concurrent(
    migration: Migration, function: Function, action: Action, why: str
) -> Edit | None:
    """The statement that creates or drops the index, made CONCURRENTLY: the op's
    keyword, or the SQL re-printed with CONCURRENTLY when one op.execute runs it alone."""
    statement = statement_of(function.node, action.node)
    if statement is None or action.batch:
        return None
    if action.from_sql:
        sql = concurrently(sole_sql(function.actions, action) or "")
        if sql is None:
            return None
        lines = call("op.execute", sql)
    elif kw(action.node, "postgresql_concurrently") is None:
        lines = call_with_keyword(migration.lines, action.node, CONCURRENTLY)
    else:
        return None
    if not action.in_autocommit:
        lines = in_autocommit(lines, why)
    if not parses(lines):
        return None
    return replace_statement(migration.lines, migration.path, statement, lines)


def _unique_using_index(migration: Migration, action: Action) -> Fix | None:
    """The unique index built concurrently under the constraint's name, then attached."""
    upgrade = migration.upgrade
    if action.constraint_type != "unique" or not action.name or not action.table:
        return None
    if not _rewritable(upgrade, action) or set(_keywords(action)) - {"schema"}:
        return None  # deferrable=, initially=, ...: not something an index can carry
    assert upgrade is not None
    statement = statement_of(upgrade.node, action.node)
    columns = arg(action.node, 2, "columns")
    if statement is None or columns is None:
        return None
    source = "\n".join(source_lines(migration.lines, columns))
    lines = unique_constraint_using_index(action.name, action.table, source, schema=action.schema)
    return rewrite_fix(
        "build the unique index CONCURRENTLY, then ADD CONSTRAINT ... USING INDEX",
        migration.lines,
        migration.path,
        statement,
        lines,
    )


def _keywords(action: Action) -> list[str]:
    return [k.arg for k in action.node.keywords if k.arg]
