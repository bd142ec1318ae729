"""RV203 revision-cycle."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity
from revisor.review.rule import Rule
from revisor.review.rules._history import involved

if TYPE_CHECKING:
    from revisor.review.context import ReviewContext


class RevisionCycle(Rule):
    """The revisions' `down_revision` (or `depends_on`) links form a cycle.

    ## What it does
    Finds cycles in the graph of `down_revision` and `depends_on` links (a revision that
    is, through what it requires, its own ancestor).

    ## Why is this bad?
    No order exists in which to apply the revisions; Alembic fails on every command, and
    the cycle usually hides a revision that lost its real parent in a bad merge.

    ## Example
    ```python
    revision = "a1"
    down_revision = "b2"
    ```
    ```python
    revision = "b2"
    down_revision = "a1"
    ```

    ## Use instead
    ```python
    revision = "a1"
    down_revision = None
    ```
    ```python
    revision = "b2"
    down_revision = "a1"
    ```

    ## Fix safety
    No automatic fix: decide which revision comes first and correct its `down_revision`.
    """

    code = "RV203"
    name = "revision-cycle"
    severity = Severity.ERROR

    def check_project(self, ctx: ReviewContext) -> Iterator[Finding]:
        graph = ctx.graph
        by_path = {m.path: m for m in ctx.all_migrations}
        for cycle in graph.cycles:
            nodes = [graph.nodes[r] for r in cycle]
            if not involved(ctx, [n.path for n in nodes]):
                continue
            first = min(nodes, key=lambda n: str(n.path))
            loop = " -> ".join([*cycle, cycle[0]])
            yield self.finding(
                by_path.get(first.path) if first.path else None,
                first.line,
                f"The revisions form a cycle: {loop}.",
                help="Correct the down_revision (or depends_on) of the revision that should "
                "come first.",
            )
