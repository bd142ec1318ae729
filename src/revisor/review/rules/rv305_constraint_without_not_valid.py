"""RV305 constraint-without-not-valid."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from revisor.findings import Finding, Fix, Severity
from revisor.naming import ConstraintShape, ConventionNotApplicable, constraint_name
from revisor.recipes.constraints import NOT_VALID, VALIDATE_WHY, validate
from revisor.recipes.source import call, in_autocommit
from revisor.recipes.sql_text import not_valid
from revisor.review.fix import (
    call_with_keyword,
    recipe_target,
    rewrite_fix,
    sole_sql,
)
from revisor.review.nodes import kw
from revisor.review.rule import Rule
from revisor.review.rules._lock import on_existing_table, upgrade_actions

if TYPE_CHECKING:
    from revisor.review.actions import Action
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration


class ConstraintWithoutNotValid(Rule):
    """Foreign key or CHECK added to an existing table and validated in the same step.

    ## What it does
    Flags `op.create_foreign_key(...)`, `op.create_check_constraint(...)` and `ALTER
    TABLE ... ADD CONSTRAINT ... FOREIGN KEY / CHECK` without `NOT VALID`
    (`postgresql_not_valid=True`) on a table that was not created in the same upgrade.
    Not flagged: a constraint on columns the same upgrade adds nullable and without a
    default (every row is NULL, there is nothing to validate, and the ADD COLUMN already
    holds an ACCESS EXCLUSIVE lock until the transaction ends, which NOT VALID would not
    shorten).

    ## Why is this bad?
    PostgreSQL scans the whole table to validate existing rows while holding the lock;
    on a large, busy table writes wait for the whole scan.

    ## Lock
    `ADD FOREIGN KEY` takes `SHARE ROW EXCLUSIVE` on the table and on the referenced
    table, blocking INSERT, UPDATE and DELETE on both; `ADD CHECK` takes `ACCESS
    EXCLUSIVE`, blocking reads too. With `NOT VALID` the lock is held only for the catalog
    change; `VALIDATE CONSTRAINT` later takes `SHARE UPDATE EXCLUSIVE`, which lets reads
    and writes continue.

    ## Example
    ```python
    def upgrade():
        op.create_foreign_key(
            "fk_transactions_vendor_id", "transactions", "vendors", ["vendor_id"], ["id"]
        )
    ```

    ## Use instead
    ```python
    def upgrade():
        op.create_foreign_key(
            "fk_transactions_vendor_id",
            "transactions",
            "vendors",
            ["vendor_id"],
            ["id"],
            postgresql_not_valid=True,
        )
        with op.get_context().autocommit_block():
            op.execute(
                "ALTER TABLE transactions VALIDATE CONSTRAINT fk_transactions_vendor_id"
            )
    ```

    ## Fix safety
    Unsafe (`--fix --unsafe-fixes`): a named `op.create_foreign_key(...)` or
    `op.create_check_constraint(...)` gets `postgresql_not_valid=True`, followed by the
    VALIDATE inside `with op.get_context().autocommit_block():`, which names the
    constraint as PostgreSQL stores it (Alembic runs a plain name through the models'
    `ck`/`fk` template when it has %(constraint_name)s: `positive` → `ck_<table>_positive`;
    `op.f("...")` names stay). Unsafe because the
    migration stops being atomic: the autocommit block commits the NOT VALID constraint
    (and everything before it), so if a row violates it the VALIDATE fails with the
    constraint already in place, enforced for new rows but not valid; fix the rows, then
    validate it by hand or drop it. `ALTER TABLE ... ADD CONSTRAINT` in SQL (an
    `op.execute("...")` running that one statement) is re-printed with NOT VALID by
    PostgreSQL's parser (pglast). Batch operations are not rewritten; an unnamed
    constraint is named by RV101's fix first.
    """

    code = "RV305"
    name = "constraint-without-not-valid"
    severity = Severity.WARNING
    triggers = frozenset({"add_constraint"})

    def check(self, migration: Migration, ctx: ReviewContext) -> Iterator[Finding]:
        for action in upgrade_actions(migration):
            if action.kind != "add_constraint" or action.not_valid:
                continue
            if action.constraint_type not in ("foreignkey", "check"):
                continue
            if not on_existing_table(migration, action, ctx):
                continue
            if action.column_names and all(
                (action.table, c) in _new_empty_columns(migration) for c in action.column_names
            ):
                continue
            kind = "Foreign key" if action.constraint_type == "foreignkey" else "CHECK constraint"
            yield self.finding(
                migration,
                action.node,
                f"{kind} {action.name or '(unnamed)'} on existing table {action.table!r} is "
                "validated while the table is locked: writes wait for a full scan.",
                help="Add it with postgresql_not_valid=True (NOT VALID), then "
                "ALTER TABLE ... VALIDATE CONSTRAINT ... (a weaker lock).",
                fix=_not_valid_then_validate(migration, action, ctx.naming_convention),
            )


def _not_valid_then_validate(
    migration: Migration, action: Action, convention: Mapping[str, Any]
) -> Fix | None:
    """The op with postgresql_not_valid=True (or the SQL with NOT VALID), then VALIDATE
    in an autocommit block."""
    target = recipe_target(migration, action)
    if target is None:
        return None
    upgrade, statement = target
    if action.from_sql:
        rewritten = not_valid(sole_sql(upgrade.actions, action) or "")
        if rewritten is None:
            return None
        added, validation = rewritten
        validating = in_autocommit(call("op.execute", validation), VALIDATE_WHY)
        lines = [*call("op.execute", added), *validating]
    elif action.name_given and action.name and kw(action.node, "postgresql_not_valid") is None:
        stored = _stored_name(action, convention)
        if stored is None:
            return None
        lines = [
            *call_with_keyword(migration.lines, action.node, NOT_VALID),
            *validate(stored, action.table, schema=action.schema),
        ]
    else:
        return None
    return rewrite_fix(
        "add it NOT VALID, then VALIDATE it in an autocommit block",
        migration.lines,
        migration.path,
        statement,
        lines,
    )


def _stored_name(action: Action, convention: Mapping[str, Any]) -> str | None:
    """The name PostgreSQL stores for the constraint the op call names, which the VALIDATE
    must spell: Alembic runs a plain name (not `op.f(...)`) through target_metadata's
    naming convention, and a template with %(constraint_name)s (revisor init's `ck`)
    renames it, `positive` → `ck_<table>_positive`. None when that cannot be worked out."""
    name = action.name
    prefix = {"check": "ck", "foreignkey": "fk"}.get(action.constraint_type or "")
    template = convention.get(prefix) if prefix else None
    if (
        not name
        or not isinstance(template, str)
        or "%(constraint_name)s" not in template
        or _final(action.name_node)
    ):
        return name
    shape = ConstraintShape(
        action.constraint_type or "check",
        action.table or "",
        action.column_names,
        schema=action.schema,
        referred_table=action.referred_table,
        referred_schema=action.referred_schema,
        referred_columns=action.referred_columns,
        condition=action.extra.get("condition"),  # type: ignore[arg-type]
        label=name,
    )
    try:
        return constraint_name(shape, convention)
    except ConventionNotApplicable:
        return None


def _final(node: ast.expr | None) -> bool:
    """`op.f("name")` / `conv("name")`: a name naming conventions leave as it is."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return called in ("f", "conv")


def _new_empty_columns(migration: Migration) -> set[tuple[str | None, str | None]]:
    """Columns this upgrade adds nullable and without a server default (all NULL)."""
    return {
        (a.table, a.column.name)
        for a in upgrade_actions(migration)
        if a.kind == "add_column"
        and a.column is not None
        and a.column.nullable
        and not a.column.has_server_default
    }
