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

from collections.abc import Mapping
from typing import Any

from revisor.naming import ConstraintShape, constraint_name
from revisor.recipes.constraints import validate
from revisor.recipes.source import AUTOCOMMIT, call, py_str, qualified
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
    return [
        *call(
            "op.create_check_constraint",
            check,
            table,
            f"{quote_ident(column)} IS NOT NULL",
            schema=schema,
            postgresql_not_valid=True,
        ),
        *validate(check, table, schema=schema),
        *(alter_column or call("op.alter_column", table, column, nullable=False, schema=schema)),
        *call("op.drop_constraint", check, table, type_="check", schema=schema),
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
    is NULL, `batch_size` rows per UPDATE, each committed on its own (autocommit block): no
    lock is held long and no transaction stays open for the whole table.

    `value_sql` is SQL evaluated per row (`'US'`, `gen_random_uuid()`) and must not be
    NULL, or the loop would not end. The migration file must import `sqlalchemy as sa`
    (alembic's template does). Rows are picked by `ctid` (a TID scan), so no index is
    needed; each batch's subquery scans from the table's start for NULLs.
    """
    name = qualified(table, schema)
    target = quote_ident(column)
    statement = (
        f"UPDATE {name} SET {target} = {value_sql} WHERE ctid = ANY(ARRAY("
        f"SELECT ctid FROM {name} WHERE {target} IS NULL LIMIT {batch_size}))"
    )
    update, pick = statement.split(" WHERE ", 1)
    return [
        f"# Backfill {batch_size} rows per transaction: no long lock, no long transaction.",
        AUTOCOMMIT,
        "    while True:",
        "        batch = op.get_bind().execute(",
        "            sa.text(",
        f"                {py_str(update + ' ')}",
        f"                {py_str('WHERE ' + pick)}",
        "            )",
        "        )",
        f"        if batch.rowcount < {batch_size}:",
        "            break",
    ]
