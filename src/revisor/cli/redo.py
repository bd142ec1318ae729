"""`revisor redo`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from revisor.cli import app
from revisor.cli.common import (
    AppOption,
    Common,
    ConfigOption,
    DebugOption,
    NameOption,
    UrlOption,
    XOption,
    run,
    stderr_console,
    stdout_console,
)
from revisor.cli.draft import (
    BackfillOption,
    NoRenameOption,
    RenameColumnOption,
    RenameTableOption,
)

if TYPE_CHECKING:
    from revisor.redo import RedoPlan


@app.command()
def redo(
    revision: Annotated[
        str | None,
        typer.Option("--revision", "-r", help="The head to redo (default: the single head)."),
    ] = None,
    message: Annotated[
        str | None,
        typer.Option(
            "--message", "-m", help="Message of the new draft (default: the old revision's)."
        ),
    ] = None,
    no_draft: Annotated[
        bool, typer.Option("--no-draft", help="Only undo and remove the revision.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Redo a revision that is already pushed or merged, or whose downgrade "
            "review finds empty or incomplete.",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; change nothing.")
    ] = False,
    rename_label: Annotated[
        list[str] | None,
        typer.Option("--rename-label", metavar="TYPE:OLD=NEW", help="As for draft (repeatable)."),
    ] = None,
    allow_drop: Annotated[
        list[str] | None,
        typer.Option("--allow-drop", metavar="TABLE[.COLUMN]", help="As for draft (repeatable)."),
    ] = None,
    rename_column: RenameColumnOption = None,
    rename_table: RenameTableOption = None,
    no_rename: NoRenameOption = None,
    backfill: BackfillOption = None,
    no_review: Annotated[
        bool, typer.Option("--no-review", help="Do not run revisor review on the new draft.")
    ] = False,
    config: ConfigOption = None,
    name: NameOption = "alembic",
    url: UrlOption = None,
    x_arg: XOption = None,
    app_path: AppOption = None,
    debug: DebugOption = False,
) -> None:
    """Undo the newest local migration and draft it again (after you fixed the model).

    Downgrades the dev database only if it applied the revision.
    Moves the file to .revisor/trash/, then drafts again with its message.
    Refuses a file already pushed or merged (unless --force).
    """
    common = Common(config=config, name=name, url=url, debug=debug, x_args=x_arg, app=app_path)
    out = stdout_console()
    err = stderr_console()

    def body() -> int:
        from rich.markup import escape

        from revisor.cli.draft import confirm_on_terminal, show_draft, show_review
        from revisor.drafting import DraftOptions
        from revisor.redo import execute_redo, plan_redo

        project = common.project()
        options = DraftOptions.build(
            rename_label or [],
            allow_drop or [],
            settings=project.settings.raw,
            source_roots=[project.root],
            rename_columns=rename_column or [],
            rename_tables=rename_table or [],
            not_renamed=no_rename or [],
            backfills=backfill or [],
            confirm=confirm_on_terminal(),
        )
        db = common.database_url(project)
        plan = plan_redo(
            project, db, revision=revision, message=message, draft=not no_draft, force=force
        )
        for note in plan.notes:
            err.print(f"[cyan]note:[/] {escape(note)}")
        if plan.forced:
            err.print(
                f"[yellow]warning:[/] {plan.path.name} is already in "
                f"{', '.join(plan.git.refs)}; redone anyway (--force). Databases that applied "
                f"it keep {plan.revision} stamped."
            )
        if dry_run:
            out.print("[bold]plan[/] (dry run: nothing changed)")
            for number, line in enumerate(_plan_lines(plan), start=1):
                out.print(f"  {number}. {escape(line)}")
            return 0
        out.print(f"redo {plan.revision}: {escape(plan.message)} ({_shown(plan.path)})")
        result = execute_redo(project, plan, options=options, review=not no_review)
        out.print(f"database: {escape(_database_done(plan, result.database_heads))}")
        out.print(f"moved: {_shown(plan.path)} -> {_shown(result.trashed_file)}")
        out.print(f"[dim]restore with: {escape(result.restore_command)}[/]")
        if result.draft is None:
            return 0
        show_draft(result.draft)
        if result.draft.empty:
            err.print(
                "[cyan]note:[/] the models already match the database at "
                f"{', '.join(plan.parents) or 'base'}: no new revision needed."
            )
            return 0
        if result.review_error is not None:
            err.print(f"[yellow]review could not run:[/] {escape(result.review_error.message)}")
            return int(result.review_error.exit_code)
        if result.review is None:
            return 0
        return show_review(result.review, project.root)

    run(common, body)


def _plan_lines(plan: RedoPlan) -> list[str]:
    from revisor.redo import DOWNGRADE

    parents = ", ".join(plan.parents) or "base"
    lines = [f"redo {plan.revision} ({_shown(plan.path)}); git: {_git_state(plan)}"]
    at = ", ".join(plan.database_heads) or "no revision"
    if plan.upgrade_first:
        lines.append(f"upgrade the embedded dev database from {at} to {plan.upgrade_first}")
    if plan.database_action == DOWNGRADE:
        lines.append(
            f"downgrade {plan.database.masked}: {plan.revision} to {parents} "
            "(its downgrade(), through env.py)"
        )
    elif not plan.upgrade_first:
        lines.append(f"leave {plan.database.masked} at {at} ({plan.revision} is not applied)")
    trash = _shown(plan.trash_root / "<UTC time>" / plan.path.name)
    extra = f" (and {len(plan.pycache)} __pycache__ file(s))" if plan.pycache else ""
    lines.append(f"move {_shown(plan.path)} to {trash}{extra}")
    if plan.draft:
        lines.append(
            f'draft "{plan.message}" (from the {plan.message_source}) against the database '
            f"at {', '.join(plan.heads_after) or 'base'}, then review the new file"
        )
    return lines


def _git_state(plan: RedoPlan) -> str:
    return {
        "no-git": "not a git repository",
        "untracked": "untracked",
        "local": "only in local commits",
        "published": f"in {', '.join(plan.git.refs)} (--force)",
    }[plan.git.state]


def _database_done(plan: RedoPlan, heads: tuple[str, ...]) -> str:
    from revisor.redo import DOWNGRADE

    now = ", ".join(heads) or "no revision"
    before = ", ".join(plan.database_heads) or "no revision"
    done = []
    if plan.upgrade_first:
        done.append(f"upgraded {before} -> {plan.upgrade_first} (embedded dev database)")
    if plan.database_action == DOWNGRADE:
        done.append(f"downgraded {plan.revision} -> {now}")
    else:
        done.append(f"at {now}; {plan.revision} was never applied: not downgraded")
    return f"{plan.database.masked}: " + "; ".join(done)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
