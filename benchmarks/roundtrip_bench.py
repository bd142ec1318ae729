"""How long a full round trip of generated histories takes, revisor vs plain alembic and peers.

For histories of 50 / 150 / 300 revisions (tests/support/history_factory.py, seed 0), on
fresh databases of one PostgreSQL server, each tool run as a user would run it (a CLI
subprocess, Python start-up included):

    alembic       `alembic upgrade head` + `alembic downgrade base` (two commands)
    revisor -nd   `revisor test --no-data`   (per revision: up, down, up; catalog compared)
    revisor       `revisor test`             (the same with sample rows before each step)
    pytest-alembic  its experimental `test_downgrade_leaves_no_trace`: per revision, up,
                    reflect, autogenerate against the pre-upgrade state, up, down, reflect,
                    autogenerate again and compare (in savepoints it rolls back)
    gauntlet      alembic-gauntlet's `test_stairway_upgrade_downgrade`

Peers are installed in their own virtualenv, never as revisor dependencies:

    python3 -m venv /tmp/bench-venv
    /tmp/bench-venv/bin/pip install pytest-alembic 'alembic-gauntlet[asyncio]' asyncpg \
        'psycopg[binary]' 'pytest<9' 'sqlalchemy<2.1'

(pytest-alembic 0.13 does not collect on pytest 9. Its downgrade_leaves_no_trace hands
env.py a wrapper around its open connection: env.py must open it with `connect()`, as
pytest-alembic's docs show, not pass it to `configure()` as is.)

Usage (from the repository root, with revisor's venv):

    .venv/bin/python benchmarks/roundtrip_bench.py [--sizes 50 150 300] [--peer-venv PATH]
        [--url postgresql://...]   # default: revisor's embedded PostgreSQL
        [--repeat 3]               # every tool runs 3 times, the fastest counts

Prints a table of seconds and the ratios the issue sets as goals. Never asserts on time.

    .venv/bin/python benchmarks/roundtrip_bench.py --plan [--sizes 300 1000] [--repeat 5]

times only the plan (revisor.testing.plan.make_plan: which revisions a run visits, in
which order), with no database: the whole history, `--last 5`, and `--from` the 10th
revision `--to` the 10th from the end. The history is loaded once beforehand (alembic
imports every file; that load is shown on its own); each timed plan builds the revision
graph anew, as one command run does. Best of --repeat runs, milliseconds.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from revisor.db.scratch import create_database, drop_database  # noqa: E402
from revisor.db.url import DatabaseUrl, parse_url  # noqa: E402
from tests.support.history_factory import write_history  # noqa: E402

BIN = Path(sys.executable).parent

PYTEST_ALEMBIC_CONFTEST = """
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool


@pytest.fixture
def alembic_engine():
    engine = sa.create_engine({url!r}, poolclass=NullPool)
    yield engine
    engine.dispose()
"""

# pytest-alembic injects an Engine as config.attributes["connection"], or, for
# test_downgrade_leaves_no_trace, a wrapper around its open connection; both are
# opened with connect(), as its docs' env.py does.
PYTEST_ALEMBIC_ENV = """
from alembic import context

config = context.config
connectable = config.attributes["connection"]

with connectable.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
"""

PYTEST_ALEMBIC_INI = """[pytest]
pytest_alembic_include_experimental = downgrade_leaves_no_trace
addopts = -p no:cacheprovider
"""

# alembic-gauntlet runs each test in a schema of its own and expects env.py to honour
# config.attributes["target_schema"] (search_path and version table there).
GAUNTLET_ENV = """
from alembic import context

config = context.config
connection = config.attributes["connection"]
schema = config.attributes.get("target_schema", "public")
connection.exec_driver_sql(f'SET search_path TO "{schema}"')
context.configure(connection=connection, target_metadata=None, version_table_schema=schema)
with context.begin_transaction():
    context.run_migrations()
"""

GAUNTLET_TEST = """
import pytest
from sqlalchemy import MetaData
from alembic_gauntlet import MigrationTestBase


class TestHistory(MigrationTestBase):
    @pytest.fixture
    def orm_metadata(self):
        return MetaData()

    @pytest.fixture(scope="session")
    def migration_db_url(self):
        return {url!r}
"""

GAUNTLET_INI = """[pytest]
asyncio_mode = auto
addopts = -p no:cacheprovider
"""


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, str]:
    """Seconds the command took, and its tail when it failed."""
    started = time.perf_counter()
    run = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    lines = (run.stdout + run.stderr).strip().splitlines()
    telling = [x for x in lines if "Error" in x or "failed" in x or "error" in x] or lines or [""]
    status = "" if run.returncode == 0 else f"exit {run.returncode}: {telling[-1][:160]}"
    return seconds, status


def fresh(server: DatabaseUrl) -> DatabaseUrl:
    return create_database(server, f"bench_{secrets.token_hex(4)}")


def url_text(url: DatabaseUrl) -> str:
    return url.url.render_as_string(hide_password=False)


def set_ini_url(ini: Path, url: str) -> None:
    lines = [x for x in ini.read_text().splitlines() if not x.startswith("sqlalchemy.url")]
    lines.insert(1, "sqlalchemy.url = " + url.replace("%", "%%"))
    ini.write_text("\n".join(lines) + "\n")


def best(runs: list[tuple[float, str]]) -> tuple[float, str]:
    """The fastest run (the least disturbed by other load on the machine)."""
    return min(runs, key=lambda r: r[0])


def bench(
    n: int, server: DatabaseUrl, peers: Path | None, work: Path, repeat: int = 1
) -> dict[str, tuple]:
    project = write_history(work / f"h{n}", n, seed=0)
    ini = project / "alembic.ini"
    results: dict[str, tuple[float, str]] = {}
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}

    plain = []
    for _ in range(repeat):
        db = fresh(server)
        set_ini_url(ini, url_text(db))
        up = timed([str(BIN / "alembic"), "-c", str(ini), "upgrade", "head"], project, env)
        down = timed([str(BIN / "alembic"), "-c", str(ini), "downgrade", "base"], project, env)
        plain.append((up[0] + down[0], up[1] or down[1]))
        drop_database(server, db.database or "")
    results["alembic"] = best(plain)
    set_ini_url(ini, "")

    for label, extra in (("revisor --no-data", ["--no-data"]), ("revisor", [])):
        cmd = [str(BIN / "revisor"), "test", "-c", str(ini), "--url", url_text(server), *extra]
        results[label] = best([timed(cmd, project, env) for _ in range(repeat)])

    if peers is not None:
        # pytest-alembic
        pa = work / f"pa{n}"
        shutil.copytree(project, pa)
        (pa / "pytest.ini").write_text(PYTEST_ALEMBIC_INI)
        (pa / "migrations" / "env.py").write_text(PYTEST_ALEMBIC_ENV)
        runs = []
        for _ in range(repeat):
            db = fresh(server)
            (pa / "conftest.py").write_text(PYTEST_ALEMBIC_CONFTEST.format(url=url_text(db)))
            command = [str(peers / "pytest"), "--test-alembic", "--alembic-tests-path"]
            command += ["conftest.py", "-p", "no:asyncio", "-q", "-k", "downgrade_leaves_no_trace"]
            runs.append(timed(command, pa, env))
            drop_database(server, db.database or "")
        results["pytest-alembic"] = best(runs)
        # alembic-gauntlet
        ga = work / f"ga{n}"
        shutil.copytree(project, ga)
        (ga / "migrations" / "env.py").write_text(GAUNTLET_ENV)
        (ga / "pytest.ini").write_text(GAUNTLET_INI)
        runs = []
        for _ in range(repeat):
            db = fresh(server)
            async_url = url_text(db).replace("postgresql+psycopg", "postgresql+asyncpg")
            (ga / "test_gauntlet.py").write_text(GAUNTLET_TEST.format(url=async_url))
            # pytest-alembic's own `alembic_config` fixture would shadow gauntlet's
            command = [str(peers / "pytest"), "-p", "no:pytest_alembic", "-q", "test_gauntlet.py"]
            runs.append(timed([*command, "-k", "stairway"], ga, env))
            drop_database(server, db.database or "")
        results["alembic-gauntlet"] = best(runs)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 150, 300])
    parser.add_argument("--peer-venv", default="/tmp/bench-venv")
    parser.add_argument("--url", default=None)
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each tool; the fastest counts"
    )
    parser.add_argument(
        "--plan", action="store_true", help="time only the plan (no database); sizes 300 1000"
    )
    args = parser.parse_args()
    if args.plan:
        return plan_bench(args.sizes if args.sizes != [50, 150, 300] else [300, 1000], args.repeat)
    if args.url:
        server = parse_url(args.url, source="--url")
    else:
        from revisor.db.embedded import embedded_server_url

        server = embedded_server_url()
    peers = Path(args.peer_venv) / "bin"
    if not (peers / "pytest").exists():
        print(f"(no peers: {peers}/pytest missing; see the docstring to install them)")
        peers = None
    work = Path(tempfile.mkdtemp(prefix="revisor-bench-"))
    columns = ["alembic", "revisor --no-data", "revisor", "pytest-alembic", "alembic-gauntlet"]
    rows = []
    try:
        startup = bench(1, server, peers, work, args.repeat)
        for n in args.sizes:
            rows.append((n, bench(n, server, peers, work, args.repeat)))
            print(f"... {n} revisions done", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    from benchmarks.machine import print_machine

    print_machine(server)
    print("seconds (lower is better)")
    print(f"{'revisions':>9} " + " ".join(f"{c:>17}" for c in columns))
    for n, results in rows:
        cells = [f"{results[c][0]:17.2f}" if c in results else f"{'-':>17}" for c in columns]
        print(f"{n:>9} " + " ".join(cells))
    print()
    print("ratios of whole runs (goal); the peers are compared with revisor --no-data,")
    print("since they insert no rows either")
    _ratios(rows)
    start = {c: r[0] for c, r in startup.items()}
    print()
    print("start-up: the same tools on a 1-revision history (interpreter, imports, pytest,")
    print("scratch database): " + ", ".join(f"{c} {t:.2f} s" for c, t in start.items()))
    print("ratios of the time beyond start-up (what each added revision costs)")
    beyond = [(n, {c: (t - start.get(c, 0.0), s) for c, (t, s) in r.items()}) for n, r in rows]
    _ratios(beyond, goals=False)
    failures = [(n, c, r[c][1]) for n, r in rows for c in r if r[c][1]]
    if failures:
        print()
        print("runs that did not exit 0 (their time still counts what they did):")
        for n, c, status in failures:
            print(f"  {n} {c}: {status}")
    return 0


def plan_bench(sizes: list[int], repeat: int) -> int:
    """Print how long the round-trip plan takes for each history size (no database)."""
    import platform

    import alembic
    import sqlalchemy

    from revisor.project import Project
    from revisor.testing.plan import make_plan
    from tests.support.history_factory import revision_id

    def best_ms(project: Project, **selection: object) -> float:
        times = []
        for _ in range(max(repeat, 1)):
            project.__dict__.pop("graph", None)  # a run builds the graph once: time it too
            started = time.perf_counter()
            make_plan(project, **selection)  # type: ignore[arg-type]
            times.append(time.perf_counter() - started)
        return min(times) * 1000

    print(
        f"{platform.node()} ({os.cpu_count()} CPUs), Python {platform.python_version()}, "
        f"alembic {alembic.__version__}, SQLAlchemy {sqlalchemy.__version__}; "
        f"best of {max(repeat, 1)}"
    )
    print()
    print("| revisions | load history (s) | plan: all (ms) | --last 5 (ms) | --from/--to (ms) |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    work = Path(tempfile.mkdtemp(prefix="revisor-plan-bench-"))
    try:
        for n in sizes:
            root = write_history(work / f"h{n}", n, seed=0)
            started = time.perf_counter()
            project = Project.load(root / "alembic.ini")
            _ = project.revisions  # alembic imports every file once; the plan reuses them
            loaded = time.perf_counter() - started
            first, last = revision_id(10), revision_id(n - 10)
            whole = best_ms(project)
            tail = best_ms(project, last=5)
            span = best_ms(project, from_rev=first, to_rev=last)
            print(f"| {n} | {loaded:.2f} | {whole:.1f} | {tail:.1f} | {span:.1f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _ratios(rows: list[tuple[int, dict[str, tuple]]], goals: bool = True) -> None:
    g = (" (<=3)", " (<=5)", " (>=10)", " (>=5)") if goals else ("",) * 4
    print(
        f"{'revisions':>9} {'nodata/alembic' + g[0]:>21} {'data/alembic' + g[1]:>19} "
        f"{'gauntlet/revisor' + g[2]:>24} {'pytest-alembic/revisor' + g[3]:>29}"
    )
    for n, r in rows:
        base = r["alembic"][0]
        ours = r["revisor --no-data"][0]
        gaunt = r["alembic-gauntlet"][0] / ours if "alembic-gauntlet" in r else float("nan")
        pa = r["pytest-alembic"][0] / ours if "pytest-alembic" in r else float("nan")
        print(f"{n:>9} {ours / base:21.2f} {r['revisor'][0] / base:19.2f} {gaunt:24.1f} {pa:29.1f}")


if __name__ == "__main__":
    raise SystemExit(main())
