"""What one schema fingerprint costs, this checkout against another git revision.

`revisor test` takes three fingerprints per revision (before, after the downgrade, after
the re-upgrade), so the fingerprint query is its hot path. This script builds the schema
of a generated history (tests/support/history_factory.py, seed 0) on one database, then
calls this checkout's `Fingerprinter` and the one of `--against REF` (its
src/revisor/snapshot/catalog.py, loaded from git) alternately on the same connection, so
both see the same machine load:

    .venv/bin/python benchmarks/fingerprint_bench.py                 # against HEAD
    .venv/bin/python benchmarks/fingerprint_bench.py --against main --sizes 50 150 300 \
        --calls 400 [--url postgresql://...]     # default: revisor's embedded PostgreSQL

Prints the median milliseconds per call, as the client waits for it and as CPU time of
the server process (when the server runs on this machine: less disturbed by other load),
and the ratios this / reference. Never asserts on time.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from revisor.db.scratch import create_database, drop_database  # noqa: E402
from revisor.db.url import DatabaseUrl, parse_url  # noqa: E402
from revisor.snapshot import catalog  # noqa: E402
from tests.support.history_factory import write_history  # noqa: E402


def catalog_at(ref: str, work: Path) -> ModuleType:
    """snapshot/catalog.py as git has it at `ref`, imported as a module of its own."""
    text = subprocess.check_output(
        ["git", "show", f"{ref}:src/revisor/snapshot/catalog.py"], cwd=ROOT, text=True
    )
    path = work / "catalog_ref.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("catalog_ref", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["catalog_ref"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def build(server: DatabaseUrl, n: int, work: Path) -> DatabaseUrl:
    """A database holding what `n` generated revisions build."""
    from revisor import migrate
    from revisor.project import Project

    project = Project.load(write_history(work / f"h{n}", n, seed=0) / "alembic.ini")
    url = create_database(server, f"bench_fp_{secrets.token_hex(4)}")
    migrate.upgrade(project, url, "heads")
    return url


def measure(url: DatabaseUrl, reference: ModuleType, calls: int) -> dict[str, list[float]]:
    """Milliseconds per call of each Fingerprinter, called alternately: wall clock as the
    client sees it, and, when the server runs on this machine, the server process's own
    CPU time (/proc/PID/schedstat), which other load on the machine disturbs less."""
    import psycopg

    fingerprinters: dict[str, Any] = {
        "this": catalog.Fingerprinter(),
        "reference": reference.Fingerprinter(),
    }
    samples: dict[str, list[float]] = {}
    with psycopg.connect(**url.libpq_kwargs(), autocommit=True) as conn:
        for fingerprint in fingerprinters.values():
            fingerprint(conn)  # creates the temporary function
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()
        schedstat = Path(f"/proc/{pid[0] if pid else 0}/schedstat")

        def server_ms() -> float:
            try:
                return int(schedstat.read_text().split()[0]) / 1e6
            except OSError:  # a server on another machine
                return float("nan")

        for _ in range(calls):
            for name, fingerprint in fingerprinters.items():
                cpu, started = server_ms(), time.perf_counter()
                fingerprint(conn)
                samples.setdefault(name, []).append((time.perf_counter() - started) * 1000)
                samples.setdefault(f"{name} cpu", []).append(server_ms() - cpu)
        tables = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'"
        ).fetchone()
        version = conn.execute("SHOW server_version_num").fetchone()
    samples["tables"] = [float(tables[0] if tables else 0)]
    samples["version"] = [int(version[0] if version else 0) // 10000]
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", default="HEAD", help="git revision to compare with")
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 150, 300])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    if args.url:
        server = parse_url(args.url, source="--url")
    else:
        from revisor.db.embedded import embedded_server_url

        server = embedded_server_url()
    work = Path(tempfile.mkdtemp(prefix="revisor-fp-bench-"))
    reference = catalog_at(args.against, work)
    head = subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True)
    dirty = subprocess.check_output(["git", "status", "--porcelain", "src"], cwd=ROOT, text=True)
    print(
        f"machine: {platform.machine()}, {platform.python_version()}, "
        f"this checkout {head.strip()}{' + uncommitted changes' if dirty else ''}, "
        f"reference {args.against}; {args.calls} calls each, alternating"
    )
    print(
        f"{'revisions':>9} {'tables':>6} {'PG':>3} {'this ms':>8} {'ref ms':>7} {'ratio':>6}"
        f" {'this cpu ms':>12} {'ref cpu ms':>11} {'cpu ratio':>10}   (medians)"
    )
    for n in args.sizes:
        url = build(server, n, work)
        try:
            s = measure(url, reference, args.calls)
        finally:
            drop_database(server, url.database or "")
        m = {k: statistics.median(v) for k, v in s.items()}
        print(
            f"{n:>9} {int(m['tables']):>6} {int(m['version']):>3} {m['this']:>8.2f} "
            f"{m['reference']:>7.2f} {m['this'] / m['reference']:>6.3f} {m['this cpu']:>12.2f} "
            f"{m['reference cpu']:>11.2f} {m['this cpu'] / m['reference cpu']:>10.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
