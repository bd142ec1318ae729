"""NOT NULL without a long lock: backfill in batches, then SET NOT NULL proven by a CHECK.

`ALTER COLUMN ... SET NOT NULL` scans the whole table under an ACCESS EXCLUSIVE lock to
prove no row is NULL. PostgreSQL 12+ skips that scan when a valid `CHECK (col IS NOT
NULL)` already proves it, and a CHECK can be added `NOT VALID` (catalog only) and
validated under SHARE UPDATE EXCLUSIVE, which lets reads and writes continue. So:

    ADD CONSTRAINT ck CHECK (col IS NOT NULL) NOT VALID   -- brief lock, no scan
    VALIDATE CONSTRAINT ck                                -- scan, reads+writes go on
    ALTER COLUMN col SET NOT NULL                         -- brief lock, no scan
    DROP CONSTRAINT ck                                    -- brief lock

The VALIDATE runs in an autocommit block: in the migration's transaction the ACCESS
EXCLUSIVE lock the ADD CONSTRAINT took would still be held while it scans.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from revisor.naming import ConstraintShape, constraint_name
from revisor.recipes.constraints import validate
from revisor.recipes.source import AUTOCOMMIT, Source, call, py_str, qualified
from revisor.sqltree import quote_ident


def not_null_check_name(
    table: str,
    column: str,
    *,
    schema: str | None = None,
    convention: Mapping[str, Any] | None = None,
) -> str:
    """The name of the temporary `CHECK (column IS NOT NULL)`: the project's `ck`
    template (revisor's `ck_<table>_<constraint_name>` when it has none), started from
    `<column>_not_null` so it cannot meet a CHECK the models name after the column."""
    shape = ConstraintShape(
        "check",
        table,
        schema=schema,
        condition=f"{quote_ident(column)} IS NOT NULL",
        label=f"{column}_not_null",
    )
    return constraint_name(shape, convention)


def set_not_null(
    table: str,
    column: str,
    *,
    schema: str | None = None,
    convention: Mapping[str, Any] | None = None,
    alter_column: list[str] | None = None,
) -> list[str]:
    """Source lines (no indentation) that make `table.column` NOT NULL without scanning
    the table under a lock that blocks it (PostgreSQL 12+).

    `alter_column`: the lines of the call that sets NOT NULL, when the caller has one to
    keep (`review --fix` keeps the file's own `op.alter_column(...)` and its arguments);
    default `op.alter_column(table, column, nullable=False)`. The migration fails at the
    VALIDATE if a row is NULL: backfill first (`backfill`).
    """
    check = not_null_check_name(table, column, schema=schema, convention=convention)
    # op.f(): the name is final. Alembic runs a plain name through target_metadata's
    # naming convention, and a `ck` template with %(constraint_name)s (revisor init's)
    # would make it ck_<table>_ck_<table>_..., which the VALIDATE's SQL does not name.
    final = Source(f"op.f({py_str(check)})")
    return [
        *call(
            "op.create_check_constraint",
            final,
            table,
            f"{quote_ident(column)} IS NOT NULL",
            schema=schema,
            postgresql_not_valid=True,
        ),
        *validate(check, table, schema=schema),
        *(alter_column or call("op.alter_column", table, column, nullable=False, schema=schema)),
        *call("op.drop_constraint", final, table, type_="check", schema=schema),
    ]


def backfill(
    table: str,
    column: str,
    value_sql: str,
    *,
    schema: str | None = None,
    batch_size: int = 10_000,
) -> list[str]:
    """Source lines (no indentation) that set `column` to `value_sql` on every row where it
    is NULL, about `batch_size` rows per UPDATE, each committed on its own (autocommit
    block): no lock is held long and no transaction stays open for the whole table.

    One walk over the table's pages, a range of pages per UPDATE (`ctid >= '(p,0)' AND
    ctid < '(q,0)'`: a TID range scan on PostgreSQL 14+, so each batch reads only its
    pages and the whole backfill reads the table about once, where repeating `WHERE col IS
    NULL LIMIT n` would rescan the rows already done each time). Then batches of the rows
    still NULL: those a concurrent UPDATE moved behind the walk (usually none, one scan).

    `value_sql` is SQL evaluated per row (`'US'`, `gen_random_uuid()`) and must not be
    NULL, or the last loop would not end. The migration file must import `sqlalchemy as
    sa` (alembic's template does); the backfill queries the database, so the migration
    cannot be rendered offline (`alembic upgrade --sql`).
    """
    name = _colons_kept(qualified(table, schema))
    target = _colons_kept(quote_ident(column))
    value = _colons_kept(value_sql)
    update = f"UPDATE {name} SET {target} = {value} "
    in_pages = f"WHERE ctid >= CAST(:low AS tid) AND ctid < CAST(:high AS tid) AND {target} IS NULL"
    still_null = (
        f"WHERE ctid = ANY(ARRAY(SELECT ctid FROM {name} WHERE {target} IS NULL "
        f"LIMIT {batch_size}))"
    )
    return [
        f"# Backfill {table}.{column} about {batch_size} rows per transaction (no long lock,",
        "# no long transaction): one walk over the table's pages, then the rows a concurrent",
        "# UPDATE moved behind the walk.",
        AUTOCOMMIT,
        "    bind = op.get_bind()",
        "    pages, rows_per_page = bind.execute(",
        "        sa.text(",
        "            \"SELECT pg_relation_size(oid) / current_setting('block_size')::int, \"",
        '            "coalesce(nullif(reltuples, -1) / nullif(relpages, 0), 100) "',
        '            "FROM pg_class WHERE oid = CAST(:table AS regclass)"',
        "        ),",
        f'        {{"table": {py_str(qualified(table, schema))}}},',
        "    ).one()",
        f"    step = max(1, int({batch_size} // max(rows_per_page, 1)))",
        "    for first in range(0, pages + 1, step):",
        "        bind.execute(",
        "            sa.text(",
        f"                {py_str(update)}",
        f"                {py_str(in_pages)}",
        "            ),",
        '            {"low": f"({first},0)", "high": f"({first + step},0)"},',
        "        )",
        "    while True:",
        "        batch = bind.execute(",
        "            sa.text(",
        f"                {py_str(update)}",
        f"                {py_str(still_null)}",
        "            )",
        "        )",
        f"        if batch.rowcount < {batch_size}:",
        "            break",
    ]


def _colons_kept(sql: str) -> str:
    """`sql` for sa.text(), which reads `:name` as a parameter: a lone colon (`' :v'`)
    escaped as `\\:`; a `::` cast is left alone, as sa.text() leaves it."""
    return re.sub(r"(?<!:):(?!:)", r"\\:", sql)
