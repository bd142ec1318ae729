"""`revisor demo`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.panel import Panel

from revisor.cli import app
from revisor.cli.common import Common, DebugOption, UrlOption, run, stdout_console

if TYPE_CHECKING:
    from revisor.demo import DemoStep


@app.command()
def demo(
    url: UrlOption = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the scratch database for inspection.")
    ] = False,
    debug: DebugOption = False,
) -> None:
    """Walk the whole migration workflow on the Better Call Buffet example (embedded DB)."""
    common = Common(url=url, debug=debug)
    out = stdout_console()

    def show(step: DemoStep) -> None:
        heads = ", ".join(step.heads) or "(none)"
        lines = [f"[bold]$ {step.command}[/]"]
        if step.alembic:
            lines.append(f"[dim]  by hand: docker compose exec web {step.alembic}[/]")
        lines.extend(step.details)
        lines.append(f"revision: [cyan]{heads}[/]")
        lines.append(f"tables:   {', '.join(step.tables) or '(none)'}")
        style = "green" if step.ok else "red"
        panel = Panel("\n".join(lines), title=step.title, title_align="left", border_style=style)
        # The console soft-wraps plain output (long paths stay whole); inside a panel that
        # would crop each line at the border instead, so the panel's text wraps.
        out.print(panel, soft_wrap=False)

    def body() -> int:
        from revisor.db.resolve import resolve_database
        from revisor.demo import run_demo

        server = resolve_database(None, common.url).url
        out.print(f"[bold]revisor demo[/] on {server.masked}")
        steps = run_demo(server, show, keep=keep)
        failed = [s for s in steps if not s.ok]
        out.print(
            f"[bold green]demo finished:[/] {len(steps)} steps"
            if not failed
            else f"[bold red]{len(failed)} step(s) failed[/]"
        )
        return 1 if failed else 0

    run(common, body)
