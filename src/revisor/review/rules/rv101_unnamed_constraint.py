"""RV101 unnamed-constraint."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Applicability, Finding, Fix, Severity
from revisor.review.fix import edit_replacing
from revisor.review.rule import Rule
from revisor.review.rules._naming import constraint_name

if TYPE_CHECKING:
    from revisor.review.actions import Action
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration


class UnnamedConstraint(Rule):
    """Constraint created or dropped without a name.

    ## What it does
    Flags `op.create_foreign_key(None, ...)`, `create_unique_constraint(None, ...)`,
    `create_check_constraint(None, ...)`, `create_primary_key(None, ...)` and
    `op.drop_constraint(None, ...)`, which Alembic's autogenerate writes when the models'
    MetaData has no naming convention.

    ## Why is this bad?
    PostgreSQL invents a name for the constraint (`transactions_vendor_id_fkey`); the
    downgrade's `op.drop_constraint(None, ...)` has no name to drop and the rollback
    crashes ("Can't emit DROP CONSTRAINT for constraint ...; it has no name"). The seed's
    checklist item 1.

    ## Example
    ```python
    def upgrade():
        op.create_foreign_key(None, "transactions", "vendors", ["vendor_id"], ["id"])


    def downgrade():
        op.drop_constraint(None, "transactions", type_="foreignkey")
    ```

    ## Use instead
    ```python
    def upgrade():
        op.create_foreign_key(
            "fk_transactions_vendor_id", "transactions", "vendors", ["vendor_id"], ["id"]
        )


    def downgrade():
        op.drop_constraint("fk_transactions_vendor_id", "transactions", type_="foreignkey")
    ```

    ## Fix safety
    Safe: the name comes from the models' `naming_convention` when there is one, otherwise
    the seed's style (`fk_<table>_<column>`, `uq_<table>_<columns>`, `ck_<table>_<word>`),
    and the matching `drop_constraint(None, ...)` in the downgrade gets the same name. If
    the revision was already applied somewhere, the constraint there still has
    PostgreSQL's name: rename it there (`ALTER TABLE ... RENAME CONSTRAINT ... TO ...`).
    """

    code = "RV101"
    name = "unnamed-constraint"
    severity = Severity.ERROR
    needs_metadata = True

    def check(self, migration: Migration, ctx: ReviewContext) -> Iterator[Finding]:
        upgrade = migration.upgrade.actions if migration.upgrade else []
        downgrade = migration.downgrade.actions if migration.downgrade else []
        creates = [a for a in upgrade if a.kind == "add_constraint" and not a.from_sql]
        drops = [a for a in downgrade if a.kind == "drop_constraint" and not a.from_sql]
        unnamed_drops = [d for d in drops if not d.name_given]
        matched: dict[int, Fix] = {}
        for create in creates:
            if create.name_given:
                continue
            name = self._name(create, ctx)
            edits = [
                edit_replacing(migration.lines, migration.path, create.name_node, repr_str(name))
            ]
            drop = _matching_drop(create, unnamed_drops)
            if drop is not None:
                unnamed_drops.remove(drop)
                edits.append(
                    edit_replacing(migration.lines, migration.path, drop.name_node, repr_str(name))
                )
            fix = Fix(
                f'name it "{name}"' + (" in upgrade and downgrade" if drop else ""), tuple(edits)
            )
            if drop is not None:
                matched[id(drop)] = fix
            what = f"{_kind_words(create.constraint_type)} on {create.table or '?'}"
            yield self.finding(
                migration,
                create.node,
                f"Unnamed {what}: PostgreSQL will name it itself, so no downgrade can "
                "drop it by name.",
                help=f'Name it, e.g. "{name}" (and use that name in the downgrade).',
                fix=fix,
            )
        for drop in drops:
            if drop.name_given:
                continue
            fix = matched.get(id(drop))
            guess = _postgres_guess(drop, migration, ctx)
            help_text = (
                f"Use the constraint's real name{f', probably {guess!r}' if guess else ''}."
                if fix is None
                else "The fix gives it the name the upgrade now uses."
            )
            if fix is None and guess and drop.name_node is not None:
                fix = Fix(
                    f'use "{guess}" (PostgreSQL\'s default name)',
                    (
                        edit_replacing(
                            migration.lines, migration.path, drop.name_node, repr_str(guess)
                        ),
                    ),
                    Applicability.UNSAFE,
                )
            yield self.finding(
                migration,
                drop.node,
                f"drop_constraint(None, {drop.table!r}) cannot work: Alembic needs the "
                "constraint's name and the rollback crashes.",
                help=help_text,
                fix=fix,
            )

    def _name(self, create: Action, ctx: ReviewContext) -> str:
        metadata = ctx.metadata if ctx.project or ctx.metadata_override else None
        return constraint_name(
            create.constraint_type or "constraint",
            create.table or "table",
            create.column_names,
            referred_table=create.referred_table,
            condition=create.extra.get("condition"),  # type: ignore[arg-type]
            metadata=metadata,
        )


def repr_str(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _kind_words(kind: str | None) -> str:
    return {
        "foreignkey": "foreign key",
        "unique": "unique constraint",
        "check": "check constraint",
        "primary": "primary key",
    }.get(kind or "", "constraint")


def _matching_drop(create: Action, drops: list[Action]) -> Action | None:
    for drop in drops:
        if drop.table == create.table and drop.constraint_type in (None, create.constraint_type):
            return drop
    return None


def _postgres_guess(drop: Action, migration: Migration, ctx: ReviewContext) -> str | None:
    """PostgreSQL's own name for the constraint the upgrade created, when it is knowable."""
    sources = [migration, *reversed(ctx.ordered_migrations)]
    suffix = {"foreignkey": "fkey", "unique": "key", "check": "check", "primary": "pkey"}
    for source in sources:
        if source.upgrade is None:
            continue
        for action in source.upgrade.actions:
            if (
                action.kind == "add_constraint"
                and not action.name_given
                and action.table == drop.table
                and action.constraint_type in (drop.constraint_type, None)
                and action.column_names
                and action.constraint_type in suffix
            ):
                return f"{drop.table}_{action.column_names[0]}_{suffix[action.constraint_type]}"
    return None
