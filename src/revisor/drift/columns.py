"""Columns: missing on either side, type and nullability differences, comments."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Column, Table, text

from revisor.drift.context import PG_DIALECT, DriftContext, qualified, translates
from revisor.drift.kinds import DriftKind
from revisor.drift.locate import NOWHERE, Location
from revisor.drift.tables import COMMENT_DIFFERS
from revisor.findings import Finding, Severity

COLUMN_MISSING_IN_DATABASE = DriftKind(
    "RV603",
    "column-missing-in-database",
    Severity.ERROR,
    "A model column that no migration adds; inserts and selects of the model fail.",
    "Write the migration: `revisor draft -m '...'` (or alembic revision --autogenerate).",
)
COLUMN_MISSING_IN_MODELS = DriftKind(
    "RV604",
    "column-missing-in-models",
    Severity.ERROR,
    "A database column no model declares; the next autogenerate drops it (and its data).",
    "Declare it on the model, or write the migration that drops it on purpose.",
)
COLUMN_TYPE_DIFFERS = DriftKind(
    "RV605",
    "column-type-differs",
    Severity.ERROR,
    "A column's type in the database is not the model's type.",
    "Write a migration with op.alter_column(..., type_=...) or change the model back.",
)
NULLABLE_DIFFERS = DriftKind(
    "RV606",
    "nullable-differs",
    Severity.ERROR,
    "A column is NOT NULL on one side and nullable on the other.",
    "Make the model's Mapped[...] | None / nullable= match, or alter the column in a "
    "migration (backfill NULLs first when adding NOT NULL).",
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
