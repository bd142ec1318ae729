"""A model in a schema the database does not have gets `CREATE SCHEMA` before its tables.

Autogenerate writes `create_table(..., schema="audit")` and nothing for the schema, so the
upgrade fails with InvalidSchemaName. The downgrade drops the schema after the tables,
with RESTRICT: it stops rather than drop objects the migration did not create.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy.engine import Connection

from revisor.drafting.source import SourceOp
from revisor.enums.ops import ident

_EXISTING = sa.text("SELECT nspname::text FROM pg_namespace")


def create_schemas(upgrade: ops.UpgradeOps, conn: Connection | None) -> list[str]:
    """Put a CREATE SCHEMA first for each schema a new table needs and the database lacks.
    Reads pg_namespace; mutates the ops; returns one line per schema."""
    wanted = {
        op.schema
        for op in upgrade.ops
        if isinstance(op, ops.CreateTableOp) and op.schema is not None
    }
    if not wanted or conn is None:
        return []
    existing = {str(row[0]) for row in conn.execute(_EXISTING)}
    missing = sorted(wanted - existing)
    upgrade.ops[:0] = [
        SourceOp(
            (f"op.execute({f'CREATE SCHEMA {ident(name)}'!r})",),
            (f"op.execute({f'DROP SCHEMA {ident(name)} RESTRICT'!r})",),
        )
        for name in missing
    ]
    return [f"create schema {name} (before its tables; the downgrade drops it)" for name in missing]
