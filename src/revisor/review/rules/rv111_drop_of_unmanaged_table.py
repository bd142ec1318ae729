"""RV111 drop-of-unmanaged-table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from revisor.findings import Finding, Severity
from revisor.review.rule import Rule

if TYPE_CHECKING:
    from revisor.review.context import ReviewContext


class DropOfUnmanagedTable(Rule):
    """The upgrade drops a table no imported model defines, but that is not gone from the app.

    ## What it does
    Flags `op.drop_table("x")` in `upgrade()` when the models' MetaData has no table `x`
    and either the project's source still declares it (`__tablename__ = "x"` in a module
    env.py does not import), or no revision of the history ever created it (a table
    managed outside Alembic: an extension's, another service's).

    ## Why is this bad?
    Autogenerate drops every table of the database that `target_metadata` does not know.
    A model module that env.py forgets to import, or a table Alembic does not own, turns
    into a `drop_table` that deletes live data on deploy.

    ## Example
    ```python models
    import sqlalchemy as sa
    metadata = sa.MetaData()
    ```
    ```python
    def upgrade():
        op.drop_table("spatial_ref_sys")
    ```

    ## Use instead
    ```python models
    import sqlalchemy as sa
    metadata = sa.MetaData()
    ```
    ```python
    def upgrade():
        pass
    ```

    ## Fix safety
    No automatic fix. Delete the line; then import the model module in env.py (so
    `target_metadata` has the table), or tell autogenerate to leave the table alone with an
    `include_object` hook in env.py's `context.configure(...)`.
    """

    code = "RV111"
    name = "drop-of-unmanaged-table"
    severity = Severity.ERROR
    needs_metadata = True

    def check_project(self, ctx: ReviewContext) -> Iterator[Finding]:
        drops = [
            (m, a)
            for m in ctx.migrations
            if m.upgrade is not None
            for a in m.upgrade.actions
            if a.kind == "drop_table" and a.table
        ]
        if not drops:
            return
        tables = ctx.model_tables()
        if tables is None:
            return
        created = {
            a.table
            for m in ctx.all_migrations
            if m.upgrade is not None
            for a in m.upgrade.actions
            if a.kind == "create_table"
        } | {
            a.new_name
            for m in ctx.all_migrations
            if m.upgrade is not None
            for a in m.upgrade.actions
            if a.kind == "rename_table"
        }
        for migration, action in drops:
            if action.table in tables:
                continue  # RV110's case
            source = ctx.source_tablenames.get(action.table or "")
            if source is not None:
                where = source.relative_to(ctx.root) if ctx.root else source
                yield self.finding(
                    migration,
                    action.node,
                    f"The upgrade drops table {action.table!r}, which {where} still declares "
                    "but the models env.py imports do not include.",
                    help=f"Delete this line and import {where} in env.py so target_metadata "
                    "knows the table.",
                )
            elif action.table not in created:
                yield self.finding(
                    migration,
                    action.node,
                    f"The upgrade drops table {action.table!r}, which no revision created: it "
                    "is managed outside this history.",
                    help="Delete this line; keep autogenerate away from the table with an "
                    "include_object hook in env.py (return False for it).",
                )
