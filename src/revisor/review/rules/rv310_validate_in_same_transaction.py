"""RV310 validate-in-same-transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Fix, Severity
from revisor.recipes.constraints import VALIDATE_WHY
from revisor.recipes.source import in_autocommit
from revisor.review.fix import rewrite_fix, sole_sql, source_lines, statement_of
from revisor.review.rule import Rule
from revisor.review.rules._lock import on_existing_table, upgrade_actions

if TYPE_CHECKING:
    from revisor.review.actions import Action
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration

# Statements that lock their table until the transaction ends (ALTER TABLE's ACCESS
# EXCLUSIVE or SHARE ROW EXCLUSIVE, CREATE INDEX's SHARE).
_LOCKING = frozenset(
    {
        "add_constraint",
        "drop_constraint",
        "add_column",
        "drop_column",
        "alter_column",
        "create_index",
        "drop_index",
        "rename_table",
    }
)


class ValidateInSameTransaction(Rule):
    """`VALIDATE CONSTRAINT` in the transaction that already locked its table.

    ## What it does
    Flags `ALTER TABLE ... VALIDATE CONSTRAINT` run in the migration's transaction after
    an earlier statement of that transaction changed the same existing table (typically
    the `ADD CONSTRAINT ... NOT VALID` it validates), with no autocommit block between
    them.

    ## Why is this bad?
    `NOT VALID` exists so that the check of the existing rows runs under a weak lock. But
    the lock the `ADD CONSTRAINT` took lasts until the transaction ends, so a VALIDATE in
    the same transaction scans every row while it is still held: the same wait as
    adding the constraint without NOT VALID.

    ## Lock
    `ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID` takes `SHARE ROW EXCLUSIVE` on the
    table and the referenced table (INSERT, UPDATE and DELETE wait), `ADD CONSTRAINT ...
    CHECK ... NOT VALID` takes `ACCESS EXCLUSIVE` (reads wait too), both held to the end
    of the transaction. `VALIDATE CONSTRAINT` in a transaction of its own takes `SHARE
    UPDATE EXCLUSIVE`, which lets reads and writes continue.

    ## Example
    ```python
    def upgrade():
        op.create_foreign_key(
            "fk_events_tenant_id", "events", "tenants", ["tenant_id"], ["id"],
            postgresql_not_valid=True,
        )
        op.execute("ALTER TABLE events VALIDATE CONSTRAINT fk_events_tenant_id")
    ```

    ## Use instead
    ```python
    def upgrade():
        op.create_foreign_key(
            "fk_events_tenant_id", "events", "tenants", ["tenant_id"], ["id"],
            postgresql_not_valid=True,
        )
        with op.get_context().autocommit_block():
            op.execute("ALTER TABLE events VALIDATE CONSTRAINT fk_events_tenant_id")
    ```

    ## Fix safety
    Unsafe (`--fix --unsafe-fixes`): the `op.execute(...)` running the VALIDATE goes into
    `with op.get_context().autocommit_block():`. Unsafe because the block commits what ran
    before it (the NOT VALID constraint is then in place even if the VALIDATE fails), and
    a `SET LOCAL lock_timeout` of the transaction no longer applies to the VALIDATE. An
    `op.execute` that runs other statements too is not rewritten.
    """

    code = "RV310"
    name = "validate-in-same-transaction"
    severity = Severity.WARNING
    triggers = frozenset({"validate_constraint"})

    def check(self, migration: Migration, ctx: ReviewContext) -> Iterator[Finding]:
        locked: dict[str, Action] = {}  # table → the statement that locked it
        for action in upgrade_actions(migration):
            if action.in_autocommit:
                locked.clear()  # the block committed the transaction: locks released
                continue
            if action.kind == "validate_constraint" and action.table in locked:
                if not on_existing_table(migration, action, ctx):
                    continue
                first = locked[action.table]
                yield self.finding(
                    migration,
                    action.node,
                    f"VALIDATE CONSTRAINT {action.name or ''} scans {action.table!r} while the "
                    f"lock taken on line {first.line} is still held: writes wait for the scan.",
                    help="Run it in `with op.get_context().autocommit_block():` (or a later "
                    "revision), so the ADD CONSTRAINT's lock is released first.",
                    fix=_own_transaction(migration, action),
                )
            elif action.kind in _LOCKING and action.table and not action.concurrently:
                locked.setdefault(action.table, action)


def _own_transaction(migration: Migration, action: Action) -> Fix | None:
    upgrade = migration.upgrade
    statement = statement_of(upgrade.node, action.node) if upgrade else None
    if upgrade is None or statement is None or sole_sql(upgrade.actions, action) is None:
        return None
    lines = in_autocommit(source_lines(migration.lines, action.node), VALIDATE_WHY)
    return rewrite_fix(
        "validate it in an autocommit block", migration.lines, migration.path, statement, lines
    )
