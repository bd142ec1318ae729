"""RV103 enum-stored-by-name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from revisor.enums.detect import other_spelling, spellings
from revisor.findings import Finding, Severity
from revisor.review.rule import Rule

if TYPE_CHECKING:
    from revisor.review.context import ReviewContext


def model_enums(ctx: ReviewContext) -> dict[str, Any]:
    """Enum type name → the sqlalchemy Enum of a model column (first seen wins)."""
    tables = ctx.model_tables() or {}
    found: dict[str, Any] = {}
    for table in tables.values():
        for column in table.columns:
            kind = column.type
            if type(kind).__name__ in ("Enum", "ENUM") and getattr(kind, "name", None):
                found.setdefault(kind.name, kind)
    return found


class EnumStoredByName(Rule):
    """A model's `sa.Enum(PyEnum)` stores member NAMES while the Python values differ.

    ## What it does
    For each model column typed `sa.Enum(SomePythonEnum)` without `values_callable`, checks
    whether the members' names differ from their string values (`MONTHLY = "monthly"`).
    Reports it at the migration that creates the PostgreSQL enum type.

    ## Why is this bad?
    SQLAlchemy's default persists `BillingCycle.MONTHLY` as the label `'MONTHLY'`, not
    `'monthly'`. Raw SQL, reports, other services and a later `values_callable` all
    disagree with the stored labels; switching later needs a data migration. The seed's
    checklist item 2 ("ensure values match the database").

    ## Example
    ```python models
    import enum
    import sqlalchemy as sa
    class Cycle(enum.Enum):
        MONTHLY = "monthly"
    metadata = sa.MetaData()
    sa.Table("subscriptions", metadata, sa.Column("cycle", sa.Enum(Cycle, name="cycle")))
    ```
    ```python
    def upgrade():
        op.create_table("subscriptions", sa.Column("cycle", sa.Enum("MONTHLY", name="cycle")))
    ```

    ## Use instead
    ```python models
    import enum
    import sqlalchemy as sa
    class Cycle(enum.Enum):
        MONTHLY = "monthly"
    metadata = sa.MetaData()
    sa.Table(
        "subscriptions",
        metadata,
        sa.Column(
            "cycle",
            sa.Enum(Cycle, name="cycle", values_callable=lambda e: [m.value for m in e]),
        ),
    )
    ```
    ```python
    def upgrade():
        op.create_table("subscriptions", sa.Column("cycle", sa.Enum("monthly", name="cycle")))
    ```

    ## Fix safety
    No automatic fix. If the names are what you want, say so with
    `# revisor: ignore[RV103] -- names on purpose`. Otherwise add
    `values_callable=lambda e: [m.value for m in e]` to the model and migrate the stored
    labels (`ALTER TYPE cycle RENAME VALUE 'MONTHLY' TO 'monthly'`, one per label).
    """

    code = "RV103"
    name = "enum-stored-by-name"
    severity = Severity.WARNING
    needs_metadata = True

    def check_project(self, ctx: ReviewContext) -> Iterator[Finding]:
        created = {}
        for migration in ctx.migrations:
            if migration.upgrade is None:
                continue
            for action in migration.upgrade.actions:
                if action.kind == "create_enum" and action.name:
                    created.setdefault(action.name, (migration, action))
        if not created:
            return
        for type_name, kind in sorted(model_enums(ctx).items()):
            enum_class = getattr(kind, "enum_class", None)
            other = other_spelling(kind.enums, enum_class)
            if enum_class is None or other is None or other[0] != "values":
                continue  # stores values already, or names and values are the same
            if not all(isinstance(m.value, str) for m in enum_class):
                continue  # int values cannot be labels: storing names is the only choice
            names, values = spellings(enum_class)
            if type_name not in created:
                continue
            migration, action = created[type_name]
            node = action.enum.node if action.enum and action.enum.node else action.node
            yield self.finding(
                migration,
                node,
                f"Enum {type_name!r} stores the NAMES of {enum_class.__name__} "
                f"({', '.join(names)}), not its values ({', '.join(map(str, values))}): "
                "SQLAlchemy's default for sa.Enum(PyEnum).",
                help="If names are intended, silence with `# revisor: ignore[RV103]`; else add "
                "values_callable=lambda e: [m.value for m in e] to the model's sa.Enum and "
                f"migrate the labels (ALTER TYPE {type_name} RENAME VALUE "
                f"'{names[0]}' TO '{values[0]}', ...).",
            )
