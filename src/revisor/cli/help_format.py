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
