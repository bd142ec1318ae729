"""RV101 unnamed-constraint."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Applicability, Finding, Fix, Severity
from revisor.naming import ConstraintShape, ConventionNotApplicable, constraint_name
from revisor.review.fix import edit_replacing
from revisor.review.rule import Rule

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
    Safe: the name is the one SQLAlchemy gives the constraint under the models'
    `naming_convention` (the seed's style, `fk_<table>_<columns>`, `uq_<table>_<columns>`,
    `ck_<table>_<columns it checks>`, for kinds it leaves out), as `draft` names it,
    and the matching `drop_constraint(None, ...)` in the downgrade gets the same name.
    When the downgrade already drops it by the name PostgreSQL gives it
    (`item_owner_id_fkey`, as autogenerate writes after reading a database), the fix
    uses that name instead, so the downgrade keeps working. Under a template with
    %(constraint_name)s (revisor init's `ck`) the name is written in `op.f()`: Alembic
    would run a plain one through the template again. If
    the revision was already applied somewhere, the constraint there still has
    PostgreSQL's name: rename it there (`ALTER TABLE ... RENAME CONSTRAINT ... TO ...`).
    """

    code = "RV101"
    name = "unnamed-constraint"
    severity = Severity.ERROR
    triggers = frozenset({"add_constraint", "drop_constraint"})
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
            what = f"{_kind_words(create.constraint_type)} on {create.table or '?'}"
            message = (
                f"Unnamed {what}: PostgreSQL will name it itself, so no downgrade can "
                "drop it by name."
            )
            dropped_by_default_name = _dropped_by_default_name(create, drops)
            if dropped_by_default_name is not None:
                # The downgrade drops it by the name PostgreSQL gives it (autogenerate
                # read that name back from a database): naming it so keeps the downgrade
                # working, and databases where it already ran have that name.
                fix = Fix(
                    f'name it "{dropped_by_default_name}", the name the downgrade drops '
                    "(PostgreSQL's own name for it)",
                    (
                        edit_replacing(
                            migration.lines,
                            migration.path,
                            create.name_node,
                            _spelling(dropped_by_default_name, create, ctx),
                        ),
                    ),
                )
                yield self.finding(
                    migration,
                    create.node,
                    message,
                    help=f'Name it "{dropped_by_default_name}", the name the downgrade drops.',
                    fix=fix,
                )
                continue
            try:
                name = _name(create, ctx)
            except ConventionNotApplicable as exc:
                yield self.finding(
                    migration,
                    create.node,
                    message,
                    help=f"Name it, and use that name in the downgrade (no fix: {exc}).",
                )
                continue
            edits = [
                edit_replacing(
                    migration.lines, migration.path, create.name_node, _spelling(name, create, ctx)
                )
            ]
            drop = _matching_drop(create, unnamed_drops)
            if drop is not None:
                unnamed_drops.remove(drop)
                edits.append(
                    edit_replacing(
                        migration.lines,
                        migration.path,
                        drop.name_node,
                        _spelling(name, create, ctx),
                    )
                )
            fix = Fix(
                f'name it "{name}"' + (" in upgrade and downgrade" if drop else ""), tuple(edits)
            )
            if drop is not None:
                matched[id(drop)] = fix
            yield self.finding(
                migration,
                create.node,
                message,
                help=f'Name it, e.g. "{name}" (and use that name in the downgrade).',
                fix=fix,
            )
        upgrade_drops = [a for a in upgrade if a.kind == "drop_constraint" and not a.from_sql]
        for drop in [*upgrade_drops, *drops]:
            if drop.name_given:
                continue
            fix = matched.get(id(drop))
            help_text = "The fix gives it the name the upgrade now uses."
            if fix is None:
                known = _known_name(drop, migration, ctx)
                help_text = "Use the constraint's real name" + (
                    f", probably {known[0]!r}." if known else "."
                )
                if known and drop.name_node is not None:
                    name, applicability = known
                    origin = (
                        "the name its revision gives it"
                        if applicability is (Applicability.SAFE)
                        else "PostgreSQL's default name"
                    )
                    fix = Fix(
                        f'use "{name}" ({origin})',
                        (
                            edit_replacing(
                                migration.lines, migration.path, drop.name_node, repr_str(name)
                            ),
                        ),
                        applicability,
                    )
            yield self.finding(
                migration,
                drop.node,
                f"drop_constraint({_spelled(drop)}, {drop.table!r}) cannot work: Alembic "
                "needs the constraint's name and the rollback crashes.",
                help=help_text,
                fix=fix,
            )


def _name(create: Action, ctx: ReviewContext) -> str:
    """The name the models' naming convention (else the seed's style) gives `create`."""
    shape = ConstraintShape(
        create.constraint_type or "unique",
        create.table or "table",
        create.column_names,
        schema=create.schema,
        referred_table=create.referred_table,
        referred_schema=create.referred_schema,
        referred_columns=create.referred_columns,
        condition=create.extra.get("condition"),  # type: ignore[arg-type]
    )
    return constraint_name(shape, ctx.naming_convention)


def _spelling(name: str, create: Action, ctx: ReviewContext) -> str:
    """`name` as the fix writes it: in `op.f()` when the models' template for its kind
    has %(constraint_name)s (revisor init's `ck`), which Alembic would apply to a plain
    name a second time (`ck_t_ck_t_amount`); the stored name is then the one printed."""
    prefix = {"foreignkey": "fk", "unique": "uq", "check": "ck", "primary": "pk"}.get(
        create.constraint_type or ""
    )
    template = ctx.naming_convention.get(prefix) if prefix else None
    if isinstance(template, str) and "%(constraint_name)s" in template:
        return f"op.f({repr_str(name)})"
    return repr_str(name)


def repr_str(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _spelled(drop: Action) -> str:
    """`None`, or `name (None)` when a variable holds the None."""
    node = drop.name_node
    return f"{node.id} (None)" if isinstance(node, ast.Name) else "None"


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


_PG_SUFFIX = {"foreignkey": "fkey", "unique": "key", "check": "check", "primary": "pkey"}


def _postgres_default_name(
    kind: str | None, table: str | None, columns: tuple[str, ...]
) -> str | None:
    """The name PostgreSQL gives an unnamed constraint: `<table>_pkey`, and
    `<table>_<columns joined by _>_fkey` / `_key` (a CHECK takes its first column only).
    None when the kind or columns are unknown, or the name would pass PostgreSQL's
    63-byte limit (it truncates then, and review does not guess how)."""
    if not table or kind not in _PG_SUFFIX:
        return None
    if kind == "primary":
        name = f"{table}_pkey"
    elif not columns:
        return None
    else:
        used = columns[:1] if kind == "check" else columns
        name = f"{table}_{'_'.join(used)}_{_PG_SUFFIX[kind]}"
    return name if len(name.encode()) <= 63 else None


def _dropped_by_default_name(create: Action, drops: list[Action]) -> str | None:
    """PostgreSQL's name for the unnamed constraint `create`, when a downgrade
    `drop_constraint` on its table drops a constraint of that name."""
    default = _postgres_default_name(create.constraint_type, create.table, create.column_names)
    if default is None or create.name_node is None:
        return None
    for drop in drops:
        if (
            drop.name_given
            and drop.name == default
            and drop.table == create.table
            and drop.constraint_type in (None, create.constraint_type)
        ):
            return default
    return None


def _known_name(
    drop: Action, migration: Migration, ctx: ReviewContext
) -> tuple[str, Applicability] | None:
    """The name of the constraint `drop` removes, from the revision that created it:
    (its name, SAFE) when that revision names it; (PostgreSQL's default name, UNSAFE)
    when it left the naming to PostgreSQL and the columns are known."""
    earlier: list[Migration] = []
    for other in ctx.ordered_migrations:
        if other is migration:
            break
        earlier.append(other)
    own = migration.upgrade.actions if migration.upgrade else []
    own = own[: own.index(drop)] if drop in own else []
    sources = [own, *[(m.upgrade.actions if m.upgrade else []) for m in reversed(earlier)]]
    for actions in sources:
        for action in reversed(actions):
            if action.table != drop.table:
                continue
            for kind, name, columns in _constraints_made(action):
                if drop.constraint_type not in (None, kind):
                    continue
                if name:
                    return name, Applicability.SAFE
                default = _postgres_default_name(kind, drop.table, columns)
                if default is not None:
                    return default, Applicability.UNSAFE
    return None


def _constraints_made(action: Action) -> list[tuple[str, str | None, tuple[str, ...]]]:
    """(kind, name, columns) of each constraint an action creates."""
    if action.kind == "add_constraint" and action.constraint_type:
        return [(action.constraint_type, action.name, action.column_names)]
    made: list[tuple[str, str | None, tuple[str, ...]]] = []
    if action.kind == "create_table":
        made += [(c.kind, c.name, c.columns) for c in action.constraints if c.kind != "primary"]
        made += [
            ("foreignkey", None, (c.name,)) for c in action.columns if c.foreign_keys and c.name
        ]
    if action.kind == "add_column" and action.column and action.column.foreign_keys:
        made.append(("foreignkey", None, (action.column.name or "",)))
    return made
