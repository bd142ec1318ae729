"""`revisor draft`: Alembic autogenerate, run in-process through the project's own env.py,
with revisor's rewrite chained after the user's process_revision_directives.

Alembic's `command.revision` runs a programmatic hook *before* env.py's; revisor wants the
user's first, so it drives the same RevisionContext itself and revises the directives once
env.py's hook has run, while the connection is still open for catalog reads.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.autogenerate import render
from alembic.autogenerate.api import RevisionContext
from alembic.operations import ops
from alembic.util import CommandError

from revisor import alembic_api, migrate
from revisor.alembic import OPTIONS_ATTRIBUTE, QUIET_ATTRIBUTE
from revisor.db.connect import connect, translate_connect_error
from revisor.db.url import DatabaseUrl
from revisor.drafting import DraftOptions, DraftReport, merge_into, revise
from revisor.drafting.errors import DatabaseNotAtHead
from revisor.drafting.source import SourceOp
from revisor.envrun import run_env_py
from revisor.errors import (
    EnvImportError,
    HistoryError,
    MetadataNotFound,
    MultipleHeads,
    RevisorError,
)
from revisor.project import Project


@dataclass
class DraftResult:
    """The written migration (None when nothing changed) and what it contains."""

    path: Path | None
    revision: str | None
    operations: list[str] = field(default_factory=list)  # one line per upgrade op
    report: DraftReport = field(default_factory=DraftReport)

    @property
    def empty(self) -> bool:
        return self.path is None


def draft(
    project: Project,
    url: DatabaseUrl,
    message: str,
    options: DraftOptions | None = None,
    *,
    rev_id: str | None = None,
) -> DraftResult:
    """Autogenerate a migration from the models against the database at `url`, revise it,
    and write it to the versions folder unless it is empty.

    Reads the database (schema and catalog) and never writes to it. Raises
    DatabaseNotAtHead, DraftBlocked, EnvImportError or a database error.
    """
    if len(project.heads) > 1:
        raise MultipleHeads(project.heads)  # before autogenerate runs on the database
    options = options or DraftOptions.build(
        settings=project.settings.raw, source_roots=[project.root]
    )
    command_args = {
        "message": message,
        "autogenerate": True,
        "sql": False,
        "head": "head",
        "splice": False,
        "branch_label": None,
        "version_path": None,
        "rev_id": rev_id,
        "depends_on": None,
    }
    revision_context = RevisionContext(project.config, project.script, command_args)
    reports: list[DraftReport] = []
    state = {"started": False}

    def retrieve(rev: Any, context: Any) -> list[Any]:
        state["started"] = True
        revision_context.run_autogenerate(rev, context)  # env.py's own hook runs in here
        reports.append(revise(context, revision_context.generated_revisions, options))
        return []

    attributes = project.config.attributes
    attributes[QUIET_ATTRIBUTE] = True  # an env.py hook of revisor's stays silent
    attributes[OPTIONS_ATTRIBUTE] = options  # ... and follows the command line's flags
    with connect(url) as conn:
        try:
            run_env_py(
                project,
                retrieve,
                target=url,
                connection=conn,
                template_args=revision_context.template_args,
                revision_context=revision_context,
                # like `alembic check`: an unstamped database gets no version table
                dont_mutate=True,
            )
        except RevisorError:
            raise
        except CommandError as exc:
            text = str(exc)
            if "not up to date" in text:
                from revisor.fix_commands import FixCommands

                upgrade = FixCommands.for_project(project, url).upgrade_to("heads")
                raise DatabaseNotAtHead(
                    migrate.database_heads(project, url), project.heads, upgrade
                ) from exc
            if "does not provide a MetaData" in text:
                env_py = Path(project.script.dir) / "env.py"
                raise MetadataNotFound(
                    f"{env_py} passes no target_metadata to context.configure()"
                ) from exc
            if "ultiple heads" in text:
                raise MultipleHeads(project.heads) from exc
            raise HistoryError(f"Alembic refused to autogenerate: {exc}") from exc
        except Exception as exc:
            if state["started"]:
                raise  # autogenerate itself or revisor's rewrite: not the user's env.py
            if migrate._is_connect_error(exc):
                raise translate_connect_error(url, exc) from exc
            raise EnvImportError(Path(project.script.dir) / "env.py", exc) from exc
        finally:
            attributes.pop(QUIET_ATTRIBUTE, None)
            attributes.pop(OPTIONS_ATTRIBUTE, None)
            if conn.in_transaction():
                conn.rollback()

    report = _merge(reports)
    scripts = revision_context.generated_revisions
    if not scripts or all(_is_empty(s) for s in scripts):
        return DraftResult(path=None, revision=None, report=report)
    operations = _describe(revision_context, scripts)
    messaging = project.script.messaging_opts
    project.script.messaging_opts = {**messaging, "quiet": True}  # revisor reports the path
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            written = [s for s in revision_context.generate_scripts() if s is not None]
    finally:
        project.script.messaging_opts = messaging
    for script in written:
        _replace_banner(Path(script.path))
    first = written[0]
    return DraftResult(
        path=Path(first.path),
        revision=first.revision,
        operations=operations,
        report=report,
    )


_ALEMBIC_BANNER = "# ### commands auto generated by Alembic - please adjust! ###"
_ALEMBIC_END = "# ### end Alembic commands ###"
_REVISOR_HEADER = (
    "# drafted by revisor: applies as written; comments mark what a reviewer should know"
)


def _replace_banner(path: Path) -> None:
    """revisor's header instead of alembic's "please adjust" banner (nothing needs
    adjusting: what does is refused or commented), and no end marker."""
    text = path.read_text(encoding="utf-8")
    lines = [
        line.replace(_ALEMBIC_BANNER, _REVISOR_HEADER)
        for line in text.split("\n")
        if line.strip() != _ALEMBIC_END
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def _is_empty(script: ops.MigrationScript) -> bool:
    return all(up.is_empty() for up in script.upgrade_ops_list)


def _merge(reports: list[DraftReport]) -> DraftReport:
    merged = DraftReport()
    for one in reports:
        merge_into(merged, one)
    return merged


def _describe(revision_context: RevisionContext, scripts: list[ops.MigrationScript]) -> list[str]:
    """The first line of each upgrade op as it will be rendered (comments skipped)."""
    context = alembic_api.last_autogen_context(revision_context)
    lines: list[str] = []
    for script in scripts:
        for upgrade in script.upgrade_ops_list:
            for op in upgrade.ops:
                inner = op.ops if isinstance(op, ops.ModifyTableOps) else [op]
                for item in inner:
                    if isinstance(item, SourceOp):
                        if item.first_statement is not None:
                            lines.append(item.first_statement)
                        continue
                    rendered = [
                        line
                        for line in render.render_op(context, item)
                        if line and not line.startswith("#")
                    ]
                    text = rendered[0] if rendered else type(item).__name__
                    if text.startswith("with ") and len(rendered) > 1:
                        text = rendered[1]
                    lines.append(text if len(text) <= 110 else text[:107] + "...")
    return lines
