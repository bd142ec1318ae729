"""RV309 add-column-volatile-default."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Fix, Severity
from revisor.recipes.not_null import backfill, set_not_null
from revisor.recipes.source import Source, call
from revisor.recipes.sql_text import added_column_with_default
from revisor.review.actions import volatile_function
from revisor.review.fix import recipe_target, rewrite_fix, sole_sql, source_lines
from revisor.review.nodes import kw, text_of
from revisor.review.rule import Rule
from revisor.review.rules._lock import on_existing_table, upgrade_actions

if TYPE_CHECKING:
    from revisor.review.actions import Action
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
        op.add_column("vendors", sa.Column("token", sa.Uuid()))
        op.alter_column("vendors", "token", server_default=sa.text("gen_random_uuid()"))
        with op.get_context().autocommit_block():
            while True:
                batch = op.get_bind().execute(
                    sa.text(
                        "UPDATE vendors SET token = gen_random_uuid() WHERE ctid = ANY(ARRAY("
                        "SELECT ctid FROM vendors WHERE token IS NULL LIMIT 10000))"
                    )
                )
                if batch.rowcount < 10000:
                    break
    ```

    ## Fix safety
    Unsafe (`--fix --unsafe-fixes`): the `op.add_column(...)` loses its `server_default`
    (and `nullable=False`); then `op.alter_column(..., server_default=...)` sets the
    default for new rows (a catalog change), existing rows are filled 10,000 at a time,
    each batch committed in `with op.get_context().autocommit_block():`, and a
    `nullable=False` column is made NOT NULL by RV307's CHECK recipe. Unsafe because the
    migration stops being atomic (the block commits what ran before it; a failure
    part-way leaves the column added and part-filled) and because the rows are filled
    after the column appears, not in the same instant: code that reads the column during
    the backfill sees NULLs. `ALTER TABLE ... ADD COLUMN ... DEFAULT ...` in SQL (an
    `op.execute("...")` running that one statement) is taken apart by PostgreSQL's parser
    (pglast) the same way. Batch operations are not rewritten.
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
                fix=_add_then_backfill(migration, action, ctx),
            )


def _add_then_backfill(migration: Migration, action: Action, ctx: ReviewContext) -> Fix | None:
    """add_column without the default, SET DEFAULT, backfill in batches, [SET NOT NULL]."""
    target, column = recipe_target(migration, action), action.column
    if target is None or column is None or column.primary_key or not column.name:
        return None
    upgrade, statement = target
    if action.from_sql:
        added = added_column_with_default(sole_sql(upgrade.actions, action) or "")
        if added is None:
            return None
        schema, table, name = added.schema, added.table, added.column
        lines = [*call("op.execute", added.add_sql), *call("op.execute", added.set_default_sql)]
        value, not_null = added.default_sql, added.not_null
    else:
        default = kw(column.node, "server_default") if isinstance(column.node, ast.Call) else None
        schema_node = kw(action.node, "schema")
        schema = text_of(schema_node) if schema_node is not None else None
        if default is None or not column.server_default:
            return None
        if schema_node is not None and schema is None:
            return None
        assert isinstance(column.node, ast.Call)
        table, name, value = action.table, column.name, column.server_default
        not_null = not column.nullable
        # Keyword nodes, not their values: the `name=` goes too.
        drop = {"server_default"} | ({"nullable"} if not_null else set())
        removed = [k for k in column.node.keywords if k.arg in drop]
        lines = [
            *source_lines(migration.lines, action.node, remove=removed),
            *call(
                "op.alter_column",
                table,
                name,
                server_default=Source("\n".join(source_lines(migration.lines, default))),
                schema=schema,
            ),
        ]
    lines += backfill(table, name, value, schema=schema)
    if not_null:
        lines += set_not_null(table, name, schema=schema, convention=ctx.naming_convention)
    return rewrite_fix(
        "add it without the default, set the default, backfill in batches",
        migration.lines,
        migration.path,
        statement,
        lines,
        module=migration.tree,
    )
