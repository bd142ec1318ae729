"""Indexes and unique constraints built without blocking writes.

`CREATE INDEX` holds a SHARE lock (every INSERT/UPDATE/DELETE waits) for the whole
build; `CREATE INDEX CONCURRENTLY` holds SHARE UPDATE EXCLUSIVE (writes go on) but cannot
run inside a transaction, so it goes in an autocommit block. A unique constraint is built
the same way: the unique index concurrently, then `ADD CONSTRAINT ... UNIQUE USING
INDEX`, which only records the index as the constraint (a brief lock, no scan).
"""

from __future__ import annotations

from revisor.recipes.source import Source, call, in_autocommit, qualified
from revisor.sqltree import quote_ident

CONCURRENTLY = "postgresql_concurrently=True"


CREATE_WHY = "CONCURRENTLY: writes go on during the build; it cannot run in a transaction."
DROP_WHY = "CONCURRENTLY: no lock that queues reads and writes; not in a transaction."


def unique_constraint_using_index(
    name: str, table: str, columns: str, *, schema: str | None = None
) -> list[str]:
    """Source lines (no indentation) that add unique constraint `name` on `columns` (the
    Python source of the column list, e.g. `["email"]`) without blocking writes: the
    index built concurrently under the constraint's name, then attached to it."""
    index = call(
        "op.create_index",
        name,
        table,
        Source(columns),
        unique=True,
        schema=schema,
        postgresql_concurrently=True,
    )
    attach = (
        f"ALTER TABLE {qualified(table, schema)} ADD CONSTRAINT {quote_ident(name)} "
        f"UNIQUE USING INDEX {quote_ident(name)}"
    )
    return [
        *in_autocommit(index, CREATE_WHY),
        "# The index becomes the constraint: a brief lock, no scan.",
        *call("op.execute", attach),
    ]
