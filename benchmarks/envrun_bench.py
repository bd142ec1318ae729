"""What running env.py under revisor costs: the redirect and the guard, finding the URL env.py
would use, and reading its online options.

    .venv/bin/python benchmarks/envrun_bench.py          # 30 runs each, median and max
    .venv/bin/python benchmarks/envrun_bench.py 100

On the embedded PostgreSQL (or $DATABASE_URL's server), for two env.py shapes: the
cookbook one that takes revisor's connection from config.attributes, and alembic's stock
`generic` template (generated here with `alembic init`), which builds its own engine from
sqlalchemy.url and connects: every connection it makes goes through the redirect and the
guard. Each row compares one env.py run with no migration steps, as alembic alone runs it
(`EnvironmentContext` + `run_env`, env.py pointed at the same database) and as revisor runs
it (`envrun.run_env_py`). Then the once-per-command costs: `capture_url` (the project's
database, read from env.py without connecting) and `Project.env_options` (env.py's online
options in a read-only session). The last line adds up the most a command pays: the
capture, the options, and two env.py runs' overhead. Prints tables; asserts nothing.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """(median, max) milliseconds of `runs` calls after one warm-up call."""
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def stock_project(tmp: Path, url: str) -> Path:
    """alembic's generic template, pointed at `url`, with the linear fixture's history."""
    from alembic import command
    from alembic.config import Config

    root = tmp / "stock"
    root.mkdir()
    config = Config(str(root / "alembic.ini"))
    command.init(config, str(root / "migrations"), template="generic")
    ini = root / "alembic.ini"
    text = ini.read_text().replace("driver://user:pass@localhost/dbname", url.replace("%", "%%"))
    ini.write_text(text)
    versions = ROOT / "tests" / "fixtures" / "histories" / "linear" / "migrations" / "versions"
    for path in versions.glob("*.py"):
        shutil.copy(path, root / "migrations" / "versions" / path.name)
    return ini


def main(argv: list[str]) -> None:
    from alembic.runtime.environment import EnvironmentContext

    from benchmarks.machine import print_machine
    from revisor.db.connect import connect
    from revisor.db.resolve import resolve_database
    from revisor.db.scratch import scratch_database
    from revisor.envrun import capture_url, run_env_py
    from revisor.project import Project, quiet_alembic_logging

    runs = int(argv[0]) if argv else 30
    server = resolve_database(None, None).url
    print_machine(server)
    print(f"server: {server.masked}; {runs} runs each, after one warm-up")

    def no_steps(rev: object, context: object) -> list[object]:
        return []

    with tempfile.TemporaryDirectory() as tmp, scratch_database(server, label="bench") as url:
        cookbook_dir = Path(tmp) / "cookbook"
        shutil.copytree(ROOT / "tests" / "fixtures" / "histories" / "linear", cookbook_dir)
        shapes = {
            "cookbook env.py (config.attributes connection)": Project.load(
                cookbook_dir / "alembic.ini"
            ),
            "stock generic env.py (its own engine)": Project.load(
                stock_project(Path(tmp), url.sqlalchemy_url)
            ),
        }
        print()
        print("| env.py | alembic alone (ms) | under revisor (ms) | overhead, median (ms) |")
        print("| --- | ---: | ---: | ---: |")
        overheads = []
        for label, project in shapes.items():
            with connect(url) as conn:

                def plain(project: Project = project, conn: object = conn) -> None:
                    with (
                        quiet_alembic_logging(),
                        project.pointed_at(url, connection=conn),
                        EnvironmentContext(project.config, project.script, fn=no_steps),
                    ):
                        project.script.run_env()
                    conn.rollback()  # type: ignore[attr-defined]

                def revisor(project: Project = project, conn: object = conn) -> None:
                    run_env_py(project, no_steps, target=url, connection=conn)
                    conn.rollback()  # type: ignore[attr-defined]

                alone, alone_max = timed(plain, runs)
                under, under_max = timed(revisor, runs)
            overheads.append(under - alone)
            print(
                f"| {label} | {alone:.2f} (max {alone_max:.1f}) | {under:.2f} "
                f"(max {under_max:.1f}) | {under - alone:+.2f} |"
            )
        stock = shapes["stock generic env.py (its own engine)"]

        def capture() -> None:
            capture_url(stock)

        def options() -> None:
            stock._online_options.clear()
            stock.env_options(url)

        captured, captured_max = timed(capture, runs)
        probed, probed_max = timed(options, runs)
        print()
        print("| once per command | median (ms) | max (ms) |")
        print("| --- | ---: | ---: |")
        print(f"| capture_url: the URL env.py would use | {captured:.2f} | {captured_max:.1f} |")
        print(f"| env_options: online options, read-only | {probed:.2f} | {probed_max:.1f} |")
        worst = captured + probed + 2 * max(overheads)
        print()
        print(
            f"most a command adds (capture + options + 2 env.py runs' overhead): "
            f"{worst:.1f} ms (goal: at most 50 ms)"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
