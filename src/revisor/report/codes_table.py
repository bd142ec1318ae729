"""`revisor rules`: the finding codes as a plain-text table that never cuts a word.

Columns code, name, severity and default are as wide as their longest entry (the same in
every command's section); the summary fills the rest of the line, wrapped at spaces only.
On a terminal too narrow for that (80 columns), each summary goes on its own lines below
its code, indented, so no word is broken or folded at any width.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from revisor.codes import FindingCode

_GAP = "  "
_MIN_SUMMARY = 30  # narrower than this, a summary column reads as a word list


def _cells(entry: FindingCode) -> tuple[str, str, str, str]:
    return (
        entry.code,
        entry.name,
        entry.severity.value,
        "on" if entry.default_enabled else "opt-in",
    )


def column_widths(entries: Sequence[FindingCode]) -> list[int]:
    """The width of the code, name, severity and default columns for `entries`."""
    rows = [("code", "name", "severity", "default"), *(_cells(e) for e in entries)]
    return [max(len(row[i]) for row in rows) for i in range(4)]


def render_codes(entries: Sequence[FindingCode], width: int, widths: Sequence[int]) -> str:
    """The table of `entries` for a terminal `width` columns wide, with the first four
    columns `widths` wide (`column_widths` of every entry shown, so sections align)."""
    lead = sum(widths) + len(_GAP) * len(widths)
    room = width - lead
    longest = max((len(w) for e in entries for w in e.summary.split()), default=0)
    beside = room >= max(_MIN_SUMMARY, longest)

    def row(cells: Sequence[str]) -> str:
        return _GAP.join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + _GAP

    lines = [(row(("code", "name", "severity", "default")) + ("summary" if beside else ""))]
    for entry in entries:
        head = row(_cells(entry))
        if beside:
            wrapped = _wrap(entry.summary, room)
            lines.append(head + wrapped[0])
            lines += [" " * lead + more for more in wrapped[1:]]
        else:
            indent = " " * (widths[0] + len(_GAP))
            lines.append(head.rstrip())
            lines += [indent + part for part in _wrap(entry.summary, width - len(indent))]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _wrap(text: str, width: int) -> list[str]:
    # break_long_words=False: a word longer than the width overflows instead of splitting
    return textwrap.wrap(text, max(width, 1), break_long_words=False, break_on_hyphens=False) or [
        ""
    ]
