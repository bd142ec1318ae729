"""Options every command shares, the console, and the error → exit code mapping."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TextIO, TypeVar

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
    bool,
    typer.Option("--debug", help="Show the traceback of an error too (same exit code)."),
]


class RedactingStream:
    """A text stream that scrubs passwords from everything written through it."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(redact(text))

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

    def database_url(self, project: Project | None = None) -> DatabaseUrl:
        """The user's database (--url > env > sqlalchemy.url), else the embedded dev DB."""
        from revisor.db.resolve import embedded_dev_database

        url = self.given_url(project)
        if url is None:
            return embedded_dev_database(project.name if project else "default")
        return url

    def given_url(self, project: Project | None = None) -> DatabaseUrl | None:
        """The URL the user gave (--url > env > sqlalchemy.url), parsed, or None: starts
        no server, so a malformed URL is reported before anything else runs."""
        from revisor.db.resolve import given_url

        env_var = project.url_env if project else "DATABASE_URL"
        config_url = project.config.get_main_option("sqlalchemy.url") if project else None
        return given_url(self.url, config_url=config_url, env_var=env_var)


def run(common: Common, body: Callable[[], int | ExitCode | None]) -> None:
    """Run a command body and exit with its code. An error becomes one message on stderr
    and its documented exit code; with --debug the traceback is printed too (the exit code
    stays the same)."""
    install_redaction()
    err = stderr_console()
    if common.debug:
        os.environ["REVISOR_DEBUG"] = "1"
    try:
        code = body()
    except RevisorError as exc:
        _show_traceback(common, err, exc)
        err.print(f"[bold red]error:[/] {escape(redact(exc.message))}")
        if exc.hint:
            err.print(f"[dim]hint:[/] {escape(redact(exc.hint))}")
        _fail(common, exc.exit_code, exc.message, exc.hint)
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]")
        _fail(common, ExitCode.INTERRUPTED, "interrupted", None)
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except Exception as exc:
        _show_traceback(common, err, exc)
        message = f"internal error: {type(exc).__name__}: {exc}"
        hint = "this is a bug in revisor; rerun with --debug and report the traceback."
        err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {escape(redact(str(exc)))}")
        err.print(f"[dim]hint:[/] {hint}")
        if not common.debug:
            for frame in traceback.extract_tb(exc.__traceback__)[-1:]:
                err.print(f"[dim]  at {frame.filename}:{frame.lineno}[/]")
        _fail(common, ExitCode.INTERNAL, message, hint)
    raise typer.Exit(int(code or 0))


def _show_traceback(common: Common, err: Console, exc: BaseException) -> None:
    """With --debug: the traceback, passwords removed, before the one-line message."""
    if common.debug:
        text = "".join(traceback.format_exception(exc))
        err.out(redact(text), end="", highlight=False)


def _fail(common: Common, code: ExitCode, message: str, hint: str | None) -> NoReturn:
    """Exit with `code`."""
    raise typer.Exit(int(code))
