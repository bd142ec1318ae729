"""`revisor status`."""

from __future__ import annotations

from pathlib import Path
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
    UrlOption,
    XOption,
    run,
    stdout_console,
)


@app.command(cls=JsonErrorsCommand)
def status(
    config: ConfigOption = None,
    name: NameOption = "alembic",
    url: UrlOption = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Do not connect to any database.")
    ] = False,
    output_format: Annotated[
        str, typer.Option("--format", "-f", help="text, or json (docs/status.md).")
    ] = "text",
    x_arg: XOption = None,
    app_path: AppOption = None,
    debug: DebugOption = False,
) -> None:
    """Show what revisor found: config, version folders, heads, models, database revision."""
    common = Common(
        config=config,
        name=name,
        url=url,
        debug=debug,
        x_args=x_arg,
        app=app_path,
        output_format=output_format,
    )
    out = stdout_console()

    def body() -> int:
        from rich.markup import escape

        from revisor.db.resolve import embedded_dev_database, resolve_database
        from revisor.errors import ConfigError
        from revisor.status import project_status

        if output_format not in ("text", "json"):
            raise ConfigError(f"Unknown --format {output_format!r}.", hint="Use text or json.")
        project = common.project()
        resolved = None if offline else resolve_database(project, common.url)
        db = None
        if resolved is not None:
            db = resolved.url
            if db.source == "embedded":
                db = embedded_dev_database(project.name)
        info = project_status(project, db)
        if output_format == "json":
            _print_json(info, resolved, project)
            return 0
        out.print(f"config:     {info.config_path}{_found_where(config, project.root)}")
        out.print(f"scripts:    {info.script_location}")
        for location in info.version_locations:
            out.print(f"versions:   {location}")
        out.print(f"revisions:  {info.revision_count}")
        out.print(f"heads:      {', '.join(info.heads) or '(none)'}")
        if info.metadata_error:
            out.print(f"models:     [yellow]{info.metadata_error}[/]")
        else:
            out.print(f"models:     {len(info.tables)} tables ({', '.join(info.tables)})")
        if info.database is not None:
            current = ", ".join(info.database_heads or ()) or "(not stamped)"
            assert resolved is not None
            out.print(f"database:   {escape(info.database)}")
            out.print(f"from:       {escape(resolved.describe_source())}")
            for note in _notes(project, resolved):
                out.print(f"note:       {escape(note)}")
            if info.pending is None:
                state = "[red]not in the migration history[/]"
            elif info.pending:
                state = f"[yellow]{len(info.pending)} revision(s) pending[/]"
            else:
                state = "[green]at head[/]"
            out.print(f"db at:      {current} ({state})")
        return 0

    run(common, body)


def _notes(project, resolved) -> list[str]:  # type: ignore[no-untyped-def]
    """What to know about the database revisor chose: resolution notes, env.py's own
    choice when it differs, the embedded server's durability."""
    notes = [*resolved.notes, *_env_py_differs(project, resolved)]
    if resolved.source == "embedded":
        notes.append(
            "the embedded server runs with fsync=off: a crash of the machine can "
            "lose this dev database (the history rebuilds it: revisor db reset "
            "--yes && revisor db upgrade)"
        )
    return notes


def _print_json(info, resolved, project) -> None:  # type: ignore[no-untyped-def]
    import json
    import sys

    from revisor.status import status_document

    if resolved is None:
        document = status_document(info)
    else:
        document = status_document(info, source=resolved.source, notes=_notes(project, resolved))
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


def _env_py_differs(project, resolved) -> list[str]:  # type: ignore[no-untyped-def]
    """When --url or the environment variable chose the database, what env.py itself
    would migrate, if that is another database."""
    from revisor.db.url import parse_url
    from revisor.errors import RevisorError

    if resolved.source in ("env.py", "sqlalchemy.url", "embedded"):
        return []
    captured = project.env_py_url()
    if captured.url is None:
        return []
    try:
        env_py = parse_url(captured.url.render_as_string(hide_password=False), source="env.py")
    except RevisorError:
        return []
    if env_py.url.set(drivername="x") == resolved.url.url.set(drivername="x"):
        return []
    return [f"env.py alone would use {env_py.masked}; {resolved.describe_source()} comes first"]


def _found_where(given: Path | None, root: Path) -> str:
    """How the config was chosen, when it is not the cwd's own: -c/REVISOR_CONFIG, or a
    parent folder of the cwd (revisor looks up to the repository root)."""
    if given is not None:
        return " (-c/REVISOR_CONFIG)"
    if root != Path.cwd().resolve():
        return " (found in a parent folder of the current one)"
    return ""
