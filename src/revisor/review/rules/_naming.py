"""Constraint names for fixes: the project's naming_convention, else the seed's style."""

from __future__ import annotations

import re
from typing import Any

from revisor.naming import PREFIX, fit, seed_style

_SQL_WORDS = {"and", "or", "not", "null", "is", "in", "like", "between", "true", "false"}


def has_convention(metadata: tuple[Any, ...] | None) -> bool:
    """True when a MetaData names constraints (SQLAlchemy's default names only indexes)."""
    if not metadata:
        return False
    return any(any(key not in ("ix",) for key in item.naming_convention) for item in metadata)


def condition_word(condition: str | None) -> str:
    """A short name for a CHECK: its first column-like word (`amount > 0` → amount)."""
    for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", condition or ""):
        if word.lower() not in _SQL_WORDS:
            return word.lower()
    return "check"


def constraint_name(
    kind: str,
    table: str,
    columns: tuple[str, ...],
    *,
    referred_table: str | None = None,
    condition: str | None = None,
    metadata: tuple[Any, ...] | None = None,
) -> str:
    """The name a fix gives an unnamed constraint.

    With a naming_convention on the models' MetaData its template is used (tokens
    table_name, column_0_name, column_0_N_name, column_0N_name, referred_table_name,
    constraint_name); otherwise the seed's style: fk_<table>_<col>, uq_<table>_<cols>,
    ck_<table>_<word>, pk_<table>.
    """
    prefix = PREFIX.get(kind, kind)
    tokens = {
        "table_name": table,
        "column_0_name": columns[0] if columns else "",
        "column_0_label": f"{table}_{columns[0]}" if columns else table,
        "column_0_N_name": "_".join(columns),
        "column_0N_name": "".join(columns),
        "referred_table_name": referred_table or "",
        "constraint_name": condition_word(condition),
    }
    for item in metadata or ():
        template = item.naming_convention.get(prefix)
        if isinstance(template, str):
            try:
                return fit(template % tokens)
            except (KeyError, ValueError, TypeError):
                break  # a token revisor cannot fill: fall back to the seed's style
    if kind == "check":
        return seed_style(prefix, table, [condition_word(condition)])
    if kind == "primary":
        return fit(f"pk_{table}")
    return seed_style(prefix, table, columns or ["key"])
