"""`revisor status`: what revisor found — config, versions, heads, models, database."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from revisor import migrate
from revisor.db.url import DatabaseUrl
from revisor.errors import RevisorError
from revisor.project import Project


@dataclass
class ProjectStatus:
    config_path: Path
    script_location: Path
    version_locations: list[Path]
    revision_count: int
    heads: tuple[str, ...]
    tables: list[str] = field(default_factory=list)
    metadata_error: str | None = None
    database: str | None = None
    database_heads: tuple[str, ...] | None = None
    pending: list[str] | None = None  # None: the database is at a revision not in history


def project_status(project: Project, url: DatabaseUrl | None) -> ProjectStatus:
    """Summarise the project; reads the database's version table if `url` is given."""
    status = ProjectStatus(
        config_path=project.config_path,
        script_location=Path(project.script.dir).resolve(),
        version_locations=project.version_locations,
        revision_count=len(project.revisions),
        heads=project.heads,
    )
    try:
        status.tables = sorted(t for md in project.metadata for t in md.tables)
    except RevisorError as exc:
        status.metadata_error = exc.message
    if url is not None:
        status.database = url.masked
        status.database_heads = migrate.database_heads(project, url)
        known = {script.revision for script in project.revisions}
        if all(head in known for head in status.database_heads):
            status.pending = migrate.pending_revisions(project, status.database_heads)
    return status


JSON_VERSION = 1


def status_document(
    status: ProjectStatus, *, source: str | None = None, notes: list[str] | None = None
) -> dict[str, Any]:
    """`revisor status --format json`: the text status as one JSON object (docs/status.md
    documents each key; a key is never renamed or removed within a `version`).
    `source` and `notes` say how the database was chosen (None without a database)."""
    database: dict[str, Any] | None = None
    if status.database is not None:
        heads = list(status.database_heads or ())
        if status.pending is None:
            state = "unknown-revision"
        elif status.pending:
            state = "pending"
        else:
            state = "at-head"
        database = {
            "url": status.database,
            "source": source,
            "notes": list(notes or ()),
            "heads": heads,
            "state": state,
            "pending": status.pending,
        }
    return {
        "version": JSON_VERSION,
        "config": str(status.config_path),
        "script_location": str(status.script_location),
        "version_locations": [str(p) for p in status.version_locations],
        "revision_count": status.revision_count,
        "heads": list(status.heads),
        "models": {
            "tables": None if status.metadata_error else status.tables,
            "error": status.metadata_error,
        },
        "database": database,
    }
