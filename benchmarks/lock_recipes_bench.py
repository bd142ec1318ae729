"""How long the application's writes wait while each unsafe migration runs, next to the
file `revisor review --fix --unsafe-fixes` makes of it.

    .venv/bin/python benchmarks/lock_recipes_bench.py            # 200,000 rows
    .venv/bin/python benchmarks/lock_recipes_bench.py 1000000

For each lock rule with a fix: a history whose first revision creates `vendors` (seeded
with N rows) and whose second runs the unsafe operation; the same history after the fix.
While the second revision upgrades in-process on a scratch database of the embedded
PostgreSQL (or $DATABASE_URL's server), another connection inserts into `vendors` in a
loop; the table shows the longest single INSERT (how long a request of the application
would hang) and the migration's time. Prints a table; asserts nothing about time.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TABLES = """
op.create_table("regions", sa.Column("id", sa.Integer, primary_key=True))
op.create_table(
    "vendors",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(80)),
    sa.Column("email", sa.String(120)),
    sa.Column("region_id", sa.Integer),
)
"""

CASES = {
    "RV301 index": 'op.create_index("ix_vendors_name", "vendors", ["name"])',
    "RV301 unique": 'op.create_unique_constraint("uq_vendors_email", "vendors", ["email"])',
    "RV305 foreign key": 'op.create_foreign_key("fk_vendors_region_id", "vendors", "regions", '
    '["region_id"], ["id"])',
    "RV305 check": 'op.create_check_constraint("ck_vendors_name", "vendors", "length(name) > 0")',
    "RV307 set not null": 'op.alter_column("vendors", "name", nullable=False)',
    "RV309 volatile default": 'op.add_column("vendors", sa.Column("token", sa.Uuid(), '
    'server_default=sa.text("gen_random_uuid()")))',
}

SEED = (
    "INSERT INTO regions VALUES (1);"
    "INSERT INTO vendors (name, email, region_id) "
    "SELECT 'n' || g, 'e' || g, 1 FROM generate_series(1, {rows}) g"
)
WRITE = "INSERT INTO vendors (name, email, region_id) VALUES ('w', gen_random_uuid()::text, 1)"


def _longest_write(url: object, stop: threading.Event, out: list[float]) -> None:
    import psycopg

    with psycopg.connect(**url.libpq_kwargs(), autocommit=True) as conn:  # type: ignore[attr-defined]
        longest = 0.0
        while not stop.is_set():
            start = time.perf_counter()
            conn.execute(WRITE)
            longest = max(longest, time.perf_counter() - start)
            time.sleep(0.002)
    out.append(longest)


def _measure(root: Path, server: object, rows: int) -> tuple[float, float]:
    import psycopg

    from revisor import migrate
    from revisor.db.scratch import scratch_database
    from revisor.project import Project

    project = Project.load(root / "alembic.ini")
    with scratch_database(server, label="bench") as url:  # type: ignore[arg-type]
        migrate.upgrade(project, url, "a1")
        with psycopg.connect(**url.libpq_kwargs(), autocommit=True) as conn:
            conn.execute(SEED.format(rows=rows))
            conn.execute("VACUUM ANALYZE vendors")
        stop, out = threading.Event(), []
        writer = threading.Thread(target=_longest_write, args=(url, stop, out))
        writer.start()
        time.sleep(0.2)
        start = time.perf_counter()
        migrate.upgrade(project, url, "b2")
        took = time.perf_counter() - start
        time.sleep(0.2)
        stop.set()
        writer.join()
    return took, out[0]


def main(argv: list[str]) -> None:
    from typer.testing import CliRunner

    from benchmarks.machine import print_machine
    from revisor.cli import app
    from revisor.db.resolve import resolve_database
    from tests.support.mini_history import write_history

    rows = int(argv[0]) if argv else 200_000
    server = resolve_database(None, None).url
    print_machine(server)
    print(f"rows in vendors: {rows:,}")
    print(
        "| operation | as written: longest write (s) | migration (s) "
        "| fixed: longest write (s) | migration (s) |"
    )
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, body in CASES.items():
        with tempfile.TemporaryDirectory() as tmp:
            before, after = Path(tmp) / "before", Path(tmp) / "after"
            write_history(before, [("a1", None, TABLES, "pass"), ("b2", "a1", body, "pass")])
            shutil.copytree(before, after)
            CliRunner().invoke(
                app, ["review", "-c", str(after / "alembic.ini"), "--fix", "--unsafe-fixes"]
            )
            plain_took, plain_wait = _measure(before, server, rows)
            fixed_took, fixed_wait = _measure(after, server, rows)
        print(
            f"| {label} | {plain_wait:.3f} | {plain_took:.2f} "
            f"| {fixed_wait:.3f} | {fixed_took:.2f} |"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
