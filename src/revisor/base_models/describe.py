"""The subprocess that imports a release's models from its extracted tree and describes
them: `python -m revisor.base_models.describe REQUEST OUTPUT`.

A subprocess, because the release's modules (`app.models`) have the same names as the
current ones, which the reviewing process may already have imported. REQUEST is JSON:
the extracted config file (or null for a Flask-Migrate project), the folder to run in,
alembic's section name, -x arguments, the Flask app, and the folders that go first on
sys.path (so an editable install of the current code is not imported instead). OUTPUT
receives {"tables": [...]} or {"error": "..."}; stdout is left to the app's own prints.
Nothing connects: env.py runs in Alembic's offline mode, and connecting is refused.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any


def describe(metadata: Any) -> list[dict[str, Any]]:
    """Every table of the MetaData objects as the JSON of base_models.model."""
    from sqlalchemy import Enum
    from sqlalchemy.dialects import postgresql

    from revisor.review.types import compiled_type_text

    dialect = postgresql.dialect()
    tables = []
    for item in metadata:
        for table in item.tables.values():
            columns = []
            for column in table.columns:
                try:
                    kind = (
                        "enum"
                        if isinstance(column.type, Enum)
                        else compiled_type_text(column.type.compile(dialect=dialect))
                    )
                except Exception:  # a custom type without a PostgreSQL spelling
                    kind = None
                server = column.server_default
                columns.append(
                    {
                        "name": column.name,
                        "type": kind,
                        "nullable": bool(column.nullable),
                        "server_default": _server_default(server),
                        # an identity or serial key is filled by the database too
                        "default": column.default is not None
                        or column.identity is not None
                        or column is table.autoincrement_column,
                    }
                )
            tables.append({"name": table.name, "schema": table.schema, "columns": columns})
    return tables


def _server_default(server: Any) -> str | None:
    """The SQL of a server default, when there is one ("DEFAULT" for a Computed, an
    Identity or a FetchedValue, whose SQL is not a default's)."""
    if server is None:
        return None
    arg = getattr(server, "arg", None)
    if arg is None:
        return "DEFAULT"
    return str(getattr(arg, "text", arg))


def _refuse_connections() -> None:
    """Importing models must not reach a database: make every way there raise."""
    from sqlalchemy.engine import Engine

    def refuse(*args: object, **kwargs: object) -> Any:
        raise RuntimeError("the models of the running release tried to connect to a database")

    Engine.connect = refuse  # type: ignore[method-assign]
    Engine.raw_connection = refuse  # type: ignore[method-assign]
    try:
        import psycopg

        psycopg.Connection.connect = classmethod(refuse)  # type: ignore[assignment,method-assign]
    except ImportError:
        pass


def _load(request: dict[str, Any]) -> dict[str, Any]:
    from revisor.errors import RevisorError
    from revisor.project import Project

    for folder in reversed(request["paths"]):
        sys.path.insert(0, folder)
    os.chdir(request["cwd"])
    try:
        project = Project.load(
            request["config"],
            name=request["name"],
            x_args=request["x"],
            app=request["app"],
        )
        with project.app_context():
            return {"tables": describe(project.metadata)}
    except RevisorError as exc:
        return {"error": exc.message}
    except (Exception, SystemExit) as exc:  # the app's own failure, sys.exit() included
        return {"error": f"{type(exc).__name__}: {exc}"}


def main(argv: list[str]) -> int:
    request = json.loads(argv[1])
    output = Path(argv[2])
    _refuse_connections()
    output.write_text(json.dumps(_load(request)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
