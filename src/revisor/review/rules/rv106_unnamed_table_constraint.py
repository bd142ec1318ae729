"""RV106 unnamed-table-constraint (opt-in)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Fix, Severity
from revisor.naming import ConstraintShape, ConventionNotApplicable, constraint_name
from revisor.review.fix import edit_after
from revisor.review.rule import Rule
from revisor.review.rules.rv101_unnamed_constraint import repr_str

if TYPE_CHECKING:
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration


class UnnamedTableConstraint(Rule):
    """Unnamed `sa.ForeignKeyConstraint` / `UniqueConstraint` / `CheckConstraint` in `create_table`.

    ## What it does
    Flags table-level constraints inside `op.create_table(...)` that have no `name=`.
    Off by default (select it with `select = ["RV106"]` or `extend-select`): the
    downgrade's `drop_table` removes them whatever their name, so nothing breaks today.

    ## Why is this bad?
    PostgreSQL picks the name (`vendors_name_key`, `transactions_vendor_id_fkey`), and a
    later migration that alters the constraint must guess it; teams that want every name
    in the code (the seed's style) select this rule.

    ## Example
    ```python
    def upgrade():
        op.create_table("vendors", sa.Column("name", sa.Text()), sa.UniqueConstraint("name"))
    ```

    ## Use instead
    ```python
    def upgrade():
        op.create_table(
            "vendors",
            sa.Column("name", sa.Text()),
            sa.UniqueConstraint("name", name="uq_vendors_name"),
        )
    ```

    ## Fix safety
    Safe for a revision not yet applied anywhere: the fix adds `name="..."` from the naming
    convention or the seed's style. Where it was applied, rename the constraint too.
    """

    code = "RV106"
    name = "unnamed-table-constraint"
    severity = Severity.WARNING
    triggers = frozenset({"create_table"})
    default_enabled = False
    needs_metadata = True

    def check(self, migration: Migration, ctx: ReviewContext) -> Iterator[Finding]:
        if migration.upgrade is None:
            return
        for action in migration.upgrade.actions:
            if action.kind != "create_table" or action.from_sql:
                continue
            for constraint in action.constraints:
                if constraint.name or constraint.kind == "primary" or constraint.node is None:
                    continue
                if constraint.name_node is not None:
                    continue  # name=some_variable: named, just not literally
                shape = ConstraintShape(
                    constraint.kind,
                    action.table or "table",
                    constraint.columns,
                    schema=action.schema,
                    referred_table=constraint.referred_table,
                    referred_schema=constraint.referred_schema,
                    referred_columns=constraint.referred_columns,
                    condition=constraint.condition,
                )
                try:
                    name = constraint_name(shape, ctx.naming_convention)
                except ConventionNotApplicable as exc:
                    yield self.finding(
                        migration,
                        constraint.node,
                        f"Unnamed {constraint.kind} constraint in create_table({action.table!r}).",
                        help=f"Add name=... (no fix: {exc}).",
                    )
                    continue
                last = (constraint.node.args or [None])[-1] or constraint.node.func
                fix = Fix(
                    f'name it "{name}"',
                    (
                        edit_after(
                            migration.lines, migration.path, last, f", name={repr_str(name)}"
                        ),
                    ),
                )
                yield self.finding(
                    migration,
                    constraint.node,
                    f"Unnamed {constraint.kind} constraint in create_table({action.table!r}).",
                    help=f'Add name="{name}".',
                    fix=fix,
                )
