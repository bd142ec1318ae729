"""How fast `revisor review` reads a history: N generated revision files, files/second,
and the ratio to a bare `ast.parse` of the same files, both timed in the same run.

Goals: 1000 files in under 1 second on 2 cores, linear in N (issue #4), and at most 3x
the time Python's own parser takes to read the same files (issue #12) — the ratio does
not depend on how busy the shared machine is, the seconds do.

    .venv/bin/python benchmarks/review_bench.py            # N = 100, 1000, 5000
    .venv/bin/python benchmarks/review_bench.py 200 2000   # other sizes

Each file is a realistic autogenerate-style revision (tables, columns, indexes, foreign
keys, enums; one in five has raw SQL for pglast). The review timing covers the whole
engine (discover, parse, every default rule, history graph) through
`revisor.review.review` on a real alembic project, excluding the one-off import of
revisor itself; the ast.parse timing reads and parses every revision file. Each is the
best of 3 runs, interleaved so both see the same load; "ratio" divides wall-clock times,
"cpu ratio" this process's CPU times (steadier when other processes share the cores).
"""

from __future__ import annotations

import ast
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TEMPLATES = [
    """def upgrade():
    op.create_table(
        "t{i}",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.Enum("a", "b", name="kind_{i}"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_t{i}_name"), "t{i}", ["name"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_t{i}_name"), table_name="t{i}")
    op.drop_table("t{i}")
    sa.Enum(name="kind_{i}").drop(op.get_bind(), checkfirst=True)
""",
    """def upgrade():
    op.add_column("t{p}", sa.Column("note_{i}", sa.Text(), nullable=True))
    op.create_foreign_key("fk_t{p}_ref_{i}", "t{p}", "t{q}", ["id"], ["id"])


def downgrade():
    op.drop_constraint("fk_t{p}_ref_{i}", "t{p}", type_="foreignkey")
    op.drop_column("t{p}", "note_{i}")
""",
    """def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(sa.text("UPDATE t{p} SET name = lower(name) WHERE id > {i}"))
    op.execute("ALTER TABLE t{p} ADD COLUMN flag_{i} boolean NOT NULL DEFAULT false")


def downgrade():
    op.execute("ALTER TABLE t{p} DROP COLUMN flag_{i}")
""",
    """def upgrade():
    with op.batch_alter_table("t{p}") as batch_op:
        batch_op.add_column(sa.Column("code_{i}", sa.String(length=20), nullable=True))
        batch_op.alter_column("name", existing_type=sa.String(length=120), type_=sa.Text())


def downgrade():
    with op.batch_alter_table("t{p}") as batch_op:
        batch_op.alter_column("name", existing_type=sa.Text(), type_=sa.String(length=120))
        batch_op.drop_column("code_{i}")
""",
    """def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_t{p}_code_{i}", "t{p}", ["name"], postgresql_concurrently=True
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index("ix_t{p}_code_{i}", table_name="t{p}", postgresql_concurrently=True)
""",
]

INI = """[alembic]
script_location = migrations
path_separator = os
"""
ENV = "from alembic import context\n"


def write_history(root: Path, count: int) -> None:
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "alembic.ini").write_text(INI)
    (root / "migrations" / "env.py").write_text(ENV)
    previous = None
    for i in range(count):
        revision = f"{i:012x}"
        body = TEMPLATES[0 if i < 2 else i % len(TEMPLATES)].format(
            i=i, p=max(0, i - 1) // 5 * 5, q=i // 7 * 5
        )
        header = (
            f'"""revision {i}\n\nRevision ID: {revision}\n"""\n'
            "from alembic import op\nimport sqlalchemy as sa\n\n"
            f'revision = "{revision}"\ndown_revision = {previous!r}\n'
            "branch_labels = None\ndepends_on = None\n\n\n"
        )
        (versions / f"{revision}_rev_{i}.py").write_text(header + body)
        previous = revision


@dataclass
class Timing:
    """Best of the repeats, in seconds: wall clock, and CPU time of this process (what
    the other processes of a shared machine do not change)."""

    wall: float = float("inf")
    cpu: float = float("inf")

    def keep(self, wall: float, cpu: float) -> None:
        self.wall = min(self.wall, wall)
        self.cpu = min(self.cpu, cpu)


def measure(count: int, repeat: int = 3) -> tuple[Timing, Timing, int]:
    """Timings of `repeat` reviews of a fresh N-file history and of `repeat` bare
    ast.parse passes over the same files (alternating, so both see the same load of a
    shared machine), and the number of findings."""
    from revisor.project import Project
    from revisor.review import review

    with tempfile.TemporaryDirectory(prefix="revisor-bench-") as tmp:
        root = Path(tmp)
        write_history(root, count)
        files = sorted((root / "migrations" / "versions").glob("*.py"))
        reviewing, parsing = Timing(), Timing()
        findings = 0
        for _ in range(repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            for path in files:
                ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            parsing.keep(time.perf_counter() - wall, time.process_time() - cpu)
            wall, cpu = time.perf_counter(), time.process_time()
            project = Project.load(root / "alembic.ini")
            result = review(project)
            reviewing.keep(time.perf_counter() - wall, time.process_time() - cpu)
            findings = len(result.findings)
        return reviewing, parsing, findings


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [100, 1000, 5000]
    import revisor.review.rules
    import revisor.review.sql  # noqa: F401

    measure(20, repeat=1)  # warm caches (pglast, sqlalchemy imports)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.machine import print_machine

    print_machine()
    print(
        f"{'files':>7} {'seconds':>9} {'files/s':>9} {'ms/file':>8} {'findings':>9} "
        f"{'ast.parse s':>12} {'ratio':>6} {'cpu ratio':>10}"
    )
    for count in sizes:
        reviewing, parsing, findings = measure(count)
        print(
            f"{count:>7} {reviewing.wall:>9.3f} {count / reviewing.wall:>9.0f} "
            f"{1000 * reviewing.wall / count:>8.3f} {findings:>9} {parsing.wall:>12.3f} "
            f"{reviewing.wall / parsing.wall:>5.1f}x {reviewing.cpu / parsing.cpu:>9.1f}x"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
