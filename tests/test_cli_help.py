"""`--help` of every command as people read it at 80 columns: flags show no `<bool>` value,
no option's help loses a word (cut, folded, eaten as rich markup), and option help texts
have no stray space before punctuation."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer.main
from rich.text import Text
from typer.testing import CliRunner

from revisor.cli import app

BOX = "│╭╮╰╯─"


def commands() -> list[tuple[list[str], Any]]:
    """(argv prefix, command) for every command and subcommand."""
    found: list[tuple[list[str], Any]] = []

    def walk(prefix: list[str], command: Any) -> None:
        if hasattr(command, "commands"):  # a group (typer may vendor its own click)
            for name, sub in command.commands.items():
                walk([*prefix, name], sub)
        else:
            found.append((prefix, command))

    walk([], typer.main.get_command(app))
    return found


COMMANDS = commands()


def render_help(argv: list[str], columns: int = 80) -> str:
    result = CliRunner().invoke(app, [*argv, "--help"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.output


def words(text: str) -> list[str]:
    return text.split()


@pytest.mark.parametrize(
    ("argv", "command"), COMMANDS, ids=lambda v: " ".join(v) if isinstance(v, list) else "h"
)
def test_help_at_80_columns_keeps_every_word(argv: list[str], command: Any) -> None:
    output = render_help(argv)
    assert all(len(line) <= 80 for line in output.splitlines())
    rendered = set(words(output.translate({ord(c): " " for c in BOX})))
    for param in command.params:
        help_text = getattr(param, "help", None)
        if not help_text:
            continue
        plain = Text.from_markup(help_text).plain  # what rich shows of the markup
        assert plain.split() == help_text.replace("\\[", "[").split(), (
            f"{param.name}: rich markup ate part of the help"
        )
        missing = [w for w in words(plain) if w not in rendered]
        assert not missing, f"{' '.join(argv)} {param.opts}: cut at 80 columns: {missing}"


@pytest.mark.parametrize(
    ("argv", "command"), COMMANDS, ids=lambda v: " ".join(v) if isinstance(v, list) else "h"
)
def test_flags_show_no_value(argv: list[str], command: Any) -> None:
    output = render_help(argv, columns=200)
    assert "<bool>" not in output
    flags = [p for p in command.params if getattr(p, "is_flag", False)]
    for flag in flags:
        line = next(ln for ln in output.splitlines() if re.search(rf"{flag.opts[0]}\b", ln))
        after = line.split(flag.opts[0], 1)[1].strip(" " + BOX)
        assert not after.startswith("<"), line


@pytest.mark.parametrize(
    ("argv", "command"), COMMANDS, ids=lambda v: " ".join(v) if isinstance(v, list) else "h"
)
def test_no_space_before_punctuation(argv: list[str], command: Any) -> None:
    for param in command.params:
        help_text = getattr(param, "help", None) or ""
        assert not re.search(r"\s[.,;:)](\s|$)", help_text), f"{param.opts}: {help_text!r}"


@pytest.mark.parametrize("columns", [80, 100, 200])
def test_rules_keep_every_word(columns: int) -> None:
    from revisor.codes import all_codes

    result = CliRunner().invoke(app, ["rules"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    assert all(len(line) <= columns for line in result.stdout.splitlines())
    rendered = result.stdout.split()
    for entry in all_codes():
        start = rendered.index(entry.code)
        # the code's row and summary, whole words in order, before the next code
        assert " ".join(rendered[start : start + 64]).find(" ".join(entry.summary.split())) > 0, (
            entry.code
        )


@pytest.mark.parametrize(
    ("argv", "command"), COMMANDS, ids=lambda v: " ".join(v) if isinstance(v, list) else "h"
)
def test_description_wraps_to_the_terminal(argv: list[str], command: Any) -> None:
    """The docstring's paragraphs are wrapped at 80 columns, not at the source's line
    breaks (which left a short line after each source line)."""
    output = render_help(argv)
    description = output.split("Usage:", 1)[1].split("╭", 1)[0].splitlines()[1:]
    paragraphs = "\n".join(line.strip() for line in description).strip().split("\n\n")
    for paragraph in paragraphs:
        lines = paragraph.splitlines()
        short = [line for line in lines[:-1] if len(line) < 60]
        assert not short, f"{' '.join(argv)}: {short} in {paragraph!r}"
