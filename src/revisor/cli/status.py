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
    NameOption,
    UrlOption,
    XOption,
    run,
    stdout_console,
)


@app.command()
def status(
    config: ConfigOption = None,
    name: NameOption = "alembic",
    url: UrlOption = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Do not connect to any database.")
    ] = False,
    x_arg: XOption = None,
    app_path: AppOption = None,
    debug: DebugOption = False,
) -> None:
    """Show what revisor found: config, version folders, heads, models, database revision."""
    common = Common(config=config, name=name, url=url, debug=debug, x_args=x_arg, app=app_path)
    out = stdout_console()

    def body() -> int:
        from rich.markup import escape

        from revisor.db.resolve import embedded_dev_database, resolve_database
        from revisor.status import project_status

        project = common.project()
        resolved = None if offline else resolve_database(project, common.url)
        db = None
        if resolved is not None:
            db = resolved.url
            if db.source == "embedded":
                db = embedded_dev_database(project.name)
        info = project_status(project, db)
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
            notes = [*resolved.notes, *_env_py_differs(project, resolved)]
            if resolved.source == "embedded":
                notes.append(
                    "the embedded server runs with fsync=off: a crash of the machine can "
                    "lose this dev database (the history rebuilds it: revisor db reset "
                    "--yes && revisor db upgrade)"
                )
            for note in notes:
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
