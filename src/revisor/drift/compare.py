"""Compare the models with one database: Alembic's autogenerate comparison, translated into
findings, plus revisor's comparators for what autogenerate does not compare.

Side effects: reads the catalog, and creates temporary tables (see probe.py) in a
transaction that is always rolled back; the database is left exactly as found.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData, text

from revisor.codes import FindingCode
from revisor.drift.context import COMPARATORS, TRANSLATORS, DriftContext
from revisor.drift.locate import ModelLocator
from revisor.drift.options import CompareOptions
from revisor.drift.probe import Probe
from revisor.findings import Finding, Severity, sort_findings

OTHER_DRIFT = FindingCode(
    "RV629",
    "other-drift",
    Severity.ERROR,
    """Any other difference Alembic's autogenerate reports (the finding quotes it).

    ## What it does
    Reports each difference of Alembic's `compare_metadata` that no other RV6 code
    describes, quoting Alembic's own description of it.

    ## Why is this bad?
    Autogenerate would write an operation for it: models and migrations disagree, and the
    next `revisor draft` or `alembic revision --autogenerate` contains a change nobody
    reviewed.

    ## Example
    A difference Alembic reports in a form revisor has no words for, such as a change of a
    computed column's expression.

    ## Use instead
    Run `revisor draft` (or `alembic revision --autogenerate`) to see the operation it would
    write, and either keep that migration or change the models.

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database.
    """,
    help="Run `alembic revision --autogenerate` to see the operation it would write.",
)

# (add, remove, change): Alembic reports an index or constraint that differs under one
# name as a remove plus an add; revisor reports one "differs" finding instead.
_PAIRS = (
    ("add_index", "remove_index", "change_index"),
    ("add_constraint", "remove_constraint", "change_constraint"),
    ("add_fk", "remove_fk", "change_fk"),
)

_TABLES = text(
    """
    SELECT n.nspname, c.relname FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(:schemas)
    """
)


def compare_connection(
    connection: Connection,
    metadata: Sequence[MetaData],
    options: CompareOptions,
    *,
    lock_timeout: str | None = "5s",
    migration_files: Sequence[Path] = (),
) -> list[Finding]:
    """Every difference between `metadata` and the database behind `connection`.

    Runs in the connection's transaction and rolls it back at the end.
    """
    try:
        if lock_timeout:
            # The probes read table definitions (ACCESS SHARE); never queue behind a
            # migration holding ACCESS EXCLUSIVE on a real database.
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{lock_timeout}'")
        default_schema = connection.execute(text("SELECT current_schema()")).scalar() or "public"
        ctx = DriftContext(
            connection=connection,
            metadata=tuple(metadata),
            options=options,
            locator=ModelLocator(),
            probe=Probe(connection),
            default_schema=default_schema,
            migration_files=list(migration_files),
        )
        ctx.shared_tables = _shared_tables(ctx)
        findings: list[Finding] = []
        for diff in merge_changes(alembic_diffs(connection, metadata, options)):
            translate = TRANSLATORS.get(diff[0])
            if translate is None:
                findings.append(OTHER_DRIFT.finding(f"autogenerate reports {_short(diff)}"))
            else:
                findings.extend(translate(ctx, diff))
        for compare in COMPARATORS:
            findings.extend(compare(ctx))
        return sort_findings(findings)
    finally:
        connection.rollback()


def alembic_diffs(
    connection: Connection, metadata: Sequence[MetaData], options: CompareOptions
) -> list[tuple[Any, ...]]:
    """Alembic's autogenerate differences, flattened (modify_* come grouped per column)."""
    target: Any = metadata[0] if len(metadata) == 1 else list(metadata)
    context = MigrationContext.configure(
        connection, opts={**options.migration_context_opts(), "target_metadata": target}
    )
    with warnings.catch_warnings():
        # SQLAlchemy warns about index expressions it cannot reflect; not drift.
        warnings.simplefilter("ignore")
        diffs = compare_metadata(context, target)
    flat: list[tuple[Any, ...]] = []
    for diff in diffs:
        if isinstance(diff, list):
            flat.extend(diff)
        else:
            flat.append(diff)
    return flat


def merge_changes(diffs: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Replace a remove + add of the same named object by one ("change_…", model, database)."""

    def key(item: Any) -> tuple[Any, ...] | None:
        table = getattr(item, "table", None)
        if item.name is None or table is None:
            return None
        return (table.schema, table.name, str(item.name))

    result = list(diffs)
    for add, remove, change in _PAIRS:
        removes = {key(d[1]): d[1] for d in result if d[0] == remove and key(d[1])}
        paired = {key(d[1]) for d in result if d[0] == add} & set(removes)
        merged: list[tuple[Any, ...]] = []
        for diff in result:
            found = key(diff[1]) if diff[0] in (add, remove) else None
            if found in paired and diff[0] == add:
                merged.append((change, diff[1], removes[found]))
            elif not (found in paired and diff[0] == remove):
                merged.append(diff)
        result = merged
    return result


def _shared_tables(ctx: DriftContext) -> dict[tuple[str, str], Any]:
    """Model tables (env.py's filters applied) that also exist in the database."""
    tables = {(ctx.schema_of(t), t.name): t for t in ctx.model_tables()}
    if not tables:
        return {}
    schemas = sorted({schema for schema, _ in tables})
    present = set(map(tuple, ctx.connection.execute(_TABLES, {"schemas": schemas})))
    return {key: table for key, table in tables.items() if key in present}


def _short(diff: tuple[Any, ...]) -> str:
    text_ = repr(diff)
    return text_ if len(text_) < 200 else text_[:197] + "..."
