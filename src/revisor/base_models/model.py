"""Plain data: the tables and columns a release's models map, as JSON can carry them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ModelColumn:
    """One mapped column. `type` is the canonical text of review/types.py (varchar(50),
    timestamptz, enum), None when SQLAlchemy cannot compile it for PostgreSQL; `default`:
    the application fills it (a Python default, onupdate or an autoincrement key)."""

    name: str
    type: str | None
    nullable: bool
    server_default: str | None
    default: bool

    @property
    def filled_without_code(self) -> bool:
        """Whether an INSERT that leaves the column out still stores a value."""
        return self.server_default is not None or self.default


@dataclass(frozen=True)
class ModelTable:
    name: str
    schema: str | None
    columns: dict[str, ModelColumn]


@dataclass(frozen=True)
class BaseModels:
    """The tables the models at `commit` map, by name (the first one when two schemas
    hold tables of the same name)."""

    commit: str
    tables: dict[str, ModelTable]

    def table(self, name: str | None, schema: str | None = None) -> ModelTable | None:
        """The mapped table `name`; None for another schema's table of that name (when
        both the operation and the model name their schema)."""
        found = self.tables.get(name) if name else None
        if found is not None and schema and found.schema and schema != found.schema:
            return None
        return found

    def column(
        self, table: str | None, column: str | None, schema: str | None = None
    ) -> ModelColumn | None:
        found = self.table(table, schema)
        return found.columns.get(column) if found is not None and column else None

    @property
    def short(self) -> str:
        return self.commit[:12]

    def to_json(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "tables": [
                {
                    "name": t.name,
                    "schema": t.schema,
                    "columns": [vars(c) for c in t.columns.values()],
                }
                for t in self.tables.values()
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BaseModels:
        tables: dict[str, ModelTable] = {}
        for item in data["tables"]:
            columns = {c["name"]: ModelColumn(**c) for c in item["columns"]}
            tables.setdefault(item["name"], ModelTable(item["name"], item["schema"], columns))
        return cls(data["commit"], tables)
