"""`revisor doctor`: what is wrong between a database and the migration history.

Reads the user's database (version table and catalog snapshot, in a READ ONLY
transaction), replays the history on one scratch database of the same server, and turns
the comparison into findings that each end with the command that fixes it. Only
`apply_stamp` writes, and only the version table (the safe fix of an unstamped schema).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from revisor import git
from revisor.codes import Command
from revisor.codes.selection import Selection
from revisor.db.connect import raw_connect
from revisor.db.url import DatabaseUrl
from revisor.doctor import kinds
from revisor.doctor.gitsearch import GitSighting, find_revision
from revisor.doctor.replay import HistoryState, Replay, replay_history
from revisor.doctor.wording import (
    closest_help,
    closest_words,
    difference_finding,
    first_line,
    listed,
    stamp_instead,
)
from revisor.errors import HistoryError
from revisor.findings import Finding
from revisor.fix_commands import CommandLine, FixCommands
from revisor.git import GitError
from revisor.project import Project
from revisor.snapshot.catalog import Snapshot, snapshot
from revisor.snapshot.diff import diff_snapshots


@dataclass
class Diagnosis:
    """What doctor found. `state`: empty, unstamped, unknown-revision, behind, at-head.
    `current`: the version table's rows; `pending`: what `upgrade heads` would apply;
    `stamp`: the revisions `--fix` would record (an unstamped schema matching them
    exactly), else None; `matched`: the revisions the schema equals exactly, if any."""

    database: str
    state: str
    current: tuple[str, ...]
    heads: tuple[str, ...]
    findings: list[Finding] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    stamp: tuple[str, ...] | None = None
    matched: tuple[str, ...] | None = None
    revisions: int = 0
    ignored: int = 0  # findings [tool.revisor] ignores: "at-head" is then not "healthy"

    @property
    def healthy(self) -> bool:
        """True when nothing but advice was found (exit 0)."""
        return not Command.DOCTOR.fails(self.findings)

    def as_dict(self) -> dict[str, object]:
        """The diagnosis without its findings, JSON-ready."""
        return {
            "database": self.database,
            "state": self.state,
            "current": list(self.current),
            "heads": list(self.heads),
            "pending": self.pending,
            "matched": list(self.matched) if self.matched else None,
            "fixable": list(self.stamp) if self.stamp else None,
            "healthy": self.healthy,
            "ignored": self.ignored,
        }


@dataclass(frozen=True)
class _Database:
    """The user's database as read: version table present?, its rows, its schema."""

    has_version_table: bool
    rows: tuple[str, ...]
    schema: Snapshot


def diagnose(
    project: Project, url: DatabaseUrl, *, scratch: DatabaseUrl | None = None
) -> Diagnosis:
    """Compare the database at `url` with the project's history. The findings are those
    `[tool.revisor]` keeps for doctor, at their configured level (`healthy` follows).

    Side effects: reads `url` in a read-only transaction; creates one scratch database on
    `scratch` (default: the same server; needs CREATEDB) and drops it; runs git read-only
    to find an unknown revision. Raises HistoryError (broken history), DatabaseError subclasses,
    EnvImportError, ExtensionMissing, ConfigError (bad [tool.revisor] codes).
    """
    selection = Selection.from_settings(project.settings, command=Command.DOCTOR)
    diagnosis = _diagnose(project, url, scratch)
    found = diagnosis.findings
    diagnosis.findings = selection.apply(found, project.root)
    diagnosis.ignored = len(found) - len(diagnosis.findings)
    return diagnosis


def _diagnose(project: Project, url: DatabaseUrl, scratch: DatabaseUrl | None) -> Diagnosis:
    order = project.graph.order()
    known = set(order)
    options = project.env_options(url)
    version_table = options.get("version_table") or "alembic_version"
    schema_name = options.get("version_table_schema")
    # schema per tenant: only the tenant's schema is this history's, here and in the replay
    only = project.tenant_schema(url)
    db = _read(url, version_table, schema_name, only)
    commands = FixCommands.for_project(project, url)
    server = scratch or url
    diagnosis = Diagnosis(
        database=url.masked,
        state="at-head",
        current=db.rows,
        heads=project.heads,
        revisions=len(order),
    )
    if not db.rows:
        _unstamped(project, server, order, db, diagnosis, commands, only)
        return diagnosis
    unknown = [r for r in dict.fromkeys(db.rows) if r not in known]
    if unknown:
        _unknown(project, server, order, known, db, unknown, diagnosis, commands, only)
        return diagnosis
    effective = _version_rows(project, db.rows, diagnosis, commands)
    from revisor import migrate

    diagnosis.pending = migrate.pending_revisions(project, effective)
    drift = _drift(project, server, order, db, effective, diagnosis, commands, only)
    if diagnosis.pending:
        diagnosis.state = "behind"
    if diagnosis.pending and drift is None:
        count = len(diagnosis.pending)
        upgrade = commands.upgrade()
        diagnosis.findings.insert(
            0,
            kinds.PENDING.finding(
                f"The database is at {', '.join(effective)}; {count} revision(s) are "
                f"pending: {listed(diagnosis.pending)}.",
                f"{upgrade.quoted} applies them.",
                commands=[upgrade],
                pending=diagnosis.pending,
            ),
        )
    return diagnosis


def apply_stamp(project: Project, url: DatabaseUrl, revisions: Sequence[str]) -> None:
    """Record `revisions` in the version table, as `alembic stamp` does, through the
    project's env.py (its version table name and schema). Writes only the version table;
    raises HistoryError if env.py fails to run the stamp."""
    from revisor.errors import MigrationFailed
    from revisor.migrate import stamp

    try:
        stamp(project, url, revisions)
    except MigrationFailed as exc:
        raise HistoryError(
            f"Could not stamp {', '.join(revisions)}: {first_line(exc.cause)}"
        ) from exc


# --- reading the user's database -----------------------------------------------------


def _read(
    url: DatabaseUrl, version_table: str, schema_name: str | None, only: str | None = None
) -> _Database:
    """Version table and schema in one READ ONLY transaction, rolled back."""
    from psycopg import sql

    qualified = (
        sql.Identifier(schema_name, version_table) if schema_name else sql.Identifier(version_table)
    )
    with raw_connect(url, autocommit=False) as conn:
        conn.read_only = True
        try:
            if only is not None:
                # as env.py's session has it: expressions (nextval('seq')) deparse alike
                conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(only)))
            name = qualified.as_string(conn)
            row = conn.execute("SELECT to_regclass(%s)", (name,)).fetchone()
            present = bool(row and row[0])
            rows: tuple[str, ...] = ()
            if present:
                query = sql.SQL("SELECT version_num FROM {}").format(qualified)
                rows = tuple(str(r[0]) for r in conn.execute(query).fetchall())
            schema = snapshot(conn, version_table=version_table, only=only)
        finally:
            conn.rollback()
    return _Database(present, rows, schema)


def _is_empty(schema: Snapshot) -> bool:
    # A new database lists the public schema; an init script may have added extensions.
    return all(o.kind in ("schema", "extension") for o in schema.objects)


# --- case: no revision recorded ------------------------------------------------------


def _unstamped(
    project: Project,
    server: DatabaseUrl,
    order: list[str],
    db: _Database,
    diagnosis: Diagnosis,
    commands: FixCommands,
    only: str | None = None,
) -> None:
    diagnosis.pending = list(order)
    if _is_empty(db.schema):
        diagnosis.state = "empty"
        upgrade = commands.upgrade()
        diagnosis.findings.append(
            kinds.EMPTY.finding(
                f"The database is empty: no version table and no tables; {len(order)} "
                "revision(s) to apply.",
                f"{upgrade.quoted} builds it.",
                commands=[upgrade],
            )
        )
        return
    diagnosis.state = "unstamped"
    replay = replay_history(project, server, order, compare_with=db.schema, only=only)
    tables = len(db.schema.of_kind("table"))
    where = "an empty version table" if db.has_version_table else "no version table"
    opening = f"The database has {tables} table(s) but {where} (built by create_all or by hand?)"
    match = replay.exact(db.schema.fingerprint)
    if match is not None:
        diagnosis.matched = diagnosis.stamp = match.heads
        stamp = " ".join(match.heads)
        diagnosis.pending = _after(project, match.heads)
        also = replay.also_matching(match)
        record = commands.stamp(match.heads)
        then, fix = _then_upgrade(diagnosis.pending, commands)
        diagnosis.findings.append(
            kinds.UNSTAMPED.finding(
                f"{opening}; its schema matches revision {stamp} exactly{also}.",
                f"{record.quoted} (or {commands.doctor('--fix').quoted}) records it{then}.",
                revision=match.revision,
                commands=[record, *fix],
                matched=list(match.heads),
            )
        )
    else:
        help, fix = closest_help(replay, commands)
        diagnosis.findings.append(
            kinds.UNSTAMPED.finding(
                f"{opening}; no revision builds exactly this schema. "
                + closest_words(replay, db.schema),
                help,
                revision=replay.closest[0].revision if replay.closest else None,
                commands=fix,
            )
        )
    _replay_failure(replay, diagnosis, commands)


# --- case: a revision the files do not define ----------------------------------------


def _unknown(
    project: Project,
    server: DatabaseUrl,
    order: list[str],
    known: set[str],
    db: _Database,
    unknown: list[str],
    diagnosis: Diagnosis,
    commands: FixCommands,
    only: str | None = None,
) -> None:
    diagnosis.state = "unknown-revision"
    replay = replay_history(project, server, order, compare_with=db.schema, only=only)
    match = replay.exact(db.schema.fingerprint)
    if match is not None:
        diagnosis.matched = match.heads
    folders = ", ".join(_shown_path(project, p) for p in project.version_locations)
    for rev in unknown:
        message = f"The database is stamped with {rev}, which no file in {folders} defines"
        try:
            sighting = find_revision(project.version_locations, rev, known)
            nowhere = "and git has no file defining it either (deleted before its downgrade ran?)"
        except GitError as exc:  # git missing or hanging: the diagnosis goes on without it
            sighting, nowhere = None, f"and git could not be asked for it ({exc.message})"
        ancestor = None
        if sighting is not None:
            ancestor = next((r for r in sighting.down_revisions if r in known), None)
        fallback, fallback_commands = stamp_instead(replay, match, ancestor, commands)
        if sighting is None:
            diagnosis.findings.append(
                kinds.UNKNOWN_REVISION.finding(
                    f"{message}, {nowhere}.",
                    fallback[0].upper() + fallback[1:] + ".",
                    revision=rev,
                    commands=fallback_commands,
                )
            )
            continue
        fix, steps = _from_git(sighting, ancestor, commands)
        diagnosis.findings.append(
            kinds.UNKNOWN_REVISION.finding(
                f"{message}; {_sighted(sighting)}.",
                f"{fix}; or {fallback}.",
                revision=rev,
                commands=steps,
                branches=list(sighting.branches),
                path=sighting.path,
                ancestor=ancestor,
            )
        )
    _replay_failure(replay, diagnosis, commands)


def _sighted(sighting: GitSighting) -> str:
    """Where git has the file defining the unknown revision, in words."""
    if sighting.branches:
        return f"git has it in {sighting.path} on branch {', '.join(sighting.branches)}"
    if sighting.deleted_in:
        return (
            f"git last had it in {sighting.path} at commit {sighting.commit}"
            f" ({sighting.subject}), deleted in {sighting.deleted_in}"
        )
    return f"git has it in {sighting.path} at commit {sighting.commit}"


def _from_git(
    sighting: GitSighting, ancestor: str | None, commands: FixCommands
) -> tuple[str, list[CommandLine]]:
    """How to take the revision out with its own downgrade, from the file git has: the
    fix in words and the commands it names, in order (none when no ancestor is known)."""
    downgrade = commands.downgrade(ancestor) if ancestor else None
    undo = (
        downgrade.quoted
        if downgrade
        else "a downgrade to a revision this checkout has (revisor db downgrade)"
    )
    upgrade = commands.upgrade()
    path = sighting.top / sighting.path
    here = git.current_branch(sighting.top)
    if sighting.branches and sighting.branches[0] == here:
        # committed on this branch, missing from the working tree: putting it back is it
        restore = commands.git_restore(here, path)
        return (
            f"Restore the file ({restore.quoted}), run {undo} if you mean to drop it, "
            f"then {upgrade.quoted}",
            [restore],
        )
    if sighting.branches:
        branch = sighting.branches[0]
        switch = commands.git("switch", branch)
        back = commands.git("switch", here) if here else commands.git("checkout", "-")
        return (
            f"Switch to {branch} ({switch.quoted}) and run {undo} there, then come back "
            f"({back.quoted}) and run {upgrade.quoted}",
            [switch, downgrade, back, upgrade] if downgrade else [],
        )
    assert sighting.commit is not None
    restore = commands.git_restore(sighting.commit, path)
    remove = commands.remove(path)
    return (
        f"Restore it ({restore.quoted}), run {undo}, delete it again ({remove.quoted}), "
        f"then {upgrade.quoted}",
        [restore, downgrade, remove, upgrade] if downgrade else [],
    )


# --- case: known revisions recorded --------------------------------------------------


def _version_rows(
    project: Project, rows: tuple[str, ...], diagnosis: Diagnosis, commands: FixCommands
) -> tuple[str, ...]:
    """The rows that are real heads; a finding for duplicates and rows that are ancestors
    of other rows (alembic then refuses to upgrade: "overlaps with other requested")."""

    distinct = list(dict.fromkeys(rows))
    below = {r for r in distinct if any(r in project.ancestors({o}) - {o} for o in distinct)}
    effective = tuple(sorted(r for r in distinct if r not in below))
    problems = []
    if len(distinct) < len(rows):
        dupes = sorted({r for r in rows if rows.count(r) > 1})
        problems.append(f"{', '.join(dupes)} appear(s) more than once")
    if below:
        problems.append(
            f"{', '.join(sorted(below))} is an ancestor of another recorded revision "
            "(one branch recorded twice)"
        )
    if problems:
        stamp = commands.stamp(effective, purge=True)
        diagnosis.findings.append(
            kinds.VERSION_ROWS.finding(
                f"The version table holds {len(rows)} rows ({', '.join(rows)}): "
                f"{'; '.join(problems)}.",
                f"{stamp.quoted} leaves one row per branch head "
                "(check below that the schema matches it).",
                commands=[stamp],
                rows=list(rows),
            )
        )
    return effective


def _drift(
    project: Project,
    server: DatabaseUrl,
    order: list[str],
    db: _Database,
    effective: tuple[str, ...],
    diagnosis: Diagnosis,
    commands: FixCommands,
    only: str | None = None,
) -> HistoryState | None:
    """Replay the history (the recorded revisions' ancestors first, so that state occurs)
    and compare the database with what it builds at its recorded revisions. Returns the
    state the schema really matches when the stamp is wrong (DR106), else None."""

    below = project.ancestors(set(effective))
    ordered = [r for r in order if r in below] + [r for r in order if r not in below]
    replay = replay_history(
        project, server, ordered, keep_snapshots=frozenset({effective}), only=only
    )
    expected = replay.snapshots.get(effective)
    at = " ".join(effective)
    if expected is None:  # the replay failed before reaching the recorded revisions
        _replay_failure(replay, diagnosis, commands, unreached=at)
        return None
    _replay_failure(replay, diagnosis, commands)
    if expected.fingerprint == db.schema.fingerprint:
        diagnosis.matched = effective
        return None
    match = replay.exact(db.schema.fingerprint)
    if match is not None:
        diagnosis.matched = match.heads
        diagnosis.pending = _after(project, match.heads)
        stamp = " ".join(match.heads)
        record = commands.stamp(match.heads, purge=True)
        then, fix = _then_upgrade(diagnosis.pending, commands)
        diagnosis.findings.append(
            kinds.OTHER_REVISION.finding(
                f"The database is stamped {at}, but its schema is exactly what revision "
                f"{stamp} builds: the stamp is wrong, and the next upgrade would fail or "
                "skip work.",
                f"{record.quoted} records the revision the schema really has{then}.",
                revision=match.revision,
                commands=[record, *fix],
                matched=list(match.heads),
            )
        )
        return match
    for difference in diff_snapshots(expected, db.schema).differences:
        diagnosis.findings.append(difference_finding(difference, at, commands))
    return None


# --- helpers -------------------------------------------------------------------------


def _after(project: Project, heads: tuple[str, ...]) -> list[str]:
    from revisor import migrate

    return migrate.pending_revisions(project, heads)


def _then_upgrade(pending: list[str], commands: FixCommands) -> tuple[str, list[CommandLine]]:
    """ ", then <upgrade> applies the N pending revision(s)" and its command, when any are
    pending after a stamp."""
    if not pending:
        return "", []
    upgrade = commands.upgrade()
    return f", then {upgrade.quoted} applies the {len(pending)} pending revision(s)", [upgrade]


def _replay_failure(
    replay: Replay,
    diagnosis: Diagnosis,
    commands: FixCommands,
    *,
    unreached: str | None = None,
) -> None:
    if replay.error is None:
        return
    rev = replay.failed or "?"
    cause = first_line(replay.error)
    lost = (
        f"so the database could not be compared with {unreached}"
        if unreached
        else "so revisions from there on were not compared"
    )
    test = commands.test()
    diagnosis.findings.append(
        kinds.HISTORY_FAILS.finding(
            f"Upgrading an empty scratch database fails at revision {rev} ({cause}), {lost}.",
            f"{test.quoted} shows the failing revision; fix it, then run doctor again.",
            revision=replay.failed,
            commands=[test],
        )
    )


def _shown_path(project: Project, path: object) -> str:
    from pathlib import Path

    try:
        return Path(str(path)).resolve().relative_to(project.root.resolve()).as_posix()
    except ValueError:
        return str(path)


__all__ = ["Diagnosis", "GitSighting", "apply_stamp", "diagnose"]
