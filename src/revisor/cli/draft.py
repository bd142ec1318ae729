"""`revisor draft`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from textwrap import indent
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
    UrlOption,
    XOption,
    run,
    stderr_console,
    stdout_console,
)
from revisor.exit_codes import ExitCode

if TYPE_CHECKING:
    from revisor.draft import DraftResult
    from revisor.project import Project
    from revisor.review.engine import ReviewResult


# Shared with `revisor redo`, which drafts again with the same choices.
RenameColumnOption = Annotated[
    list[str] | None,
    typer.Option(
        "--rename-column",
        metavar="TABLE.OLD=NEW",
        help="This dropped and added column is a rename: keep the data (repeatable).",
    ),
]
RenameTableOption = Annotated[
    list[str] | None,
    typer.Option(
        "--rename-table",
        metavar="OLD=NEW",
        help="This dropped and created table is a rename: keep the rows (repeatable).",
    ),
]
NoRenameOption = Annotated[
    list[str] | None,
    typer.Option(
        "--no-rename",
        metavar="TABLE[.COLUMN]",
        help="Not a rename: add the new one, leave this one in the database (repeatable).",
    ),
]
BackfillOption = Annotated[
    list[str] | None,
    typer.Option(
        "--backfill",
        metavar="TABLE.COL=SQL",
        help="Fill a new NOT NULL column without a default on existing rows with SQL, "
        "in batches (repeatable; the name is needed when several columns need it).",
    ),
]


@app.command()
def draft(
    message: Annotated[
        str, typer.Option("--message", "-m", help="What the migration does (its file slug).")
    ],
    config: ConfigOption = None,
    name: NameOption = "alembic",
    url: UrlOption = None,
    rename_label: Annotated[
        list[str] | None,
        typer.Option(
            "--rename-label",
            metavar="TYPE:OLD=NEW",
            # no word longer than the help column at 80 columns (tests/test_cli_help.py)
            help="Rename an enum label in place (repeatable), e.g. status:ACTIVE=active.",
        ),
    ] = None,
    no_rename_guess: Annotated[
        bool,
        typer.Option(
            "--no-rename-guess",
            help="Only case-only and declared label renames; a same-position replacement "
            "is then a removal plus an addition.",
        ),
    ] = False,
    allow_drop: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-drop",
            metavar="TABLE[.COLUMN]",
            help="Keep this drop in the draft (repeatable); others are left out.",
        ),
    ] = None,
    rename_column: RenameColumnOption = None,
    rename_table: RenameTableOption = None,
    no_rename: NoRenameOption = None,
    backfill: BackfillOption = None,
    rev_id: Annotated[
        str | None, typer.Option("--rev-id", help="Revision id to use instead of a random one.")
    ] = None,
    no_review: Annotated[
        bool, typer.Option("--no-review", help="Do not run revisor review on the new file.")
    ] = False,
    exit_code_on_empty: Annotated[
        bool,
        typer.Option("--exit-code-on-empty", help="Exit 1 when no changes are detected (for CI)."),
    ] = False,
    x_arg: XOption = None,
    app_path: AppOption = None,
    debug: DebugOption = False,
) -> None:
    """Autogenerate a migration that needs no hand edits: names, enums, renames, NOT NULL
    columns that apply on rows, guarded drops."""
    common = Common(config=config, name=name, url=url, debug=debug, x_args=x_arg, app=app_path)
    err = stderr_console()

    def body() -> int:
        from revisor.draft import draft as run_draft
        from revisor.drafting import DraftOptions
        from revisor.errors import MultipleHeads

        if not message.strip():
            from revisor.errors import ConfigError

            raise ConfigError(
                "The message is empty: it names the migration file.",
                hint='Say what the migration does: -m "add vendor country".',
            )
        project = common.project()
        if len(project.heads) > 1:  # before the embedded dev database is upgraded to both
            raise MultipleHeads(project.heads)
        common.given_url(project)  # a malformed URL is reported as such, not as env.py failing
        options = DraftOptions.build(
            rename_label or [],
            allow_drop or [],
            settings=project.settings.raw,
            source_roots=[project.root],
            guess_renames=False if no_rename_guess else None,
            rename_columns=rename_column or [],
            rename_tables=rename_table or [],
            not_renamed=no_rename or [],
            backfills=backfill or [],
            confirm=confirm_on_terminal(),
        )
        _ = project.metadata  # no models, no draft: say so before touching any database
        db = common.database_url(project)
        if db.source == "embedded":
            # revisor's own dev database: the history is the truth, so bring it to head
            # first instead of refusing (the user cannot easily `alembic upgrade` it).
            from revisor import migrate

            applied = migrate.upgrade(project, db, "heads").applied
            if applied:
                err.print(
                    f"[cyan]note:[/] upgraded the embedded dev database to head first "
                    f"({len(applied)} revision(s))"
                )
        result = run_draft(project, db, message, options, rev_id=rev_id)
        show_draft(result)
        if result.empty:
            return ExitCode.FINDINGS if exit_code_on_empty else ExitCode.OK
        if no_review or result.path is None:
            return ExitCode.OK
        return _review(project, result.path)

    run(common, body)


def confirm_on_terminal() -> Callable[[str], bool] | None:
    """A yes/no question on the terminal (default no); None when nobody is there to
    answer (CI, a pipe): the draft then stops and names the flags instead."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return None

    def confirm(question: str) -> bool:
        return typer.confirm(question, default=False, err=True)

    return confirm


def _review(drafted: Project, path: Path) -> int:
    """Run `revisor review` on the new file (the history read again: it grew).
    Exit 1 when it reports something at error level."""
    from revisor.review import review

    project = drafted.reloaded()
    return show_review(review(project, [path]), project.root)


def show_review(reviewed: ReviewResult, root: Path) -> int:
    """Print a review of a new draft; 1 when it reports something at error level about
    the file itself. The expand/contract errors (RV4xx) are about when the file can
    deploy, which a draft cannot settle: they are printed, and review, check and deploy
    keep refusing until the team decides (two releases, or the ignore pragma)."""
    from revisor.findings import has_errors
    from revisor.report.excerpt import render_excerpts
    from revisor.review.rules._release import about_deploy_order

    out = stdout_console()
    for note in reviewed.notes:  # e.g. model checks skipped: said even without findings
        stderr_console().print(f"[dim]review note:[/] {escape(note)}")
    if not reviewed.findings:
        out.print("review: no findings")
        return ExitCode.OK
    out.print("review:")
    out.out(render_excerpts(reviewed.findings, root=root), end="", highlight=False)
    own = [f for f in reviewed.findings if not about_deploy_order(f.code)]
    if has_errors(reviewed.findings) and not has_errors(own):
        stderr_console().print(
            "[dim]note:[/] the file applies as written; the RV4xx errors above say the "
            "release running during the deploy breaks, so review and deploy refuse it until "
            "you split it into two releases or add the ignore pragma the help names."
        )
    return ExitCode.FINDINGS if has_errors(own) else ExitCode.OK


def show_draft(result: DraftResult) -> None:
    """Print what a draft wrote (or that nothing changed) and what revisor rewrote or left
    out; `revisor redo` prints its new draft the same way."""
    out = stdout_console()
    err = stderr_console()
    report = result.report
    if result.empty:
        out.print("No changes detected: no migration written.")
    else:
        out.print(f"[bold green]Wrote[/] {_shown(result.path)} (revision {result.revision})")
        out.print("upgrade:")
        for line in result.operations:
            # a create_table spans lines: its continuation hangs under the call
            first, _, rest = escape(line).partition("\n")
            out.print(f"  {first}")
            if rest:
                out.print(indent(rest, "      "))
    if report.rewrites:
        out.print("revisor rewrote:")
        for line in report.rewrites:
            out.print(f"  - {escape(line)}")
    for left in report.left_out:
        err.print(
            f"[yellow]left out:[/] drop of {left.kind} {escape(left.name)}: {escape(left.cause)}"
        )
    if report.left_out:
        err.print("[dim]hint:[/] pass --allow-drop NAME to keep a drop on purpose.")
    for mismatch in report.mismatches:
        err.print(
            f"[yellow]enum {escape(mismatch.name)}:[/] the database stores "
            f"{escape(', '.join(mismatch.db_labels))} (the Python values) but the model "
            f"stores member names ({escape(', '.join(mismatch.model_labels))}); no "
            "conversion was drafted."
        )
        err.print(f"[dim]hint:[/] use {escape(mismatch.fix)}")
    for note in report.notes:
        err.print(f"[cyan]note:[/] {escape(note)}")


def _shown(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
