"""`revisor doctor`."""

from __future__ import annotations

from typing import Annotated

import typer

from revisor.cli import app
from revisor.cli.common import (
    AppOption,
    Common,
    ConfigOption,
    DebugOption,
    JsonErrorsCommand,
    NameOption,
    ScratchOption,
    ScratchUrlOption,
    UrlOption,
    XOption,
    run,
    scratch_server,
    stderr_console,
    stdout_console,
)

DOCTOR_FORMATS = ("text", "json")


@app.command(cls=JsonErrorsCommand)
def doctor(
    config: ConfigOption = None,
    name: NameOption = "alembic",
    url: UrlOption = None,
    fix: Annotated[
        bool,
        typer.Option(
            "--fix",
            help="Apply the one safe fix: stamp an unstamped database whose schema matches "
            "a revision exactly. Nothing is ever dropped.",
        ),
    ] = False,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="Output format: text or json.")
    ] = "text",
    scratch_url: ScratchUrlOption = None,
    scratch: ScratchOption = "auto",
    x_arg: XOption = None,
    app_path: AppOption = None,
    debug: DebugOption = False,
) -> None:
    """Explain why a database is out of step with the migration history, and how to fix it.

    Compares the database (default: your dev database) with what the history builds on a
    scratch database: unstamped schema, unknown or duplicate revision, pending revisions,
    objects that differ from the recorded revision. Read-only unless --fix.
    Exit 0 healthy, 1 something found, 2 usage error, 3 database error.
    """
    common = Common(
        config=config,
        name=name,
        url=url,
        debug=debug,
        x_args=x_arg,
        app=app_path,
        output_format=fmt,
    )

    def body() -> int:
        import json
        import sys

        from rich.markup import escape

        from revisor.doctor import apply_stamp, diagnose
        from revisor.errors import RevisorError
        from revisor.exit_codes import ExitCode

        if fmt not in DOCTOR_FORMATS:
            raise RevisorError(
                f"Unknown --format {fmt!r}.", hint=f"Choose one of {', '.join(DOCTOR_FORMATS)}."
            )
        err = stderr_console()
        project = common.project()
        database = common.database_url(project)
        server = scratch_server(common, project, scratch_url, scratch)
        diagnosis = diagnose(project, database, scratch=server)
        fixed: list[str] = []
        if fix and diagnosis.stamp:
            if fmt == "text":
                _print_text(diagnosis, project.root)
            from revisor.fix_commands import FixCommands

            stamp = " ".join(diagnosis.stamp)
            same = FixCommands.for_project(project, database).stamp(diagnosis.stamp)
            err.print(
                f"fix: stamping {escape(diagnosis.database)} with {stamp} "
                f"(as {escape(same.quoted)} does); nothing else changes."
            )
            apply_stamp(project, database, diagnosis.stamp)
            fixed.append(f"stamped {stamp}")
            diagnosis = diagnose(project, database, scratch=server)
            if fmt == "text":
                err.print("after the fix:")
        elif fix:
            err.print(
                "fix: nothing doctor may fix on its own (it only stamps an unstamped "
                "schema that matches a revision exactly); see the help lines."
            )
        if fmt == "json":
            from revisor.report.json import finding_dict

            payload = {
                **diagnosis.as_dict(),
                "fixed": fixed,
                "findings": [finding_dict(f, project.root) for f in diagnosis.findings],
            }
            sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        else:
            _print_text(diagnosis, project.root)
        if fix and not fixed:
            err.print(
                "fix: nothing doctor may fix on its own (it only stamps an unstamped "
                "schema that matches a revision exactly); see the fix lines."
            )
        return ExitCode.OK if diagnosis.healthy else ExitCode.FINDINGS

    run(common, body)


def _print_text(diagnosis, root) -> None:  # type: ignore[no-untyped-def]
    """Findings as `CODE [severity] message` + help, then one summary line."""
    from rich.markup import escape

    out = stdout_console()
    current = ", ".join(diagnosis.current) or "(no revision)"
    out.print(f"database: {escape(diagnosis.database)}", highlight=False)
    out.print(
        f"recorded: {current}; history: {diagnosis.revisions} revision(s), head "
        f"{', '.join(diagnosis.heads) or '-'}",
        highlight=False,
    )
    for finding in diagnosis.findings:
        out.print(escape(f"{finding.code} [{finding.severity.value}] {finding.message}"))
        if finding.help:
            out.print(f"  fix: {escape(finding.help)}")
    if diagnosis.healthy and not diagnosis.findings and not diagnosis.ignored:
        out.print("healthy: at head, and the schema is exactly what the history builds.")
    elif diagnosis.healthy and diagnosis.ignored:
        out.print(
            escape(f"nothing to report: {diagnosis.ignored} finding(s) ignored by [tool.revisor].")
        )
    elif diagnosis.healthy:
        out.print("nothing wrong.")
    else:
        problems = sum(1 for f in diagnosis.findings if f.severity.value != "info")
        out.print(f"{problems} problem(s) found.")
