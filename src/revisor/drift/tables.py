"""Tables: a model table the database lacks, a database table no model declares, comments."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from revisor.drift.context import DriftContext, qualified, translates
from revisor.drift.kinds import DriftKind
from revisor.findings import Finding, Severity

TABLE_MISSING_IN_DATABASE = DriftKind(
    "RV601",
    "table-missing-in-database",
    Severity.ERROR,
    "A model declares a table that the migrations never create.",
    "Write the migration: `revisor draft -m '...'` (or alembic revision --autogenerate).",
)
TABLE_MISSING_IN_MODELS = DriftKind(
    "RV602",
    "table-missing-in-models",
    Severity.ERROR,
    "The migrations create a table no model declares; the next autogenerate drops it.",
    "Declare the model, or exclude the table with include_object / include_name in env.py.",
)
COMMENT_DIFFERS = DriftKind(
    "RV623",
    "comment-differs",
    Severity.WARNING,
    "A table or column comment differs between the models and the database.",
    "Set the comment in a migration (op.create_table_comment / alter_column(comment=)).",
)


def _name(ctx: DriftContext, table: Any) -> str:
    return qualified(table.schema or ctx.default_schema, table.name, ctx.default_schema)


@translates("add_table")
def table_missing_in_database(ctx: DriftContext, diff: tuple[Any, ...]) -> Iterable[Finding]:
    model_table = ctx.model_table(diff[1])
    table = diff[1] if model_table is None else model_table
    where = ctx.locator.table(table)
    yield TABLE_MISSING_IN_DATABASE.finding(
        f"table {_name(ctx, table)} is in the models but no migration creates it",
        path=where.path,
        line=where.line,
        table=table.name,
        schema=table.schema,
    )


@translates("remove_table")
def table_missing_in_models(ctx: DriftContext, diff: tuple[Any, ...]) -> Iterable[Finding]:
    table = diff[1]
    path, line = ctx.created_in(rf"""create_table\(\s*['"]{re.escape(table.name)}['"]""")
    yield TABLE_MISSING_IN_MODELS.finding(
        f"table {_name(ctx, table)} exists in the database but no model declares it",
        path=path,
        line=line,
        table=table.name,
        schema=table.schema,
    )


@translates("add_table_comment", "remove_table_comment")
def table_comment_differs(ctx: DriftContext, diff: tuple[Any, ...]) -> Iterable[Finding]:
    model_table = ctx.model_table(diff[1])
    table = diff[1] if model_table is None else model_table
    model = ctx.locator.table(table)
    database = diff[2] if diff[0] == "add_table_comment" and len(diff) > 2 else None
    yield COMMENT_DIFFERS.finding(
        f"comment of table {_name(ctx, table)} differs: database {database!r}, "
        f"models {table.comment!r}",
        path=model.path if model else None,
        line=model.line if model else None,
        table=table.name,
    )
