"""Indexes: missing on either side, and definitions that differ.

Alembic compares an index's columns and uniqueness; revisor also compares the rest of
PostgreSQL's definition (the WHERE clause of a partial index, INCLUDE columns, the access
method, operator classes, sort order) by building the model's index on an empty
temporary copy of the table and comparing `pg_get_indexdef` texts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Index, Table, text

from revisor.codes import FindingCode
from revisor.drift.context import DriftContext, comparator, final_name, qualified, translates
from revisor.drift.locate import NOWHERE, Location
from revisor.drift.probe import index_signature
from revisor.findings import Finding, Severity

INDEX_MISSING_IN_DATABASE = FindingCode(
    "RV608",
    "index-missing-in-database",
    Severity.ERROR,
    """A model index that no migration creates (queries relying on it scan the table).

    ## What it does
    Reports an index of the models (`index=True`, `Index(...)`) that the database at head
    does not have.

    ## Why is this bad?
    Queries that rely on it read the whole table; a unique index that is missing lets
    duplicates in.

    ## Example
    `vendor_id: Mapped[int] = mapped_column(sa.ForeignKey("vendors.id"), index=True)` and no
    migration creates `ix_transactions_vendor_id`.

    ## Use instead
    Create it in a migration, `CONCURRENTLY` on a busy table: `op.create_index(...,
    postgresql_concurrently=True)` inside `op.get_context().autocommit_block()`.

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database.
    """,
    help="Write the migration with op.create_index (concurrently on a busy table).",
)
INDEX_MISSING_IN_MODELS = FindingCode(
    "RV609",
    "index-missing-in-models",
    Severity.ERROR,
    """A database index no model declares; the next autogenerate drops it.

    ## What it does
    Reports an index of the database at head that no model declares. The finding points at
    the model of its table.

    ## Why is this bad?
    The next autogenerate writes `op.drop_index(...)`: deployed, the queries that use the
    index scan the table.

    ## Example
    An index was added in a migration by hand (`op.create_index("ix_orders_placed_on",
    ...)`) but not on the model.

    ## Use instead
    Declare it on the model (`index=True` or an `Index(...)` in `__table_args__`).

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database.
    """,
    help="Declare it on the model (index=True or an Index in __table_args__).",
)
INDEX_DEFINITION_DIFFERS = FindingCode(
    "RV610",
    "index-definition-differs",
    Severity.ERROR,
    """An index exists on both sides under one name but is defined differently (columns,
    uniqueness, WHERE clause, INCLUDE, method).

    ## What it does
    Reports an index whose definition in the database at head (`pg_get_indexdef`) differs
    from the model's index of the same name, compared in PostgreSQL's own words: columns and
    their order, `UNIQUE`, the `WHERE` clause of a partial index, `INCLUDE` and the access
    method.

    ## Why is this bad?
    Autogenerate does not see most of these differences, so nothing ever corrects them: a
    partial unique index that is not partial rejects rows the code means to allow, and
    queries planned for one definition get another.

    ## Example
    The model's `Index("ix_users_email", "email", unique=True,
    postgresql_where=sa.text("deleted_at IS NULL"))`; the migration created it without the
    `WHERE` clause.

    ## Use instead
    Recreate the index in a migration (drop and create, `CONCURRENTLY` on a busy table), or
    make the model's `Index` say what the database has.

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database.
    """,
    help=(
        "Recreate the index in a migration (drop + create, concurrently on a busy "
        "table), or make the model's Index match the database."
    ),
)


def _table_name(ctx: DriftContext, index: Index) -> str:
    table = index.table
    if not isinstance(table, Table):
        return "?"
    return qualified(table.schema or ctx.default_schema, table.name, ctx.default_schema)


def index_location(ctx: DriftContext, index: Index) -> Location:
    """The Index(...) call naming it, else its single column (index=True), else the class."""
    table = index.table
    if not isinstance(table, Table):
        return NOWHERE
    return ctx.locator.item(table, final_name(index), list(index.columns))


def _columns(index: Index) -> str:
    return ", ".join(str(c.name) for c in index.columns) or "expressions"


def _mark(ctx: DriftContext, index: Index) -> None:
    table = index.table
    if isinstance(table, Table):
        schema = table.schema or ctx.default_schema
        ctx.reported.add(("index", schema, table.name, str(index.name)))


@translates("add_index")
def index_missing_in_database(ctx: DriftContext, diff: tuple[Any, ...]) -> Iterable[Finding]:
    index = ctx.model_item(diff[1])
    _mark(ctx, index)
    where = index_location(ctx, index)
    unique = "unique " if index.unique else ""
    yield INDEX_MISSING_IN_DATABASE.finding(
        f"{unique}index {final_name(index) or index.name} on {_table_name(ctx, index)} "
        f"({_columns(index)}) is in the models but no migration creates it",
        path=where.path,
        line=where.line,
        index=index.name,
    )


@translates("remove_index")
def index_missing_in_models(ctx: DriftContext, diff: tuple[Any, ...]) -> Iterable[Finding]:
    index = diff[1]
    _mark(ctx, index)
    table = ctx.model_table(index.table) if index.table is not None else None
    where = ctx.locator.table(table) if table is not None else NOWHERE
    yield INDEX_MISSING_IN_MODELS.finding(
        f"index {index.name} on {_table_name(ctx, index)} ({_columns(index)}) exists in the "
        "database but no model declares it",
        path=where.path,
        line=where.line,
        index=index.name,
    )


@translates("change_index")
def index_changed(ctx: DriftContext, diff: tuple[Any, ...]) -> Iterable[Finding]:
    _, model, database = diff
    model = ctx.model_item(model)
    _mark(ctx, model)
    where = index_location(ctx, model)

    def describe(index: Index) -> str:
        return f"{'UNIQUE ' if index.unique else ''}({_columns(index)})"

    yield INDEX_DEFINITION_DIFFERS.finding(
        f"index {model.name} on {_table_name(ctx, model)} differs: database "
        f"{describe(database)}, models {describe(model)}",
        path=where.path,
        line=where.line,
        index=model.name,
    )


_DATABASE_INDEXES = text(
    """
    SELECT n.nspname, t.relname, i.relname, pg_get_indexdef(x.indexrelid)
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = ANY(:schemas)
    """
)


@comparator
def index_definitions(ctx: DriftContext) -> Iterable[Finding]:
    """Indexes named alike on both sides whose full definitions differ."""
    if not ctx.shared_tables:
        return
    schemas = sorted({schema for schema, _ in ctx.shared_tables})
    database: dict[tuple[str, str, str], str] = {
        (schema, table, name): indexdef
        for schema, table, name, indexdef in ctx.connection.execute(
            _DATABASE_INDEXES, {"schemas": schemas}
        )
    }
    for (schema, table_name), table in ctx.shared_tables.items():
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            name = final_name(index)
            if name is None or ("index", schema, table_name, name) in ctx.reported:
                continue
            if not ctx.options.object_included(index, name, "index"):
                continue
            indexdef = database.get((schema, table_name, name))
            if indexdef is None:
                continue  # Alembic reports a missing index (or env.py filtered it)
            ours = ctx.probe.index_definition(schema, index)
            theirs = index_signature(indexdef)
            if ours is None or ours == theirs:
                continue
            where = index_location(ctx, index)
            yield INDEX_DEFINITION_DIFFERS.finding(
                f"index {name} on {qualified(schema, table_name, ctx.default_schema)} "
                f"differs: database `{theirs}`, models `{ours}`",
                path=where.path,
                line=where.line,
                index=name,
            )
