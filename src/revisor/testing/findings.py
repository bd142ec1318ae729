"""The findings of a round trip: what failed or differed, in plain words, with the revision
file and line, and a help line when revisor recognises the cause."""

from __future__ import annotations

import ast
import traceback
from enum import StrEnum
from pathlib import Path
from typing import Any

from revisor.codes import FindingCode
from revisor.codes.selection import Selection
from revisor.findings import Finding, Severity
from revisor.project import Project
from revisor.snapshot.diff import SECURITY_NOTE, SnapshotDiff
from revisor.testing.kinds import (
    BASE_NOT_EMPTY,
    DATA_LOST,
    DOWNGRADE_FAILS,
    DOWNGRADE_NOT_INVERSE,
    REBUILD_FAILS,
    REUPGRADE_DIFFERS,
    REUPGRADE_FAILS,
    SAMPLE_DATA_FAILS,
    STRONG_LOCK,
    TABLE_REWRITE,
    UPGRADE_FAILS,
)

__all__ = [
    "BASE_NOT_EMPTY",
    "DATA_LOST",
    "DOWNGRADE_FAILS",
    "DOWNGRADE_NOT_INVERSE",
    "REBUILD_FAILS",
    "REUPGRADE_DIFFERS",
    "REUPGRADE_FAILS",
    "SAMPLE_DATA_ERRORS",
    "SAMPLE_DATA_FAILS",
    "STRONG_LOCK",
    "TABLE_REWRITE",
    "UPGRADE_FAILS",
    "FindingLog",
    "Phase",
    "error_name",
]


class Phase(StrEnum):
    SETUP = "setup"  # applied on the way, not tested
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"
    REUPGRADE = "re-upgrade"
    BASE = "downgrade to base"


# Errors that revisor's own sample rows can cause (a value the real data would not have):
# reported as a warning, and the revision is tested again without rows.
SAMPLE_DATA_ERRORS = {
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


class FindingLog:
    """Collects the findings of one run; remembers what was said so nothing is said twice.
    `selection` ([tool.revisor] for `revisor test`) drops ignored codes and sets levels as
    each finding is recorded, so the run's outcome (and -x) follows it."""

    def __init__(
        self, project: Project, *, seeding: bool, selection: Selection | None = None
    ) -> None:
        self.project = project
        self.seeding = seeding  # sample rows were inserted (explains NOT NULL failures)
        self.selection = selection
        self.findings: list[Finding] = []
        self.reported: set[tuple[str, str]] = set()  # (revision, step) with an error
        self.explained: set[str] = set()  # differences already reported

    def mismatch(self, rev: str, phase: Phase, diff: SnapshotDiff) -> None:
        """RT103/RT105: the schema after a downgrade or re-upgrade is not the expected one.
        A privilege the expected schema does not have is also said to be a security
        finding."""
        short = rev[:12]
        widened = diff.widened_privileges
        security = (
            f" ({SECURITY_NOTE}: {'; '.join(d.describe() for d in widened)})" if widened else ""
        )
        extra: dict[str, object] = {"security": True} if widened else {}
        if phase is Phase.DOWNGRADE:
            sentences = diff.sentences(f"downgrade of {short}")
            self.explained.update(self.key(s) for s in diff.sentences("downgrade base"))
            help = (
                "The downgrade must undo exactly what the upgrade did: drop what it "
                "created (indexes, enum types, sequences) and restore what it dropped."
            )
            if widened:
                help += (
                    " Revoke in the downgrade what the upgrade granted: a grant left behind "
                    "keeps access open that no revision in the history gives."
                )
            self.add(
                DOWNGRADE_NOT_INVERSE,
                rev,
                ("; ".join(sentences) or f"downgrade of {short} changed the schema") + security,
                help=help,
                func="downgrade",
                extra=extra,
            )
        else:
            sentences = diff.sentences(f"re-upgrade of {short} (after its downgrade)")
            self.add(
                REUPGRADE_DIFFERS,
                rev,
                ("; ".join(sentences) or f"upgrade of {short} is not repeatable") + security,
                help="Upgrading again after the downgrade gave a different schema: the "
                "downgrade leaves state the upgrade depends on.",
                func="upgrade",
                extra=extra,
            )

    @staticmethod
    def key(sentence: str) -> str:
        """A difference without its subject, to tell whether it was already reported."""
        return sentence.split(" ", 2)[-1] if sentence.startswith("downgrade base") else sentence

    def failure(
        self,
        code: FindingCode,
        rev: str,
        step: str,
        error: BaseException,
        severity: Severity | None = None,
    ) -> None:
        """A step that raised: the error's class and first line, where it was raised."""
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
        if code is REBUILD_FAILS:
            message += " again, on a fresh scratch database: revisor stopped the run"
            help = (
                "The same step failed the same way twice, or a revision that upgraded "
                "before fails when revisor rebuilds a fresh database up to it: the migration "
                "depends on something outside the history (rows, another database), or "
                "env.py migrates a database other than the one revisor gave it."
            )
        if code is SAMPLE_DATA_FAILS:
            message += " (on rows revisor inserted)"
            help = (
                "The migration fails on revisor's sample rows; real rows may pass, but "
                "check that existing data satisfies it. The revision was then tested on "
                "empty tables."
            )
        self.add(
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
        if error_name == "NotNullViolation" and self.seeding:
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
        """A base revision below `rev` whose upgrade does nothing, or None."""
        graph = self.project.graph
        for anc in self.project.ancestors({rev}):
            if graph.requires.get(anc):
                continue  # not a base
            script = self.project.script.get_revision(anc)
            if script is not None and _is_empty(script):
                return anc
        return None

    def _failing_line(self, rev: str, error: BaseException) -> int | None:
        path = self.path(rev)
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

    def path(self, rev: str | None) -> Path | None:
        """The revision's file."""
        if rev is None:
            return None
        script = self.project.script.get_revision(rev)
        return Path(script.path) if script is not None else None

    def add(
        self,
        code: FindingCode,
        rev: str | None,
        message: str,
        *,
        help: str | None = None,
        func: str | None = None,
        line: int | None = None,
        severity: Severity | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        """Record a finding located at the revision file (the line given, else the
        function's `def`), unless [tool.revisor] ignores its code."""
        if line is None and rev is not None and func is not None:
            line = _function_line(self.project, rev, func)
        severity = severity or code.severity
        if rev is not None and severity is Severity.ERROR:
            # What failed, whatever level the user gives it: the run's own bookkeeping.
            phase = message.split(" of ", 1)[0]
            self.reported.add((rev, phase))
        finding = code.finding(
            message,
            help,
            path=self.path(rev),
            line=line,
            revision=rev,
            severity=severity,
            **(extra or {}),
        )
        if self.selection is not None:
            if not self.selection.keeps(finding, self.project.root):
                return
            finding = self.selection.level(finding)
        self.findings.append(finding)

    def data_loss(
        self,
        rev: str,
        populated: dict[str, set[str]],
        existed: dict[str, set[str]],
        after: dict[str, set[str]],
    ) -> None:
        """RT201: rows of tables/columns that predate the upgrade did not survive."""
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
            self.add(
                DATA_LOST,
                rev,
                f"downgrade of {rev[:12]} destroys data that existed before its upgrade: "
                f"{', '.join(lost)}",
                help="Rolling back loses these rows for good: make the downgrade restore "
                "the data (or keep the table/column) if a rollback must be safe.",
                func="downgrade",
            )

    def locks(self, rev: str, events: list[Any]) -> None:
        """RT301 per statement that blocked an existing table; RT302 when it rewrote it."""
        for event in events:
            held = "reads and writes" if event.mode == "AccessExclusiveLock" else "writes"
            did = "rewrites" if event.rewrote else "scans"
            extra = {
                "table": event.table,
                "mode": event.mode,
                "statement": event.statement,
                "direction": event.direction,
                "rewrite": event.rewrote,
                "seconds": round(event.seconds, 6),
            }
            self.add(
                STRONG_LOCK,
                rev,
                f"{event.direction} of {rev[:12]} {did} existing table {event.table} under "
                f"{event.mode} ({_duration(event.seconds)}) during: {event.statement}",
                help=f"The lock blocks {held} on the table for as long as the table takes "
                "to read: on a busy table use a concurrent or NOT VALID variant "
                "(revisor review names the recipe), or set lock_timeout.",
                func=event.direction,
                line=event.line,
                extra=extra,
            )
            if event.rewrote:
                self.add(
                    TABLE_REWRITE,
                    rev,
                    f"{event.direction} of {rev[:12]} rewrites existing table {event.table} "
                    f"({_duration(event.seconds)}) during: {event.statement}",
                    help="Every row is copied to a new file under ACCESS EXCLUSIVE: add the "
                    "new column or type beside the old one, backfill in batches, then switch.",
                    func=event.direction,
                    line=event.line,
                    extra=extra,
                )


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def error_name(error: BaseException) -> str:
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
