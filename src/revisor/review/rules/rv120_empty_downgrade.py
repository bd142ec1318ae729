"""RV120 empty-downgrade."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity
from revisor.review.rule import Rule

if TYPE_CHECKING:
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration


class EmptyDowngrade(Rule):
    """`downgrade()` does nothing, yet the revision does not declare `irreversible = True`.

    ## What it does
    Flags a revision whose `downgrade()` raises `NotImplementedError`, or is missing or
    holds only `pass` while `upgrade()` changes the schema, unless the file declares
    `irreversible = True` at module level. (A data-only upgrade, such as an `UPDATE`
    backfill, may have an empty downgrade: rolling it back changes no schema.)

    ## Why is this bad?
    `alembic downgrade -1` then "succeeds" without undoing anything and stamps the older
    revision: the schema and the version table disagree and the next upgrade fails. The
    seed's step 3 tests the downgrade path for this reason.

    ## Example
    ```python
    def upgrade():
        op.add_column("vendors", sa.Column("note", sa.Text(), nullable=True))


    def downgrade():
        pass
    ```

    ## Use instead
    ```python
    def upgrade():
        op.add_column("vendors", sa.Column("note", sa.Text(), nullable=True))


    def downgrade():
        op.drop_column("vendors", "note")
    ```

    ## Fix safety
    No automatic fix. Write the reverse operations, or declare `irreversible = True` in the
    revision (a documented decision: data migrations that cannot be undone).
    """

    code = "RV120"
    name = "empty-downgrade"
    severity = Severity.ERROR

    def check(self, migration: Migration, ctx: ReviewContext) -> Iterator[Finding]:
        upgrade, downgrade = migration.upgrade, migration.downgrade
        if upgrade is None or upgrade.is_empty or migration.irreversible:
            return
        help_text = "Undo every upgrade operation, or add `irreversible = True` to the revision."
        if downgrade is None and _changes_schema(migration):
            yield self.finding(
                migration, upgrade.node, "The revision has no downgrade() function.", help=help_text
            )
        elif downgrade.is_empty and _changes_schema(migration):
            yield self.finding(
                migration,
                downgrade.node,
                "downgrade() does nothing, but upgrade() changes the schema.",
                help=help_text,
            )
        elif downgrade.raises_not_implemented:
            yield self.finding(
                migration,
                downgrade.node,
                "downgrade() raises NotImplementedError without the revision declaring "
                "`irreversible = True`.",
                help=help_text,
            )


_DATA_STATEMENTS = {"UpdateStmt", "InsertStmt", "DeleteStmt", "SelectStmt", "MergeStmt"}


def _changes_schema(migration: Migration) -> bool:
    """True when the upgrade has a DDL action (not only SET / UPDATE / INSERT / DELETE)."""
    assert migration.upgrade is not None
    for action in migration.upgrade.actions:
        if action.kind == "set":
            continue
        if action.kind == "sql_other" and action.extra.get("statement") in _DATA_STATEMENTS:
            continue
        return True
    return False
