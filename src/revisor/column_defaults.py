"""A column's Python-side default as PostgreSQL SQL: what `draft` gives existing rows as a
server default, and what `check` accepts as the same default in the database."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


def python_default_sql(column: sa.Column[Any]) -> str | None:
    """The SQL literal of the column's Python scalar default; None when there is none
    (or a callable, or a value PostgreSQL cannot be given as a literal)."""
    default = column.default
    if default is None or not getattr(default, "is_scalar", False):
        return None
    try:
        literal = sa.literal(default.arg, type_=column.type)  # type: ignore[union-attr]
        compiled = literal.compile(
            # "named": a `%` in the value is not doubled as for psycopg's pyformat
            dialect=postgresql.dialect(paramstyle="named"),
            compile_kwargs={"literal_binds": True},
        )
    except Exception:  # a type without a literal renderer: let the user choose
        return None
    return str(compiled)
