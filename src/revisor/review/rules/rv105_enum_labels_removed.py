"""RV105 enum-labels-removed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity
from revisor.review.rule import Rule

if TYPE_CHECKING:
    from revisor.review.actions import Action
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration


class EnumLabelsRemoved(Rule):
    """An enum type is recreated without labels the history gave it.

    ## What it does
    Follows each enum type through the history (`CREATE TYPE`, `sa.Enum` in
    `create_table`, `ADD VALUE`, `RENAME VALUE`, `ALTER TYPE ... RENAME TO`) and flags a
    revision that creates the type again without some of its labels, unless the same
    upgrade converts the data (an `UPDATE` naming the old label, or a `USING` clause that
    computes the new value instead of a plain cast) or guards it: a `DO` block, before the
    type is created again, that tests for rows holding each removed label and raises
    (what `revisor draft` writes for a removed label).

    ## Why is this bad?
    PostgreSQL cannot drop a label, so changing labels means recreate-and-cast
    (`ALTER COLUMN ... TYPE new USING col::text::new`). Every row still holding a removed
    label makes that cast fail ("invalid input value for enum"), and the deploy stops
    halfway; deleting those rows first loses data. Often the labels were not meant to go
    at all: autogenerate reads a renamed label as a removal plus an addition. The seed's
    "My Enum values are mismatching" section. A guard states that the labels are meant to
    go and must be unused: the migration stops before it changes anything, naming each
    column and its row count, and nothing is cast or lost.

    ## Example
    ```python
    def upgrade():
        op.execute("CREATE TYPE cycle AS ENUM ('WEEKLY', 'MONTHLY')")
    ```
    ```python
    def upgrade():
        op.execute("ALTER TYPE cycle RENAME TO cycle_old")
        op.execute("CREATE TYPE cycle AS ENUM ('weekly', 'monthly')")
        op.execute(
            "ALTER TABLE subscriptions ALTER COLUMN cycle TYPE cycle USING cycle::text::cycle"
        )
        op.execute("DROP TYPE cycle_old")
    ```

    ## Use instead
    ```python
    def upgrade():
        op.execute("CREATE TYPE cycle AS ENUM ('WEEKLY', 'MONTHLY')")
    ```
    ```python
    def upgrade():
        op.execute("ALTER TYPE cycle RENAME VALUE 'WEEKLY' TO 'weekly'")
        op.execute("ALTER TYPE cycle RENAME VALUE 'MONTHLY' TO 'monthly'")
    ```
    ```python
    def upgrade():
        op.execute(
            "DO $$ BEGIN"
            " IF EXISTS (SELECT 1 FROM subscriptions WHERE cycle::text = 'weekly') THEN"
            " RAISE EXCEPTION 'cycle: rows still hold weekly'; END IF;"
            " END $$"
        )
        op.execute("ALTER TYPE cycle RENAME TO cycle_old")
        op.execute("CREATE TYPE cycle AS ENUM ('monthly')")
        op.execute(
            "ALTER TABLE subscriptions ALTER COLUMN cycle TYPE cycle USING cycle::text::cycle"
        )
        op.execute("DROP TYPE cycle_old")
    ```

    ## Fix safety
    No automatic fix: rename labels with `ALTER TYPE ... RENAME VALUE` (PostgreSQL 10+,
    no rewrite), convert the data in the `USING` clause (`lower(cycle::text)::cycle`), or,
    when the labels are meant to go, guard the replacement (`revisor draft` writes it).
    """

    code = "RV105"
    name = "enum-labels-removed"
    severity = Severity.ERROR

    def check_project(self, ctx: ReviewContext) -> Iterator[Finding]:
        reviewed = {id(m) for m in ctx.migrations}
        labels: dict[str, list[str]] = {}
        for migration in ctx.ordered_migrations:
            if migration.upgrade is None:
                continue
            actions = migration.upgrade.actions
            for position, action in enumerate(actions):
                name = action.name
                if not name:
                    continue
                if action.kind == "create_enum" and action.labels is not None:
                    before = labels.get(name)
                    labels[name] = list(action.labels)
                    if before is None or id(migration) not in reviewed:
                        continue
                    removed = [label for label in before if label not in action.labels]
                    if (
                        removed
                        and not _converts(actions, removed)
                        and not _guarded(actions[:position], removed)
                    ):
                        yield self._report(migration, action, removed)
                elif action.kind == "enum_add_value" and action.new_name:
                    labels.setdefault(name, []).append(action.new_name)
                elif action.kind == "enum_rename_value" and name in labels:
                    old = str(action.extra.get("old"))
                    labels[name] = [action.new_name or old if v == old else v for v in labels[name]]
                elif action.kind == "rename_enum" and name in labels and action.new_name:
                    # The old name keeps its labels: a type created again under it is
                    # compared with what the data held (the recreate pattern).
                    labels[action.new_name] = list(labels[name])

    def _report(self, migration: Migration, action: Action, removed: list[str]) -> Finding:
        node = action.enum.node if action.enum and action.enum.node else action.node
        quoted = ", ".join(f"'{label}'" for label in removed)
        return self.finding(
            migration,
            node,
            f"Enum {action.name!r} is recreated without {quoted}: rows holding them make "
            "the cast to the new type fail (or are lost if deleted first).",
            help="Rename labels with ALTER TYPE ... RENAME VALUE, convert the data (UPDATE "
            "... or a USING clause that maps old labels to new ones), or, if they are meant "
            "to go, guard the replacement: a DO block that raises while rows hold them.",
        )


def _converts(actions: list[Action], removed: list[str]) -> bool:
    """True when the upgrade maps the removed labels itself: an UPDATE that writes or
    tests one of them (as a string literal, not in a comment), or a USING clause that
    does more than cast the column."""
    from revisor.sqltree import expression, is_plain_cast, string_constants

    for action in actions:
        tree = action.extra.get("tree")
        if (
            action.from_sql
            and action.extra.get("statement") == "UpdateStmt"
            and string_constants(tree) & set(removed)
        ):
            return True
        using = action.extra.get("using_tree")
        if using is None and isinstance(action.extra.get("using_sql"), str):
            using = expression(str(action.extra["using_sql"]))
            if using is None:
                return True  # a USING revisor cannot read: assume it maps the labels
        if using is not None and not is_plain_cast(using):
            return True
    return False


def _guarded(before: list[Action], removed: list[str]) -> bool:
    """True when an earlier `DO` block of the upgrade raises while rows hold a removed
    label: it tests every one of them (as string literals in its queries)."""
    from revisor.sqltree import guard_constants

    for action in before:
        if (
            action.from_sql
            and action.extra.get("statement") == "DoStmt"
            and action.sql
            and set(removed) <= guard_constants(action.sql)
        ):
            return True
    return False
