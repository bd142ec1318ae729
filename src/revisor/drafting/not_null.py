"""A NOT NULL column added to an existing table gets a migration that works on its rows.

Autogenerate writes `add_column(..., nullable=False)`, which fails on the first row
("column contains null values"). What the draft writes instead:

- a constant `server_default`: kept as it is; PostgreSQL 11+ stores it in the catalog
  and fills existing rows without rewriting the table;
- a Python scalar `default` only: added with that value as `server_default`, kept, so
  existing rows get it and the release still running during the deploy can insert rows
  (`revisor check` accepts a server default equal to the model's Python default);
- `--backfill TABLE.COLUMN=SQL`: added nullable, filled in batches, then made NOT NULL
  through the CHECK NOT VALID / VALIDATE / SET NOT NULL recipe (no long exclusive lock);
- nothing: the draft stops and names those three choices.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops

from revisor.column_defaults import python_default_sql
from revisor.drafting.errors import DraftNeedsChoice
from revisor.drafting.source import SourceOp, comment

_NAMED = re.compile(r"^\s*([A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*){1,2})\s*=(?!=)(.*)$", re.S)


def parse_backfills(specs: Iterable[str]) -> dict[str, str]:
    """`TABLE.COLUMN=SQL` (or `SCHEMA.TABLE.COLUMN=SQL`) specs as {name: SQL}; a spec
    without a name is stored under "" (allowed when one column needs a backfill). Raises
    ValueError on an empty SQL or a name given twice."""
    out: dict[str, str] = {}
    for spec in specs:
        match = _NAMED.match(spec)
        name, sql = (match.group(1), match.group(2)) if match else ("", spec)
        if not sql.strip():
            raise ValueError(f"{spec!r} gives no SQL to fill the column with")
        if name in out:
            raise ValueError(f"{name or 'a bare SQL'} is given twice")
        out[name] = sql.strip()
    return out


def fill_not_null_columns(
    upgrade: ops.UpgradeOps,
    backfills: Mapping[str, str],
    convention: Mapping[str, Any] | None = None,
) -> list[str]:
    """Rewrite each NOT NULL add_column on an existing table so it applies on rows.
    Mutates the ops; returns one line per change. Raises DraftNeedsChoice when a column has
    no default and no backfill, or a backfill names no such column."""
    changes: list[str] = []
    needing = [
        (container, op)
        for container in upgrade.ops
        if isinstance(container, ops.ModifyTableOps)
        for op in container.ops
        if isinstance(op, ops.AddColumnOp) and _needs_value(op.column)
    ]
    names = {_name(op): (container, op) for container, op in needing}
    unused = set(backfills) - set(names) - {""}
    if unused:
        raise DraftNeedsChoice(
            f"--backfill names {', '.join(sorted(unused))}, but the draft adds no NOT NULL "
            "column of that name.",
            hint="Name a column the draft adds as TABLE.COLUMN (the summary lists them).",
        )
    bare = backfills.get("")
    unfilled = [
        name
        for name, (_, op) in names.items()
        if name not in backfills and python_default_sql(op.column) is None
    ]
    if bare is not None:
        if len(unfilled) != 1:
            raise DraftNeedsChoice(
                "--backfill without a column name needs exactly one NOT NULL column without "
                f"a default; this draft has {len(unfilled)} ({', '.join(unfilled) or 'none'}).",
                hint="Name the column: "
                + " ".join(f'--backfill "{name}=SQL"' for name in unfilled or ["TABLE.COLUMN"])
                + ".",
            )
        backfills = {**backfills, unfilled[0]: bare}
        unfilled = []
    if unfilled:
        first = names[unfilled[0]][1].column
        raise DraftNeedsChoice(
            _missing_message(unfilled), hint=_missing_hint(unfilled[0], _example_value(first))
        )
    for name, (container, op) in names.items():
        at = container.ops.index(op)
        if name in backfills:
            container.ops[at : at + 1] = _backfilled(op, backfills[name], convention)
            changes.append(f"{name}: added nullable, backfilled in batches, then SET NOT NULL")
        else:
            value = str(python_default_sql(op.column))
            container.ops[at : at + 1] = _with_server_default(op, value)
            changes.append(
                f"{name}: existing rows and the running release's INSERTs get {value} "
                "(a server default)"
            )
    return changes


def _needs_value(column: sa.Column[Any]) -> bool:
    """A NOT NULL column whose existing rows need a value revisor must choose: not one
    PostgreSQL fills itself (a server default, identity, serial key, generated column)."""
    if column.nullable or column.primary_key or column.computed is not None:
        return False
    if column.identity is not None:
        return False
    return column.server_default is None  # a constant server default fills rows: kept


def _name(op: ops.AddColumnOp) -> str:
    table = f"{op.schema}.{op.table_name}" if op.schema else op.table_name
    return f"{table}.{op.column.name}"


def _missing_message(columns: list[str]) -> str:
    listed = ", ".join(columns)
    return (
        f"The draft adds NOT NULL column(s) without a default to existing table(s): {listed}. "
        "Existing rows would need a value, and the migration would fail on the first one."
    )


def _missing_hint(column: str, example: str) -> str:
    table, _, name = column.rpartition(".")
    return (
        f"Choose one: give the model a default (default=... or server_default=...), fill the "
        f'rows with --backfill "{column}=SQL" (e.g. --backfill "{column}={example}"), or make '
        f"{name} nullable (Mapped[... | None] or nullable=True) on {table}."
    )


def _example_value(column: sa.Column[Any]) -> str:
    """An SQL value the column's type takes, for the hint's example (it must work as
    printed): 0, false, now(), CURRENT_DATE, gen_random_uuid(), an enum's first label,
    else the string 'x'."""
    if isinstance(column.type, sa.Enum) and column.type.enums:
        return "'" + column.type.enums[0].replace("'", "''") + "'"
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return "'x'"
    if python_type is bool:
        return "false"
    if python_type in (int, float) or python_type.__name__ == "Decimal":
        return "0"
    if python_type.__name__ == "datetime":
        return "now()"
    if python_type.__name__ == "date":
        return "CURRENT_DATE"
    if python_type.__name__ == "UUID":
        return "gen_random_uuid()"  # PostgreSQL 13+
    return "'x'"


def _server_default(literal: str) -> str | sa.TextClause:
    """The server_default argument for an SQL literal: a string literal as the plain
    Python string (SQLAlchemy quotes it; sa.text() would read `:word` in it as a bind
    parameter), anything else (`5`, `true`) as SQL text."""
    if len(literal) >= 2 and literal[0] == literal[-1] == "'":
        return literal[1:-1].replace("''", "'")
    return sa.text(literal)


def _with_server_default(op: ops.AddColumnOp, value: str) -> list[ops.MigrateOperation]:
    column = op.column._copy()  # the op holds the model's own Column
    column.server_default = sa.DefaultClause(_server_default(value))
    return [
        comment(
            f"Existing rows get {value} from a server default, kept: the release running "
            "during the deploy inserts rows without this column. It equals the model's "
            "Python default, so revisor check accepts it. PostgreSQL 11+ stores a constant "
            "default without rewriting the table."
        ),
        ops.AddColumnOp(op.table_name, column, schema=op.schema),
    ]


def _backfilled(
    op: ops.AddColumnOp, value_sql: str, convention: Mapping[str, Any] | None
) -> list[ops.MigrateOperation]:
    from revisor.recipes.not_null import backfill, set_not_null

    column = op.column._copy()  # the op holds the model's own Column
    column.nullable = True
    added = ops.AddColumnOp(op.table_name, column, schema=op.schema)
    name = str(column.name)
    lines = [
        *backfill(op.table_name, name, value_sql, schema=op.schema),
        *set_not_null(op.table_name, name, schema=op.schema, convention=convention),
    ]
    return [
        comment(
            f"{name} is added nullable, filled in batches with {value_sql}, then made NOT "
            "NULL through a CHECK ... NOT VALID that is validated without blocking writes."
        ),
        added,
        SourceOp(  # the downgrade's drop_column removes it all
            tuple(lines),
            summary=f"backfill {_name(op)} in batches, then SET NOT NULL (CHECK NOT VALID)",
        ),
    ]
