"""`revisor init`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from revisor.cli import app
from revisor.cli.common import (
    AppOption,
    Common,
    ConfigOption,
    DebugOption,
    NameOption,
    XOption,
    run,
    stdout_console,
)


@app.command()
def init(
    write: Annotated[
        bool, typer.Option("--write", help="Apply the changes (default: print them as diffs).")
    ] = False,
    ci: Annotated[
        str,
        typer.Option(
            "--ci",
            metavar="github|gitlab|none",
            help="The CI job to add: a GitHub Actions workflow, a .gitlab-ci.yml job, or none.",
        ),
    ] = "github",
    config: ConfigOption = None,
    name: NameOption = "alembic",
    x_arg: XOption = None,
    app_path: AppOption = None,
    debug: DebugOption = False,
) -> None:
    """Set up revisor on an existing Alembic project: diffs first, --write applies.

    Adds the naming convention to the models' MetaData (RV102).
    Adds revisor's draft rewrite to env.py (process_revision_directives).
    Adds \\[tool.revisor] to pyproject.toml and .revisor/ to .gitignore.
    Adds a CI job and a pre-commit entry. No database is touched.
    """
    common = Common(config=config, name=name, debug=debug, x_args=x_arg, app=app_path)
    out = stdout_console()

    def body() -> int:
        from rich.markup import escape

        from revisor.fix_commands import FixCommands
        from revisor.init import plan_init
        from revisor.init import write as write_plan

        project = common.project()
        plan = plan_init(project, ci=ci)
        root = project.root
        if not write:
            for change in plan.changes:
                out.print(f"[bold]# {escape(change.reason)}[/]")
                _show_diff(out, change.diff(root))
        else:
            for path in write_plan(plan):
                change = next(c for c in plan.changes if c.path == path)
                verb = "created" if change.before is None else "changed"
                out.print(f"{verb} {escape(_shown(path, root))}: {escape(change.reason)}")
        for note in plan.notes:
            out.print(f"[yellow]note:[/] {escape(note)}")
        if not plan.changes:
            out.print("Nothing to change.")
        elif not write:
            ci_args = () if ci == "github" else ("--ci", ci)
            again = FixCommands.for_project(project).revisor("init", "--write", *ci_args)
            out.print(f"{len(plan.changes)} file(s) to change: run {escape(again.quoted)}.")
        else:
            review = FixCommands.for_project(project).revisor("review")
            out.print(
                f"Next: {escape(review.quoted)}; `alembic revision --autogenerate` now "
                "writes what `revisor draft` writes."
            )
        return 0

    run(common, body)


def _show_diff(out: Console, diff: str) -> None:
    """The diff as is; on a terminal, added lines green and removed ones red."""
    if not out.is_terminal:
        sys.stdout.write(diff)
        sys.stdout.flush()
        return
    for line in diff.splitlines():
        style = None
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        out.print(line, style=style, markup=False, highlight=False)


def _shown(path, root) -> str:  # type: ignore[no-untyped-def]
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
