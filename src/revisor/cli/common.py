"""Options every command shares, the console, and the error → exit code mapping."""

from __future__ import annotations

import json
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
from typer.core import TyperCommand

from revisor.db.redaction import redact
from revisor.errors import RevisorError
from revisor.exit_codes import ExitCode

if TYPE_CHECKING:
    from revisor.db.url import DatabaseUrl
    from revisor.project import Project

T = TypeVar("T")

# Option help is rich markup (the app's rich_markup_mode): a literal `[` is written `\\[`,
# or rich takes `[default: ...]` and `[tool.alembic]` for style tags and drops them.

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Alembic config: alembic.ini or pyproject.toml \\[default: the first alembic.ini "
        "or pyproject.toml with \\[tool.alembic] in the current folder or a parent, up to the "
        "repository root].",
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
        help="PostgreSQL URL \\[default: $DATABASE_URL, then sqlalchemy.url, then the "
        "embedded PostgreSQL].",
        show_default=False,
    ),
]
XOption = Annotated[
    list[str] | None,
    typer.Option(
        "-x",
        "--x-arg",
        metavar="KEY=VALUE",
        help="Passed to env.py's context.get_x_argument(), as alembic's -x (repeatable).",
        show_default=False,
    ),
]
AppOption = Annotated[
    str | None,
    typer.Option(
        "--app",
        metavar="IMPORT",
        help="Flask-Migrate projects: the Flask app, as `flask --app` takes it \\[default: "
        "$FLASK_APP, .flaskenv, \\[tool.revisor] flask-app, app.py/wsgi.py].",
        show_default=False,
    ),
]
ScratchUrlOption = Annotated[
    str | None,
    typer.Option(
        "--scratch-url",
        metavar="URL",
        help="Server for the scratch databases \\[default: the project's database's server "
        "when its role may create databases there, else the embedded PostgreSQL].",
        show_default=False,
    ),
]
ScratchOption = Annotated[
    str,
    typer.Option(
        "--scratch",
        metavar="auto|embedded",
        help="`embedded`: scratch databases on revisor's embedded PostgreSQL.",
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


def reader_gone() -> NoReturn:
    """The reader of stdout went away (`revisor review | head`): exit as interrupted.
    Nothing more can be said on stdout, and Python would complain again when flushing it
    at exit, so it goes to /dev/null."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise typer.Exit(int(ExitCode.INTERRUPTED))


class _StdoutConsole(Console):
    def on_broken_pipe(self) -> None:  # rich's own exits 1, which means "findings"
        self.quiet = True
        reader_gone()


def stdout_console() -> Console:
    return _StdoutConsole(file=sys.stdout, highlight=False, soft_wrap=True)


def stderr_console() -> Console:
    return Console(file=sys.stderr, highlight=False, soft_wrap=True)


@dataclass
class Common:
    """The shared options of one invocation."""

    config: Path | None = None
    name: str = "alembic"
    url: str | None = None
    debug: bool = False
    x_args: list[str] | None = None
    app: str | None = None
    output_format: str = "text"  # "json": errors are a JSON object on stdout as well

    def project(self) -> Project:
        from revisor.project import Project

        return Project.load(self.config, name=self.name, x_args=self.x_args or (), app=self.app)

    def database_url(
        self, project: Project | None = None, *, start_embedded: bool = True
    ) -> DatabaseUrl:
        """The project's database (`revisor.db.resolve`), the embedded dev database when
        none is configured. With `start_embedded=False` the embedded server is not
        started (or joined): its dev database is returned only while the server runs
        (EmbeddedServerStopped otherwise)."""
        from revisor.db.resolve import project_database

        return project_database(project, self.url, start_embedded=start_embedded)

    def given_url(self, project: Project | None = None) -> DatabaseUrl | None:
        """The URL the user gave (--url > env > sqlalchemy.url), parsed, or None: starts
        no server, so a malformed URL is reported before anything else runs."""
        from revisor.db.resolve import given_url

        env_var = project.url_env if project else "DATABASE_URL"
        config_url = project.config.get_main_option("sqlalchemy.url") if project else None
        return given_url(self.url, config_url=config_url, env_var=env_var)


def scratch_server(
    common: Common, project: Project | None, scratch_url: str | None, scratch: str
) -> DatabaseUrl:
    """Where this command's scratch databases go (`revisor.db.resolve.scratch_server`);
    a fallback to the embedded server is said in one line on stderr."""
    from revisor.db.resolve import scratch_server as choose
    from revisor.errors import ConfigError

    if scratch not in ("auto", "embedded"):
        raise ConfigError(f"Unknown --scratch {scratch!r}.", hint="Use auto or embedded.")
    chosen = choose(project, common.url, scratch_url=scratch_url, embedded=scratch == "embedded")
    if chosen.note:
        stderr_console().print(f"[dim]note:[/] {escape(redact(chosen.note))}")
    return chosen.url


def run(common: Common, body: Callable[[], int | ExitCode | None]) -> None:
    """Run a command body and exit with its code. An error becomes one message on stderr
    and its documented exit code; with --debug the traceback is printed too (the exit code
    stays the same); with --format json stdout also gets one JSON error object."""
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
    except BrokenPipeError:
        reader_gone()
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
    """Exit with `code`; with --format json, after printing the error as JSON on stdout."""
    if common.output_format == "json":
        write_error_json(code, message, hint)
    raise typer.Exit(int(code))


def write_error_json(code: ExitCode, message: str, hint: str | None) -> None:
    """An error as the one JSON object every `--format json` command prints on stdout:
    {"status": "error", "exit_code": N, "error": message, "hint": hint or null}."""
    payload = {
        "status": "error",
        "exit_code": int(code),
        "error": redact(message),
        "hint": redact(hint) if hint else None,
    }
    sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    sys.stdout.flush()


class JsonErrorsCommand(TyperCommand):
    """A command with `--format json`: a usage error found while parsing the command line
    (unknown option, bad value) is also one JSON error object on stdout, so that stdout
    stays JSON for every error exit. Used as `@app.command(cls=JsonErrorsCommand)`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        given = list(args)  # the parser consumes `args`
        try:
            return super().parse_args(ctx, args)
        except Exception as exc:  # click's UsageError (typer may vendor its own click)
            if hasattr(exc, "format_message") and _asks_for_json(given):
                hint = f"`{ctx.command_path} --help` lists the options."
                write_error_json(ExitCode.USAGE, exc.format_message(), hint)
            raise


def _asks_for_json(args: list[str]) -> bool:
    """Whether the command line asks for `--format json` (or `-f json`, `-fjson`)."""
    for arg, following in zip(args, [*args[1:], ""], strict=True):
        if arg in ("--format", "-f") and following == "json":
            return True
        if arg in ("--format=json", "-fjson", "-f=json"):
            return True
    return False
