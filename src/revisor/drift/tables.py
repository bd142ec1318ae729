"""Tables: a model table the database lacks, a database table no model declares, comments."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from revisor.codes import FindingCode
from revisor.drift.context import DriftContext, qualified, translates
from revisor.findings import Finding, Severity

TABLE_MISSING_IN_DATABASE = FindingCode(
    "RV601",
    "table-missing-in-database",
    Severity.ERROR,
    """A model declares a table that the migrations never create.

    ## What it does
    Reports a table of the models (`target_metadata`, with env.py's `include_object` /
    `include_name` applied) that a database upgraded to head does not have. The finding
    points at the model class.

    ## Why is this bad?
    Every environment migrated with this history lacks the table: the first query of the
    model fails with `relation "vendors" does not exist`.

    ## Example
    A model `Vendor` (`__tablename__ = "vendors"`) was added to `app/models.py` and
    committed without a migration.

    ## Use instead
    Generate the migration with the model: `revisor draft -m "add vendors"` (or `alembic
    revision --autogenerate`), review it and commit both.

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database. `revisor draft` writes the missing migration.
    """,
    help="Write the migration: `revisor draft -m '...'` (or alembic revision --autogenerate).",
)
TABLE_MISSING_IN_MODELS = FindingCode(
    "RV602",
    "table-missing-in-models",
    Severity.ERROR,
    """The migrations create a table no model declares; the next autogenerate drops it.

    ## What it does
    Reports a table of the database at head that no model declares (tables env.py excludes
    with `include_object` / `include_name` are left out). The finding points at the
    migration that creates the table.

    ## Why is this bad?
    The models and the history disagree: the next `alembic revision --autogenerate` writes
    `op.drop_table(...)` for it, and whoever deploys that drops the table and its rows.

    ## Example
    A model class was deleted (or renamed its `__tablename__`) while the migration that
    created `audit_log` stayed.

    ## Use instead
    Declare the model again, drop the table on purpose in a migration, or exclude it in
    env.py's `include_object` when another tool owns it.

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database.
    """,
    help="Declare the model, or exclude the table with include_object / include_name in env.py.",
)
COMMENT_DIFFERS = FindingCode(
    "RV623",
    "comment-differs",
    Severity.WARNING,
    """A table or column comment differs between the models and the database.

    ## What it does
    Reports a table or column whose comment in the database at head differs from the model's
    `comment=`.

    ## Why is this bad?
    Comments document the schema for the people and tools that read the database; the next
    autogenerate also writes a comment change nobody asked for.

    ## Example
    `mapped_column(comment="ISO 4217 code")` was changed in the model, not in a migration.

    ## Use instead
    Set it in a migration (`op.create_table_comment(...)`, `op.alter_column(...,
    comment=...)`), or fix the model.

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database.
    """,
    help="Set the comment in a migration (op.create_table_comment / alter_column(comment=)).",
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
