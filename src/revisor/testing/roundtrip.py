"""The round trip: every revision upgraded, downgraded and upgraded again on a scratch
database, the schema compared after each step.

Per tested revision r, with S0 the schema before it:
    fingerprint S0 -> upgrade r -> S1 -> downgrade r -> must be S0 -> upgrade r -> must be S1
and, when the whole history is tested, `downgrade base` at the end must leave the schema the
run started from. Comparisons use a server-side md5 of the catalog (one round trip); the
full snapshot and its diff are only taken when fingerprints differ.

Everything runs through the project's env.py in one MigrationContext per database (see
migrate.run_env). A failure ends that context; the run then continues on a fresh scratch database
rebuilt to the right revision, so one broken revision does not hide the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from alembic.runtime.migration import MigrationContext, RevisionStep

from revisor import alembic_api
from revisor.codes import Command
from revisor.codes.selection import Selection
from revisor.db.driver import driver_connection
from revisor.db.scratch import (
    SCRATCH_PREFIX,
    PendingDatabase,
    create_scratch_database,
    drop_database,
)
from revisor.db.url import DatabaseUrl
from revisor.errors import ExtensionMissing
from revisor.findings import Finding
from revisor.migrate import missing_extension, revision_step, run_env
from revisor.project import Project
from revisor.snapshot.catalog import Fingerprinter, Snapshot, snapshot
from revisor.snapshot.diff import diff_snapshots
from revisor.testing.findings import (
    BASE_NOT_EMPTY,
    DOWNGRADE_FAILS,
    REBUILD_FAILS,
    REUPGRADE_FAILS,
    SAMPLE_DATA_ERRORS,
    SAMPLE_DATA_FAILS,
    UPGRADE_FAILS,
    FindingLog,
    Phase,
    error_name,
)
from revisor.testing.locks import LockWatcher
from revisor.testing.plan import RoundTripPlan
from revisor.testing.seed_data import DataSeeder, Table


@dataclass(frozen=True)
class Progress:
    """Reported after each tested revision (and once at the end with done == total)."""

    done: int
    total: int
    revision: str | None
    ok: bool


@dataclass
class RoundTripResult:
    """What a run found. `databases_kept` names scratch databases left for inspection."""

    findings: list[Finding] = field(default_factory=list)
    tested: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0
    databases_kept: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing makes `revisor test` fail (exit 0)."""
        return not Command.TEST.fails(self.findings)


@dataclass
class RoundTripOptions:
    data: bool = True
    locks: bool = False
    fail_fast: bool = False
    keep: bool = False
    rows: int | None = None  # sample rows per table; None: the seeder's default


class _Mismatch(Exception):
    """Raised from the step generator when fingerprints differ; ends the env.py run."""

    def __init__(self, phase: Phase, actual: Snapshot) -> None:
        super().__init__(phase.value)
        self.phase = phase
        self.actual = actual


class _Stop(Exception):
    """Raised from the step generator to end the run early (-x)."""


@dataclass
class _Probe:
    """After rebuilding `applied[:at]`, snapshot and compare with a bad state seen before."""

    at: int
    revision: str
    phase: Phase
    actual: Snapshot


class RoundTrip:
    """One `revisor test` run over a plan. Use `run()`."""

    def __init__(
        self,
        project: Project,
        plan: RoundTripPlan,
        server: DatabaseUrl,
        options: RoundTripOptions,
        *,
        database: DatabaseUrl | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        first_database: PendingDatabase | None = None,
    ) -> None:
        self.project = project
        self.plan = plan
        self.server = server
        self.options = options
        self.in_place = database  # the user's own database (--in-place): never dropped
        self.first_database = first_database  # created while the caller loaded the project
        self.on_progress = on_progress or (lambda p: None)
        self.result = RoundTripResult()
        self.log = FindingLog(
            project,
            seeding=options.data and database is None,
            selection=Selection.from_settings(project.settings, command=Command.TEST),
        )
        self.result.findings = self.log.findings
        # progress through plan.order, kept across env.py runs
        self.index = 0
        self.applied: list[str] = []
        self.broken: set[str] = set()
        self.unseeded: set[str] = set()  # revisions retried without sample rows
        # In place no second database can be rebuilt to name a mismatch's differences:
        # the schemas it is compared with are read as the revision runs.
        self.expected_in_place: dict[Phase, Snapshot] = {}
        self.current: tuple[str, Phase] | None = None
        self._impl: Any = None
        self._fingerprinter = Fingerprinter()
        self.empty: Snapshot | None = None
        self.done_count = 0
        self.stopped = False
        self._last_failure: tuple[object, ...] | None = None
        # In place, the database's own rows are the sample: revisor adds none of its own.
        self.seeder = (
            (DataSeeder(options.rows) if options.rows else DataSeeder())
            if options.data and database is None
            else None
        )
        self.locks = LockWatcher() if options.locks else None

    # --- the outer loop: one env.py run per scratch database ---------------------------

    def run(self) -> RoundTripResult:
        """Run the plan; return findings. Side effects: creates (and unless keep, drops)
        scratch databases on the server; with in_place, migrates that database."""
        started = time.perf_counter()
        probe: _Probe | None = None
        while not self.stopped:
            url, name = self._database()
            try:
                outcome = run_env(self.project, url, lambda mc, p=probe: self._steps(mc, p))
            finally:
                if name and not self.options.keep:
                    drop_database(self.server, name)
                elif name:
                    self.result.databases_kept.append(name)
            probe = None
            if outcome.error is None:
                break
            probe = self._after_error(outcome.error)
            if self.in_place is not None:
                break  # the user's database cannot be rebuilt: stop at the first failure
        self.result.seconds = time.perf_counter() - started
        self.on_progress(Progress(len(self.plan.tested), len(self.plan.tested), None, True))
        return self.result

    def _database(self) -> tuple[DatabaseUrl, str | None]:
        if self.in_place is not None:
            return self.in_place, None
        if self.first_database is not None:
            first, self.first_database = self.first_database, None
            return first.claim()
        import secrets

        name = f"{SCRATCH_PREFIX}test_{secrets.token_hex(4)}"
        return create_scratch_database(self.server, name), name

    # --- one env.py run ------------------------------------------------------------------

    def _steps(self, mc: MigrationContext, probe: _Probe | None) -> Iterator[RevisionStep]:
        vt = mc.version_table
        conn = mc.connection
        self._impl = mc.impl
        # One per env.py run: its connection is new, and a rollback ends the run.
        self._fingerprinter = Fingerprinter(vt)
        if self.locks:
            self.locks.attach(conn)
        if self.in_place is None:
            # The scratch database's commits need no durability: no WAL flush per revision.
            driver_connection(conn).execute("SET synchronous_commit TO off")
        try:
            if self.empty is None:
                self.empty = snapshot(conn, version_table=vt)
            if self.in_place is not None:
                yield from self._undo_in_place(mc)
            # Rebuild what the previous database had applied, checking a bad state on the way.
            rebuilt = [] if self.in_place is not None else list(self.applied)
            for i, rev in enumerate(rebuilt):
                if probe and probe.at == i:
                    self._compare_probe(mc, probe)
                self.current = (rev, Phase.SETUP)
                yield self._step(rev, True)
            if probe and probe.at == len(rebuilt):
                self._compare_probe(mc, probe)
            # The schema before the next tested revision; read only when one comes (a long
            # untested prefix, as with --last 5, costs no catalog reads).
            before: str | None = None
            while self.index < len(self.plan.order):
                rev = self.plan.order[self.index]
                if rev in self.applied:  # --in-place: already there, and not tested
                    self.index += 1
                    continue
                if self._descends_from_broken(rev):
                    self.broken.add(rev)
                    self.result.skipped.append(rev)
                    self.index += 1
                    continue
                if rev not in self.plan.tested:
                    self.current = (rev, Phase.SETUP)
                    yield self._step(rev, True)
                    self.applied.append(rev)
                    self.index += 1
                    before = None
                    continue
                if before is None:
                    before = self._fingerprint(mc)
                before = yield from self._round_trip(mc, rev, before)
            if self.plan.full and self.in_place is None:
                yield from self._down_to_base(mc)
        finally:
            if self.locks:
                self.locks.detach()

    def _undo_in_place(self, mc: MigrationContext) -> Iterator[RevisionStep]:
        """--in-place: downgrade the user's database below the first tested revision (the
        revisions to test and those built on them), so each can be round-tripped."""
        graph = self.project.graph
        present = graph.ancestors(mc.get_current_heads())
        order = [r for r in graph.order() if r in present]
        built_on_tested = graph.descendants(self.plan.tested)  # the tested ones included
        undo = [r for r in order if r in built_on_tested]
        for rev in reversed(undo):
            self.current = (rev, Phase.BASE)
            yield self._step(rev, False)
        self.applied = [r for r in order if r not in undo]

    def _round_trip(self, mc: MigrationContext, rev: str, before: str) -> Iterator[RevisionStep]:
        vt = mc.version_table
        self.current = (rev, Phase.UPGRADE)
        existed = _columns(self._seed(mc))
        if self.in_place is not None:
            self.expected_in_place = {Phase.DOWNGRADE: snapshot(mc.connection, version_table=vt)}
        if self.locks:
            if self.in_place is None:  # in place a failure must roll everything back
                alembic_api.commit_and_continue(mc)
            self.locks.begin_step(mc.connection, rev, str(self.log.path(rev) or ""))
        yield self._step(rev, True)
        if self.locks:
            self.log.locks(rev, self.locks.end_step())
        upgraded = self._fingerprint(mc)
        if self.in_place is not None:
            self.expected_in_place[Phase.REUPGRADE] = snapshot(mc.connection, version_table=vt)
        populated = _columns(self._seed(mc), with_rows=True)
        self.current = (rev, Phase.DOWNGRADE)
        if self.locks:
            if self.in_place is None:  # the upgrade's locks end here, as on a deploy
                alembic_api.commit_and_continue(mc)
            self.locks.begin_step(
                mc.connection, rev, str(self.log.path(rev) or ""), direction="downgrade"
            )
        yield self._step(rev, False)
        if self.locks:
            self.log.locks(rev, self.locks.end_step())
        after = None
        if populated is not None and existed is not None and self.seeder is not None:
            after = self.seeder.tables(mc.connection, vt)
            self.log.data_loss(rev, populated, existed, _columns(after, with_rows=True) or {})
        if self._fingerprint(mc) != before:
            raise _Mismatch(Phase.DOWNGRADE, snapshot(mc.connection, version_table=vt))
        self.current = (rev, Phase.REUPGRADE)
        self._seed(mc, after)
        yield self._step(rev, True)
        again = self._fingerprint(mc)
        if again != upgraded:
            raise _Mismatch(Phase.REUPGRADE, snapshot(mc.connection, version_table=vt))
        self.applied.append(rev)
        self.index += 1
        if self.in_place is None:
            # Each revision is committed once its round trip passed, as revisor deploy
            # applies them. In one transaction over the whole history every row version
            # that the DDL replaced in pg_class, pg_attribute, ... stays live for it, and
            # each later catalog read walks them all: at 300 revisions a fingerprint took
            # 5 ms at the end instead of 2.5. Never in place: a failure there rolls back.
            alembic_api.commit_and_continue(mc)
        self._tested(rev, ok=True)
        return again

    def _fingerprint(self, mc: MigrationContext) -> str:
        return self._fingerprinter(mc.connection)

    def _down_to_base(self, mc: MigrationContext) -> Iterator[RevisionStep]:
        for rev in reversed(list(self.applied)):
            self.current = (rev, Phase.BASE)
            yield self._step(rev, False)
            self.applied.remove(rev)
            alembic_api.commit_and_continue(
                mc
            )  # the run is on a scratch database here (see _round_trip)
        assert self.empty is not None
        end = snapshot(mc.connection, version_table=mc.version_table)
        if end.fingerprint != self.empty.fingerprint:
            diff = diff_snapshots(self.empty, end)
            sentences = [
                s
                for s in diff.sentences("downgrade base")
                if self.log.key(s) not in self.log.explained
            ]
            if sentences:
                self.log.add(
                    BASE_NOT_EMPTY,
                    None,
                    "; ".join(sentences),
                    help="Each leftover must be dropped by the downgrade of the revision that "
                    "created it.",
                )

    def _step(self, rev: str, upgrade: bool) -> RevisionStep:
        self.result.steps += 1
        if self._impl is not None:
            # SQLAlchemy notes each enum type it created in the DDL runner's memo (alembic's
            # impl, one per MigrationContext) and skips CREATE TYPE when it sees the name
            # again; a re-upgrade in the same context would then miss the type. Each
            # revision starts with a clean memo, as when it runs in its own alembic command.
            alembic_api.forget_created_types(self._impl)
        return revision_step(self.project, rev, upgrade=upgrade)

    def _seed(self, mc: MigrationContext, tables: list[Table] | None = None) -> list[Table] | None:
        """Fill tables before a step (unless --no-data or the revision is retried without
        rows); return the tables as they are now, or None when nothing was seeded."""
        revision = self.current[0] if self.current else None
        if self.seeder is None or revision in self.unseeded:
            return None
        return self.seeder.seed(mc.connection, version_table=mc.version_table, tables=tables)

    def _descends_from_broken(self, rev: str) -> bool:
        """True when a revision `rev` requires directly failed its round trip."""
        return any(p in self.broken for p in self.project.graph.requires.get(rev, ()))

    # --- after a failure -----------------------------------------------------------------

    def _after_error(self, error: BaseException) -> _Probe | None:
        """Record the failure as a finding, move past it; return what the next database
        must check after rebuilding."""
        if isinstance(error, _Stop):
            self.stopped = True
            return None
        if self.current is None:
            raise error  # revisor's own query failed before any step: a bug, not a finding
        rev, phase = self.current
        missing = missing_extension(error)
        if missing:
            raise ExtensionMissing(missing, rev, self.server.source == "embedded") from error
        # Each failure moves the run past a revision; one that does not (a rebuild of
        # revisions that passed before fails, or the same step fails the same way again)
        # would rebuild and fail forever: stop with a finding instead.
        signature = (rev, phase, error_name(error), str(error).strip()[:200])
        repeated, self._last_failure = signature == self._last_failure, signature
        if repeated or (phase is Phase.SETUP and rev in self.applied):
            self.log.failure(REBUILD_FAILS, rev, "upgrade", error)
            self.stopped = True
            return None
        probe: _Probe | None = None
        if isinstance(error, _Mismatch):
            if self.in_place is not None:  # no next database: name the differences now
                expected = self.expected_in_place[error.phase]
                self.log.mismatch(rev, error.phase, diff_snapshots(expected, error.actual))
            elif phase is Phase.DOWNGRADE:
                probe = _Probe(len(self.applied), rev, phase, error.actual)
            else:
                probe = _Probe(len(self.applied) + 1, rev, phase, error.actual)
            self.applied.append(rev)
            self.index += 1
            self._tested(rev, ok=False)
        elif (
            phase in (Phase.UPGRADE, Phase.DOWNGRADE, Phase.REUPGRADE)
            and self.seeder is not None
            and rev not in self.unseeded
            and error_name(error) in SAMPLE_DATA_ERRORS
        ):
            self.log.failure(SAMPLE_DATA_FAILS, rev, phase.value, error)
            self.unseeded.add(rev)  # same revision again, on a database without rows
        elif phase in (Phase.UPGRADE, Phase.SETUP):
            self.log.failure(UPGRADE_FAILS, rev, "upgrade", error)
            self.broken.add(rev)
            self.index += 1
            if phase is Phase.UPGRADE:
                self._tested(rev, ok=False)
        elif phase in (Phase.DOWNGRADE, Phase.REUPGRADE):
            code = DOWNGRADE_FAILS if phase is Phase.DOWNGRADE else REUPGRADE_FAILS
            self.log.failure(code, rev, phase.value, error)
            self.applied.append(rev)
            self.index += 1
            self._tested(rev, ok=False)
        else:  # downgrade to base
            if (rev, Phase.DOWNGRADE.value) not in self.log.reported:
                self.log.failure(DOWNGRADE_FAILS, rev, "downgrade", error)
            self.stopped = True
        # With -x a mismatch is not a finding yet: the next database's probe names the
        # differences, then stops the run.
        if self.options.fail_fast and not self.result.ok:
            self.stopped = True
        return probe

    def _compare_probe(self, mc: MigrationContext, probe: _Probe) -> None:
        expected = snapshot(mc.connection, version_table=mc.version_table)
        diff = diff_snapshots(expected, probe.actual)
        self.log.mismatch(probe.revision, probe.phase, diff)
        if self.options.fail_fast and not self.result.ok:  # unless [tool.revisor] ignores it
            raise _Stop()

    def _tested(self, rev: str, *, ok: bool) -> None:
        self.result.tested.append(rev)
        self.done_count += 1
        self.on_progress(Progress(self.done_count, len(self.plan.tested), rev, ok))


def _columns(tables: list[Table] | None, *, with_rows: bool = False) -> dict[str, set[str]] | None:
    """{table: column names}, of the tables holding rows only if `with_rows`."""
    if tables is None:
        return None
    return {t.name: {c.name for c in t.columns} for t in tables if t.has_rows or not with_rows}


def round_trip(
    project: Project,
    plan: RoundTripPlan,
    server: DatabaseUrl,
    options: RoundTripOptions | None = None,
    *,
    database: DatabaseUrl | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    first_database: PendingDatabase | None = None,
) -> RoundTripResult:
    """Round-trip the plan's revisions on scratch databases of `server` (or, with
    `database`, in place on that database). Returns the findings; never prints.
    `first_database`, a scratch database of `server` already being created, is used (and
    dropped) as the first one; the caller still `release()`s it in case it never was.
    Raises ExtensionMissing, EnvImportError and DatabaseError subclasses."""
    runner = RoundTrip(
        project,
        plan,
        server,
        options or RoundTripOptions(),
        database=database,
        on_progress=on_progress,
        first_database=first_database,
    )
    return runner.run()
