"""`revisor graph`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from revisor.cli import app
from revisor.cli.common import (
    AppOption,
    Common,
    ConfigOption,
    DebugOption,
    NameOption,
    XOption,
    run,
    stderr_console,
)

if TYPE_CHECKING:
    from revisor.project import Project


@app.command()
def graph(
    config: ConfigOption = None,
    name: NameOption = "alembic",
    output_format: Annotated[
        str, typer.Option("--format", "-f", help="mermaid or dot (Graphviz).")
    ] = "mermaid",
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="Highlight the revision(s) this database is at (reads its version table).",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="REF",
            help="Highlight the revisions whose files were added or changed since this git "
            "ref (e.g. origin/main).",
            show_default=False,
        ),
    ] = None,
    x_arg: XOption = None,
    app_path: AppOption = None,
    debug: DebugOption = False,
) -> None:
    """Print the revision graph as Mermaid (default) or DOT.

    One node per revision with its message, an edge from each parent to its child;
    merges, branch points and heads marked (docs/graph.md). Exit 0, 2 usage or broken
    history, 3 database error, 6 database at an unknown revision."""
    common = Common(config=config, name=name, url=url, debug=debug, x_args=x_arg, app=app_path)

    def body() -> int:
        import sys

        from revisor.errors import ConfigError
        from revisor.graph_diagram import FORMATS, Highlights, render

        if output_format not in FORMATS:
            raise ConfigError(
                f"Unknown --format {output_format!r}.", hint=f"Use {' or '.join(FORMATS)}."
            )
        project = common.project()
        messages = {s.revision: s.doc or "" for s in project.revisions}
        highlights = Highlights(
            database=frozenset(_database_heads(project, common) if url else ()),
            branch=frozenset(_on_branch(project, since) if since else ()),
        )
        # stdout is the diagram alone; why nothing is highlighted goes to stderr
        err = stderr_console()
        if url and not highlights.database:
            err.print("[dim]note:[/] the database has no revision applied (no version table row).")
        if since and not highlights.branch:
            err.print(f"[dim]note:[/] no revision file was added or changed since {escape(since)}.")
        sys.stdout.write(render(project.graph, messages, output_format, highlights))
        return 0

    run(common, body)


def _database_heads(project: Project, common: Common) -> tuple[str, ...]:
    """The revisions the --url database is stamped with (a read of its version table);
    raises UnknownRevision for one the history does not have."""
    from revisor import migrate
    from revisor.db.resolve import resolve_database
    from revisor.errors import UnknownRevision
    from revisor.fix_commands import FixCommands

    url = resolve_database(project, common.url).url
    heads = migrate.database_heads(project, url)
    unknown = [head for head in heads if head not in project.graph.nodes]
    if unknown:
        raise UnknownRevision(unknown, FixCommands.for_project(project, url).doctor())
    return heads


def _on_branch(project: Project, ref: str) -> set[str]:
    """Revisions whose file git lists as added or changed since `ref`."""
    from revisor.errors import ConfigError
    from revisor.review.engine import changed_migrations

    changed = changed_migrations(project, ref)
    if changed is None:
        raise ConfigError(
            f"--since {ref}: {project.root} is not inside a git repository.",
            hint="Run revisor in the repository's work tree, or drop --since.",
        )
    paths = set(changed.paths)
    return {s.revision for s in project.revisions if s.path and Path(s.path).resolve() in paths}
