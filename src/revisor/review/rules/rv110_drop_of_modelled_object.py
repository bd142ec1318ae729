"""RV110 drop-of-modelled-object."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity
from revisor.review.rule import Rule

if TYPE_CHECKING:
    from revisor.review.actions import Action
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration


class DropOfModelledObject(Rule):
    """The upgrade drops a table, column or index that the models still define.

    ## What it does
    Flags `op.drop_table`, `op.drop_column` and `op.drop_index` (and the same in SQL) in
    `upgrade()` when the models' MetaData still has that table, column or index and no
    later revision creates it again (a column renamed to the dropped column's name, as
    when an integer id is swapped for a UUID one, counts as creating it again).

    ## Why is this bad?
    Nobody asked for it: autogenerate emits such drops when it compared against the wrong
    database or a model was renamed. Applied, it deletes data the running application
    still reads. The seed's checklist item 3 ("did it try to drop a table you didn't
    touch? Delete those lines").

    ## Example
    ```python models
    import sqlalchemy as sa
    metadata = sa.MetaData()
    sa.Table("vendors", metadata, sa.Column("id", sa.Integer, primary_key=True))
    ```
    ```python
    def upgrade():
        op.drop_table("vendors")
    ```

    ## Use instead
    ```python models
    import sqlalchemy as sa
    metadata = sa.MetaData()
    sa.Table("vendors", metadata, sa.Column("id", sa.Integer, primary_key=True))
    ```
    ```python
    def upgrade():
        pass
    ```

    ## Fix safety
    No automatic fix: delete the line if the drop is unintended, or remove the model first.
    """

    code = "RV110"
    name = "drop-of-modelled-object"
    severity = Severity.ERROR
    needs_metadata = True

    def check_project(self, ctx: ReviewContext) -> Iterator[Finding]:
        drops = [
            (m, a)
            for m in ctx.migrations
            if m.upgrade is not None
            for a in m.upgrade.actions
            if a.kind in ("drop_table", "drop_column", "drop_index")
        ]
        if not drops:
            return
        tables = ctx.model_tables()
        if tables is None:
            return
        indexes = {
            index.name: table.name
            for table in tables.values()
            for index in table.indexes
            if index.name
        }
        for migration, action in drops:
            what = _modelled(action, tables, indexes)
            if what is None or _recreated(migration, action, ctx):
                continue
            yield self.finding(
                migration,
                action.node,
                f"The upgrade drops {what}, which the models still define.",
                help="If you did not mean to drop it, delete this line (autogenerate compared "
                "against a different database?); otherwise remove it from the models first.",
            )


def _modelled(action: Action, tables: dict, indexes: dict) -> str | None:  # type: ignore[type-arg]
    if action.kind == "drop_table" and action.table in tables:
        return f"table {action.table!r}"
    if (
        action.kind == "drop_column"
        and action.table in tables
        and action.column
        and action.column.name in tables[action.table].columns
    ):
        return f"column {action.table}.{action.column.name}"
    if action.kind == "drop_index" and action.name in indexes:
        return f"index {action.name!r}"
    return None


def _recreated(migration: Migration, action: Action, ctx: ReviewContext) -> bool:
    """True when this upgrade (after the drop) or a later revision creates it again."""
    seen = False
    later: list[Action] = []
    for other in ctx.ordered_migrations or [migration]:
        if other is migration:
            seen = True
            actions = other.upgrade.actions if other.upgrade else []
            later.extend(actions[actions.index(action) + 1 :] if action in actions else [])
            continue
        if seen and other.upgrade is not None:
            later.extend(other.upgrade.actions)
    return any(_recreates(candidate, action) for candidate in later)


def _recreates(candidate: Action, action: Action) -> bool:
    if action.kind == "drop_table":
        return candidate.kind in ("create_table", "rename_table") and (
            (candidate.new_name or candidate.table) == action.table
        )
    if action.kind == "drop_column":
        if candidate.table != action.table:
            return False
        if candidate.kind == "create_table":
            return True
        if candidate.kind == "alter_column" and candidate.new_name is not None:
            # the column-swap recipe: a new column renamed to the dropped one's name
            return action.column is not None and candidate.new_name == action.column.name
        return (
            candidate.kind == "add_column"
            and candidate.column is not None
            and action.column is not None
            and candidate.column.name == action.column.name
        )
    return (
        action.kind == "drop_index"
        and candidate.kind == "create_index"
        and candidate.name == action.name
    )
