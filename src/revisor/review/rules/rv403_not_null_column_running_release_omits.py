"""RV403 not-null-column-running-release-omits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity
from revisor.review.nodes import kw
from revisor.review.rule import Rule
from revisor.review.rules._release import STOPPED_TRAFFIC, column_name, release_actions

if TYPE_CHECKING:
    from revisor.review.actions import Action
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration


class NotNullColumnRunningReleaseOmits(Rule):
    """A NOT NULL column without a server default that the running release does not know.

    ## What it does
    Flags `op.add_column(table, sa.Column(..., nullable=False))` without a
    `server_default`, and `op.alter_column(..., nullable=False)` of a column the running
    release does not map, on a table the running release maps (see "Expand and contract"
    in docs/review.md).

    ## Why is this bad?
    The old code's INSERTs leave the column out, so each one fails with `null value in
    column "..." violates not-null constraint` until the new release replaces every old
    instance. A Python-side `default=` in the new model does not help: the old code does
    not have it. Adding the column nullable, backfilling and setting NOT NULL in the same
    deploy fails the same way.

    ## Example
    ```python base models
    import sqlalchemy as sa
    metadata = sa.MetaData()
    sa.Table("vendors", metadata, sa.Column("id", sa.Integer, primary_key=True))
    ```
    ```python
    def upgrade():
        op.add_column("vendors", sa.Column("country", sa.String(2), nullable=False))
    ```

    ## Use instead
    ```python base models
    import sqlalchemy as sa
    metadata = sa.MetaData()
    sa.Table("vendors", metadata, sa.Column("id", sa.Integer, primary_key=True))
    ```
    ```python
    def upgrade():
        op.add_column(
            "vendors",
            sa.Column("country", sa.String(2), server_default="US", nullable=False),
        )
    ```

    ## Fix safety
    No automatic fix: give the column a server default, or add it nullable now and set
    NOT NULL in a later release, once every running instance writes it.
    """

    code = "RV403"
    name = "not-null-column-running-release-omits"
    severity = Severity.ERROR
    triggers = frozenset({"add_column", "alter_column"})

    def check(self, migration: Migration, ctx: ReviewContext) -> Iterator[Finding]:
        defaults = _given_server_defaults(migration)

        def wanted(action: Action) -> bool:
            if action.kind == "add_column":
                spec = action.column
                return not (
                    spec is None or spec.nullable or spec.primary_key or spec.has_server_default
                )
            return (
                action.kind == "alter_column"
                and action.nullable is False
                and (action.table, column_name(action)) not in defaults
            )

        for action, base in release_actions(migration, ctx, wanted):
            column = column_name(action)
            table = base.table(action.table, action.schema)
            if table is None or column is None or column in table.columns:
                continue  # a new table, or a column the old code already knows
            yield self.finding(
                migration,
                action.node,
                f"Column {action.table}.{column} becomes NOT NULL without a server default, "
                f"and the release that runs during the deploy (commit {base.short}) does not "
                "know it: its INSERTs leave it out and fail.",
                help="Give it a server_default, or add it nullable now and set NOT NULL in a "
                "later release, once every running instance writes it. "
                + STOPPED_TRAFFIC.format(code=self.code),
            )


def _given_server_defaults(migration: Migration) -> set[tuple[str | None, str | None]]:
    """(table, column) that the upgrade gives a server default (add_column with one, or
    alter_column(server_default=...))."""
    found: set[tuple[str | None, str | None]] = set()
    for action in migration.upgrade.actions if migration.upgrade else []:
        if _gives_default(action):
            found.add((action.table, column_name(action)))
    return found


def _gives_default(action: Action) -> bool:
    if action.kind == "add_column":
        return action.column is not None and action.column.has_server_default
    if action.kind == "alter_column" and not action.from_sql:
        value = kw(action.node, "server_default")
        return value is not None and not (
            getattr(value, "value", True) is None or getattr(value, "value", True) is False
        )
    return False
