"""The round trip: every revision upgraded, downgraded and upgraded again on a scratch
database, the schema compared after each step.

Per tested revision r, with S0 the schema before it:
    fingerprint S0 -> upgrade r -> S1 -> downgrade r -> must be S0 -> upgrade r -> must be S1
and, when the whole history is tested, `downgrade base` at the end must leave the schema the
run started from. Comparisons use a server-side md5 of the catalog (one round trip); the
full snapshot and its diff are only taken when fingerprints differ.

Everything runs through the project's env.py in one MigrationContext per database (see
envrun.py). A failure ends that context; the run then continues on a fresh scratch database
rebuilt to the right revision, so one broken revision does not hide the others.
"""

from __future__ import annotations

import ast
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext, RevisionStep

from revisor.db.scratch import SCRATCH_PREFIX, create_database, drop_database
from revisor.db.url import DatabaseUrl
from revisor.errors import ExtensionMissing
from revisor.findings import Finding, Severity
from revisor.migrate import missing_extension
from revisor.project import Project
from revisor.snapshot.catalog import Snapshot, fingerprint, snapshot
from revisor.snapshot.diff import SnapshotDiff, diff_snapshots
from revisor.testing.envrun import revision_step, run_steps
from revisor.testing.locks import LockWatcher
from revisor.testing.plan import RoundTripPlan
from revisor.testing.seed_data import DataSeeder


class Phase(StrEnum):
    SETUP = "setup"  # applied on the way, not tested
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"
    REUPGRADE = "re-upgrade"
    BASE = "downgrade to base"


# Errors that revisor's own sample rows can cause (a value the real data would not have):
# reported as a warning, and the revision is tested again without rows.
_SAMPLE_DATA_ERRORS = {
    "ForeignKeyViolation",
    "CheckViolation",
    "UniqueViolation",
    "ExclusionViolation",
    "InvalidTextRepresentation",
    "NumericValueOutOfRange",
    "StringDataRightTruncation",
    "InvalidDatetimeFormat",
    "DatetimeFieldOverflow",
}

# (code, kebab-case name) of each kind of round-trip finding.
UPGRADE_FAILS = ("RT101", "upgrade-fails")
DOWNGRADE_FAILS = ("RT102", "downgrade-fails")
DOWNGRADE_NOT_INVERSE = ("RT103", "downgrade-does-not-undo-upgrade")
REUPGRADE_FAILS = ("RT104", "upgrade-fails-after-downgrade")
REUPGRADE_DIFFERS = ("RT105", "upgrade-not-repeatable")
BASE_NOT_EMPTY = ("RT106", "downgrade-base-leaves-objects")
DATA_LOST = ("RT201", "downgrade-drops-data")
SAMPLE_DATA_FAILS = ("RT202", "fails-on-sample-rows")
STRONG_LOCK = ("RT301", "lock-on-existing-table")


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
        return not any(f.severity is Severity.ERROR for f in self.findings)


@dataclass
class RoundTripOptions:
    data: bool = True
    locks: bool = False
    fail_fast: bool = False
    keep: bool = False


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
    ) -> None:
        self.project = project
        self.plan = plan
        self.server = server
        self.options = options
        self.in_place = database  # the user's own database (--in-place): never dropped
        self.on_progress = on_progress or (lambda p: None)
        self.result = RoundTripResult()
        # progress through plan.order, kept across env.py runs
        self.index = 0
        self.applied: list[str] = []
        self.broken: set[str] = set()
        self.reported: set[tuple[str, str]] = set()  # (revision, phase) with a finding
        self.explained: set[str] = set()  # difference sentences already reported
        self.unseeded: set[str] = set()  # revisions retried without sample rows
        self.current: tuple[str, Phase] | None = None
        self._impl: Any = None
        self.empty: Snapshot | None = None
        self.done_count = 0
        self.stopped = False
        self.seeder = DataSeeder() if options.data else None
        self.locks = LockWatcher() if options.locks else None

    # --- the outer loop: one env.py run per scratch database ---------------------------

    def run(self) -> RoundTripResult:
        """Run the plan; return findings. Side effects: creates (and unless keep, drops)
        scratch databases on the server; with in_place, migrates that database."""
        started = time.perf_counter()
        probe: _Probe | None = None
        first = True
        while not self.stopped:
            url, name = self._database(first)
            try:
                outcome = run_steps(self.project, url, lambda mc, p=probe: self._steps(mc, p))
            finally:
                if name and not (self.options.keep and self._finished_after()):
                    drop_database(self.server, name)
                elif name:
                    self.result.databases_kept.append(name)
            first = False
            probe = None
            if outcome.error is None:
                break
            probe = self._after_error(outcome.error)
            if self.in_place is not None:
                break  # the user's database cannot be rebuilt: stop at the first failure
        self.result.seconds = time.perf_counter() - started
        self.on_progress(Progress(len(self.plan.tested), len(self.plan.tested), None, True))
        return self.result

    def _finished_after(self) -> bool:
        # Only keep the last database: earlier ones were abandoned after a failure.
        return True

    def _database(self, first: bool) -> tuple[DatabaseUrl, str | None]:
        if self.in_place is not None:
            return self.in_place, None
        import secrets

        name = f"{SCRATCH_PREFIX}test_{secrets.token_hex(4)}"
        return create_database(self.server, name), name

    # --- one env.py run ------------------------------------------------------------------

    def _steps(self, mc: MigrationContext, probe: _Probe | None) -> Iterator[RevisionStep]:
        vt = mc.version_table
        conn = mc.connection
        self._impl = mc.impl
        if self.locks:
            self.locks.attach(conn)
        try:
            if self.empty is None:
                self.empty = snapshot(conn, version_table=vt)
            # Rebuild what the previous database had applied, checking a bad state on the way.
            rebuilt = list(self.applied)
            for i, rev in enumerate(rebuilt):
                if probe and probe.at == i:
                    self._compare_probe(mc, probe)
                self.current = (rev, Phase.SETUP)
                yield self._step(rev, True)
            if probe and probe.at == len(rebuilt):
                self._compare_probe(mc, probe)
            before = fingerprint(mc.connection, version_table=vt)
            while self.index < len(self.plan.order):
                rev = self.plan.order[self.index]
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
                    before = fingerprint(mc.connection, version_table=vt)
                    continue
                before = yield from self._round_trip(mc, rev, before)
            if self.plan.full and self.in_place is None:
                yield from self._down_to_base(mc)
        finally:
            if self.locks:
                self.locks.detach()

    def _round_trip(self, mc: MigrationContext, rev: str, before: str) -> Iterator[RevisionStep]:
        vt = mc.version_table
        self.current = (rev, Phase.UPGRADE)
        self._seed(mc)
        existed = self.seeder.table_columns(mc.connection, vt) if self.seeder else None
        if self.locks:
            _commit_now(mc)
            self.locks.begin_step(mc.connection, rev)
        yield self._step(rev, True)
        if self.locks:
            self._lock_findings(rev, self.locks.end_step())
        upgraded = fingerprint(mc.connection, version_table=vt)
        self._seed(mc)
        populated = self.seeder.populated_columns(mc.connection, vt) if self.seeder else None
        self.current = (rev, Phase.DOWNGRADE)
        yield self._step(rev, False)
        if populated is not None and existed is not None and self.seeder:
            after = {
                t.name: {c.name for c in t.columns}
                for t in self.seeder.tables(mc.connection, vt)
                if t.has_rows
            }
            self._data_loss(rev, populated, existed, after)
        if fingerprint(mc.connection, version_table=vt) != before:
            raise _Mismatch(Phase.DOWNGRADE, snapshot(mc.connection, version_table=vt))
        self._seed(mc)
        self.current = (rev, Phase.REUPGRADE)
        yield self._step(rev, True)
        again = fingerprint(mc.connection, version_table=vt)
        if again != upgraded:
            raise _Mismatch(Phase.REUPGRADE, snapshot(mc.connection, version_table=vt))
        self.applied.append(rev)
        self.index += 1
        self._tested(rev, ok=True)
        return again

    def _down_to_base(self, mc: MigrationContext) -> Iterator[RevisionStep]:
        for rev in reversed(list(self.applied)):
            self.current = (rev, Phase.BASE)
            yield self._step(rev, False)
            self.applied.remove(rev)
        assert self.empty is not None
        end = snapshot(mc.connection, version_table=mc.version_table)
        if end.fingerprint != self.empty.fingerprint:
            diff = diff_snapshots(self.empty, end)
            sentences = [
                s for s in diff.sentences("downgrade base") if self._key(s) not in self.explained
            ]
            if sentences:
                self._add(
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
            self._impl.memo = {}
        return revision_step(self.project, rev, upgrade=upgrade)

    def _seed(self, mc: MigrationContext) -> None:
        if self.seeder is not None and (
            self.current is None or self.current[0] not in self.unseeded
        ):
            self.seeder.seed(mc.connection, version_table=mc.version_table)

    def _descends_from_broken(self, rev: str) -> bool:
        script = self.project.script.get_revision(rev)
        return script is not None and any(p in self.broken for p in script._all_down_revisions)

    # --- after a failure -----------------------------------------------------------------

    def _after_error(self, error: BaseException) -> _Probe | None:
        """Record the failure as a finding, move past it; return what the next database
        must check after rebuilding."""
        if self.current is None:
            raise error
        rev, phase = self.current
        if isinstance(error, _Stop):
            self.stopped = True
            return None
        missing = missing_extension(error)
        if missing:
            raise ExtensionMissing(missing, rev, self.server.source == "embedded") from error
        probe: _Probe | None = None
        if isinstance(error, _Mismatch):
            if phase is Phase.DOWNGRADE:
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
            and _error_name(error) in _SAMPLE_DATA_ERRORS
        ):
            self._failure(SAMPLE_DATA_FAILS, rev, phase.value, error, severity=Severity.WARNING)
            self.unseeded.add(rev)  # same revision again, on a database without rows
        elif phase in (Phase.UPGRADE, Phase.SETUP):
            self._failure(UPGRADE_FAILS, rev, "upgrade", error)
            self.broken.add(rev)
            self.index += 1
            if phase is Phase.UPGRADE:
                self._tested(rev, ok=False)
        elif phase in (Phase.DOWNGRADE, Phase.REUPGRADE):
            code = DOWNGRADE_FAILS if phase is Phase.DOWNGRADE else REUPGRADE_FAILS
            self._failure(code, rev, phase.value, error)
            self.applied.append(rev)
            self.index += 1
            self._tested(rev, ok=False)
        else:  # downgrade to base
            if (rev, Phase.DOWNGRADE.value) not in self.reported:
                self._failure(DOWNGRADE_FAILS, rev, "downgrade", error)
            self.stopped = True
        if self.options.fail_fast and not self.result.ok:
            self.stopped = True
        if probe is not None and self.options.fail_fast:
            # -x still says what the mismatch was: rebuild once to compare, then stop.
            pass
        return probe

    def _compare_probe(self, mc: MigrationContext, probe: _Probe) -> None:
        expected = snapshot(mc.connection, version_table=mc.version_table)
        diff = diff_snapshots(expected, probe.actual)
        self._mismatch_finding(probe.revision, probe.phase, diff)
        if self.options.fail_fast:
            raise _Stop()

    def _mismatch_finding(self, rev: str, phase: Phase, diff: SnapshotDiff) -> None:
        short = rev[:12]
        if phase is Phase.DOWNGRADE:
            sentences = diff.sentences(f"downgrade of {short}")
            self.explained.update(self._key(s) for s in diff.sentences("downgrade base"))
            self._add(
                DOWNGRADE_NOT_INVERSE,
                rev,
                "; ".join(sentences) or f"downgrade of {short} changed the schema",
                help="The downgrade must undo exactly what the upgrade did: drop what it "
                "created (indexes, enum types, sequences) and restore what it dropped.",
                func="downgrade",
            )
        else:
            sentences = diff.sentences(f"re-upgrade of {short} (after its downgrade)")
            self._add(
                REUPGRADE_DIFFERS,
                rev,
                "; ".join(sentences) or f"upgrade of {short} is not repeatable",
                help="Upgrading again after the downgrade gave a different schema: the "
                "downgrade leaves state the upgrade depends on.",
                func="upgrade",
            )

    @staticmethod
    def _key(sentence: str) -> str:
        return sentence.split(" ", 2)[-1] if sentence.startswith("downgrade base") else sentence

    def _failure(
        self,
        code: tuple[str, str],
        rev: str,
        step: str,
        error: BaseException,
        severity: Severity = Severity.ERROR,
    ) -> None:
        orig = getattr(error, "orig", None) or error
        lines = str(orig).strip().splitlines()
        first = lines[0] if lines else ""
        name = type(orig).__name__
        if "it has no name" in first:
            # SQLAlchemy's CompileError repr of the constraint object says nothing useful.
            first = "the constraint to drop has no name (it was created unnamed)"
        func = "downgrade" if step == "downgrade" else "upgrade"
        message = f"{step} of {rev[:12]} fails: {name}: {first}"
        help = self._help_for(rev, step, name, first)
        if code == SAMPLE_DATA_FAILS:
            message += " (on rows revisor inserted)"
            help = (
                "The migration fails on revisor's sample rows; real rows may pass, but "
                "check that existing data satisfies it. The revision was then tested on "
                "empty tables."
            )
        self._add(
            code,
            rev,
            message,
            severity=severity,
            help=help,
            func=func,
            line=self._failing_line(rev, error),
        )

    def _help_for(self, rev: str, step: str, error_name: str, text: str) -> str | None:
        if step == "upgrade" and error_name in ("UndefinedTable", "UndefinedObject"):
            empty = self._empty_ancestor(rev)
            if empty:
                return (
                    f"The base revision {empty[:12]} is empty (its upgrade is `pass`): the "
                    "schema was probably made with metadata.create_all() and stamped, so on "
                    "an empty database nothing creates what later revisions alter. Make the "
                    "base revision create the initial schema."
                )
        if error_name == "NotNullViolation" and self.seeder is not None:
            return (
                "revisor put rows in the tables first, as production has: a NOT NULL column "
                "needs a server_default, or add it nullable, backfill, then set NOT NULL."
            )
        if "no name" in text or "Constraint must have a name" in text:
            return (
                "The constraint was created without a name, so the downgrade cannot name "
                "it: give it an explicit name (or a MetaData naming_convention) in both "
                "upgrade and downgrade."
            )
        if step == "re-upgrade" and error_name.startswith("Duplicate"):
            return "The downgrade left this object behind; drop it in the downgrade."
        if error_name == "UniqueViolation":
            return "The migration fails on tables with rows: check it against existing data."
        return None

    def _empty_ancestor(self, rev: str) -> str | None:
        from revisor.testing.plan import ancestors

        for anc in ancestors(self.project, {rev}):
            script = self.project.script.get_revision(anc)
            if script is not None and not script._all_down_revisions and _is_empty(script):
                return anc
        return None

    def _failing_line(self, rev: str, error: BaseException) -> int | None:
        path = self._path(rev)
        if path is None:
            return None
        target = str(path.resolve())
        line = None
        seen: set[int] = set()
        current: BaseException | None = error
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            for frame in traceback.extract_tb(current.__traceback__):
                if str(Path(frame.filename).resolve()) == target:
                    line = frame.lineno
            current = current.__cause__ or current.__context__
        return line

    # --- findings ------------------------------------------------------------------------

    def _path(self, rev: str | None) -> Path | None:
        if rev is None:
            return None
        script = self.project.script.get_revision(rev)
        return Path(script.path) if script is not None else None

    def _add(
        self,
        code: tuple[str, str],
        rev: str | None,
        message: str,
        *,
        help: str | None = None,
        func: str | None = None,
        line: int | None = None,
        severity: Severity = Severity.ERROR,
        extra: dict[str, object] | None = None,
    ) -> None:
        if line is None and rev is not None and func is not None:
            line = _function_line(self.project, rev, func)
        if rev is not None and severity is Severity.ERROR:
            phase = message.split(" of ", 1)[0]
            self.reported.add((rev, phase))
        self.result.findings.append(
            Finding(
                code=code[0],
                severity=severity,
                message=message,
                path=self._path(rev),
                line=line,
                help=help,
                name=code[1],
                revision=rev,
                extra=extra or {},
            )
        )

    def _tested(self, rev: str, *, ok: bool) -> None:
        self.result.tested.append(rev)
        self.done_count += 1
        self.on_progress(Progress(self.done_count, len(self.plan.tested), rev, ok))

    def _data_loss(
        self,
        rev: str,
        populated: dict[str, set[str]],
        existed: dict[str, set[str]],
        after: dict[str, set[str]],
    ) -> None:
        # `after` holds the tables that still have rows. Dropping what the upgrade itself
        # created is what a downgrade is for; only tables and columns that were there
        # before the upgrade are reported.
        lost = []
        for table, columns in sorted(populated.items()):
            if table not in existed:
                continue
            if table not in after:
                lost.append(f"table {table}")
            else:
                gone = (columns & existed[table]) - after[table]
                lost.extend(f"column {table}.{c}" for c in sorted(gone))
        if lost:
            self._add(
                DATA_LOST,
                rev,
                f"downgrade of {rev[:12]} destroys data that existed before its upgrade: "
                f"{', '.join(lost)}",
                help="Rolling back loses these rows for good: make the downgrade restore "
                "the data (or keep the table/column) if a rollback must be safe.",
                func="downgrade",
                severity=Severity.WARNING,
            )

    def _lock_findings(self, rev: str, events: list[Any]) -> None:
        for event in events:
            self._add(
                STRONG_LOCK,
                rev,
                f"upgrade of {rev[:12]} takes {event.mode} on existing table {event.table} "
                f"during: {event.statement}",
                help="While the statement runs, this lock blocks "
                + ("reads and writes" if event.mode == "AccessExclusiveLock" else "writes")
                + " on the table; on a busy table use a concurrent or NOT VALID variant, "
                "or set lock_timeout.",
                func="upgrade",
                severity=Severity.WARNING,
                extra={"table": event.table, "mode": event.mode, "statement": event.statement},
            )


def _commit_now(mc: MigrationContext) -> None:
    """Commit the work so far and continue in a new transaction, as autocommit_block()
    does. With --locks only: when env.py runs every revision in one transaction, the locks
    of earlier revisions would still be held and hide the ones this revision takes."""
    conn = mc.connection
    if conn is None or not conn.in_transaction():
        return
    transaction = mc._transaction
    if transaction is not None:
        transaction.commit()
        mc._transaction = conn.begin()
    else:
        conn.commit()


def _error_name(error: BaseException) -> str:
    return type(getattr(error, "orig", None) or error).__name__


def _function_line(project: Project, rev: str, func: str) -> int | None:
    script = project.script.get_revision(rev)
    fn = getattr(getattr(script, "module", None), func, None)
    code = getattr(fn, "__code__", None)
    return code.co_firstlineno if code is not None else None


def _is_empty(script: Any) -> bool:
    """True when the revision's upgrade() body is only `pass`, a docstring or `...`."""
    try:
        tree = ast.parse(Path(script.path).read_text())
    except (OSError, SyntaxError):
        return False
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "upgrade":
            return all(
                isinstance(stmt, ast.Pass)
                or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
                for stmt in node.body
            )
    return False


def round_trip(
    project: Project,
    plan: RoundTripPlan,
    server: DatabaseUrl,
    options: RoundTripOptions | None = None,
    *,
    database: DatabaseUrl | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> RoundTripResult:
    """Round-trip the plan's revisions on scratch databases of `server` (or, with
    `database`, in place on that database). Returns the findings; never prints.
    Raises ExtensionMissing, EnvImportError and DatabaseError subclasses."""
    runner = RoundTrip(
        project,
        plan,
        server,
        options or RoundTripOptions(),
        database=database,
        on_progress=on_progress,
    )
    return runner.run()
