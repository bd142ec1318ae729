"""`revisor merge`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

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
from revisor.exit_codes import ExitCode


@app.command()
def merge(
    message: Annotated[str, typer.Option("--message", "-m", help="The merge revision's message.")],
    config: ConfigOption = None,
    name: NameOption = "alembic",
    x_arg: XOption = None,
    app_path: AppOption = None,
    debug: DebugOption = False,
) -> None:
    """Merge every head of the history into one new revision, then review it.

    Writes the file as `alembic merge heads` does, without running env.py
    (docs/merge.md). Exit 0 merged and clean, 1 the review found errors in it, 2 fewer
    than two heads or an empty message (nothing written)."""
    common = Common(config=config, name=name, debug=debug, x_args=x_arg, app=app_path)

    def body() -> int:
        from revisor.codes import Command
        from revisor.merge import merge_heads
        from revisor.report.excerpt import render_excerpts
        from revisor.review import review

        project = common.project()
        merged = merge_heads(project, message)
        err = stderr_console()
        cwd = Path.cwd().resolve()
        shown = merged.path.relative_to(cwd) if merged.path.is_relative_to(cwd) else merged.path
        err.print(
            f"merged {len(merged.heads)} heads ({', '.join(merged.heads)}) into "
            f"{merged.revision}: {escape(str(shown))}"
        )
        # reloaded: the history now has the new file
        findings = review(common.project(), [merged.path]).findings
        sys.stdout.write(render_excerpts(findings, root=project.root))
        return ExitCode.FINDINGS if Command.REVIEW.fails(findings) else ExitCode.OK

    run(common, body)
