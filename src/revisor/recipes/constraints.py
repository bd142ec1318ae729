"""Foreign keys and CHECKs added to a table in use: `NOT VALID`, then `VALIDATE`.

Added plainly, PostgreSQL checks every existing row while holding the ADD's lock (ACCESS
EXCLUSIVE for a CHECK, SHARE ROW EXCLUSIVE on both tables for a foreign key). Added `NOT
VALID` it only records the constraint (new rows are checked from then on);
`VALIDATE CONSTRAINT` then checks the old rows under SHARE UPDATE EXCLUSIVE, which lets
reads and writes continue. It runs in an autocommit block, so the ADD's lock is released
before the scan starts.
"""

from __future__ import annotations

from revisor.recipes.source import call, in_autocommit, qualified
from revisor.sqltree import quote_ident

NOT_VALID = "postgresql_not_valid=True"
VALIDATE_WHY = "VALIDATE scans the rows in its own transaction; reads and writes go on."


def validate(name: str, table: str, *, schema: str | None = None) -> list[str]:
    """Source lines (no indentation) that validate constraint `name` of `table` in an
    autocommit block."""
    sql = f"ALTER TABLE {qualified(table, schema)} VALIDATE CONSTRAINT {quote_ident(name)}"
    return in_autocommit(call("op.execute", sql), VALIDATE_WHY)
