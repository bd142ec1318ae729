"""PostgreSQL enum types: labels, their order, and whether the model stores member names
or values — none of which Alembic's autogenerate compares.

`sa.Enum(PyEnum)` writes member NAMES ('MONTHLY'); with
`values_callable=lambda e: [m.value for m in e]` it writes the values ('monthly'). A
database type created with the other spelling rejects every insert the app makes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Column, Table, text

from revisor.codes import FindingCode
from revisor.drift.context import DriftContext, comparator, qualified
from revisor.enums.detect import other_spelling
from revisor.findings import Finding, Severity

ENUM_LABEL_MISSING_IN_DATABASE = FindingCode(
    "RV618",
    "enum-label-missing-in-database",
    Severity.ERROR,
    """The model can write an enum label the database type lacks: those inserts fail.

    ## What it does
    Compares the labels a model's native `sa.Enum` column writes (member names, or values
    with `values_callable`) with the labels of the column's enum type in the database at
    head, and reports each label only the model has.

    ## Why is this bad?
    Every insert or update with that member fails with `invalid input value for enum`.
    Autogenerate does not compare enum labels, so `alembic check` is silent.

    ## Example
    `BillingCycle.WEEKLY` was added to the Python enum; the `billing_cycle` type still has
    `MONTHLY, YEARLY`.

    ## Use instead
    `revisor draft` writes the migration: `ALTER TYPE billing_cycle ADD VALUE 'WEEKLY'` (in
    `op.get_context().autocommit_block()` when later statements of the same migration use
    it).

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database. `revisor draft` writes the missing migration.
    """,
    help=(
        "Add it in a migration: ALTER TYPE ... ADD VALUE (inside "
        "op.get_context().autocommit_block() before PostgreSQL 12)."
    ),
)
ENUM_LABEL_MISSING_IN_MODELS = FindingCode(
    "RV619",
    "enum-label-missing-in-models",
    Severity.WARNING,
    """The database enum type has a label the model does not know: rows holding it fail to load
    (LookupError).

    ## What it does
    Reports each label of a column's enum type in the database at head that the model's
    `sa.Enum` does not write.

    ## Why is this bad?
    A row holding the label cannot be loaded: SQLAlchemy raises `LookupError` for it. A
    warning by default, since no row may hold it yet.

    ## Example
    A migration added `QUARTERLY` to `billing_cycle`; the Python `BillingCycle` enum has no
    such member.

    ## Use instead
    Add the member to the Python enum, or remove the label in a migration (`revisor draft`
    replaces the type and converts the rows).

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database.
    """,
    help="Add the member to the Python enum, or remove the label in a migration.",
)
ENUM_ORDER_DIFFERS = FindingCode(
    "RV620",
    "enum-label-order-differs",
    Severity.WARNING,
    """The enum labels are the same but in another order: ORDER BY and < / > on the column
    follow the database's order.

    ## What it does
    Reports an enum type whose labels are those of the model's `sa.Enum` in another order.

    ## Why is this bad?
    PostgreSQL sorts and compares enum values by the type's order, not by name: `ORDER BY
    billing_cycle` and `billing_cycle > 'MONTHLY'` give results the code does not expect.

    ## Example
    The Python enum lists `WEEKLY, MONTHLY, YEARLY`; the type was created as `MONTHLY,
    YEARLY, WEEKLY` (the label added later went last).

    ## Use instead
    Reorder the Python enum to match, or recreate the type in the model's order in a
    migration (`revisor draft` writes it).

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database.
    """,
    help="Recreate the type in the model's order in a migration, or reorder the Python enum.",
)
ENUM_STORAGE_MISMATCH = FindingCode(
    "RV621",
    "enum-names-vs-values",
    Severity.ERROR,
    """The model stores enum member names but the database type has the values (or the
    reverse): every insert fails with `invalid input value for enum`.

    ## What it does
    Reports a native enum column whose model writes member names while the database type
    holds the members' values (or writes values, with `values_callable`, while the type
    holds the names).

    ## Why is this bad?
    SQLAlchemy's `sa.Enum(BillingCycle)` writes `MONTHLY` (the name), not `monthly` (the
    value): every insert fails, and rows written by other tools fail to load.

    ## Example
    `class BillingCycle(enum.Enum): MONTHLY = "monthly"` and the migration created
    `sa.Enum("monthly", "yearly", name="billing_cycle")`.

    ## Use instead
    Make the model store what the database has: `sa.Enum(BillingCycle,
    values_callable=lambda e: [m.value for m in e])`, or rename the labels in a migration
    (`ALTER TYPE billing_cycle RENAME VALUE 'monthly' TO 'MONTHLY'`).

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database.
    """,
    help=(
        "Make the model store what the database has (values_callable stores values), "
        "or rename the labels in a migration (ALTER TYPE ... RENAME VALUE)."
    ),
)


@dataclass(frozen=True)
class ModelEnum:
    """One native enum as a model column declares it."""

    table: Table
    column: Column[Any]
    type: sa.Enum

    @property
    def labels(self) -> list[str]:
        """What SQLAlchemy writes: member names, or values with values_callable."""
        return list(self.type.enums)

    def alternative(self) -> tuple[str, list[str]] | None:
        """("names"|"values", labels) the model would write with the other spelling."""
        other = other_spelling(self.labels, self.type.enum_class)
        return None if other is None else (other[0], list(other[1]))

    @property
    def stores(self) -> str:
        alternative = self.alternative()
        return "member names" if alternative and alternative[0] == "values" else "member values"


def model_enums(ctx: DriftContext) -> list[ModelEnum]:
    """Native enum columns of tables present on both sides."""
    found = []
    for table in ctx.shared_tables.values():
        for column in table.columns:
            if not ctx.options.column_included(column):
                continue
            type_ = column.type
            if isinstance(type_, sa.ARRAY):
                type_ = type_.item_type
            if isinstance(type_, sa.Enum) and type_.native_enum and type_.name:
                found.append(ModelEnum(table, column, type_))
    return found


_COLUMN_ENUMS = text(
    """
    SELECT n.nspname, c.relname, a.attname, tn.nspname, t.typname,
           array_agg(e.enumlabel ORDER BY e.enumsortorder)
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_type t ON t.oid = a.atttypid OR t.typarray = a.atttypid  -- enum or enum[]
    JOIN pg_namespace tn ON tn.oid = t.typnamespace
    JOIN pg_enum e ON e.enumtypid = t.oid
    WHERE n.nspname = ANY(:schemas) AND a.attnum > 0 AND NOT a.attisdropped
    GROUP BY n.nspname, c.relname, a.attname, tn.nspname, t.typname
    """
)


@comparator
def enum_labels(ctx: DriftContext) -> Iterable[Finding]:
    """Compare every model enum column's labels with its database column's enum type."""
    enums = model_enums(ctx)
    if not enums:
        return
    schemas = sorted({schema for schema, _ in ctx.shared_tables})
    database = {
        (schema, table, column): (type_schema, type_name, list(labels))
        for schema, table, column, type_schema, type_name, labels in ctx.connection.execute(
            _COLUMN_ENUMS, {"schemas": schemas}
        )
    }
    seen: set[tuple[str, str]] = set()
    for model in enums:
        schema = ctx.schema_of(model.table)
        if ("column", schema, model.table.name, model.column.name) in ctx.reported:
            continue  # missing or of another type: Alembic's finding says so
        found = database.get((schema, model.table.name, model.column.name))
        if found is None:
            continue
        type_schema, type_name, labels = found
        key = (type_schema, type_name)
        if key in seen:
            continue
        seen.add(key)
        yield from _compare(
            ctx, model, qualified(type_schema, type_name, ctx.default_schema), labels
        )


def _compare(
    ctx: DriftContext, model: ModelEnum, db_type: str, labels: list[str]
) -> Iterable[Finding]:
    where = ctx.locator.column(model.table, model.column)
    column = f"{model.table.name}.{model.column.name}"

    def finding(kind: FindingCode, message: str) -> Finding:
        return kind.finding(
            message,
            path=where.path,
            line=where.line,
            table=model.table.name,
            column=model.column.name,
            enum=db_type,
        )

    ours = model.labels
    if ours == labels:
        return
    if set(ours) == set(labels):
        yield finding(
            ENUM_ORDER_DIFFERS,
            f"enum {db_type} ({column}) has the labels in another order: database "
            f"{_list(labels)}, models {_list(ours)}",
        )
        return
    alternative = model.alternative()
    if alternative is not None:
        spelling, other = alternative
        if len(set(other) & set(labels)) > len(set(ours) & set(labels)):
            fix = (
                "add values_callable=lambda e: [m.value for m in e] to its sa.Enum"
                if spelling == "values"
                else "drop values_callable from its sa.Enum"
            )
            found = finding(
                ENUM_STORAGE_MISMATCH,
                f"enum {db_type} ({column}): the model stores {model.stores} "
                f"{_list(ours)} but the database type has the {spelling} {_list(labels)}",
            )
            yield replace(
                found,
                help=f"Make the model store the {spelling}: {fix}; or rename the labels in a "
                "migration (ALTER TYPE ... RENAME VALUE; rows follow the renamed label).",
            )
            return
    for label in ours:
        if label not in labels:
            yield finding(
                ENUM_LABEL_MISSING_IN_DATABASE,
                f"enum {db_type} ({column}) lacks the label {label!r} that the model can "
                f"write; database labels: {_list(labels)}",
            )
    for label in labels:
        if label not in ours:
            yield finding(
                ENUM_LABEL_MISSING_IN_MODELS,
                f"enum {db_type} ({column}) has the label {label!r} that the model does not "
                f"know; model labels: {_list(ours)}",
            )


def _list(labels: list[str]) -> str:
    return ", ".join(labels)
