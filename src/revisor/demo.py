"""`revisor demo`: the seed's migration workflow, step by step, on a throwaway database.

The example app is copied to a temporary folder (so fixes never touch the original) and
migrated on a scratch database of the embedded PostgreSQL (or of --url's server).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rich.markup import escape

from revisor import migrate
from revisor.db.connect import raw_connect
from revisor.db.scratch import scratch_database
from revisor.db.url import DatabaseUrl
from revisor.errors import MigrationFailed
from revisor.examples import example_dir
from revisor.project import Project


@dataclass
class DemoStep:
    """One step of the walk-through, as the CLI shows it."""

    title: str
    command: str  # what a user would type with revisor
    alembic: str | None  # the seed's alembic equivalent, if any
    heads: tuple[str, ...] = ()
    tables: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    ok: bool = True


@dataclass
class DemoContext:
    """What every step works on."""

    project_dir: Path
    url: DatabaseUrl
    _project: Project | None = None

    @property
    def project(self) -> Project:
        if self._project is None:
            self._project = Project.load(self.project_dir / "alembic.ini")
        return self._project

    def reload(self) -> Project:
        """Forget the loaded project (after a step rewrote migration files)."""
        self._project = None
        return self.project

    def state(self, step: DemoStep) -> DemoStep:
        """Fill `step` with the database's current revision and tables."""
        step.heads = migrate.current_heads(self.url)
        step.tables = list_tables(self.url)
        return step


DemoStepFn = Callable[[DemoContext], DemoStep]


def list_tables(url: DatabaseUrl) -> list[str]:
    """Tables in the public schema, except alembic's version table."""
    with raw_connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version' ORDER BY tablename"
        ).fetchall()
    return [row[0] for row in rows]


def step_upgrade_head(ctx: DemoContext) -> DemoStep:
    migrate.upgrade(ctx.project, ctx.url, "heads")
    return ctx.state(DemoStep("Apply every migration", "alembic upgrade head", None))


_NAMES_STORAGE = 'sa.Enum(BillingCycle, name="billing_cycle")'
_VALUES_STORAGE = (
    'sa.Enum(BillingCycle, name="billing_cycle", values_callable=lambda e: [m.value for m in e])'
)
_SUBSCRIPTIONS = (
    "INSERT INTO vendors (name) VALUES ('Buffet Co');"
    "INSERT INTO subscriptions (vendor_id, amount, billing_cycle, next_charge_on) "
    "SELECT v.id, 9.90, c.cycle::billing_cycle, DATE '2025-01-01' FROM vendors v, "
    "(VALUES ('WEEKLY'), ('MONTHLY'), ('YEARLY')) AS c(cycle)"
)


def step_draft(ctx: DemoContext) -> DemoStep:
    """The seed's enum trap: store BillingCycle by value (monthly) instead of by name
    (MONTHLY), then let `revisor draft` write the migration, labels renamed in place."""
    from revisor.draft import draft

    with raw_connect(ctx.url) as conn:
        conn.execute(_SUBSCRIPTIONS)  # rows that the later rollback and re-apply must keep
    models = ctx.project_dir / "app" / "models.py"
    models.write_text(models.read_text().replace(_NAMES_STORAGE, _VALUES_STORAGE))
    result = draft(ctx.reload(), ctx.url, "store billing cycle values")
    ctx.reload()
    details = ["model: BillingCycle stored by value (values_callable)"]
    if result.path is not None:
        details.append(f"wrote: migrations/versions/{result.path.name}")
    details.extend(f"  {line}" for line in result.operations)
    details.extend(f"revisor: {line}" for line in result.report.rewrites)
    return ctx.state(
        DemoStep(
            "Draft a migration from a model change",
            'revisor draft -m "store billing cycle values"',
            'alembic revision --autogenerate -m "store billing cycle values"',
            details=details,
            ok=result.path is not None,
        )
    )


def step_apply_draft(ctx: DemoContext) -> DemoStep:
    """Apply the drafted migration; the subscription rows now hold the lowercase labels."""
    migrate.upgrade(ctx.project, ctx.url, "heads")
    with raw_connect(ctx.url) as conn:
        rows = conn.execute("SELECT billing_cycle::text FROM subscriptions ORDER BY id").fetchall()
    step = DemoStep(
        "Apply the draft",
        "alembic upgrade head",
        None,
        details=[f"subscriptions.billing_cycle: {', '.join(r[0] for r in rows)}"],
    )
    return ctx.state(step)


def step_downgrade_one(ctx: DemoContext) -> DemoStep:
    migrate.downgrade(ctx.project, ctx.url, "-1")
    return ctx.state(DemoStep("Roll back the last migration", "alembic downgrade -1", None))


def step_reapply(ctx: DemoContext) -> DemoStep:
    migrate.upgrade(ctx.project, ctx.url, "heads")
    return ctx.state(DemoStep("Re-apply it", "alembic upgrade head", None))


def step_test(ctx: DemoContext) -> DemoStep:
    """Round-trip every revision on a scratch database of the same server. On the reference
    app it names e6995e90df34's downgrade (the unnamed foreign key); a finding is shown, not
    raised, so the demo goes on."""
    from revisor.errors import RevisorError
    from revisor.testing.plan import make_plan
    from revisor.testing.roundtrip import RoundTripOptions, round_trip

    step = DemoStep(
        "Round-trip every revision (upgrade, downgrade, upgrade; schemas compared)",
        "revisor test",
        "alembic upgrade head && alembic downgrade -1 && alembic upgrade head (one revision)",
    )
    try:
        project = ctx.reload()
        result = round_trip(
            project, make_plan(project), ctx.url.with_database("postgres"), RoundTripOptions()
        )
    except RevisorError as exc:
        step.details.append(f"[red]revisor test could not run:[/] {exc.message}")
        step.ok = False
        return ctx.state(step)
    for finding in result.findings:
        step.details.append(f"[red]{finding.code}[/] {finding.message}")
        if finding.help:
            step.details.append(f"[dim]  help: {finding.help}[/]")
    step.details.append(
        f"{len(result.tested)} revisions, {result.steps} steps in {result.seconds:.2f}s: "
        + ("all round-trip" if result.ok else "[red]found the problem above[/]")
    )
    # A finding is the demo working as intended; the review step fixes it later.
    return ctx.state(step)


def step_check(ctx: DemoContext) -> DemoStep:
    """`revisor check` on the demo database (at head): models vs database, one head."""
    from rich.markup import escape

    from revisor.check import run_check
    from revisor.findings import has_errors

    result = run_check(ctx.project, url=ctx.url, review=False)
    step = DemoStep("Models match migrations", "revisor check", "alembic check")
    step.details = [escape(f"{f.code} {f.message}") for f in result.findings] or [
        "no drift: the models match the migrated database; one head",
        "(compared: tables, columns, types, defaults, enums, CHECKs, indexes)",
    ]
    step.ok = not has_errors(result.findings)
    return ctx.state(step)


def step_doctor(ctx: DemoContext) -> DemoStep:
    """The seed's "Constraint Name Collision": someone created an index by hand on their
    local database, so a later migration creating it fails. `revisor doctor` names the
    object that is not in the history; dropping it makes the database healthy again."""
    from revisor.doctor import diagnose

    step = DemoStep(
        "Diagnose a local database out of sync with the history",
        "revisor doctor",
        "alembic current, then compare with the files by hand",
    )
    with raw_connect(ctx.url) as conn:
        conn.execute("CREATE INDEX ix_transactions_by_hand ON transactions (amount)")
    found = diagnose(ctx.project, ctx.url)
    step.details.extend(f"{f.code} {escape(f.message)}" for f in found.findings)
    with raw_connect(ctx.url) as conn:
        conn.execute("DROP INDEX ix_transactions_by_hand")
    healthy = diagnose(ctx.project, ctx.url)
    step.details.append(
        "after DROP INDEX ix_transactions_by_hand: "
        + ("healthy, at head" if healthy.healthy else "still out of sync")
    )
    step.ok = bool(found.findings) and healthy.healthy
    return ctx.state(step)


def step_deploy(ctx: DemoContext) -> DemoStep:
    """Ship it: `revisor deploy` upgrades a fresh "production" database of the same server,
    as Railway's pre-deploy command would, one revision per transaction under an advisory
    lock and a lock_timeout; a second replica's deploy then finds nothing to do."""
    from revisor.deploy import DeployOptions, Status, deploy

    step = DemoStep(
        "Deploy to production; a second replica finds nothing to do",
        "revisor deploy",
        "alembic upgrade head",
    )
    with scratch_database(ctx.url, label="production") as production:
        first = deploy(ctx.project, production, DeployOptions(wait=10))
        second = deploy(ctx.project, production, DeployOptions(wait=10))
        step.tables = list_tables(production)
    for applied in first.applied:
        step.details.append(f"applied {applied.revision} in {applied.seconds:.2f}s")
    step.details.append(
        f"{len(first.applied)} revisions, one transaction each, under the deploy lock with "
        f"lock_timeout {first.lock_timeout:g}s; the second replica: "
        + ("nothing to deploy" if second.status is Status.UP_TO_DATE else second.status.value)
    )
    step.heads = first.database_after or ()
    step.ok = first.status is Status.APPLIED and second.status is Status.UP_TO_DATE
    return step


FK_REVISION = "e6995e90df34"


def step_review(ctx: DemoContext) -> DemoStep:
    """`revisor review` on the history: the seed's checklist, automated."""
    from revisor.review import review

    result = review(ctx.project)
    step = DemoStep("Review the migrations (the mandatory checklist)", "revisor review", None)
    for finding in result.findings:
        where = f"{finding.revision}:{finding.line}" if finding.revision else "project"
        style = _SEVERITY_STYLE[finding.severity.value]
        step.details.append(
            f"[{style}]{finding.code} {finding.severity.value}[/] {where} {finding.name}"
        )
    codes = {f.code for f in result.findings}
    step.ok = {"RV101", "RV103"} <= codes
    return ctx.state(step)


def step_rollback_crashes(ctx: DemoContext) -> DemoStep:
    """The seed's bug, live: the rollback through e6995e90df34 crashes (and is undone)."""
    step = DemoStep(
        "Roll back to base: the unnamed constraint crashes it", "alembic downgrade base", None
    )
    try:
        migrate.downgrade(ctx.project, ctx.url, "base")
    except MigrationFailed as exc:
        cause = str(exc.cause).split(";")
        step.details.append(
            f"[red]downgrade of {exc.revision} failed: {type(exc.cause).__name__}[/]"
        )
        step.details.append(f"[red]  {escape(cause[0][:40])}…{escape(cause[-1][:30])}[/]")
        step.details.append("the failed downgrade's transaction was rolled back")
    else:
        step.ok = False
        step.details.append("expected the downgrade to fail")
    return ctx.state(step)


def step_review_fix(ctx: DemoContext) -> DemoStep:
    """`revisor review --fix` names the constraint in upgrade and downgrade; this database
    applied the old file, so its constraint is renamed to match (what the docs tell
    users to do on databases that already ran the revision)."""
    from revisor.db.connect import raw_connect
    from revisor.review import review

    result = review(ctx.project, fix=True)
    step = DemoStep("Apply the safe fixes", "revisor review --fix", None)
    lines = ", ".join(str(f.line) for f in result.fixed)
    step.details.append(f"fixed {len(result.fixed)} finding(s) in {FK_REVISION} (lines {lines}):")
    path = ctx.project.revision(FK_REVISION).path
    for line in Path(path).read_text().splitlines():
        if "_constraint(" in line or "create_foreign_key(" in line:
            step.details.append(f"[green]  {escape(line.strip()[:74])}[/]")
    sql = (
        "ALTER TABLE transactions RENAME CONSTRAINT transactions_vendor_id_fkey "
        "TO fk_transactions_vendor_id"
    )
    with raw_connect(ctx.url) as conn:
        conn.execute(sql)
        conn.commit()
    step.details.append("this database ran the old file, so its constraint is renamed:")
    step.details.append("  RENAME CONSTRAINT transactions_vendor_id_fkey")
    step.details.append("  TO fk_transactions_vendor_id")
    step.ok = bool(result.fixed)
    ctx.reload()
    return ctx.state(step)


def step_rollback_past_fk(ctx: DemoContext) -> DemoStep:
    migrate.downgrade(ctx.project, ctx.url, "42bbf4a64104")
    return ctx.state(
        DemoStep(
            f"Roll back past {FK_REVISION}: the downgrade works now",
            "alembic downgrade 42bbf4a64104",
            None,
        )
    )


_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}

# The walk-through, in the seed's order; each command's issue adds its step here.
DEMO_STEPS: list[DemoStepFn] = [
    step_upgrade_head,
    step_test,
    step_review,
    step_rollback_crashes,
    step_review_fix,
    step_rollback_past_fk,
    step_reapply,
    step_draft,
    step_apply_draft,
    step_downgrade_one,
    step_reapply,
    step_check,
    step_doctor,
    step_deploy,
]


@contextmanager
def demo_workspace(server: DatabaseUrl, *, keep: bool = False) -> Iterator[DemoContext]:
    """A temporary copy of the example and a scratch database; both removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="revisor-demo-") as tmp:
        project_dir = Path(tmp) / "better_call_buffet"
        shutil.copytree(example_dir(), project_dir, ignore=shutil.ignore_patterns("__pycache__"))
        with scratch_database(server, label="demo", keep=keep) as url:
            yield DemoContext(project_dir=project_dir, url=url)


def run_demo(
    server: DatabaseUrl,
    on_step: Callable[[DemoStep], None],
    *,
    steps: list[DemoStepFn] | None = None,
    keep: bool = False,
) -> list[DemoStep]:
    """Run the walk-through; call `on_step` after each step; return all steps.

    Side effects: creates and drops a scratch database on `server`.
    """
    done: list[DemoStep] = []
    with demo_workspace(server, keep=keep) as ctx:
        for fn in steps or DEMO_STEPS:
            step = fn(ctx)
            done.append(step)
            on_step(step)
    return done
