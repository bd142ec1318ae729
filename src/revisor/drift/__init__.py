"""Models vs database drift: what `revisor check` compares.

`compare_models(project, url)` compares the project's models with a database already
migrated to head and returns one Finding per difference. Alembic's autogenerate comparison
does the tables, columns, types, nullability, server defaults, indexes, unique constraints
and foreign keys; the modules here add what it misses (enum labels and names-vs-values
storage, CHECK constraints, full index definitions). One module per object kind.
"""

from __future__ import annotations

from pathlib import Path

from revisor.db.connect import connect
from revisor.db.url import DatabaseUrl
from revisor.drift import columns, constraints, defaults, enums, indexes, tables  # noqa: F401
from revisor.drift.compare import compare_connection
from revisor.drift.kinds import DRIFT_KINDS, DriftKind
from revisor.drift.options import CompareOptions, compare_options
from revisor.findings import Finding
from revisor.project import Project

__all__ = [
    "DRIFT_KINDS",
    "CompareOptions",
    "DriftKind",
    "compare_connection",
    "compare_models",
    "compare_options",
]


def compare_models(
    project: Project, url: DatabaseUrl, *, options: CompareOptions | None = None
) -> list[Finding]:
    """Differences between the project's models and the database at `url`, sorted.

    The database should be at head (the caller checks). Reads only: probes use temporary
    tables in a transaction that is rolled back. Raises MetadataNotFound / EnvImportError
    when the models cannot be loaded, DatabaseError when the database cannot be reached.
    """
    metadata = project.metadata
    options = options or compare_options(project, url)
    files = [Path(script.path) for script in project.revisions]
    with connect(url) as connection:
        return compare_connection(connection, metadata, options, migration_files=files)
