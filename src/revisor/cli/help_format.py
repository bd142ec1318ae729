"""How `--help` shows options: the one adjustment revisor makes to typer's rich help.

typer 0.2x gives every option a value type in the help's type column, flags included: a
flag such as `--dry-run` shows `<bool>`, which reads as if it took a value (`--dry-run
true` is refused). Flags take none, so they show none, as click's own help and older typer
releases print them. Applied once, when the CLI package is imported.
"""

from __future__ import annotations

from typing import Any


def hide_flag_types() -> None:
    """Make typer's rich help print no value type for flag options (idempotent)."""
    from typer.core import TyperOption

    original = getattr(TyperOption, "display_type_rich", None)
    if original is None or getattr(original, "_revisor_flags_hidden", False):
        return  # an older typer: it prints no type for flags itself

    def display_type_rich(self: Any, ctx: Any) -> str | None:
        if self.is_flag and not self.count:
            return None
        return original(self, ctx)

    display_type_rich._revisor_flags_hidden = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


def reflow_docstrings(app: Any) -> None:
    """Join the lines of each paragraph of every command's docstring (`app`'s and its
    groups'), so that `--help` wraps them to the terminal. typer's rich help keeps the
    source's line breaks after the first paragraph: at 80 columns each source line
    became a full line plus a one-word line."""
    import inspect

    for command in app.registered_commands:
        doc = command.help if command.help is not None else inspect.getdoc(command.callback)
        if doc:
            command.help = reflow(doc)
    callback = app.registered_callback
    if callback is not None and callable(callback.callback):
        doc = inspect.getdoc(callback.callback)
        if doc and not isinstance(callback.help, str):
            callback.help = reflow(doc)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            reflow_docstrings(group.typer_instance)


def reflow(doc: str) -> str:
    """`doc` with the lines of each paragraph joined by spaces; list items ("- ", "* ")
    and paragraphs click keeps verbatim (starting with \\b) stay as written."""
    paragraphs = []
    for paragraph in doc.split("\n\n"):
        lines = paragraph.splitlines()
        if paragraph.startswith("\b") or any(_is_item(line) for line in lines):
            paragraphs.append(paragraph)
        else:
            paragraphs.append(" ".join(line.strip() for line in lines))
    return "\n\n".join(paragraphs)


def _is_item(line: str) -> bool:
    return line.lstrip().startswith(("- ", "* "))
