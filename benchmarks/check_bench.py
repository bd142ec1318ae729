"""How long `revisor check`'s drift comparison takes next to the migrations it follows.

    .venv/bin/python benchmarks/check_bench.py            # N = 50, 150, 300 revisions
    .venv/bin/python benchmarks/check_bench.py 100 500    # other sizes

For each generated history (tests/support/history_factory.py) on a scratch database of the
embedded PostgreSQL (or $DATABASE_URL's server): `upgrade heads` in-process, then the
models vs database comparison (Alembic's autogenerate comparison plus revisor's enum,
CHECK, index and default probes), with the models taken from the migrated schema itself so
the expected result is zero findings. Prints a table; asserts nothing about time.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str]) -> None:
    import sqlalchemy as sa

    from benchmarks.machine import print_machine
    from revisor import migrate
    from revisor.db.connect import connect
    from revisor.db.resolve import resolve_database
    from revisor.db.scratch import scratch_database
    from revisor.drift import CompareOptions, compare_connection
    from revisor.project import Project
    from tests.support.history_factory import write_history

    sizes = [int(a) for a in argv] or [50, 150, 300]
    server = resolve_database(None, None).url
    print_machine(server)
    print(f"server: {server.masked}")
    print("| revisions | tables | upgrade heads (s) | drift compare (s) | findings |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = write_history(Path(tmp) / "history", n, seed=1)
            project = Project.load(root / "alembic.ini")
            with scratch_database(server, label="bench") as url:
                start = time.perf_counter()
                migrate.upgrade(project, url, "heads")
                upgraded = time.perf_counter() - start
                with connect(url) as conn:
                    metadata = sa.MetaData()
                    metadata.reflect(conn)
                    metadata.remove(metadata.tables["alembic_version"])
                    conn.rollback()
                    start = time.perf_counter()
                    findings = compare_connection(conn, [metadata], CompareOptions())
                    compared = time.perf_counter() - start
        print(
            f"| {n} | {len(metadata.tables)} | {upgraded:.2f} | {compared:.2f} | {len(findings)} |"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
