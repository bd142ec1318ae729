"""RV102 missing-naming-convention."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity
from revisor.naming import SEED_CONVENTION, has_convention
from revisor.review.rule import Rule

if TYPE_CHECKING:
    from revisor.review.context import ReviewContext


class MissingNamingConvention(Rule):
    """The models' MetaData has no naming convention, so autogenerate writes unnamed constraints.

    ## What it does
    Once per run, when a reviewed migration has an unnamed constraint, checks the models'
    `MetaData(naming_convention=...)` and suggests one if it is missing.

    ## Why is this bad?
    Without a convention every new foreign key, unique or check constraint comes out of
    `alembic revision --autogenerate` as `None`, and each one is a rollback that crashes
    (RV101). Fixing names by hand in every revision is the checklist step people skip.

    ## Example
    ```python models
    import sqlalchemy as sa
    metadata = sa.MetaData()
    sa.Table("vendors", metadata, sa.Column("id", sa.Integer, primary_key=True))
    ```
    ```python
    def upgrade():
        op.create_unique_constraint(None, "vendors", ["id"])
    ```

    ## Use instead
    ```python models
    import sqlalchemy as sa
    metadata = sa.MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    })
    sa.Table("vendors", metadata, sa.Column("id", sa.Integer, primary_key=True))
    ```
    ```python
    def upgrade():
        op.create_unique_constraint(None, "vendors", ["id"])
    ```

    ## Fix safety
    No automatic fix: adding a convention changes the names autogenerate compares with
    the database. The convention above is the one `review --fix` and `draft` name with
    (the seed's style), so constraints they named keep their names; rename the ones
    PostgreSQL named (`transactions_vendor_id_fkey`) in a migration when you adopt it.
    """

    code = "RV102"
    name = "missing-naming-convention"
    severity = Severity.INFO
    needs_metadata = True

    def check_project(self, ctx: ReviewContext) -> Iterator[Finding]:
        first = next(
            (
                (migration, action)
                for migration in ctx.migrations
                for function in migration.functions.values()
                for action in function.actions
                if action.kind in ("add_constraint", "drop_constraint")
                and not action.from_sql
                and not action.name_given
            ),
            None,
        )
        if first is None or ctx.metadata is None or has_convention(ctx.metadata):
            return
        migration, action = first
        yield self.finding(
            migration,
            action.node,
            "The models' MetaData has no naming_convention, so autogenerate writes unnamed "
            "constraints like this one.",
            help=f"Pass naming_convention={_SUGGESTED} to your Base's MetaData: the names "
            "`review --fix` and `draft` give (SQLAlchemy docs: 'Configuring Constraint "
            'Naming Conventions\'). Name CHECKs in the models (name="amount" → '
            "ck_<table>_amount).",
        )


# One line of Python a user can paste: revisor's own convention, so adopting it keeps
# every name --fix and draft already wrote.
_SUGGESTED = json.dumps(SEED_CONVENTION)
