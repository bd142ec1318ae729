"""Server defaults: Alembic compares them (asking PostgreSQL whether two expressions are
equal) once `compare_server_default` is on; revisor turns each difference into a finding."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import MetaData, Table

from revisor.codes import FindingCode
from revisor.column_defaults import python_default_sql
from revisor.drift.columns import column_location, column_name
from revisor.drift.context import DriftContext, render_sql, translates
from revisor.findings import Finding, Severity

SERVER_DEFAULT_DIFFERS = FindingCode(
    "RV607",
    "server-default-differs",
    Severity.ERROR,
    """A column's server default in the database is not the model's server_default.

    ## What it does
    Reports a column whose `DEFAULT` at head differs from the model's `server_default`
    (compared as PostgreSQL stores it: `'5'` on an integer column is `5`). A database
    default equal to the model's Python scalar `default=` is accepted: the app sends that
    value anyway, and it is what `revisor draft` keeps for a new NOT NULL column so the
    release still running during the deploy can insert rows.

    ## Why is this bad?
    Rows inserted outside the ORM (SQL, other services, bulk loads) get another value than
    the code expects, and the next autogenerate writes an `alter_column` nobody asked for.

    ## Example
    The model says `server_default=sa.text("now()")`; the migration created the column
    without a default.

    ## Use instead
    `op.alter_column("orders", "placed_on", server_default=sa.text("now()"))` in a
    migration, or fix the model.

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database.
    """,
    help="Set it in a migration (op.alter_column(..., server_default=...)) or fix the model.",
)


def default_text(default: Any) -> str:
    """A server default as SQL text (`now()`, `'5'`, `true`), or "no default"."""
    if default is None or default is False:
        return "no default"
    if isinstance(default, str):
        return default
    arg = getattr(default, "arg", default)
    if isinstance(arg, str):
        # server_default="5" is rendered as the string literal '5' in DDL.
        return "'" + arg.replace("'", "''") + "'"
    try:
        return render_sql(arg)
    except Exception:
        return repr(arg)


@translates("modify_default")
def server_default_differs(ctx: DriftContext, diff: tuple[Any, ...]) -> Iterable[Finding]:
    _, schema, table, column, _info, existing, new = diff
    if (new is None or new is False) and _python_default_in_database(
        ctx, schema, table, column, existing
    ):
        return
    where = column_location(ctx, schema, table, column)
    ours = default_text(new)
    if new is not None and new is not False:
        # Print the model's default as PostgreSQL would store it ('5' on an integer
        # column is stored as 5), so both sides read alike.
        ours = (
            ctx.probe.default_definition(schema or ctx.default_schema, table, column, ours) or ours
        )
    yield SERVER_DEFAULT_DIFFERS.finding(
        f"server default of {column_name(ctx, schema, table, column)} differs: database "
        f"{default_text(existing)}, models {ours}",
        path=where.path,
        line=where.line,
        table=table,
        column=column,
    )


def _python_default_in_database(
    ctx: DriftContext, schema: str | None, table: str, column: str, existing: Any
) -> bool:
    """Whether the database's default is the model's Python scalar default (`default="US"`
    and `DEFAULT 'US'`): the app sends that value anyway, and the release still running
    during a deploy needs it to insert rows (draft writes it for a new NOT NULL column)."""
    if existing is None or existing is False:
        return False
    model = ctx.model_table(Table(table, MetaData(), schema=schema))
    if model is None or column not in model.c:
        return False
    literal = python_default_sql(model.c[column])
    if literal is None:
        return False
    where = schema or ctx.default_schema
    stored = ctx.probe.default_definition(where, table, column, literal)
    return stored is not None and stored == ctx.probe.column_default(where, table, column)
