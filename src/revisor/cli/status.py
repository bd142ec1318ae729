"""`revisor status`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from revisor.cli import app
from revisor.cli.common import (
    Common,
    ConfigOption,
    DebugOption,
    NameOption,
    UrlOption,
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
    debug: DebugOption = False,
) -> None:
    """Show what revisor found: config, version folders, heads, models, database revision."""
    common = Common(config=config, name=name, url=url, debug=debug)
    out = stdout_console()

    def body() -> int:
        from revisor.status import project_status

        project = common.project()
        db = None if offline else common.database_url(project)
        info = project_status(project, db)
        out.print(f"config:     {info.config_path}{_found_where(config, info.config_path)}")
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
            out.print(f"database:   {info.database}")
            if info.pending is None:
                state = "[red]not in the migration history[/]"
            elif info.pending:
                state = f"[yellow]{len(info.pending)} revision(s) pending[/]"
            else:
                state = "[green]at head[/]"
            out.print(f"db at:      {current} ({state})")
        return 0

    run(common, body)


def _found_where(given: Path | None, found: Path) -> str:
    """How the config was chosen, when it is not the cwd's own: -c/REVISOR_CONFIG, or a
    parent folder of the cwd (revisor looks up to the repository root)."""
    if given is not None:
        return " (-c/REVISOR_CONFIG)"
    if found.parent != Path.cwd().resolve():
        return " (found in a parent folder of the current one)"
    return ""
