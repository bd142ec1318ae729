"""RV204 duplicate-revision-id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity
from revisor.review.rule import Rule
from revisor.review.rules._history import involved

if TYPE_CHECKING:
    from revisor.review.context import ReviewContext


class DuplicateRevisionId(Rule):
    """Two files declare the same revision id.

    ## What it does
    Flags every file whose `revision` id another file already declares.

    ## Why is this bad?
    Alembic keeps one of them and silently ignores the other (or fails, depending on the
    version): a migration that never runs, or runs in the wrong place of the history.
    It happens when a file is copied to start a new revision.

    ## Example
    ```python
    revision = "a1"
    down_revision = None
    ```
    ```python
    revision = "a1"
    down_revision = None
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
    No automatic fix: give the copy a fresh id (`uuid.uuid4().hex[-12:]`) and a correct
    `down_revision`.
    """

    code = "RV204"
    name = "duplicate-revision-id"
    severity = Severity.ERROR

    def check_project(self, ctx: ReviewContext) -> Iterator[Finding]:
        by_path = {m.path: m for m in ctx.all_migrations}
        for revision, nodes in sorted(ctx.graph.duplicates.items()):
            if not involved(ctx, [n.path for n in nodes]):
                continue
            files = ", ".join(n.path.name for n in nodes if n.path)
            for node in nodes[1:]:
                yield self.finding(
                    by_path.get(node.path) if node.path else None,
                    node.line,
                    f"Revision id {revision!r} is declared by {len(nodes)} files ({files}).",
                    help="Give each revision its own id and fix the down_revision links.",
                )
