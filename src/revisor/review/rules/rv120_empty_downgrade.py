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
    Flags a revision whose `upgrade()` changes something while `downgrade()` is missing,
    holds only `pass`, or raises `NotImplementedError`, unless the file declares
    `irreversible = True` at module level.

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
        if downgrade is None:
            yield self.finding(
                migration, upgrade.node, "The revision has no downgrade() function.", help=help_text
            )
        elif downgrade.is_empty:
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
