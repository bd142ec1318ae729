"""The `revisor` command line. Each command lives in its own module in this package."""

from __future__ import annotations

import gc
from typing import Annotated

import typer

from revisor.cli.help_format import hide_flag_types, reflow_docstrings

hide_flag_types()

app = typer.Typer(
    name="revisor",
    help="Safe-by-default Alembic migrations on PostgreSQL.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from revisor import __version__

        typer.echo(f"revisor {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", help="Show the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Safe-by-default Alembic migrations on PostgreSQL.

    Exit codes: 0 ok, 1 findings, 2 usage/config error, 3 database error, 4 migration
    failed, 5 pending revisions, 6 unknown revision, 7 lock busy, 8 env.py connected to
    a database revisor did not choose (docs/exit-codes.md).
    """


# Command modules register themselves on `app` when imported. They import only typer, rich
# and revisor's light modules at the top; engines (alembic, SQLAlchemy, psycopg) are imported
# inside the command bodies, so that `revisor --help` and each command start fast
# (tests/test_cli_startup.py checks it).
from revisor.cli import check as _check  # noqa: E402,F401
from revisor.cli import db as _db  # noqa: E402,F401
from revisor.cli import demo as _demo  # noqa: E402,F401
from revisor.cli import deploy as _deploy  # noqa: E402,F401
from revisor.cli import doctor as _doctor  # noqa: E402,F401
from revisor.cli import draft as _draft  # noqa: E402,F401
from revisor.cli import graph as _graph  # noqa: E402,F401
from revisor.cli import init as _init  # noqa: E402,F401
from revisor.cli import merge as _merge  # noqa: E402,F401
from revisor.cli import redo as _redo  # noqa: E402,F401
from revisor.cli import review as _review  # noqa: E402,F401
from revisor.cli import status as _status  # noqa: E402,F401
from revisor.cli import test as _test  # noqa: E402,F401

reflow_docstrings(app)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    finally:
        # The process is about to exit: the interpreter's final garbage collections would
        # walk every object alembic, SQLAlchemy, pydantic and rich created (about 0.1 s of
        # a `revisor test` run). Frozen objects are skipped; atexit handlers, finalizers
        # and the closing of files still run, and the OS reclaims the memory.
        gc.freeze()
