"""Columns: missing on either side, type and nullability differences, comments."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Column, Table, text

from revisor.codes import FindingCode
from revisor.drift.context import PG_DIALECT, DriftContext, qualified, translates
from revisor.drift.locate import NOWHERE, Location
from revisor.drift.tables import COMMENT_DIFFERS
from revisor.findings import Finding, Severity

COLUMN_MISSING_IN_DATABASE = FindingCode(
    "RV603",
    "column-missing-in-database",
    Severity.ERROR,
    """A model column that no migration adds; inserts and selects of the model fail.

    ## What it does
    Reports a column of a model table that the table in the database at head does not have.
    The finding points at the column's line in the model.

    ## Why is this bad?
    SQLAlchemy selects and inserts every mapped column: each query of the model fails with
    `column "plan" does not exist` once this code is deployed.

    ## Example
    `plan: Mapped[str] = mapped_column(sa.String(20))` was added to `Account`, and no
    migration adds `accounts.plan`.

    ## Use instead
    `revisor draft -m "add accounts.plan"` (a NOT NULL column on a table with rows needs a
    server default, or add it nullable, backfill, then set NOT NULL).

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database. `revisor draft` writes the missing migration.
    """,
    help="Write the migration: `revisor draft -m '...'` (or alembic revision --autogenerate).",
)
COLUMN_MISSING_IN_MODELS = FindingCode(
    "RV604",
    "column-missing-in-models",
    Severity.ERROR,
    """A database column no model declares; the next autogenerate drops it (and its data).

    ## What it does
    Reports a column of the database at head that the model of its table does not declare.
    The finding points at the model class.

    ## Why is this bad?
    The next autogenerate writes `op.drop_column(...)` for it: deployed, that deletes the
    column's data. A NOT NULL column without a default also makes every insert of the model
    fail.

    ## Example
    `legacy_code` was removed from the `Vendor` model, but no migration drops
    `vendors.legacy_code`.

    ## Use instead
    Declare the column on the model again, or write the migration that drops it on purpose
    (after the code that reads it is gone).

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database.
    """,
    help="Declare it on the model, or write the migration that drops it on purpose.",
)
COLUMN_TYPE_DIFFERS = FindingCode(
    "RV605",
    "column-type-differs",
    Severity.ERROR,
    """A column's type in the database is not the model's type.

    ## What it does
    Reports a column whose type at head differs from the model's, compared as PostgreSQL
    resolves both (a model `Float(24)` and a database `real` are the same type and not
    reported).

    ## Why is this bad?
    The application writes and reads values the column was not made for: strings longer than
    `varchar(n)` fail, numbers are rounded or truncated, and the next autogenerate writes an
    `alter_column` that may rewrite the whole table under an ACCESS EXCLUSIVE lock.

    ## Example
    The model says `sa.String(200)`; the migration created `varchar(100)`.

    ## Use instead
    Write the migration: `op.alter_column("vendors", "name", type_=sa.String(200))`
    (widening a varchar does not rewrite the table), or change the model back.

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database.
    """,
    help="Write a migration with op.alter_column(..., type_=...) or change the model back.",
)
NULLABLE_DIFFERS = FindingCode(
    "RV606",
    "nullable-differs",
    Severity.ERROR,
    """A column is NOT NULL on one side and nullable on the other.

    ## What it does
    Reports a column that is `NOT NULL` in the database at head but nullable in the model,
    or the reverse.

    ## Why is this bad?
    A model that allows `None` for a NOT NULL column fails on insert (`NotNullViolation`); a
    NOT NULL model over a nullable column lets NULLs in that the code does not expect, and
    the next autogenerate adds a `SET NOT NULL` that fails on the rows already NULL.

    ## Example
    The model has `email: Mapped[str | None]`; the migration created the column with
    `nullable=False`.

    ## Use instead
    Make the model's `Mapped[...] | None` / `nullable=` say what the database has, or alter
    the column in a migration (backfill NULLs before `SET NOT NULL`).

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database.
    """,
    help=(
        "Make the model's Mapped[...] | None / nullable= match, or alter the column "
        "in a migration (backfill NULLs first when adding NOT NULL)."
    ),
)


def model_column(ctx: DriftContext, schema: str | None, table: str, column: str) -> Any:
    """The model Column for an Alembic diff's (schema, table, column), if any."""
    for md in ctx.metadata:
        key = f"{schema}.{table}" if schema else table
        found: Table | None = md.tables.get(key)
        if found is not None and column in found.c:
            return found.c[column]
    return None


def column_location(ctx: DriftContext, schema: str | None, table: str, column: str) -> Location:
    col = model_column(ctx, schema, table, column)
    if col is None or not isinstance(col.table, Table):
        return NOWHERE
    return ctx.locator.column(col.table, col)


def column_name(ctx: DriftContext, schema: str | None, table: str, column: str) -> str:
    return qualified(schema or ctx.default_schema, table, ctx.default_schema) + f".{column}"


def type_text(type_: Any) -> str:
    """The type as PostgreSQL DDL spells it; enum types as `enum NAME`."""
    try:
        if isinstance(type_, sa.Enum) and type_.native_enum and type_.name:
            return f"enum {type_.name}"
        return str(type_.compile(dialect=PG_DIALECT))
    except Exception:
        return repr(type_)


@translates("add_column")
def column_missing_in_database(ctx: DriftContext, diff: tuple[Any, ...]) -> Iterable[Finding]:
    _, schema, table, column = diff
    where = ctx.locator.column(column.table, column) if isinstance(column, Column) else NOWHERE
    ctx.reported.add(("column", schema or ctx.default_schema, table, column.name))
    yield COLUMN_MISSING_IN_DATABASE.finding(
        f"column {column_name(ctx, schema, table, column.name)} "
        f"({type_text(column.type)}) is in the models but no migration adds it",
        path=where.path,
        line=where.line,
        table=table,
        column=column.name,
    )


@translates("remove_column")
def column_missing_in_models(ctx: DriftContext, diff: tuple[Any, ...]) -> Iterable[Finding]:
    _, schema, table, column = diff
    model_table = next(
        (md.tables[t] for md in ctx.metadata for t in md.tables if md.tables[t].name == table),
        None,
    )
    where = ctx.locator.table(model_table) if model_table is not None else NOWHERE
    ctx.reported.add(("column", schema or ctx.default_schema, table, column.name))
    yield COLUMN_MISSING_IN_MODELS.finding(
        f"column {column_name(ctx, schema, table, column.name)} exists in the database but "
        "the model does not declare it",
        path=where.path,
        line=where.line,
        table=table,
        column=column.name,
    )


@translates("modify_type")
def column_type_differs(ctx: DriftContext, diff: tuple[Any, ...]) -> Iterable[Finding]:
    _, schema, table, column, _info, existing, new = diff
    if _same_in_postgresql(ctx, schema or ctx.default_schema, table, column, new):
        return
    where = column_location(ctx, schema, table, column)
    ctx.reported.add(("column", schema or ctx.default_schema, table, column))
    yield COLUMN_TYPE_DIFFERS.finding(
        f"column {column_name(ctx, schema, table, column)} is {type_text(existing)} in the "
        f"database but {type_text(new)} in the models",
        path=where.path,
        line=where.line,
        table=table,
        column=column,
    )


_FORMAT_TYPE = text(
    """
    SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND c.relname = :table AND a.attname = :column
    """
)


def _same_in_postgresql(ctx: DriftContext, schema: str, table: str, column: str, new: Any) -> bool:
    """Whether the model's type is the very type the column has once PostgreSQL resolves
    it: Alembic compares SQLAlchemy types, so FLOAT(24) and REAL differ there although
    PostgreSQL creates REAL for both."""
    try:
        model_sql = str(new.compile(dialect=PG_DIALECT))
    except Exception:
        return False
    ours = ctx.probe.type_definition(schema, table, model_sql)
    theirs = ctx.connection.execute(
        _FORMAT_TYPE, {"schema": schema, "table": table, "column": column}
    ).scalar()
    return ours is not None and ours == theirs


@translates("modify_nullable")
def nullable_differs(ctx: DriftContext, diff: tuple[Any, ...]) -> Iterable[Finding]:
    _, schema, table, column, _info, existing, new = diff
    where = column_location(ctx, schema, table, column)
    side = {True: "nullable", False: "NOT NULL"}
    yield NULLABLE_DIFFERS.finding(
        f"column {column_name(ctx, schema, table, column)} is {side[bool(existing)]} in the "
        f"database but {side[bool(new)]} in the models",
        path=where.path,
        line=where.line,
        table=table,
        column=column,
    )


@translates("modify_comment")
def column_comment_differs(ctx: DriftContext, diff: tuple[Any, ...]) -> Iterable[Finding]:
    _, schema, table, column, _info, existing, new = diff
    where = column_location(ctx, schema, table, column)
    yield COMMENT_DIFFERS.finding(
        f"comment of column {column_name(ctx, schema, table, column)} differs: database "
        f"{existing!r}, models {new!r}",
        path=where.path,
        line=where.line,
        table=table,
        column=column,
    )
