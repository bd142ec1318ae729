"""RV202 unknown-down-revision."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity
from revisor.review.rule import Rule
from revisor.review.rules._history import involved

if TYPE_CHECKING:
    from revisor.review.context import ReviewContext


class UnknownDownRevision(Rule):
    """`down_revision` names a revision that is not in the history.

    ## What it does
    Flags a revision whose `down_revision` (or one of a merge's parents) matches no
    revision file in the version locations.

    ## Why is this bad?
    Alembic cannot build the graph: every command fails with "Revision ... referenced from
    ... is not present". Usually a parent file was deleted, renamed, or not pulled yet.

    ## Example
    ```python
    revision = "b2"
    down_revision = "zz"
    ```

    ## Use instead
    ```python
    revision = "b2"
    down_revision = None
    ```

    ## Fix safety
    No automatic fix: restore the missing file or point `down_revision` at the right parent.
    """

    code = "RV202"
    name = "unknown-down-revision"
    severity = Severity.ERROR

    def check_project(self, ctx: ReviewContext) -> Iterator[Finding]:
        by_path = {m.path: m for m in ctx.all_migrations}
        for node, parent in ctx.graph.unknown_parents:
            if not involved(ctx, [node.path]):
                continue
            yield self.finding(
                by_path.get(node.path) if node.path else None,
                node.line,
                f"Revision {node.revision} names down_revision {parent!r}, which no file in "
                "the version locations defines.",
                help="Restore the missing revision file, or correct down_revision.",
            )
