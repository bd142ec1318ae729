"""RV104 enum-label-mismatch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity
from revisor.review.rule import Rule
from revisor.review.rules.rv103_enum_stored_by_name import model_enums

if TYPE_CHECKING:
    from revisor.review.context import ReviewContext

_CHANGES = ("enum_add_value", "enum_rename_value", "create_enum", "drop_enum")


class EnumLabelMismatch(Rule):
    """A migration creates an enum type whose labels differ from what the model stores.

    ## What it does
    Compares the labels of each `sa.Enum(...)` / `postgresql.ENUM(...)` / `CREATE TYPE ...
    AS ENUM` a migration creates with the labels the models' enum of the same name stores
    (its names, or its values with `values_callable`), unless a later revision changes
    that type again.

    ## Why is this bad?
    The application will write labels the database rejects (`invalid input value for enum
    billing_cycle: "monthly"`) or read labels it cannot map back to a Python member: the
    deploy succeeds and the first request fails.

    ## Example
    ```python models
    import sqlalchemy as sa
    metadata = sa.MetaData()
    sa.Table("subscriptions", metadata, sa.Column("cycle", sa.Enum("monthly", name="cycle")))
    ```
    ```python
    def upgrade():
        op.create_table("subscriptions", sa.Column("cycle", sa.Enum("MONTHLY", name="cycle")))
    ```

    ## Use instead
    ```python models
    import sqlalchemy as sa
    metadata = sa.MetaData()
    sa.Table("subscriptions", metadata, sa.Column("cycle", sa.Enum("monthly", name="cycle")))
    ```
    ```python
    def upgrade():
        op.create_table("subscriptions", sa.Column("cycle", sa.Enum("monthly", name="cycle")))
    ```

    ## Fix safety
    No automatic fix: which side is right (the model or the migration) is your call.
    """

    code = "RV104"
    name = "enum-label-mismatch"
    severity = Severity.ERROR
    needs_metadata = True

    def check_project(self, ctx: ReviewContext) -> Iterator[Finding]:
        creates = [
            (migration, action)
            for migration in ctx.migrations
            if migration.upgrade is not None
            for action in migration.upgrade.actions
            if action.kind == "create_enum" and action.name and action.labels
        ]
        if not creates:
            return
        enums = model_enums(ctx)
        order = ctx.ordered_migrations
        for migration, action in creates:
            model = enums.get(action.name)
            if model is None:
                continue
            stored = tuple(model.enums)
            if set(stored) == set(action.labels or ()):
                continue
            if _changed_later(migration, action.name, order):
                continue
            node = action.enum.node if action.enum and action.enum.node else action.node
            yield self.finding(
                migration,
                node,
                f"Enum {action.name!r} is created with labels {list(action.labels or ())} but "
                f"the model stores {list(stored)}.",
                help="Make the migration's labels match what the model writes (see RV103 for "
                "names vs values), or change the model.",
            )


def _changed_later(migration: object, name: str, order: list) -> bool:  # type: ignore[type-arg]
    seen = False
    for other in order:
        if other is migration:
            seen = True
            continue
        if not seen or other.upgrade is None:
            continue
        if any(a.kind in _CHANGES and a.name == name for a in other.upgrade.actions):
            return True
    return False
