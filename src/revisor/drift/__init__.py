"""Models vs database drift: what `revisor check` compares.

`compare_models(project, url)` compares the project's models with a database already
migrated to head and returns one Finding per difference. Alembic's autogenerate comparison
does the tables, columns, types, nullability, server defaults, indexes, unique constraints
and foreign keys; the modules here add what it misses (enum labels and names-vs-values
storage, CHECK constraints, full index definitions). One module per object kind.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext

from revisor.db.url import DatabaseUrl
from revisor.drift import columns, constraints, defaults, enums, indexes, tables  # noqa: F401
from revisor.drift.compare import compare_connection
from revisor.drift.options import CompareOptions, compare_options, options_from
from revisor.errors import EnvImportError
from revisor.findings import Finding
from revisor.project import Project

__all__ = [
    "CompareOptions",
    "compare_connection",
    "compare_models",
    "compare_options",
]


class _Compared(BaseException):
    """Ends env.py's run once the comparison is done: alembic's transaction is rolled
    back, and nothing of env.py's run after run_migrations() matters."""


def compare_models(
    project: Project, url: DatabaseUrl, *, options: CompareOptions | None = None
) -> list[Finding]:
    """Differences between the project's models and the database at `url`, sorted.

    The database should be at head (the caller checks). The comparison runs on env.py's
    own migration connection, as `alembic check` runs it: the search_path or
    schema_translate_map env.py sets (schema per tenant) and its include_object apply.
    Reads only: env.py's own setup statements that would change the database are skipped
    (envrun's inert mode), alembic creates no version table, and the probes' temporary
    tables are rolled back. Raises MetadataNotFound / EnvImportError when the models or
    env.py cannot be loaded, DatabaseError when the database cannot be reached.
    """
    from revisor import migrate

    metadata = project.metadata
    files = [Path(script.path) for script in project.revisions]
    found: list[Finding] = []

    def source(context: MigrationContext) -> Iterator[Any]:
        chosen = options or options_from(context.opts)
        found.extend(
            compare_connection(context.connection, metadata, chosen, migration_files=files)
        )
        raise _Compared

    try:
        outcome = migrate.run_env(project, url, source, inert=True, dont_mutate=True)
    except _Compared:
        return found
    if outcome.error is not None:  # env.py failed after run_migrations() began
        raise EnvImportError(Path(project.script.dir) / "env.py", outcome.error)
    return found
