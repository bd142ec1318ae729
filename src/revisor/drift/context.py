"""What every drift comparator works on, and the two registries they join.

A comparator module registers
- translators (`@translates("add_column", ...)`): turn one of Alembic's autogenerate diffs
  into a Finding, and
- comparators (`@comparator`): compare what Alembic does not (enum labels, CHECK
  constraints, index definitions) and yield Findings.
Registering by decorator keeps a new object kind to one file, as review rules do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, MetaData, Table

from revisor.drift.locate import ModelLocator
from revisor.drift.options import CompareOptions
from revisor.drift.probe import Probe
from revisor.findings import Finding
from revisor.naming import PG_DIALECT, final_name

Translator = Callable[["DriftContext", tuple[Any, ...]], Iterable[Finding]]
Comparator = Callable[["DriftContext"], Iterable[Finding]]

TRANSLATORS: dict[str, Translator] = {}
COMPARATORS: list[Comparator] = []


def translates(*ops: str) -> Callable[[Translator], Translator]:
    """Register a function turning Alembic diffs named `ops` into Findings."""

    def register(fn: Translator) -> Translator:
        for op in ops:
            if op in TRANSLATORS:
                raise ValueError(f"Alembic diff {op!r} already has a translator")
            TRANSLATORS[op] = fn
        return fn

    return register


def comparator(fn: Comparator) -> Comparator:
    """Register a comparison Alembic's autogenerate does not make."""
    COMPARATORS.append(fn)
    return fn


@dataclass
class DriftContext:
    """One comparison of the models with one database, inside one transaction."""

    connection: Connection
    metadata: tuple[MetaData, ...]
    options: CompareOptions
    locator: ModelLocator
    probe: Probe
    default_schema: str
    # Revision files in graph order (base first), to point at the migration that created
    # an object no model declares; empty when comparing without a project.
    migration_files: list[Path] = field(default_factory=list)
    # Tables that exist on both sides: (schema, name) -> model Table.
    shared_tables: dict[tuple[str, str], Table] = field(default_factory=dict)
    # Objects Alembic already reported, so a comparator does not report them twice:
    # ("index", schema, table, name), ("column", schema, table, column).
    reported: set[tuple[str, ...]] = field(default_factory=set)

    def schema_of(self, table: Table) -> str:
        return table.schema or self.default_schema

    def model_table(self, table: Any) -> Table | None:
        """The model Table named like `table` (Alembic's diffs carry copies, and reflected
        tables carry the database's side), or None."""
        schema = table.schema or self.default_schema
        for md in self.metadata:
            for candidate in md.tables.values():
                if candidate.name == table.name and self.schema_of(candidate) == schema:
                    return candidate
        return None

    def model_item(self, item: Any) -> Any:
        """The model Index or constraint matching Alembic's copy `item` (by name, else by
        kind and columns), or `item` itself when none matches."""
        table = self.model_table(item.table) if getattr(item, "table", None) is not None else None
        if table is None:
            return item
        pool = [*table.indexes, *table.constraints]
        name = final_name(item)
        for candidate in pool:
            if type(candidate) is type(item) and name and final_name(candidate) == name:
                return candidate
        columns = [c.name for c in getattr(item, "columns", [])]
        for candidate in pool:
            if type(candidate) is type(item) and [c.name for c in candidate.columns] == columns:
                return candidate
        return item

    def created_in(self, pattern: str) -> tuple[Path | None, int | None]:
        """The first revision file (graph order) with a line matching `pattern`."""
        regex = re.compile(pattern)
        for path in self.migration_files:
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except OSError:
                continue
            for number, line in enumerate(lines, 1):
                if regex.search(line):
                    return path, number
        return None, None

    def model_tables(self) -> list[Table]:
        """Model tables env.py's filters keep, in MetaData order."""
        # Like autogenerate: without include_schemas only the default schema is compared.
        return [
            table
            for md in self.metadata
            for table in md.tables.values()
            if self.options.table_included(table)
            and (self.options.include_schemas or self.schema_of(table) == self.default_schema)
        ]


def render_sql(element: Any) -> str:
    """A SQL expression or DDL element as PostgreSQL text, literals inlined."""
    if isinstance(element, str):
        return element
    compiler = PG_DIALECT.ddl_compiler(PG_DIALECT, None)
    return str(compiler.sql_compiler.process(element, include_table=False, literal_binds=True))


def qualified(schema: str, name: str, default_schema: str) -> str:
    """`name`, or `schema.name` outside the default schema, for messages."""
    return name if schema == default_schema else f"{schema}.{name}"
