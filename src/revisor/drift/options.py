"""The comparison options a project's env.py hands to `context.configure()`.

Autogenerate honours env.py's `include_object`, `include_name`, `include_schemas` and its own
`compare_type` / `compare_server_default` callables; so does `revisor check`, or it would
report tables the project deliberately leaves out of its models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from revisor.db.url import DatabaseUrl
from revisor.project import Project


@dataclass(frozen=True)
class CompareOptions:
    """What env.py configured, with revisor's defaults for what it left out."""

    include_object: Callable[..., bool] | None = None
    include_name: Callable[..., bool] | None = None
    include_schemas: bool = False
    # revisor always compares types and server defaults; a callable from env.py wins.
    compare_type: bool | Callable[..., Any] = True
    compare_server_default: bool | Callable[..., Any] = True
    version_table: str = "alembic_version"
    version_table_schema: str | None = None

    def migration_context_opts(self) -> dict[str, Any]:
        """Options for `MigrationContext.configure(connection, opts=...)`."""
        opts: dict[str, Any] = {
            "include_schemas": self.include_schemas,
            "compare_type": self.compare_type,
            "compare_server_default": self.compare_server_default,
            "version_table": self.version_table,
            "version_table_schema": self.version_table_schema,
        }
        if self.include_object is not None:
            opts["include_object"] = self.include_object
        if self.include_name is not None:
            opts["include_name"] = self.include_name
        return opts

    def table_included(self, table: Any) -> bool:
        """Whether autogenerate would compare this model table (env.py's filters)."""
        if self.include_name is not None:
            if table.schema and not self.include_name(table.schema, "schema", {}):
                return False
            if not self.include_name(table.name, "table", {"schema_name": table.schema}):
                return False
        return self.include_object is None or bool(
            self.include_object(table, table.name, "table", False, None)
        )

    def column_included(self, column: Any) -> bool:
        """Whether autogenerate would compare this model column (env.py's filters)."""
        table = column.table
        if self.include_name is not None and not self.include_name(
            column.name, "column", {"table_name": table.name, "schema_name": table.schema}
        ):
            return False
        return self.object_included(column, column.name, "column")

    def object_included(self, obj: Any, name: str | None, type_: str) -> bool:
        """Whether env.py's include_object keeps this model object (index, column…)."""
        return self.include_object is None or bool(
            self.include_object(obj, name, type_, False, None)
        )


def compare_options(project: Project, url: DatabaseUrl | None = None) -> CompareOptions:
    """The options env.py configures, as autogenerate would see them.

    With `url`, env.py's online branch is read against that database (`Project.
    env_options`), because many env.py files pass include_object & co. only there, where
    autogenerate runs. Without a url, or when that fails, env.py runs offline (nothing
    connects). Raises EnvImportError when env.py fails offline.
    """
    captured = project.env_options(url)

    def keep_callable(key: str) -> bool | Callable[..., Any]:
        value = captured.get(key)
        return value if callable(value) else True

    return CompareOptions(
        include_object=captured.get("include_object"),
        include_name=captured.get("include_name"),
        include_schemas=bool(captured.get("include_schemas", False)),
        compare_type=keep_callable("compare_type"),
        compare_server_default=keep_callable("compare_server_default"),
        version_table=captured.get("version_table") or "alembic_version",
        version_table_schema=captured.get("version_table_schema"),
    )
