"""How long `revisor draft` takes on the reference app (embedded PostgreSQL 18).

    python benchmarks/draft.py [RUNS]

Prints a table: median and max seconds per draft, for "no changes" and for the
BillingCycle names -> values change (file written, then removed between runs).
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from revisor import migrate
from revisor.db.embedded import embedded_server_url
from revisor.db.scratch import scratch_database
from revisor.draft import draft
from revisor.examples import example_dir
from revisor.project import Project

VALUES = (
    'sa.Enum(BillingCycle, name="billing_cycle", values_callable=lambda e: [m.value for m in e])'
)


def _time(project_dir: Path, url, runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        project = Project.load(project_dir / "alembic.ini")
        start = time.perf_counter()
        result = draft(project, url, "bench")
        seconds.append(time.perf_counter() - start)
        if result.path is not None:
            result.path.unlink()
    return seconds


def main(runs: int = 5) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp, scratch_database(embedded_server_url()) as url:
        project_dir = Path(tmp) / "app"
        shutil.copytree(example_dir(), project_dir)
        migrate.upgrade(Project.load(project_dir / "alembic.ini"), url, "heads")
        rows.append(("no changes", _time(project_dir, url, runs)))
        models = project_dir / "app" / "models.py"
        models.write_text(
            models.read_text().replace('sa.Enum(BillingCycle, name="billing_cycle")', VALUES)
        )
        rows.append(("names -> values (3 renames)", _time(project_dir, url, runs)))
    print(f"{'case':<30} {'runs':>4} {'median s':>9} {'max s':>7}")
    for name, seconds in rows:
        print(f"{name:<30} {runs:>4} {statistics.median(seconds):>9.3f} {max(seconds):>7.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
