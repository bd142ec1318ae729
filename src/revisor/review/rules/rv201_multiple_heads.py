"""RV201 multiple-heads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity
from revisor.review.rule import Rule

if TYPE_CHECKING:
    from revisor.review.context import ReviewContext


class MultipleHeads(Rule):
    """The history has more than one head.

    ## What it does
    Builds the revision graph from the files' `revision` / `down_revision` (without
    importing them) and flags histories with more than one head that share an ancestor.
    Heads made on purpose (a branch with `branch_labels`, independent bases) are fine.

    ## Why is this bad?
    Two branches merged in git each added a revision on the same parent. `alembic upgrade
    head` refuses to run ("Multiple head revisions are present"), so the deploy fails.

    ## Example
    ```python
    revision = "a1"
    down_revision = None
    ```
    ```python
    revision = "b2"
    down_revision = "a1"
    ```
    ```python
    revision = "c3"
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
    ```python
    revision = "c3"
    down_revision = "b2"
    ```

    ## Fix safety
    No automatic fix: rebase one revision onto the other (edit its `down_revision`), or
    create a merge revision with `alembic merge heads`.
    """

    code = "RV201"
    name = "multiple-heads"
    severity = Severity.ERROR

    def check_project(self, ctx: ReviewContext) -> Iterator[Finding]:
        graph = ctx.graph
        heads = graph.unintended_heads()
        if len(heads) < 2:
            return
        node = graph.nodes[heads[-1]]
        by_path = {m.path: m for m in ctx.all_migrations}
        yield self.finding(
            by_path.get(node.path) if node.path else None,
            node.line,
            f"The history has {len(heads)} heads ({', '.join(heads)}): `alembic upgrade head` "
            "will refuse to run.",
            help="Point one revision's down_revision at the other head, or run "
            "`alembic merge heads`.",
        )
