"""What rules share during one review run: the files, the history graph, the models.

The models (project.metadata) are loaded lazily, only when a rule that needs them runs,
and a failure to load them becomes a note instead of a crash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from revisor.graph import Node, RevisionGraph, build_graph
from revisor.review.parse import Migration

if TYPE_CHECKING:
    from sqlalchemy import MetaData

    from revisor.base_models import BaseModels
    from revisor.project import Project


_MISSING: Any = object()
_TABLENAME_RE = re.compile(
    r"""(?:__tablename__\s*(?::[^=]+)?=\s*|Table\(\s*)["'](?P<name>[A-Za-z0-9_]+)["']"""
)


@dataclass
class ReviewContext:
    """Shared, read-mostly state of a run. Rules may keep counters in `shared`."""

    migrations: list[Migration]  # the files under review
    all_migrations: list[Migration]  # every file of the history (for graph rules)
    project: Project | None = None
    metadata_override: tuple[MetaData, ...] | None = None
    whole_history: bool = True  # False with PATHS / --since: graph rules stay quieter
    since: str | None = None  # review --since REF: the running release's base too
    base_models_override: BaseModels | None = None  # tests, docs examples: no git
    shared: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    _metadata: Any = field(default=_MISSING, repr=False)
    metadata_error: str | None = None

    @property
    def root(self) -> Path | None:
        return self.project.root if self.project else None

    # --- models ------------------------------------------------------------------------

    @property
    def metadata(self) -> tuple[MetaData, ...] | None:
        """The models' MetaData, or None (with `metadata_error` set) when unavailable."""
        if self._metadata is _MISSING:
            self._metadata = self._load_metadata()
        return self._metadata  # type: ignore[no-any-return]

    def _load_metadata(self) -> tuple[MetaData, ...] | None:
        if self.metadata_override is not None:
            return self.metadata_override
        if self.project is None:
            return None
        from revisor.errors import RevisorError

        try:
            return self.project.metadata
        except RevisorError as exc:
            self.metadata_error = exc.message
            self.notes.append(
                f"model checks skipped: {exc.message}" + (f" ({exc.hint})" if exc.hint else "")
            )
            return None

    def base_models(self, migration: Migration) -> BaseModels | None:
        """The models of the release still running while `migration` deploys
        (revisor.base_models), or None: outside git, already in the base, `deploy-stops-
        traffic` set, or they failed to load (one note per commit). Loaded on first use:
        git, and an import in a subprocess cached by commit."""
        if self.base_models_override is not None:
            return self.base_models_override
        if self.project is None or _stops_traffic(self.project):
            return None
        from revisor.base_models.commit import release_base
        from revisor.base_models.load import load_base_models
        from revisor.errors import RevisorError

        if "release_base" not in self.shared:
            try:
                found = release_base(self.project.root, self.since)
                why = "no git commit to compare the models with"
            except RevisorError as exc:
                found, why = None, exc.message
            self.shared["release_base"] = found
            if found is None:
                self.notes.append(f"expand/contract checks (RV4xx) skipped: {why}")
        base = self.shared["release_base"]
        if base is None:
            return None
        commit = base.commit_for(migration.path)
        if commit is None:
            if base.shallow_gap and not self.shared.get("shallow_noted"):
                self.shared["shallow_noted"] = True
                self.notes.append(
                    "expand/contract checks (RV4xx) skipped: this shallow clone lacks the "
                    "commit before HEAD (fetch-depth: 2 or more)"
                )
            return None
        loaded: dict[str, BaseModels | None] = self.shared.setdefault("base_models", {})
        if commit not in loaded:
            try:
                loaded[commit] = load_base_models(self.project, commit)
            except RevisorError as exc:
                loaded[commit] = None
                self.notes.append(f"expand/contract checks (RV4xx) skipped: {exc.message}")
        return loaded[commit]

    @cached_property
    def naming_convention(self) -> dict[str, Any]:
        """The models' naming_convention (empty without models): fixes name with it."""
        from revisor.naming import convention_of

        return convention_of(self.metadata)

    def model_tables(self) -> dict[str, Any] | None:
        """Table name → sqlalchemy Table from every MetaData (None: models unavailable)."""
        metadata = self.metadata
        if metadata is None:
            return None
        tables: dict[str, Any] = {}
        for item in metadata:
            for table in item.tables.values():
                tables.setdefault(table.name, table)
        return tables

    @cached_property
    def source_tablenames(self) -> dict[str, Path]:
        """Tables that the project's Python source declares (`__tablename__`, `Table("x")`),
        found by reading files (not importing them), outside the migration folders."""
        found: dict[str, Path] = {}
        root = self.root
        if root is None:
            return found
        skip = {p.resolve() for p in (self.project.version_locations if self.project else [])}
        skip_names = {
            ".venv",
            "venv",
            ".git",
            "node_modules",
            "__pycache__",
            ".tox",
            "build",
            "tests",
            "test",
            "docs",
        }
        for path in sorted(root.rglob("*.py")):
            if any(part in skip_names for part in path.parts):
                continue
            resolved = path.resolve()
            if any(resolved.is_relative_to(s) for s in skip):
                continue
            try:
                text = path.read_text(encoding="utf-8", errors="ignore")
            except OSError:
                continue
            if "__tablename__" not in text and "Table(" not in text:
                continue
            for match in _TABLENAME_RE.finditer(text):
                found.setdefault(match.group("name"), path)
        return found

    # --- history -----------------------------------------------------------------------

    @cached_property
    def graph(self) -> RevisionGraph:
        """The history's graph from the parsed files (broken or not), in file order."""
        # depends_on may name a branch label: alembic reads it as the revision declaring it
        labels = {
            label: m.revision
            for m in self.all_migrations
            if m.revision
            for label in m.branch_labels
        }
        nodes = []
        for migration in self.all_migrations:
            if migration.revision is None:
                continue
            line = migration.module_line("down_revision") or migration.module_line("revision")
            nodes.append(
                Node(
                    migration.revision,
                    migration.down_revisions,
                    migration.path,
                    line,
                    migration.branch_labels,
                    tuple(labels.get(d, d) for d in migration.depends_on),
                )
            )
        return build_graph(nodes)

    @cached_property
    def ordered_migrations(self) -> list[Migration]:
        """Every parsed file base first (graph order; unparsable files left out)."""
        by_revision: dict[str, Migration] = {}
        for migration in self.all_migrations:
            if migration.revision and migration.revision not in by_revision:
                by_revision[migration.revision] = migration
        return [by_revision[r] for r in self.graph.order() if r in by_revision]

    @cached_property
    def _positions(self) -> dict[int, int]:
        """id(migration) → its index in `ordered_migrations`."""
        return {id(m): index for index, m in enumerate(self.ordered_migrations)}

    @cached_property
    def _new_tables(self) -> dict[str, int]:
        """Table → position of the first reviewed revision creating it (partial runs)."""
        reviewed = {id(m) for m in self.migrations}
        first: dict[str, int] = {}
        for index, migration in enumerate(self.ordered_migrations):
            if id(migration) in reviewed:
                for table in migration.tables_created:
                    first.setdefault(table, index)
        return first

    def table_created_before(self, migration: Migration, table: str) -> bool:
        """On a partial run (`--since`, PATHS), True when a reviewed revision before
        `migration` creates `table`: new with this change, so empty in production. Always
        False on a whole-history run, where nothing says what is deployed."""
        if self.whole_history:
            return False
        position = self._positions.get(id(migration))
        created = self._new_tables.get(table)
        return position is not None and created is not None and created < position

    @cached_property
    def _enum_events(self) -> dict[str, list[tuple[int, bool]]]:
        """Enum type → [(position, created?)] for every create/drop in the history."""
        events: dict[str, list[tuple[int, bool]]] = {}
        for index, migration in enumerate(self.ordered_migrations):
            for action in migration.upgrade.actions if migration.upgrade else []:
                if action.name and action.kind in ("create_enum", "drop_enum"):
                    events.setdefault(action.name, []).append((index, action.kind == "create_enum"))
        return events

    def enum_exists_before(self, migration: Migration, name: str) -> bool:
        """True when the history before `migration` creates enum type `name` (and does
        not drop it again)."""
        position = self._positions.get(id(migration))
        if position is None:
            return False
        exists = False
        for at, created in self._enum_events.get(name, []):
            if at >= position:
                break
            exists = created
        return exists

    def column_type_before(self, migration: Migration, table: str, column: str) -> str | None:
        """The column's type as the history defines it before `migration` runs, or None."""
        current: str | None = None
        for earlier in self.ordered_migrations:
            if earlier.path == migration.path:
                return current
            if earlier.upgrade is None:
                continue
            for action in earlier.upgrade.actions:
                if action.table != table:
                    continue
                if action.kind == "create_table":
                    for spec in action.columns:
                        if spec.name == column:
                            current = spec.type_text
                elif action.kind == "add_column" and action.column and action.column.name == column:
                    current = action.column.type_text
                elif (
                    action.kind == "alter_column"
                    and action.column
                    and action.column.name == column
                    and action.type_text
                ):
                    current = action.type_text
        return None


def _stops_traffic(project: Project) -> bool:
    """[tool.revisor] deploy-stops-traffic: no release runs while migrations do."""
    return project.settings.get("deploy-stops-traffic") is True
