"""Rendering alembic calls as Python source: string literals, calls, SQL names.

Every recipe writes through these so quoting is decided once: Python literals in double
quotes (the style ruff format and alembic's templates use), SQL identifiers as
PostgreSQL's quote_ident() spells them.
"""

from __future__ import annotations

from revisor.sqltree import quote_ident

# A call longer than this (after the caller's indentation of 8) is split one argument a line.
_WIDTH = 80


def py_str(text: str) -> str:
    """`text` as a Python string literal: double-quoted, single-quoted when that saves
    escaping a double quote (a quoted SQL identifier)."""
    if '"' in text and "'" not in text and "\\" not in text and "\n" not in text:
        return f"'{text}'"
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def py_value(value: object) -> str:
    """A literal argument: strings double-quoted, everything else as Python spells it."""
    return py_str(value) if isinstance(value, str) else repr(value)


def call(function: str, *args: object, **kwargs: object) -> list[str]:
    """Source lines of `function(args, key=value)`; keyword values that are None are left
    out; a `Source` argument is written as is."""
    parts = [a if isinstance(a, Source) else py_value(a) for a in args]
    parts += [
        f"{key}={value if isinstance(value, Source) else py_value(value)}"
        for key, value in kwargs.items()
        if value is not None
    ]
    one_line = f"{function}({', '.join(parts)})"
    if len(one_line) <= _WIDTH:
        return [one_line]
    return [f"{function}(", *[f"    {part}," for part in parts], ")"]


class Source(str):
    """Python source written verbatim as an argument (`sa.text("now()")`)."""


def qualified(table: str, schema: str | None = None) -> str:
    """The table's name in SQL, schema-qualified when a schema is given."""
    name = quote_ident(table)
    return f"{quote_ident(schema)}.{name}" if schema else name


def indent(lines: list[str], levels: int = 1) -> list[str]:
    """`lines` indented by `levels` of four spaces (empty lines stay empty)."""
    return [("    " * levels + line) if line else line for line in lines]


AUTOCOMMIT = "with op.get_context().autocommit_block():"


def in_autocommit(lines: list[str], why: str) -> list[str]:
    """`lines` inside `with op.get_context().autocommit_block():`, after a comment line
    saying `why` (a reviewer sees that earlier statements are committed there)."""
    return [f"# {why}", AUTOCOMMIT, *indent(lines)]
