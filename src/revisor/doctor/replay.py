"""Build the history's schemas on a scratch database, one revision at a time.

One scratch database and one env.py run: after each step the schema's fingerprint is
taken (and a full snapshot where the caller needs one), so the user's database can be
compared with every state the history passes through.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from alembic.runtime.migration import MigrationContext, RevisionStep

from revisor.db.scratch import scratch_database
from revisor.db.url import DatabaseUrl
from revisor.migrate import missing_extension, revision_step, run_env
from revisor.project import Project
from revisor.snapshot.catalog import Fingerprinter, Snapshot, snapshot
from revisor.snapshot.diff import diff_snapshots


@dataclass(frozen=True)
class HistoryState:
    """The schema after applying revisions up to `heads` (() is the empty database)."""

    heads: tuple[str, ...]
    fingerprint: str
    revision: str | None  # the revision whose step led here (None for the empty database)


@dataclass
class Replay:
    """What the scratch replay saw. `snapshots` holds the states asked for by heads;
    `closest` the state nearest to the compared schema with its number of differences;
    `failed` the revision whose upgrade raised (and `error`), after which nothing ran."""

    states: list[HistoryState] = field(default_factory=list)
    snapshots: dict[tuple[str, ...], Snapshot] = field(default_factory=dict)
    closest: tuple[HistoryState, Snapshot, int] | None = None
    failed: str | None = None
    error: BaseException | None = None

    def matching(self, fingerprint: str) -> list[HistoryState]:
        """The states whose schema has exactly this fingerprint, in history order."""
        return [s for s in self.states if s.fingerprint == fingerprint]

    def exact(self, fingerprint: str) -> HistoryState | None:
        """The earliest non-empty state with this schema: stamping the earliest keeps the
        revisions after it (data migrations that change no schema) pending, so they run."""
        matches = [s for s in self.matching(fingerprint) if s.heads]
        return matches[0] if matches else None

    def also_matching(self, first: HistoryState) -> str:
        """Words naming the later states with the same schema as `first` ("" if none)."""
        others = [s for s in self.matching(first.fingerprint) if s.heads and s is not first]
        if not others:
            return ""
        names = ", ".join(" ".join(s.heads) for s in others)
        return f" (so do {names}, which change no schema: stamping the earliest lets them run)"


def replay_history(
    project: Project,
    server: DatabaseUrl,
    order: Sequence[str],
    *,
    keep_snapshots: frozenset[tuple[str, ...]] = frozenset(),
    compare_with: Snapshot | None = None,
    only: str | None = None,
) -> Replay:
    """Upgrade a new scratch database on `server` through `order` (each revision after its
    parents), fingerprinting the schema before the first step and after each one.

    `keep_snapshots`: the states (sorted heads) whose full snapshot to keep.
    `compare_with`: a schema to find the closest state for (a snapshot is read at every
    state that does not match it exactly). `only`: read that one schema (a tenant's).
    A failing revision ends the replay (`failed`, `error`); ExtensionMissing and
    EnvImportError are raised. Side effects: creates a scratch database on `server` and
    drops it; the user's database is not touched.
    """
    replay = Replay()
    running: list[str] = []

    def record(mc: MigrationContext, fingerprinter: Fingerprinter, rev: str | None) -> None:
        conn = mc.connection
        heads = tuple(sorted(mc.get_current_heads()))
        state = HistoryState(heads, fingerprinter(conn), rev)
        replay.states.append(state)
        wanted = heads in keep_snapshots
        compare = compare_with is not None and state.fingerprint != compare_with.fingerprint
        if not (wanted or compare):
            return
        taken = snapshot(conn, version_table=mc.version_table, only=only)
        if wanted:
            replay.snapshots[heads] = taken
        if compare and compare_with is not None:
            distance = len(diff_snapshots(taken, compare_with).differences)
            # ties go to the later state: the schema usually comes from newer models
            if replay.closest is None or distance <= replay.closest[2]:
                replay.closest = (state, taken, distance)

    def steps(mc: MigrationContext) -> Iterator[RevisionStep]:
        # a scratch database: the temporary function is fine
        fingerprinter = Fingerprinter(mc.version_table, only=only)
        record(mc, fingerprinter, None)
        for rev in order:
            running[:] = [rev]
            yield revision_step(project, rev, upgrade=True)
            running.clear()
            record(mc, fingerprinter, rev)

    with scratch_database(server, label="doctor") as url:
        outcome = run_env(project, url, steps)
    if outcome.error is not None:
        missing = missing_extension(outcome.error)
        if missing:
            from revisor.errors import ExtensionMissing

            raise ExtensionMissing(
                missing, running[0] if running else None, server.source == "embedded"
            ) from outcome.error
        replay.failed = running[0] if running else None
        replay.error = outcome.error
    return replay
