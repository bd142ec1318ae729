"""Constraint and index names in the seed's style, shared by `review --fix` and `draft`.

Both name what autogenerate left unnamed: from the MetaData's naming_convention when it has
one, otherwise `<prefix>_<table>_<words>` (`fk_transactions_vendor_id`), cut to PostgreSQL's
63-byte limit with a hash suffix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

MAX_IDENTIFIER = 63  # PostgreSQL's NAMEDATALEN - 1

# Alembic's constraint type_ names and SQLAlchemy's naming_convention keys.
PREFIX = {"foreignkey": "fk", "unique": "uq", "check": "ck", "primary": "pk", "index": "ix"}


def fit(name: str) -> str:
    """`name` if it fits in 63 bytes; else cut with a hash suffix, because PostgreSQL would
    truncate it silently and two long names could collide."""
    if len(name.encode()) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return name.encode()[: MAX_IDENTIFIER - 9].decode(errors="ignore") + "_" + digest


def seed_style(prefix: str, table: str, words: Iterable[str]) -> str:
    """`<prefix>_<table>_<words...>`, e.g. fk_transactions_vendor_id, fitted to 63 bytes."""
    return fit("_".join([prefix, table, *words]))
