"""Constraints: unique constraints and foreign keys (compared by Alembic) and CHECK
constraints (compared by revisor: Alembic's autogenerate ignores them).

A CHECK is matched by its final name (naming convention applied); an unnamed one by its
definition. Definitions are compared in PostgreSQL's own words (`pg_get_constraintdef` of
the database's constraint vs the model's expression added to an empty temporary copy of
the table), falling back to a rough text normalisation when the server refuses the probe.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Table, text

from revisor.codes import FindingCode
from revisor.drift.context import (
    PG_DIALECT,
    DriftContext,
    comparator,
    final_name,
    qualified,
    render_sql,
    translates,
)
from revisor.drift.locate import NOWHERE, Location
from revisor.drift.probe import normalise_text, strip_not_valid
from revisor.findings import Finding, Severity

UNIQUE_MISSING_IN_DATABASE = FindingCode(
    "RV611",
    "unique-constraint-missing-in-database",
    Severity.ERROR,
    """A model unique constraint that no migration creates: duplicates get in.

    ## What it does
    Reports a unique constraint of the models (`unique=True`, `UniqueConstraint`) that the
    database at head does not have.

    ## Why is this bad?
    The code relies on the database to refuse duplicates; without the constraint they get
    in, and adding it later fails until someone cleans them up.

    ## Example
    `email: Mapped[str] = mapped_column(unique=True)` and no migration creates
    `uq_users_email`.

    ## Use instead
    `op.create_unique_constraint("uq_users_email", "users", ["email"])` in a migration,
    after checking the table for duplicates.

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database.
    """,
    help="Write the migration with op.create_unique_constraint (check for duplicates first).",
)
UNIQUE_MISSING_IN_MODELS = FindingCode(
    "RV612",
    "unique-constraint-missing-in-models",
    Severity.ERROR,
    """A database unique constraint no model declares; the next autogenerate drops it.

    ## What it does
    Reports a unique constraint of the database at head that no model declares.

    ## Why is this bad?
    The next autogenerate writes `op.drop_constraint(...)` for it: deployed, duplicates get
    in.

    ## Example
    A migration added `uq_vendors_name` by hand; the `Vendor` model does not say
    `unique=True`.

    ## Use instead
    Declare it on the model (`unique=True` or a `UniqueConstraint` in `__table_args__`).

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database.
    """,
    help="Declare it on the model (unique=True or a UniqueConstraint in __table_args__).",
)
FOREIGN_KEY_MISSING_IN_DATABASE = FindingCode(
    "RV613",
    "foreign-key-missing-in-database",
    Severity.ERROR,
    """A model foreign key that no migration creates: orphan rows get in.

    ## What it does
    Reports a foreign key of the models (`sa.ForeignKey(...)`) that the database at head
    does not have.

    ## Why is this bad?
    Rows can point at parents that do not exist (or stay after their parent is deleted), and
    adding the constraint later fails until the orphans are cleaned up.

    ## Example
    `vendor_id` gained `sa.ForeignKey("vendors.id")` in the model, and no migration creates
    the constraint.

    ## Use instead
    `op.create_foreign_key("fk_transactions_vendor_id_vendors", "transactions", "vendors",
    ["vendor_id"], ["id"])` (with a name, never `None`; `NOT VALID` then `VALIDATE` on a
    busy table).

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database.
    """,
    help="Write the migration with op.create_foreign_key and a name (never None).",
)
FOREIGN_KEY_MISSING_IN_MODELS = FindingCode(
    "RV614",
    "foreign-key-missing-in-models",
    Severity.ERROR,
    """A database foreign key no model declares; the next autogenerate drops it.

    ## What it does
    Reports a foreign key of the database at head that no model declares.

    ## Why is this bad?
    The next autogenerate writes `op.drop_constraint(...)` for it: deployed, orphan rows get
    in; meanwhile the ORM does not know the relationship the database enforces.

    ## Example
    A migration created `fk_orders_customer_id_customers`; the model's `customer_id` has no
    `sa.ForeignKey`.

    ## Use instead
    Declare it on the model with `sa.ForeignKey("customers.id")`.

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database.
    """,
    help="Declare it on the model with sa.ForeignKey(...).",
)
CHECK_MISSING_IN_DATABASE = FindingCode(
    "RV615",
    "check-constraint-missing-in-database",
    Severity.ERROR,
    """A model CHECK constraint that no migration creates (autogenerate never adds one): rows
    breaking the rule get in.

    ## What it does
    Reports a `CheckConstraint` of the models that the database at head does not have,
    matched by its final name (naming convention applied) or, unnamed, by its condition.
    Alembic's autogenerate does not compare CHECK constraints, so `alembic check` is silent.

    ## Why is this bad?
    The rule the model states is enforced nowhere: rows that break it get in, and adding the
    constraint later fails on them.

    ## Example
    `sa.CheckConstraint("price > 0", name="ck_plans_price_positive")` in the model's
    `__table_args__`; the migration created the table without it.

    ## Use instead
    `op.create_check_constraint("ck_plans_price_positive", "plans", "price > 0")` in a
    migration (`NOT VALID`, then `VALIDATE CONSTRAINT`, on a busy table).

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database.
    """,
    help="Write the migration with op.create_check_constraint(name, table, condition).",
)
CHECK_MISSING_IN_MODELS = FindingCode(
    "RV616",
    "check-constraint-missing-in-models",
    Severity.WARNING,
    """A database CHECK constraint the models do not declare: the app can write rows the
    database rejects.

    ## What it does
    Reports a CHECK constraint of the database at head that no model declares. A warning by
    default: the database is the stricter side.

    ## Why is this bad?
    The code can build rows the database refuses (`CheckViolation` at runtime), and the
    models no longer document the rule.

    ## Example
    A migration added `ck_orders_total_positive` with `op.execute("ALTER TABLE ...")`; the
    `Order` model has no `CheckConstraint`.

    ## Use instead
    Declare it with `sa.CheckConstraint("total >= 0", name="ck_orders_total_positive")` in
    the model's `__table_args__`.

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database.
    """,
    help="Declare it with sa.CheckConstraint(...) in the model's __table_args__.",
)
CHECK_DEFINITION_DIFFERS = FindingCode(
    "RV617",
    "check-constraint-definition-differs",
    Severity.ERROR,
    """A CHECK constraint has the same name on both sides but a different condition.

    ## What it does
    Reports a CHECK constraint whose condition in the database at head differs from the
    model's constraint of the same name, compared in PostgreSQL's own words
    (`pg_get_constraintdef`).

    ## Why is this bad?
    The rule the code relies on is not the rule the database enforces: rows are refused that
    the code considers valid, or accepted that it does not.

    ## Example
    The model says `CheckConstraint("price >= 0", name="ck_plans_price")`; the migration
    created `CHECK (price > 0)`.

    ## Use instead
    Drop and recreate the constraint in a migration (add it `NOT VALID`, then `VALIDATE`, on
    a busy table), or make the model's condition match the database.

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database.
    """,
    help=(
        "Drop and recreate it in a migration (add it NOT VALID, then VALIDATE, on a "
        "busy table), or make the model's condition match the database."
    ),
)


def _describe(ctx: DriftContext, constraint: Any) -> tuple[str, str]:
    table = constraint.table
    schema = table.schema or ctx.default_schema
    columns = ", ".join(c.name for c in constraint.columns) if constraint.columns else ""
    return qualified(schema, table.name, ctx.default_schema), columns


def _location(ctx: DriftContext, constraint: Any, model_side: bool) -> Location:
    """The model line of a model-side constraint, else the class of its table."""
    table = ctx.model_table(constraint.table)
    if table is None:
        return NOWHERE
    if model_side:
        constraint = ctx.model_item(constraint)
        return ctx.locator.item(table, final_name(constraint), list(constraint.columns))
    return ctx.locator.table(table)


def _check_location(
    ctx: DriftContext, table: Table, check: CheckConstraint, name: str | None
) -> Location:
    """A CHECK's call in the model, else its column (column-level CHECKs are bound to the
    column, not the table), else the class."""
    where = ctx.locator.naming_call(table, name) if name else None
    if where is not None:
        return where
    parent = getattr(check, "parent", None)
    if parent is not None and parent is not table and getattr(parent, "table", None) is table:
        return ctx.locator.column(table, parent)
    return ctx.locator.table(table)


def _fk_text(ctx: DriftContext, fk: ForeignKeyConstraint) -> str:
    table, columns = _describe(ctx, fk)
    target = fk.referred_table.name if fk.elements else "?"
    remote = ", ".join(e.column.name for e in fk.elements) if fk.elements else "?"
    return f"{table}({columns}) → {target}({remote})"


@translates("add_constraint")
def unique_missing_in_database(ctx: DriftContext, diff: tuple[Any, ...]) -> Iterable[Finding]:
    constraint = diff[1]
    table, columns = _describe(ctx, constraint)
    where = _location(ctx, constraint, model_side=True)
    name = final_name(constraint)
    yield UNIQUE_MISSING_IN_DATABASE.finding(
        f"unique constraint {name + ' ' if name else ''}on {table}({columns}) is in the "
        "models but no migration creates it",
        path=where.path,
        line=where.line,
        table=constraint.table.name,
    )


@translates("remove_constraint")
def unique_missing_in_models(ctx: DriftContext, diff: tuple[Any, ...]) -> Iterable[Finding]:
    constraint = diff[1]
    table, columns = _describe(ctx, constraint)
    where = _location(ctx, constraint, model_side=False)
    yield UNIQUE_MISSING_IN_MODELS.finding(
        f"unique constraint {constraint.name} on {table}({columns}) exists in the database "
        "but no model declares it",
        path=where.path,
        line=where.line,
        table=constraint.table.name,
    )


@translates("change_constraint")
def unique_changed(ctx: DriftContext, diff: tuple[Any, ...]) -> Iterable[Finding]:
    yield from unique_missing_in_models(ctx, ("remove_constraint", diff[2]))
    yield from unique_missing_in_database(ctx, ("add_constraint", diff[1]))


@translates("add_fk")
def foreign_key_missing_in_database(ctx: DriftContext, diff: tuple[Any, ...]) -> Iterable[Finding]:
    fk = diff[1]
    where = _location(ctx, fk, model_side=True)
    yield FOREIGN_KEY_MISSING_IN_DATABASE.finding(
        f"foreign key {_fk_text(ctx, fk)} is in the models but no migration creates it",
        path=where.path,
        line=where.line,
        table=fk.table.name,
    )


@translates("remove_fk")
def foreign_key_missing_in_models(ctx: DriftContext, diff: tuple[Any, ...]) -> Iterable[Finding]:
    fk = diff[1]
    where = _location(ctx, fk, model_side=False)
    yield FOREIGN_KEY_MISSING_IN_MODELS.finding(
        f"foreign key {fk.name or ''} {_fk_text(ctx, fk)} exists in the database but no "
        "model declares it".replace("  ", " "),
        path=where.path,
        line=where.line,
        table=fk.table.name,
    )


@translates("change_fk")
def foreign_key_changed(ctx: DriftContext, diff: tuple[Any, ...]) -> Iterable[Finding]:
    yield from foreign_key_missing_in_models(ctx, ("remove_fk", diff[2]))
    yield from foreign_key_missing_in_database(ctx, ("add_fk", diff[1]))


_DATABASE_CHECKS = text(
    """
    SELECT n.nspname, t.relname, con.conname, pg_get_constraintdef(con.oid)
    FROM pg_constraint con
    JOIN pg_class t ON t.oid = con.conrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE con.contype = 'c' AND n.nspname = ANY(:schemas)
    ORDER BY con.conname
    """
)


def model_checks(table: Table) -> list[CheckConstraint]:
    """The table's CHECK constraints, table-level and column-level, once each."""
    found: dict[int, CheckConstraint] = {}
    for constraint in [*table.constraints, *(c for col in table.columns for c in col.constraints)]:
        if isinstance(constraint, CheckConstraint) and _created_on_postgresql(constraint):
            found.setdefault(id(constraint), constraint)
    return sorted(found.values(), key=lambda c: str(final_name(c) or ""))


def _created_on_postgresql(constraint: CheckConstraint) -> bool:
    """False for CHECKs SQLAlchemy never emits on PostgreSQL: the ones a type adds
    (Boolean / Enum with create_constraint=True) where PostgreSQL has a native type."""
    try:
        compiler = PG_DIALECT.ddl_compiler(PG_DIALECT, None)
        return bool(constraint._should_create_for_compiler(compiler))
    except Exception:  # a rule we cannot evaluate: compare the constraint
        return True


@comparator
def check_constraints(ctx: DriftContext) -> Iterable[Finding]:
    """CHECK constraints by name and definition (Alembic does not compare them)."""
    if not ctx.shared_tables:
        return
    schemas = sorted({schema for schema, _ in ctx.shared_tables})
    database: dict[tuple[str, str], dict[str, str]] = {}
    for schema, table, name, definition in ctx.connection.execute(
        _DATABASE_CHECKS, {"schemas": schemas}
    ):
        database.setdefault((schema, table), {})[name] = strip_not_valid(definition)
    for (schema, table_name), table in ctx.shared_tables.items():
        yield from _compare_table(ctx, schema, table, database.get((schema, table_name), {}))


def _compare_table(
    ctx: DriftContext, schema: str, table: Table, database: dict[str, str]
) -> Iterable[Finding]:
    shown = qualified(schema, table.name, ctx.default_schema)
    matched: set[str] = set()
    for check in model_checks(table):
        name = final_name(check)
        expression = render_sql(check.sqltext)
        ours = ctx.probe.check_definition(schema, table.name, expression)

        def same(theirs: str, ours: str | None = ours, expression: str = expression) -> bool:
            if ours is not None:
                return ours == theirs
            return normalise_text(expression) == normalise_text(theirs)

        where = _check_location(ctx, table, check, name)
        if name and name in database:
            matched.add(name)
            if not same(database[name]):
                yield CHECK_DEFINITION_DIFFERS.finding(
                    f"CHECK constraint {name} on {shown} differs: database "
                    f"`{database[name]}`, models `{ours or f'CHECK ({expression})'}`",
                    path=where.path,
                    line=where.line,
                    table=table.name,
                    constraint=name,
                )
            continue
        twin = next((n for n, d in database.items() if n not in matched and same(d)), None)
        if twin is not None:
            matched.add(twin)
            if not name:
                continue
        also = f" (the database has the same condition as {twin})" if twin else ""
        yield CHECK_MISSING_IN_DATABASE.finding(
            f"CHECK constraint {name or '(unnamed)'} on {shown} `CHECK ({expression})` is in "
            f"the models but no migration creates it{also}",
            path=where.path,
            line=where.line,
            table=table.name,
            constraint=name,
        )
    for name, definition in database.items():
        if name in matched:
            continue
        where = ctx.locator.table(table)
        yield CHECK_MISSING_IN_MODELS.finding(
            f"CHECK constraint {name} on {shown} `{definition}` exists in the database but no "
            "model declares it",
            path=where.path,
            line=where.line,
            table=table.name,
            constraint=name,
        )
