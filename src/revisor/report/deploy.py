"""`revisor deploy`'s output: its progress events as lines (a live bar on a terminal) and
its result as text or JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from revisor.deploy import (
    DeployEvent,
    DeployFailure,
    DeployResult,
    LockAcquired,
    LockWaiting,
    Planned,
    Reviewed,
    RevisionApplied,
    RevisionRetry,
    RevisionStarted,
    Status,
)
from revisor.findings import Severity
from revisor.fix_commands import FixCommands
from revisor.report import location
from revisor.report.json import finding_dict


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _duration(value: float) -> str:
    """A configured duration as given: 100ms, 5s."""
    return f"{value * 1000:g}ms" if 0 < value < 1 else f"{value:g}s"


def _revisions(revisions: tuple[str, ...] | list[str] | None) -> str:
    if revisions is None:
        return "(unknown)"
    return ", ".join(revisions) or "(no revision)"


class DeployReporter:
    """Renders a deploy for people (text on stdout, failures on stderr) or machines (one
    JSON object on stdout at the end, nothing else)."""

    def __init__(
        self,
        root: Path,
        source: str,
        commands: FixCommands,
        *,
        json: bool = False,
        sql: bool = False,
    ) -> None:
        self.root = root
        self.source = source  # where the database URL came from: --url, DATABASE_URL, ...
        self.commands = commands  # the hints' commands: same project, same database
        self.json = json
        # with --sql stdout holds the SQL alone (for a file or psql), the plan goes to stderr
        plan_stream = sys.stderr if sql and not json else sys.stdout
        self.out = Console(file=plan_stream, highlight=False, soft_wrap=True)
        self.err = Console(file=sys.stderr, highlight=False, soft_wrap=True)
        self.progress: Progress | None = None
        self.task: Any = None

    # --- events ----------------------------------------------------------------------

    def event(self, event: DeployEvent) -> None:
        if self.json:
            return
        if isinstance(event, LockWaiting):
            who = ", ".join(h.describe() for h in event.holders) or "a session that just ended"
            self._line(
                f"[yellow]waiting[/] up to {event.wait:g}s for the deploy lock, held by "
                f"{escape(who)}"
            )
        elif isinstance(event, LockAcquired):
            if event.waited >= 0.5:
                self._line(f"lock acquired after {_seconds(event.waited)}")
        elif isinstance(event, Planned):
            self._planned(event.result)
        elif isinstance(event, Reviewed):
            self._reviewed(event)
        elif isinstance(event, RevisionStarted):
            self._started(event)
        elif isinstance(event, RevisionApplied):
            self._line(
                f"  [green]applied[/] {event.revision.revision}  "
                f"{escape(event.revision.message)}  ({_seconds(event.seconds)})"
            )
            if self.progress is not None:
                self.progress.advance(self.task)
        elif isinstance(event, RevisionRetry):
            self._line(
                f"  [yellow]lock timeout[/] in {event.revision.revision} (attempt "
                f"{event.attempt}){escape(self._lock_detail(event.failure))}: rolled back, "
                f"retrying in {event.delay:g}s"
            )

    def _line(self, text: str) -> None:
        console = self.progress.console if self.progress is not None else self.out
        console.print(text)

    @staticmethod
    def _target(result: DeployResult) -> str:
        target = _revisions(result.target)
        return f"head ({target})" if result.target_is_head else target

    def _planned(self, result: DeployResult) -> None:
        where = f"{escape(result.database)} (from {self.source})"
        if not result.pending:
            return  # finish() says it in one line
        self.out.print(f"database  {where}")
        self.out.print(
            f"revision  {_revisions(result.current)} -> {self._target(result)}: "
            f"{len(result.pending)} pending"
        )
        for pending in result.pending:
            self.out.print(f"  {pending.revision}  {escape(pending.message)}")

    def _reviewed(self, event: Reviewed) -> None:
        shown = [f for f in event.findings if f.severity is not Severity.INFO]
        errors = sum(1 for f in shown if f.severity is Severity.ERROR)
        if not shown:
            self.out.print("review    clean")
            return
        counts = [f"{errors} error(s)"] if errors else []
        if len(shown) > errors:
            counts.append(f"{len(shown) - errors} warning(s)")
        self.out.print(f"review    {', '.join(counts)}")
        for finding in sorted(shown, key=lambda f: f.severity is not Severity.ERROR):
            colour = "red" if finding.severity is Severity.ERROR else "yellow"
            self.out.print(
                f"  {escape(location(finding, self.root))}: {finding.code} "
                f"[{colour}]{finding.severity.value}[/] {escape(finding.message)}"
            )

    def _started(self, event: RevisionStarted) -> None:
        first = event.index == 0 and event.attempt == 1
        if first and self.progress is None and self.out.is_terminal:
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.out,
                transient=True,
            )
            self.task = self.progress.add_task("", total=event.total)
            self.progress.start()
        if self.progress is not None:
            self.progress.update(self.task, description=f"applying {event.revision.revision}")

    @staticmethod
    def _lock_detail(failure: DeployFailure) -> str:
        if not failure.relation:
            return ""
        held = ", ".join(h.describe() for h in failure.holders)
        return f" on {failure.relation}" + (f", held by {held}" if held else "")

    # --- the result -------------------------------------------------------------------

    def finish(self, result: DeployResult) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        if self.json:
            sys.stdout.write(json.dumps(self.as_json(result), indent=2) + "\n")
            return
        if result.sql is not None:  # also when the review refuses: the SQL is why
            sys.stdout.write(result.sql)
            sys.stdout.flush()
        at = _revisions(result.database_after)
        if result.status is Status.UP_TO_DATE:
            where = self._target(result)
            if set(result.current) != set(result.target):  # --to a revision it is past
                where = f"{_revisions(result.current)} ({where} is applied)"
            self.out.print(f"{escape(result.database)} is already at {where}: nothing to deploy.")
        elif result.status is Status.DRY_RUN:
            self.out.print(f"dry run: {len(result.pending)} revision(s) would be applied.")
        elif result.status is Status.REFUSED:
            self.err.print(
                "[bold red]error:[/] the review found errors in the pending revisions: "
                "nothing was migrated."
            )
            errors = [f for f in result.findings if f.severity is Severity.ERROR]
            if any(f.fix is not None for f in errors):
                fix = self.commands.revisor("review", "--fix", database=False)
                how = f"fix them ({escape(fix.quoted)})"
            else:  # `review --fix` would change nothing: say where the way out is
                how = "fix them as each one's help says"
            self.err.print(f"[dim]hint:[/] {how}, or deploy anyway with --no-review.")
        elif result.status is Status.APPLIED:
            self.out.print(
                f"[green]done[/]      database at {at}: {len(result.applied)} revision(s) "
                f"in {_seconds(result.seconds)}"
            )
        elif result.failure is not None:
            self._failed(result, result.failure)

    def _failed(self, result: DeployResult, failure: DeployFailure) -> None:
        at = _revisions(result.database_after)
        rev = failure.revision
        if result.status is Status.LOCK_TIMEOUT:
            self.err.print(
                f"[bold red]error:[/] revision {rev} could not get its lock within "
                f"lock_timeout {_duration(result.lock_timeout)} ({failure.attempts} attempt(s))"
                f"{escape(self._lock_detail(failure))}."
            )
        elif rev is None:
            self.err.print(f"[bold red]error:[/] {escape(failure.error)}")
        else:
            self.err.print(
                f"[bold red]error:[/] upgrade of revision {rev} failed: "
                f"{failure.error_type}: {escape(failure.error)}"
            )
        if result.database_after is None:
            self.err.print(
                "where the database is now is unknown: the version table could not be read "
                f"again ({escape(result.unreadable or '')}); check it with "
                f"{escape(self.commands.revisor('db', 'current').quoted)} before deploying "
                "again."
            )
        elif failure.autocommit and rev is not None:
            self.err.print(
                f"the database is at {at}; {rev} ran statements in an autocommit block, "
                "which are committed: it may be partly applied. Check its upgrade() "
                "against the database before deploying again."
            )
        elif rev is not None:
            self.err.print(
                f"the database is at {at}: {rev} was rolled back, nothing of it is applied."
            )
        else:
            self.err.print(f"the database is at {at}.")
        if result.status is Status.LOCK_TIMEOUT:
            hint = (
                "end or wait for the session holding the lock, then deploy again; or raise "
                "--lock-timeout / --retries."
            )
        else:
            hint = "fix the revision and deploy again; rerun with --debug for details."
        self.err.print(f"[dim]hint:[/] {hint}")

    def as_json(self, result: DeployResult) -> dict[str, Any]:
        failure = result.failure
        return {
            "status": result.status.value,
            "exit_code": int(result.exit_code),
            "database": result.database,
            "version_table": result.version_table,
            "lock_timeout_seconds": result.lock_timeout,
            "lock_waited_seconds": None
            if result.lock_waited is None
            else round(result.lock_waited, 3),
            "current": list(result.current),
            "target": list(result.target),
            "target_is_head": result.target_is_head,
            "pending": [{"revision": p.revision, "message": p.message} for p in result.pending],
            "review": [finding_dict(f, self.root) for f in result.findings],
            "applied": [
                {"revision": a.revision, "seconds": round(a.seconds, 4), "attempts": a.attempts}
                for a in result.applied
            ],
            "failure": None
            if failure is None
            else {
                "revision": failure.revision,
                "error_type": failure.error_type,
                "error": failure.error,
                "sqlstate": failure.sqlstate,
                "attempts": failure.attempts,
                "lock_timeout": failure.lock_timeout,
                "partly_applied_possible": failure.autocommit,
                "relation": failure.relation,
                "holders": [h.describe() for h in failure.holders],
            },
            "database_after": None
            if result.database_after is None
            else list(result.database_after),
            "database_after_error": result.unreadable,
            "seconds": round(result.seconds, 4),
            "sql": result.sql,
        }
