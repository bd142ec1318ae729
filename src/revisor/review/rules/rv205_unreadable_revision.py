"""RV205 unreadable-revision."""

from __future__ import annotations

import ast
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity
from revisor.review.rule import Rule

if TYPE_CHECKING:
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration


class UnreadableRevision(Rule):
    """A revision file that does not parse, declares no revision id, or imports a missing module.

    ## What it does
    Flags files in the version locations that are not valid Python, that lack a literal
    `revision = "..."`, or whose top-level imports name a module that cannot be found
    (checked without running the file).

    ## Why is this bad?
    Alembic imports every file of the history for every command: one broken file stops
    `alembic upgrade` for everybody, including the deploy.

    ## Example
    ```python
    revision = "a1"
    down_revision = None
    def upgrade(:
        pass
    ```

    ## Use instead
    ```python
    revision = "a1"
    down_revision = None
    def upgrade():
        pass
    ```

    ## Fix safety
    No automatic fix: correct the file, or move files that are not migrations out of the
    versions folder.
    """

    code = "RV205"
    name = "unreadable-revision"
    severity = Severity.ERROR

    def check_project(self, ctx: ReviewContext) -> Iterator[Finding]:
        cache: dict[str, bool] = {}
        for migration in ctx.migrations:
            if migration.syntax_error is not None:
                error = migration.syntax_error
                yield self.finding(
                    migration,
                    error.lineno,
                    f"The file is not valid Python: {error.msg}.",
                    help="Alembic imports every revision file; fix the syntax error.",
                )
                continue
            if migration.revision is None:
                yield self.finding(
                    migration,
                    1,
                    'The file declares no literal `revision = "..."`, so it is not a revision.',
                    help="Move it out of the versions folder, or add revision and down_revision.",
                )
                continue
            yield from self._imports(migration, cache)

    def _imports(self, migration: Migration, cache: dict[str, bool]) -> Iterator[Finding]:
        assert migration.tree is not None
        root = migration.path.parent
        for stmt in migration.tree.body:
            names: list[str] = []
            if isinstance(stmt, ast.Import):
                names = [alias.name for alias in stmt.names]
            elif isinstance(stmt, ast.ImportFrom) and stmt.level == 0 and stmt.module:
                names = [stmt.module]
            for name in names:
                top = name.partition(".")[0]
                if top not in cache:
                    cache[top] = _findable(top, root)
                if not cache[top]:
                    yield self.finding(
                        migration,
                        stmt,
                        f"The revision imports {name!r}, which cannot be found.",
                        help="Install the package, or import it inside upgrade() if only some "
                        "environments have it.",
                    )


def _findable(module: str, root: Path) -> bool:
    """Importable, or a module/package beside the migrations or in a parent folder (the
    project's own code, which env.py's prepend_sys_path makes importable)."""
    if module in sys.modules:
        return True
    for folder in [root, *list(root.parents)[:4]]:
        if (folder / module).is_dir() or (folder / f"{module}.py").is_file():
            return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
