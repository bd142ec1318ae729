"""RV121 incomplete-downgrade."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity
from revisor.review.rule import Rule

if TYPE_CHECKING:
    from revisor.review.actions import Action
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration


class IncompleteDowngrade(Rule):
    """The upgrade creates something the downgrade leaves behind (enum types too).

    ## What it does
    For each table, column, index, named constraint and enum type that `upgrade()`
    creates, checks that `downgrade()` removes it (directly, or by dropping its table or
    column). A column the upgrade renames after adding it must be dropped by its new name
    (or its old one). An index or constraint the upgrade itself drops again later (the temporary
    `CHECK (col IS NOT NULL)` of the SET NOT NULL recipe) needs no downgrade.
    `op.drop_table` does not drop the PostgreSQL enum types its columns created: the
    downgrade must drop them (`sa.Enum(name="x").drop(op.get_bind())`).

    ## Why is this bad?
    The rollback leaves an object behind, so the re-upgrade fails
    (`type "billing_cycle" already exists`, `relation ... already exists`): the seed's
    "Rollback, then Re-Apply" test breaks.

    ## Example
    ```python
    def upgrade():
        op.create_table("subscriptions", sa.Column("cycle", sa.Enum("weekly", name="cycle")))


    def downgrade():
        op.drop_table("subscriptions")
    ```

    ## Use instead
    ```python
    def upgrade():
        op.create_table("subscriptions", sa.Column("cycle", sa.Enum("weekly", name="cycle")))


    def downgrade():
        op.drop_table("subscriptions")
        sa.Enum(name="cycle").drop(op.get_bind(), checkfirst=True)
    ```

    ## Fix safety
    No automatic fix: write the missing reverse operation.
    """

    code = "RV121"
    name = "incomplete-downgrade"
    severity = Severity.ERROR
    triggers = frozenset(
        {"create_table", "add_column", "create_index", "add_constraint", "create_enum"}
    )

    def check(self, migration: Migration, ctx: ReviewContext) -> Iterator[Finding]:
        upgrade, downgrade = migration.upgrade, migration.downgrade
        if upgrade is None or downgrade is None or migration.irreversible:
            return
        if downgrade.is_empty or downgrade.raises_not_implemented:
            return  # RV120's case
        undo = downgrade.actions
        if any(a.kind in ("execute_dynamic", "sql_unparsed") for a in undo):
            return  # the downgrade's SQL cannot be read: do not guess
        created_tables = migration.tables_created
        dropped_tables = {a.table for a in undo if a.kind == "drop_table"}
        dropped_columns = {
            (a.table, a.column.name) for a in undo if a.kind == "drop_column" and a.column
        }
        dropped_indexes = {a.name for a in undo if a.kind == "drop_index"}
        dropped_constraints = {a.name for a in undo if a.kind == "drop_constraint"}
        # ADD CONSTRAINT ... USING INDEX makes the index the constraint's: dropped with it.
        dropped_indexes |= {
            a.extra.get("index_name")  # type: ignore[misc]
            for a in upgrade.actions
            if a.kind == "add_constraint" and a.name in dropped_constraints
        }
        dropped_enums = {a.name for a in undo if a.kind == "drop_enum"}
        renamed_back = {a.new_name for a in undo if a.kind == "rename_table"}
        renamed_away: set[str | None] = set()
        actions = upgrade.actions
        for position, action in enumerate(actions):
            if _dropped_later(action, actions[position + 1 :]):
                continue  # temporary: gone when the upgrade ends
            if action.kind == "rename_enum":
                renamed_away.add(action.name)
            if action.kind == "create_enum" and action.name in renamed_away:
                continue  # replaces the type renamed away above: it existed before
            if (
                action.kind == "create_enum"
                and action.extra.get("implicit")
                and action.name
                and ctx.enum_exists_before(migration, action.name)
            ):
                continue  # create_table reused an existing type (checkfirst)
            if action.kind == "add_column" and _renamed_and_dropped(
                action, actions[position + 1 :], dropped_columns
            ):
                continue
            left = _left_behind(
                action,
                created_tables,
                dropped_tables | renamed_back,
                dropped_columns,
                dropped_indexes,
                dropped_constraints,
                dropped_enums,
            )
            if left is None:
                continue
            message, help_text = left
            node = (
                action.enum.node
                if action.kind == "create_enum" and action.enum and action.enum.node
                else action.node
            )
            yield self.finding(migration, node, message, help=help_text)


def _dropped_later(action: Action, later: list[Action]) -> bool:
    """A named index or constraint that a later action of the same upgrade drops."""
    kinds = {"create_index": "drop_index", "add_constraint": "drop_constraint"}
    drop = kinds.get(action.kind)
    return (
        drop is not None
        and action.name is not None
        and any(a.kind == drop and a.name == action.name for a in later)
    )


def _renamed_and_dropped(
    action: Action, later: list[Action], dropped_columns: set[tuple[str | None, str | None]]
) -> bool:
    """An added column that later actions rename, and the downgrade drops by a later name."""
    if action.column is None or action.column.name is None:
        return False
    name = action.column.name
    for other in later:
        if (
            other.kind == "alter_column"
            and other.table == action.table
            and other.new_name
            and other.column is not None
            and other.column.name == name
        ):
            name = other.new_name
            if (action.table, name) in dropped_columns:
                return True
    return False


def _left_behind(
    action: Action,
    created_tables: set[str],
    dropped_tables: set[str | None],
    dropped_columns: set[tuple[str | None, str | None]],
    dropped_indexes: set[str | None],
    dropped_constraints: set[str | None],
    dropped_enums: set[str | None],
) -> tuple[str, str] | None:
    table = action.table
    if action.kind == "create_table" and table not in dropped_tables:
        return (f"downgrade() does not drop table {table!r}.", f'Add op.drop_table("{table}").')
    if table in created_tables and action.kind != "create_enum":
        return None  # dropped with its table (if the table is dropped: reported above)
    if table in dropped_tables and action.kind != "create_enum":
        return None
    if (
        action.kind == "add_column"
        and action.column
        and action.column.name
        and (table, action.column.name) not in dropped_columns
    ):
        return (
            f"downgrade() does not drop column {table}.{action.column.name}.",
            f'Add op.drop_column("{table}", "{action.column.name}").',
        )
    removed_with_column = any((table, c) in dropped_columns for c in action.column_names)
    if (
        action.kind == "create_index"
        and action.name
        and action.name not in dropped_indexes
        and not removed_with_column
    ):
        return (
            f"downgrade() does not drop index {action.name!r}.",
            f'Add op.drop_index("{action.name}", table_name="{table}").',
        )
    if (
        action.kind == "add_constraint"
        and action.name
        and action.name not in dropped_constraints
        and not removed_with_column
    ):
        return (
            f"downgrade() does not drop constraint {action.name!r}.",
            f'Add op.drop_constraint("{action.name}", "{table}").',
        )
    if action.kind == "create_enum" and action.name and action.name not in dropped_enums:
        implicit = bool(action.extra.get("implicit"))
        why = f" (op.drop_table({table!r}) leaves the type behind)" if implicit else ""
        return (
            f"downgrade() does not drop enum type {action.name!r}{why}; re-running the "
            "upgrade will fail with 'type already exists'.",
            f'Add sa.Enum(name="{action.name}").drop(op.get_bind(), checkfirst=True) after '
            "dropping the tables that use it.",
        )
    return None
