"""Options every command shares, the console, and the error → exit code mapping."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from revisor.db.redaction import redact
from revisor.errors import RevisorError
from revisor.exit_codes import ExitCode

if TYPE_CHECKING:
    from revisor.db.url import DatabaseUrl
    from revisor.project import Project

T = TypeVar("T")

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Alembic config: alembic.ini or pyproject.toml [default: ./alembic.ini].",
        envvar="REVISOR_CONFIG",
        show_default=False,
    ),
]
NameOption = Annotated[
    str, typer.Option("--name", "-n", help="Section of alembic.ini to use.", show_default=True)
]
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="PostgreSQL URL [default: $DATABASE_URL, then sqlalchemy.url, then the "
        "embedded PostgreSQL].",
        show_default=False,
    ),
]
DebugOption = Annotated[
    bool, typer.Option("--debug", help="Show tracebacks instead of one-line errors.")
]


class RedactingStream:
    """A text stream that scrubs passwords from everything written through it."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(redact(text))

    @property
    def unredacted(self) -> TextIO:
        """The stream underneath, for the one output a user asked to see unmasked."""
        return self._stream

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def install_redaction() -> None:
    """Route sys.stdout/sys.stderr through RedactingStream (tracebacks included)."""
    if not isinstance(sys.stdout, RedactingStream):
        sys.stdout = RedactingStream(sys.stdout)  # type: ignore[assignment]
    if not isinstance(sys.stderr, RedactingStream):
        sys.stderr = RedactingStream(sys.stderr)  # type: ignore[assignment]


def stdout_console() -> Console:
    return Console(file=sys.stdout, highlight=False, soft_wrap=True)


def stderr_console() -> Console:
    return Console(file=sys.stderr, highlight=False, soft_wrap=True)


@dataclass
class Common:
    """The shared options of one invocation."""

    config: Path | None = None
    name: str = "alembic"
    url: str | None = None
    debug: bool = False

    def project(self) -> Project:
        from revisor.project import Project

        return Project.load(self.config, name=self.name)

    def database_url(
        self, project: Project | None = None, *, start_embedded: bool = True
    ) -> DatabaseUrl:
        """The user's database (--url > env > sqlalchemy.url), else the embedded dev DB.
        With `start_embedded=False` the embedded server is not started (or joined): its
        dev database is returned only while the server runs (EmbeddedServerStopped)."""
        from revisor.db.resolve import embedded_dev_database, resolve_url

        env_var = project.url_env if project else "DATABASE_URL"
        config_url = project.config.get_main_option("sqlalchemy.url") if project else None
        url = resolve_url(
            self.url, config_url=config_url, env_var=env_var, start_embedded=start_embedded
        )
        if url.source == "embedded":
            return embedded_dev_database(project.name if project else "default", server=url)
        return url


def run(common: Common, body: Callable[[], int | ExitCode | None]) -> None:
    """Run a command body and exit with its code; errors become one message + exit code."""
    install_redaction()
    err = stderr_console()
    if common.debug:
        os.environ["REVISOR_DEBUG"] = "1"
    try:
        code = body()
    except RevisorError as exc:
        if common.debug:
            raise
        err.print(f"[bold red]error:[/] {escape(redact(exc.message))}")
        if exc.hint:
            err.print(f"[dim]hint:[/] {escape(redact(exc.hint))}")
        raise typer.Exit(int(exc.exit_code)) from None
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]")
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except Exception as exc:
        if common.debug:
            raise
        err.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {escape(redact(str(exc)))}",
        )
        err.print(
            "[dim]hint:[/] this is a bug in revisor; rerun with --debug and report the traceback."
        )
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        for frame in last:
            err.print(f"[dim]  at {frame.filename}:{frame.lineno}[/]")
        raise typer.Exit(int(ExitCode.INTERNAL)) from None
    raise typer.Exit(int(code or 0))
