"""`revisor check`: the CI gate. Models vs migrations drift on a scratch database at head,
the history's shape, and review of the migrations changed on the branch.

Seams for other engines (see docs/check.md):
- `history_findings(project)`: review's graph rules (RV201-RV204);
- `review_changed(project, paths)`: `revisor review` on the migrations changed since a ref;
- `check_models(project, server)` / `check_database(project, url)`: the drift engine, as the
  pytest plugin's `revisor::models_match` calls it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from revisor import migrate
from revisor.codes import Command, FindingCode
from revisor.codes.selection import Selection
from revisor.db.connect import raw_connect
from revisor.db.scratch import PendingDatabase, scratch_database
from revisor.db.url import DatabaseUrl
from revisor.drift import compare_models, compare_options
from revisor.errors import (
    HistoryError,
    MetadataNotFound,
    MigrationFailed,
    PendingRevisions,
    UnknownRevision,
)
from revisor.findings import Finding, Severity, sort_findings
from revisor.git import ChangedFiles, GitError
from revisor.project import Project

# review's graph rules; the last three mean the graph cannot be built or walked. (A file
# that does not import is a config error, exit 2, as for every command that migrates.)
HISTORY_RULES = ("RV201", "RV202", "RV203", "RV204")
BROKEN_HISTORY_RULES = frozenset(HISTORY_RULES[1:])

MIGRATION_FAILS = FindingCode(
    "RV652",
    "migration-fails",
    Severity.ERROR,
    """Upgrading an empty database to head fails at this revision, so nothing after it (and no
    drift) could be checked.

    ## What it does
    `revisor check` upgrades a scratch database to head before comparing; when a revision
    raises, this finding names it (with the error) and the models are not compared.

    ## Why is this bad?
    A history that does not build on an empty database breaks every new environment: CI, a
    new developer's machine, a disaster-recovery restore.

    ## Example
    The base revision's upgrade is `pass` (the schema came from `create_all()` and a stamp),
    so the next revision's `op.add_column("accounts", ...)` fails: `relation "accounts" does
    not exist`.

    ## Use instead
    Run `revisor test` on the history (it names the step and the cause), fix the revision,
    and run check again.

    ## Fix safety
    No automatic fix: `revisor check` changes no file, and with `--url` only reads the
    database.
    """,
    help="Run `revisor test` on it, fix the revision, and rerun check.",
)


@dataclass
class CheckResult:
    """What `revisor check` found and what it compared."""

    findings: list[Finding]
    database: str  # masked URL of the database compared (scratch or --url)
    in_place: bool  # True with --url: the user's database, not a scratch one
    heads: tuple[str, ...] = ()
    revisions: int = 0
    review: ChangedFiles | None = None  # the migrations changed on the branch
    compared: bool = True  # False when models were not compared (no models, broken history)
    notes: list[str] = field(default_factory=list)


# --- history -----------------------------------------------------------------------


def history_findings(project: Project) -> list[Finding]:
    """The history rules of `revisor review` (one head per branch, known down_revisions, no
    cycle, unique ids), from the files alone: a broken graph is still described. Reads
    files only."""
    from revisor.review import review

    return review(project, select=HISTORY_RULES).findings


def _line_of(path: Path, pattern: str) -> int | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    regex = re.compile(pattern)
    return next((n for n, text in enumerate(lines, 1) if regex.search(text)), None)


def _broken(findings: Sequence[Finding]) -> bool:
    return any(f.code in BROKEN_HISTORY_RULES for f in findings)


# --- drift ---------------------------------------------------------------------------


def check_models(project: Project, server: DatabaseUrl, *, keep: bool = False) -> list[Finding]:
    """Upgrade a new scratch database on `server` to every head and compare the models
    with it. A revision that fails to apply becomes one MIGRATION_FAILS finding.

    Side effects: creates a scratch database on `server` and drops it (unless `keep`).
    Raises ExtensionMissing, EnvImportError, MetadataNotFound, DatabaseError. This is what
    the pytest plugin's `revisor::models_match` calls. [tool.revisor] applies to the codes.
    """
    return _selected(project, _check_scratch(project, server, keep=keep, compare=True)[0])


def _check_scratch(
    project: Project,
    server: DatabaseUrl,
    *,
    keep: bool,
    compare: bool,
    pending: PendingDatabase | None = None,
) -> tuple[list[Finding], DatabaseUrl]:
    """`pending`: the scratch database, already being created by the caller (who releases
    it); else one is created here."""
    _ = project.revisions  # an unimportable revision is a config error, before any DB work
    if compare:
        _ = project.metadata  # fail on unloadable models before using any database
    scratch = (
        pending.claimed(keep=keep)
        if pending is not None
        else scratch_database(server, label="check", keep=keep)
    )
    with scratch as url:
        try:
            migrate.upgrade(project, url, "heads")
        except MigrationFailed as exc:
            return [_migration_failed(project, exc)], url
        if not compare:
            return [], url
        return compare_models(project, url), url


def check_database(project: Project, url: DatabaseUrl, *, compare: bool = True) -> list[Finding]:
    """Compare the models with the user's database at `url`, which must be at head.

    Raises UnknownRevision (stamped with a revision not in the history), PendingRevisions
    (behind head). Nothing is migrated: env.py runs online with no steps, as `alembic
    check` runs it, and revisor's own probes are rolled back. [tool.revisor] applies to
    the codes.
    """
    from revisor.fix_commands import FixCommands

    options = compare_options(project, url)
    current = migrate.current_heads(
        url,
        version_table=options.version_table,
        version_table_schema=options.version_table_schema,
    )
    known = {script.revision for script in project.revisions}
    unknown = [rev for rev in current if rev not in known]
    commands = FixCommands.for_project(project, url)
    if unknown:
        raise UnknownRevision(unknown, commands.doctor())
    pending = migrate.pending_revisions(project, current)
    if pending:
        error = PendingRevisions(current, pending, commands.upgrade())
        if not current and _has_tables(url, options.version_table):
            error.hint = (
                "The database has tables but no Alembic revision stamp (built by "
                f"create_all or by hand?). {commands.doctor().quoted} says which revision "
                f"its schema matches, and {commands.doctor('--fix').quoted} records it."
            )
        raise error
    if not compare:
        return []
    return _selected(project, compare_models(project, url))


def _selected(project: Project, findings: list[Finding]) -> list[Finding]:
    """The findings `[tool.revisor]` keeps for `revisor check`, at their configured level
    (review's codes in them were selected by review)."""
    selection = Selection.from_settings(project.settings, command=Command.CHECK)
    return selection.apply(findings, project.root)


def models_missing(project: Project) -> str | None:
    """Why models cannot be compared when env.py deliberately sets no target_metadata
    (then check still verifies the history and that every migration applies); None when
    the models load. Other MetadataNotFound cases (a bad [tool.revisor] metadata) raise."""
    try:
        _ = project.metadata
    except MetadataNotFound as exc:
        if project.settings.metadata is None and "sets no target_metadata" in exc.message:
            return exc.message
        raise
    return None


def _has_tables(url: DatabaseUrl, version_table: str) -> bool:
    """Whether the database holds any user table besides the version table."""
    with raw_connect(url) as conn:
        row = conn.execute(
            "SELECT 1 FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', "
            "'information_schema') AND tablename <> %s LIMIT 1",
            (version_table,),
        ).fetchone()
    return row is not None


def _migration_failed(project: Project, exc: MigrationFailed) -> Finding:
    path = line = None
    if exc.revision:
        try:
            path = Path(project.revision(exc.revision).path)
            line = _line_of(path, r"^def upgrade\b") if exc.direction == "upgrade" else None
        except HistoryError:
            pass
    return MIGRATION_FAILS.finding(exc.message, path=path, line=line, revision=exc.revision)


# --- review of changed migrations ----------------------------------------------------


def review_changed(project: Project, paths: Sequence[Path]) -> list[Finding] | None:
    """Review the migration files `paths` with `revisor review`'s engine (the project's
    [tool.revisor] selection and ignores apply). Returns the findings; reads files only."""
    from revisor.review import review

    existing = [p for p in paths if Path(p).is_file()]
    if not existing:
        return []
    return review(project, existing).findings


def review_since(project: Project, ref: str | None) -> list[Finding]:
    """Review the migrations changed since `ref` (default: the merge-base with the default
    branch). Returns [] outside git or when nothing changed. Runs git, reads files."""
    from revisor.review.engine import changed_migrations

    changed = changed_migrations(project, ref)
    if changed is None or not changed.paths:
        return []
    return review_changed(project, changed.paths) or []


def _changed(project: Project, since: str | None, notes: list[str]) -> ChangedFiles | None:
    """The migrations changed since `since` (default: on the branch). Without --since, a
    missing or failing git is a note, not an error: the comparison still counts."""
    from revisor.review.engine import changed_migrations

    try:
        changed = changed_migrations(project, since)
    except GitError as exc:
        if since is not None:
            raise
        notes.append(f"changed migrations not reviewed: {exc.message}")
        return None
    if changed is None:
        notes.append(
            "no git repository or default branch found: changed migrations not reviewed "
            "(pass --since REF)"
        )
    return changed


# --- the command ---------------------------------------------------------------------


def run_check(
    project: Project,
    *,
    server: DatabaseUrl | None = None,
    url: DatabaseUrl | None = None,
    since: str | None = None,
    review: bool = True,
    keep: bool = False,
) -> CheckResult:
    """Everything `revisor check` reports, as data.

    With `url`, compares the user's database in place (read only) and raises
    PendingRevisions / UnknownRevision when it is not at head; otherwise migrates a
    scratch database on `server` (created and dropped here) to head and compares that.
    """
    if url is None and server is None:
        raise ValueError("run_check needs a server for the scratch database or a url")
    # The scratch database is created in the background while the history is reviewed and
    # the models load; dropped at the end whether or not it was used.
    pending = PendingDatabase(server, label="check") if url is None and server is not None else None
    try:
        return _run_check(project, server, url, since, review, keep, pending)
    finally:
        if pending is not None:
            pending.release()


def _run_check(
    project: Project,
    server: DatabaseUrl | None,
    url: DatabaseUrl | None,
    since: str | None,
    review: bool,
    keep: bool,
    pending: PendingDatabase | None,
) -> CheckResult:
    findings = history_findings(project)
    target = url if url is not None else server
    assert target is not None
    result = CheckResult(
        findings=[],
        database=target.masked if url is not None else target.server_masked,
        in_place=url is not None,
    )
    if _broken(findings):
        result.compared = False
        result.notes.append("the history is broken, so models were not compared")
    else:
        result.heads = project.heads
        result.revisions = len(project.revisions)
        missing = models_missing(project)
        if missing:
            result.compared = False
            result.notes.append(f"models not compared: {missing}")
        if url is not None:
            findings += check_database(project, url, compare=not missing)
        else:
            assert server is not None
            found, scratch = _check_scratch(
                project, server, keep=keep, compare=not missing, pending=pending
            )
            findings += found
            if any(f.code == MIGRATION_FAILS.code for f in found):
                result.compared = False
                result.notes.append("a migration failed, so models were not compared")
            if keep:
                result.notes.append(f"kept the scratch database {scratch.database}")
    if review:
        result.review = _changed(project, since, result.notes)
        if result.review is not None and result.review.paths:
            reviewed = review_changed(project, result.review.paths)
            if reviewed is None:
                result.notes.append(
                    f"{len(result.review.paths)} migration(s) changed since "
                    f"{result.review.ref}; run `revisor review` on them"
                )
            else:
                # The graph rules already ran on the whole history above: said once.
                findings += [f for f in reviewed if f.code not in HISTORY_RULES]
    result.findings = sort_findings(_selected(project, findings))
    return result
