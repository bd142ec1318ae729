"""The env.py shapes of real projects × every command, with a sentinel database (issue #11).

Each shape's env.py (tests/support/env_shapes.py) names a sentinel database
(tests/support/sentinel.py); revisor must run migrations only where it chose — a scratch
database, or OTHER when told `--url OTHER` — and leave the sentinel exactly as it was.
One test per shape × PostgreSQL version runs every command in a user's order and checks
the sentinel after each one; it reports every failing command at once, as a table.

The options the shapes use: `-x KEY=VALUE` (alembic's pass-through to env.py), `--app` and
`[tool.revisor] flask-app` (Flask), the pytest plugin's `--revisor-x` and `--revisor-app`;
exit code 8 when env.py connects where revisor did not choose.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import psycopg
import pytest
from psycopg import sql
from typer.testing import CliRunner

from revisor.cli import app
from revisor.db.scratch import drop_database
from revisor.db.url import DatabaseUrl
from tests.support.env_shapes import (
    SHAPES,
    SHAPES_BY_NAME,
    Endpoint,
    Shape,
    Support,
    Targets,
    bind,
)
from tests.support.scratch import scratch_databases
from tests.support.sentinel import DdlTrap, Sentinel, install_template
from tests.support.shape_history import REVISIONS, add_model_column

if TYPE_CHECKING:  # imported at run time, pytest would try to collect the class
    from tests.support.postgres_servers import TestServer

OWNER = "shape_owner"
PASSWORD = "Sh4pe-0wner-s3cret"  # must never appear in revisor's output
WRONG_DATABASE_EXIT = 8  # the exit code issue #11 adds: env.py connected elsewhere
COMMAND_TIMEOUT = 90  # seconds: `revisor test` looped forever on one of these shapes
HEAD = REVISIONS[-1]
# The pytest plugin runs in a Python process of its own (about 3x an in-process command).
PLUGIN_VERSIONS = {"18", "15"}


# --- servers, role, databases -------------------------------------------------------------


def prepare(server: TestServer) -> TestServer:
    """Give the server the sentinel template and the role env.py logs in as: a password
    (scram) role that may create databases, like an app's own role in development."""
    admin = server.url
    with psycopg.connect(**admin.libpq_kwargs(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (OWNER,)).fetchone()
        if not exists:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN CREATEDB PASSWORD {}").format(
                    sql.Identifier(OWNER), sql.Literal(PASSWORD)
                )
            )
            hba = Path(conn.execute("SHOW hba_file").fetchone()[0])  # type: ignore[index]
            hba.write_text(f"local all {OWNER} scram-sha-256\n" + hba.read_text())
            conn.execute("SELECT pg_reload_conf()")
    install_template(admin)
    return server


@pytest.fixture(scope="session")
def shape_server(pg_server: TestServer) -> TestServer:
    """Each test server (PG 18, PG 15), prepared for the shapes."""
    return prepare(pg_server)


@pytest.fixture(scope="session")
def pg18_shapes(pg18: TestServer) -> TestServer:
    """PostgreSQL 18 alone, prepared for the shapes."""
    return prepare(pg18)


def endpoint(server: TestServer, database: str) -> Endpoint:
    return Endpoint(str(server.url.url.query["host"]), OWNER, PASSWORD, database)


def databases(admin: DatabaseUrl) -> set[str]:
    with psycopg.connect(**admin.libpq_kwargs()) as conn:
        rows = conn.execute("SELECT datname FROM pg_database").fetchall()
    return {name for (name,) in rows}


def version_in(admin: DatabaseUrl, database: str, schema: str) -> str | None:
    """The revision in `schema`.alembic_version of `database`, None if there is none."""
    with psycopg.connect(**admin.with_database(database).libpq_kwargs()) as conn:
        found = conn.execute("SELECT to_regclass(%s)", (f"{schema}.alembic_version",)).fetchone()
        if not found or found[0] is None:
            return None
        row = conn.execute(
            sql.SQL("SELECT version_num FROM {}.alembic_version").format(sql.Identifier(schema))
        ).fetchone()
    return row[0] if row else None


@dataclass
class World:
    """One test's databases: the sentinel(s) env.py names and OTHER, an empty database."""

    server: TestServer
    sentinels: list[Sentinel]
    other: str
    targets: Targets

    @property
    def admin(self) -> DatabaseUrl:
        return self.server.url

    @property
    def other_url(self) -> str:
        return endpoint(self.server, self.other).url()


@pytest.fixture
def world(shape_server: TestServer, request: pytest.FixtureRequest) -> Iterator[World]:
    shape: Shape = request.node.callspec.params["shape"]
    admin = shape_server.url
    sentinels = [Sentinel.create(admin, OWNER) for _ in range(shape.databases)]
    other = "other_" + sentinels[0].name.rsplit("_", 1)[1]
    with psycopg.connect(**admin.libpq_kwargs(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(other), sql.Identifier(OWNER)
            )
        )
    targets = Targets(
        endpoint(shape_server, sentinels[0].name),
        endpoint(shape_server, sentinels[1].name) if len(sentinels) > 1 else None,
    )
    yield World(shape_server, sentinels, other, targets)
    for sentinel in sentinels:
        sentinel.drop()
    drop_database(admin, other)


# --- the shapes, built once per module ----------------------------------------------------


@pytest.fixture(scope="module")
def shape_source(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Shape], Path]:
    """Build a shape's project once (from the installed templates); later calls return it."""
    built: dict[str, Path] = {}

    def source(shape: Shape) -> Path:
        if shape.name not in built:
            root = tmp_path_factory.mktemp("shapes") / shape.name
            shape.build(root)
            built[shape.name] = root
        return built[shape.name]

    return source


def project_for(shape: Shape, source: Path, tmp_path: Path, targets: Targets) -> Path:
    """A private copy of the shape's project, its database tokens naming the sentinel."""
    project = tmp_path / shape.name
    shutil.copytree(source, project, ignore=shutil.ignore_patterns("__pycache__"))
    bind(project, targets)
    return project


# --- running commands ---------------------------------------------------------------------


class CommandTimeout(BaseException):
    """A command ran past COMMAND_TIMEOUT (BaseException: revisor's own handler for
    Exception must not turn it into an exit code)."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise CommandTimeout()


@dataclass
class Run:
    command: str
    exit_code: int | str
    output: str


def invoke(cli: CliRunner, args: list[str]) -> Run:
    """Run revisor in-process, stopped after COMMAND_TIMEOUT seconds."""
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(COMMAND_TIMEOUT)
    try:
        result = cli.invoke(app, args)
        exit_code: int | str = result.exit_code
        output = result.output
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            exit_code = f"raised {type(result.exception).__name__}"
            output += f"\n{type(result.exception).__name__}: {result.exception}"
    except CommandTimeout:
        exit_code, output = f"timeout after {COMMAND_TIMEOUT}s", ""
    finally:
        if in_main:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
    return Run(" ".join(args), exit_code, output)


def run_plugin(project: Path, args: list[str]) -> Run:
    """`python -m pytest --revisor` in the project folder, as a user runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    # Without hypothesis's plugin (installed with revisor's test extra, unused here: its
    # terminal summary alone takes seconds) and assertion rewriting of the plugins.
    quiet = ["-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--assert=plain"]
    argv = [sys.executable, "-m", "pytest", *quiet, "-rA", "--revisor", *args]
    try:
        done = subprocess.run(
            argv, cwd=project, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
        )
    except subprocess.TimeoutExpired as exc:
        return Run("pytest --revisor", f"timeout after {COMMAND_TIMEOUT}s", str(exc.stdout))
    return Run("pytest --revisor", done.returncode, done.stdout + done.stderr)


TELLING = [
    re.compile(pattern)
    for pattern in (
        r"^(internal )?error:",  # revisor's one-line errors
        r"^INTERNALERROR> [\w.]+(Error|Exception|NotFound)\b",  # pytest crashed: the exception
        r"^E {2,}\S",  # a failed assertion in pytest's output
        r"^FAILED ",
        r"\b(DR|RV|RT)\d+ \[(error|warning)\]",  # a finding
        r"(No such option|unexpected extra argument|unrecognized arguments)",  # usage
        r"^database:",
    )
]


def first_line(text: str, limit: int = 160) -> str:
    """The most telling line of an output, for the failure table."""
    lines = [line.strip(" │╭╮╰╯─") for line in text.splitlines()]
    lines = [line for line in lines if line]
    for pattern in TELLING:
        for line in lines:
            if pattern.search(line):
                return line[:limit]
    return (lines or ["(no output)"])[-1][:limit]


@dataclass
class Matrix:
    """Runs the commands of one shape × server and collects what went wrong."""

    shape: Shape
    world: World
    project: Path
    cli: CliRunner
    failures: list[tuple[str, str]] = field(default_factory=list)

    def args(self, *command: str, tenant: str | None = None) -> list[str]:
        return [*command, *self.shape.command_args(self.world.targets, tenant)]

    def expect(self, run: Run, ok: bool, why: str, detail: str | None = None) -> None:
        if not ok:
            self.failures.append((run.command, f"{why}; {detail or first_line(run.output)}"))

    def expect_names_sentinel(self, run: Run, why: str) -> None:
        """The output names the sentinel's database (masked URL or name)."""
        shown = [line for line in run.output.splitlines() if line.startswith("database:")]
        name = self.world.sentinels[0].name
        self.expect(run, name in run.output, why, " ".join(shown[:1]) or None)

    def common_checks(self, run: Run, databases_before: set[str]) -> None:
        """Every command: no traceback, no password, the sentinel untouched, no scratch
        database left and no other database created."""
        self.expect(run, "Traceback" not in run.output, f"exit {run.exit_code}, traceback")
        self.expect(run, PASSWORD not in run.output, f"exit {run.exit_code}, password shown")
        for number, sentinel in enumerate(self.world.sentinels, start=1):
            breaches = sentinel.breaches()
            if breaches:
                which = f"sentinel {number}" if len(self.world.sentinels) > 1 else "sentinel"
                self.failures.append((run.command, f"{which} got " + " | ".join(breaches)))
                sentinel.reset()
        left = scratch_databases(self.world.admin)
        self.expect(run, not left, f"scratch databases left behind: {sorted(left)}")
        created = databases(self.world.admin) - databases_before - left
        self.expect(run, not created, f"databases created on the server: {sorted(created)}")

    def run(self, *command: str, tenant: str | None = None) -> Run:
        before = databases(self.world.admin)
        run = invoke(self.cli, self.args(*command, tenant=tenant))
        run.command = " ".join(command).replace(self.world.other_url, "OTHER")
        if tenant and len(self.shape.tenants) > 1:
            run.command += f" -x tenant={tenant}"
        self.common_checks(run, before)
        return run

    def plugin(self) -> Run:
        before = databases(self.world.admin)
        run = run_plugin(self.project, self.shape.plugin_options(self.world.targets))
        self.common_checks(run, before)
        return run

    def expect_exit(self, run: Run, wanted: int | set[int]) -> bool:
        allowed = {wanted} if isinstance(wanted, int) else wanted
        ok = run.exit_code in allowed
        self.expect(run, ok, f"exit {run.exit_code}, wanted {' or '.join(map(str, allowed))}")
        return ok

    def expect_refusal(self, run: Run, code: int, *words: str) -> None:
        """A clear one-line error with exit `code`, mentioning each of `words`."""
        if not self.expect_exit(run, code):
            return
        errors = [line for line in run.output.splitlines() if line.startswith("error:")]
        self.expect(run, len(errors) == 1, f"{len(errors)} error lines, wanted one")
        for word in words:
            self.expect(run, word.lower() in run.output.lower(), f"the error does not name {word}")


def other_at_head(m: Matrix) -> list[tuple[str | None, str | None]]:
    """(tenant, revision) for each version table OTHER should have after a deploy."""
    return [
        (tenant, version_in(m.world.admin, m.world.other, schema))
        for tenant, schema in m.shape.version_schemas().items()
    ]


def versions_files(project: Path, shape: Shape) -> set[str]:
    return {p.name for p in (project / shape.versions).glob("*.py")}


# --- the matrix ---------------------------------------------------------------------------


def run_supported(m: Matrix) -> None:
    """The whole workflow on a shape revisor must support."""
    other = m.world.other_url

    run = m.run("status")
    if m.expect_exit(run, 0):
        m.expect_names_sentinel(run, "does not name the sentinel")
    m.expect_exit(m.run("review"), 0)
    m.expect_exit(m.run("test"), 0)
    m.expect_exit(m.run("check"), 0)

    for tenant in m.shape.version_schemas():
        run = m.run("deploy", "--url", other, tenant=tenant)
        m.expect_exit(run, 0)
    for tenant, revision in other_at_head(m):
        where = f" (tenant {tenant})" if tenant else ""
        m.expect(run, revision == HEAD, f"OTHER{where} is at {revision}, not {HEAD}")

    run = m.run("doctor")
    if m.expect_exit(run, {0, 1}):
        m.expect_names_sentinel(run, "did not diagnose the sentinel")
    m.expect_exit(m.run("doctor", "--url", other), 0)

    if m.world.server.version in PLUGIN_VERSIONS:
        m.expect_exit(m.plugin(), 0)

    # Only reads from here on: OTHER records any DDL.
    trap = DdlTrap(m.world.admin, m.world.other)
    add_model_column(m.project / m.shape.models, m.shape.flavour)
    before = versions_files(m.project, m.shape)
    run = m.run("draft", "-m", "x", "--url", other)
    if m.expect_exit(run, 0):
        new = versions_files(m.project, m.shape) - before
        m.expect(run, len(new) == 1, f"new revision files: {sorted(new)}")
        for name in new:
            text = (m.project / m.shape.versions / name).read_text()
            m.expect(run, "phone" in text, "the draft does not add customers.phone")
    m.expect(run, trap.fired() == 0, f"{trap.fired()} DDL command(s) on OTHER")

    files = versions_files(m.project, m.shape)
    run = m.run("redo", "--dry-run", "--url", other)
    m.expect_exit(run, 0)
    m.expect(run, versions_files(m.project, m.shape) == files, "files changed")
    m.expect(run, trap.fired() == 0, f"{trap.fired()} DDL command(s) on OTHER")
    for tenant, revision in other_at_head(m):
        m.expect(run, revision == HEAD, f"OTHER (tenant {tenant}) moved to {revision}")


def migrate_other_by_hand(m: Matrix, generic: Path) -> None:
    """Bring OTHER to head through the generic shape (the same history), so that the
    commands after deploy find OTHER at head and go on to run the shape's env.py."""
    project = project_for(
        SHAPES_BY_NAME["generic"], generic, m.project.parent / "by_hand", m.world.targets
    )
    ini = str(project / "alembic.ini")
    result = m.cli.invoke(app, ["deploy", "--no-review", "-c", ini, "--url", m.world.other_url])
    assert result.exit_code == 0, result.output
    assert other_at_head(m) == [(None, HEAD)]


def run_unsupported(m: Matrix, generic: Path) -> None:
    """A shape revisor cannot run safely: a clear one-line error before any statement, from
    every command that would run env.py online."""
    other = m.world.other_url
    if m.shape.support is Support.SEVERAL_DATABASES:
        code, words = 2, ["databases", "env.py"]
    else:
        # the error names where env.py connected (the sentinel) and where revisor meant to
        # run (a scratch database, or OTHER)
        code, words = WRONG_DATABASE_EXIT, [m.world.sentinels[0].name, "env.py"]

    def refused(run: Run, target: str | None = None) -> None:
        m.expect_refusal(run, code, *words, *([target] if target and code == 8 else []))

    run = m.run("status")  # may report the shape instead of refusing
    if m.expect_exit(run, {0, code}) and run.exit_code == code:
        refused(run)
    m.expect_exit(m.run("review"), {0, code})
    refused(m.run("test"), "revisor_scratch_")
    refused(m.run("check"), "revisor_scratch_")
    run = m.run("deploy", "--url", other)
    refused(run, m.world.other)
    m.expect(run, other_at_head(m)[0][1] is None, "OTHER was migrated")
    refused(m.run("doctor"), "revisor_scratch_")

    migrate_other_by_hand(m, generic)
    # doctor first reads env.py's options on the database it diagnoses
    refused(m.run("doctor", "--url", other), m.world.other)
    add_model_column(m.project / m.shape.models, m.shape.flavour)
    refused(m.run("draft", "-m", "x", "--url", other), m.world.other)
    run = m.run("redo", "--dry-run", "--url", other)  # a plan: may not need env.py
    if m.expect_exit(run, {0, code}) and run.exit_code == code:
        refused(run, m.world.other)

    if m.world.server.version in PLUGIN_VERSIONS:
        plugin = m.plugin()
        m.expect(plugin, plugin.exit_code not in (0, 5), f"pytest exit {plugin.exit_code}")
        for word in words:
            m.expect(plugin, word.lower() in plugin.output.lower(), f"does not name {word}")


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_shape_keeps_the_sentinel(
    shape: Shape,
    world: World,
    shape_source: Callable[[Shape], Path],
    tmp_path: Path,
    cli: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every command on this env.py shape: the documented outcome, never a traceback or
    the password, and the sentinel env.py names exactly as it was after each command."""
    if shape.missing():
        pytest.skip(shape.missing())
    project = project_for(shape, shape_source(shape), tmp_path, world.targets)
    for key, value in shape.environment(world.targets).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(project)
    m = Matrix(shape, world, project, cli)
    if shape.support is Support.SUPPORTED:
        run_supported(m)
    else:
        run_unsupported(m, shape_source(SHAPES_BY_NAME["generic"]))
    if m.failures:
        width = max(len(command) for command, _ in m.failures)
        table = "\n".join(f"  {command:<{width}}  {what}" for command, what in m.failures)
        pytest.fail(f"{shape.name} on PostgreSQL {world.server.version}:\n{table}", pytrace=False)


# --- the shapes and the sentinel themselves ------------------------------------------------

# One interpreter runs alembic's own commands on every shape in turn (a Python start per
# shape would cost seconds): in the project's folder, with its environment, its own `app`
# / `blog` modules, and `-x` arguments; Flask-Migrate's functions for a Flask app.
ALEMBIC_BATCH = """
import json, os, sys, traceback

jobs = json.loads(sys.argv[1])
failed = {}
for job in jobs:
    os.chdir(job["dir"])
    saved = dict(os.environ)
    os.environ.update(job["env"])
    sys.path.insert(0, job["dir"])
    for module in [m for m in sys.modules if m.split(".")[0] in ("app", "blog")]:
        del sys.modules[module]
    sys.path_importer_cache.clear()  # alembic's prepend_sys_path "." is the new folder
    try:
        if job["flask"]:
            from flask_migrate import check, downgrade, upgrade
            from blog import create_app

            with create_app().app_context():
                upgrade()
                check()
                downgrade(revision="base")
                upgrade()
        else:
            from alembic.config import main

            for x in job["x"]:  # one set of -x arguments per tenant
                for command in (["upgrade", "head"], ["check"], ["downgrade", "base"],
                                ["upgrade", "head"]):
                    main(argv=[*x, *command], prog="alembic")
    except BaseException as exc:  # alembic and Flask-Migrate exit on errors
        failed[job["name"]] = "".join(traceback.format_exception_only(exc)).strip()
    finally:
        sys.path.remove(job["dir"])
        os.environ.clear()
        os.environ.update(saved)
print(json.dumps(failed))
"""


@pytest.fixture
def empty_databases(pg18_shapes: TestServer) -> Iterator[list[str]]:
    """An empty database (two for multidb) per shape, owned by the shapes' role, on
    PostgreSQL 18; {shape name: [database, ...]}."""
    names = {
        shape.name: [f"clean_{os.urandom(4).hex()}" for _ in range(shape.databases)]
        for shape in SHAPES
    }
    with psycopg.connect(**pg18_shapes.url.libpq_kwargs(), autocommit=True) as conn:
        for name in [n for group in names.values() for n in group]:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(name), sql.Identifier(OWNER)
                )
            )
    yield names
    for name in [n for group in names.values() for n in group]:
        drop_database(pg18_shapes.url, name)


def test_each_shape_works_under_alembic(
    pg18_shapes: TestServer,
    empty_databases: dict[str, list[str]],
    shape_source: Callable[[Shape], Path],
    tmp_path: Path,
) -> None:
    """Without revisor, each shape is a working project on empty databases: alembic's own
    upgrade head, check, downgrade base, upgrade head (Flask-Migrate's for a Flask app)
    succeed — `check` finds the models match — and the database ends at head. So a
    failure in the matrix is revisor's, not the shape's."""
    jobs = []
    for shape in SHAPES:
        if shape.missing():
            continue
        names = empty_databases[shape.name]
        targets = Targets(*(endpoint(pg18_shapes, name) for name in names))
        project = project_for(shape, shape_source(shape), tmp_path, targets)
        jobs.append(
            {
                "name": shape.name,
                "dir": str(project),
                "env": shape.environment(targets),
                "x": [shape.command_args(targets, tenant) for tenant in shape.version_schemas()],
                "flask": shape.flavour == "flask",
            }
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run(
        [sys.executable, "-c", ALEMBIC_BATCH, json.dumps(jobs)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    failed = json.loads(done.stdout.strip().splitlines()[-1])
    assert failed == {}, done.stderr
    for shape in SHAPES:
        if shape.missing():
            continue
        for tenant, schema in shape.version_schemas().items():
            database = empty_databases[shape.name][0]
            assert version_in(pg18_shapes.url, database, schema) == HEAD, (shape.name, tenant)


UPGRADE_SCRIPT = """
import sys
from alembic.config import main

main(argv=[*sys.argv[1:], "upgrade", "head"], prog="alembic")
"""


@pytest.mark.parametrize("shape", [SHAPES_BY_NAME["settings"]], ids=lambda s: s.name)
def test_sentinel_reports_alembic_upgrade(
    shape: Shape, world: World, shape_source: Callable[[Shape], Path], tmp_path: Path
) -> None:
    """`alembic upgrade head` (alembic's own command) on a shape migrates the sentinel its
    env.py names, and the sentinel says so: the check the matrix relies on can fail."""
    project = project_for(shape, shape_source(shape), tmp_path, world.targets)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env |= shape.environment(world.targets)
    done = subprocess.run(
        [sys.executable, "-c", UPGRADE_SCRIPT],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sentinel = world.sentinels[0]
    breaches = " | ".join(sentinel.breaches())
    assert "CREATE TABLE: 'CREATE TABLE customers" in breaches, breaches
    assert "version table(s) ['public.alembic_version']" in breaches, breaches
    assert "new table/sequence/view(s) ['public.alembic_version', 'public.customers'" in breaches
    assert "new enum type(s) ['public.invoice_status']" in breaches, breaches
    with pytest.raises(AssertionError, match=f"sentinel {sentinel.name} changed by alembic"):
        sentinel.assert_untouched("alembic")


def test_sentinel_counts_what_was_rolled_back(pg18_shapes: TestServer) -> None:
    """DDL and row changes that were rolled back leave no table and no row, but the
    sequences moved: the sentinel still reports them. Reads report nothing."""
    sentinel = Sentinel.create(pg18_shapes.url, OWNER)
    try:
        owner = endpoint(pg18_shapes, sentinel.name)
        with psycopg.connect(owner.libpq) as conn:
            conn.execute("SELECT * FROM sentinel_rows").fetchall()
            conn.rollback()
            conn.read_only = True
            conn.execute("SELECT count(*) FROM pg_class").fetchone()
            conn.rollback()
        assert sentinel.breaches() == []
        sentinel.assert_untouched()

        with psycopg.connect(owner.libpq) as conn:
            conn.execute("CREATE TABLE rolled_back (id int)")
            conn.execute("UPDATE sentinel_rows SET label = 'x'")
            conn.rollback()
        breaches = sentinel.breaches()
        assert breaches == [
            "1 DDL command(s) started (0 committed, the rest rolled back)",
            "rows of sentinel_rows were inserted, updated, deleted or truncated",
        ]

        sentinel.reset()
        with psycopg.connect(owner.libpq, autocommit=True) as conn:
            conn.execute("TRUNCATE sentinel_rows")
        breaches = sentinel.breaches()
        assert breaches[0] == "rows of sentinel_rows were inserted, updated, deleted or truncated"
        assert breaches[1].startswith("sentinel_rows holds []")
    finally:
        sentinel.drop()
