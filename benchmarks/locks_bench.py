"""What `revisor test --locks` reports for each lock case, and how long the blocking
statement holds its lock as the tables grow.

Each case of tests/support/lock_cases.py (an unsafe operation, or a safe recipe) is the
last revision of a three-revision history (accounts, orders referencing it, the case); it
is round-tripped alone (`--last 1`) with `--locks --rows N` for each N, in-process on one
PostgreSQL server. Printed per case and N: the codes of the upgrade's lock findings and
the longest blocking statement's duration (the same numbers `revisor test --locks
--format json` carries as `details.seconds`).

Usage (from the repository root, with revisor's venv):

    .venv/bin/python benchmarks/locks_bench.py [--rows 2 10000 100000]
        [--url postgresql://...]   # default: revisor's embedded PostgreSQL

Never asserts on time.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from revisor.db.url import DatabaseUrl, parse_url  # noqa: E402
from revisor.project import Project  # noqa: E402
from revisor.testing.plan import make_plan  # noqa: E402
from revisor.testing.roundtrip import RoundTripOptions, round_trip  # noqa: E402
from tests.support.lock_cases import BLOCKING, BLOCKING_DOWNGRADE, NOT_BLOCKING  # noqa: E402
from tests.support.mini_history import ACCOUNTS, ORDERS, write_history  # noqa: E402


def measure(server: DatabaseUrl, work: Path, upgrade: str, downgrade: str, rows: int) -> str:
    """`codes, longest blocking seconds` of the case's upgrade, or what failed."""
    root = Path(tempfile.mkdtemp(dir=work))
    project = Project.load(
        write_history(root, [ACCOUNTS, ORDERS, ("c3", "b2", upgrade, downgrade)])
    )
    result = round_trip(
        project, make_plan(project, last=1), server, RoundTripOptions(locks=True, rows=rows)
    )
    other = sorted({f.code for f in result.findings if not f.code.startswith("RT3")})
    if other:
        return "fails: " + ",".join(other)
    up = [f for f in result.findings if f.extra.get("direction") == "upgrade"]
    if not up:
        return "clean"
    codes = ",".join(sorted({f.code for f in up}))
    longest = max(float(str(f.extra["seconds"])) for f in up)
    return f"{codes} {longest * 1000:.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[2, 10_000, 100_000])
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    if args.url:
        server = parse_url(args.url, source="--url")
    else:
        from revisor.db.embedded import embedded_server_url

        server = embedded_server_url()
    cases = [(name, *BLOCKING[name][:2]) for name in BLOCKING]
    cases += [(name, *NOT_BLOCKING[name]) for name in NOT_BLOCKING]
    cases += [(name, *BLOCKING_DOWNGRADE[name][:2]) for name in BLOCKING_DOWNGRADE]
    work = Path(tempfile.mkdtemp(prefix="revisor-locks-bench-"))
    table = []
    try:
        for name, upgrade, downgrade in cases:
            table.append((name, [measure(server, work, upgrade, downgrade, n) for n in args.rows]))
            print(f"... {name}", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    from benchmarks.machine import print_machine

    print_machine(server)
    print("lock findings of the upgrade, longest blocking statement (rows per table)")
    print()
    print("| case | " + " | ".join(f"--rows {n}" for n in args.rows) + " |")
    print("| --- | " + " | ".join("---" for _ in args.rows) + " |")
    for name, cells in table:
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
