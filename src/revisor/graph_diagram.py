"""The revision graph as a diagram: Mermaid (for READMEs and PR comments) or Graphviz DOT.

Pure: takes a `RevisionGraph` (revisor.graph) and each revision's message, returns text.
One node per revision, one solid edge per `down_revision` (parent → child, so the base is
on top), a dotted edge per `depends_on`. Merges (several parents) are hexagons, branch
points (several children) are diamonds in DOT and have a thick dashed border in Mermaid,
heads a thick border; each kind is also written in the label, so a reader without
colours sees it. Revisions a database is at (`--url`) and revisions a branch adds or
changes (`--since`) are filled.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from revisor.graph import RevisionGraph

FORMATS = ("mermaid", "dot")
_SHORT = 12  # alembic's generated ids are 12 hex digits
_MESSAGE_WIDTH = 60


@dataclass(frozen=True)
class Highlights:
    """What to mark on top of the graph's own shape."""

    database: frozenset[str] = field(default_factory=frozenset)  # where the database is
    branch: frozenset[str] = field(default_factory=frozenset)  # added or changed on a branch


@dataclass(frozen=True)
class _Revision:
    revision: str
    label_lines: tuple[str, ...]
    kinds: tuple[str, ...]  # head, merge, branch point, database, on this branch


def render(
    graph: RevisionGraph,
    messages: Mapping[str, str],
    output_format: str = "mermaid",
    highlights: Highlights | None = None,
) -> str:
    """The diagram of `graph` in `output_format` (one of FORMATS), ending in a newline."""
    highlights = highlights or Highlights()
    revisions = _revisions(graph, messages, highlights)
    edges = [
        (p, r) for r in graph.order() for p in graph.nodes[r].down_revisions if p in graph.nodes
    ]
    depends = [(d, r) for r in graph.order() for d in graph.nodes[r].depends_on if d in graph.nodes]
    if output_format == "dot":
        return _dot(revisions, edges, depends)
    return _mermaid(revisions, edges, depends)


def _revisions(
    graph: RevisionGraph, messages: Mapping[str, str], highlights: Highlights
) -> list[_Revision]:
    heads = set(graph.heads)
    branch_points = set(graph.branch_points)
    revisions = []
    for revision in graph.order():
        node = graph.nodes[revision]
        kinds = []
        if revision in heads:
            kinds.append("head")
        if len(node.down_revisions) > 1:
            kinds.append("merge")
        if revision in branch_points:
            kinds.append("branch point")
        if revision in highlights.database:
            kinds.append("database")
        if revision in highlights.branch:
            kinds.append("on this branch")
        lines = [_short(revision)]
        message = _first_line(messages.get(revision, ""))
        if message:
            lines.append(message)
        if kinds:
            lines.append(f"({', '.join(kinds)})")
        revisions.append(_Revision(revision, tuple(lines), tuple(kinds)))
    return revisions


def _short(revision: str) -> str:
    return revision if len(revision) <= _SHORT else revision[:_SHORT] + "…"


def _first_line(message: str) -> str:
    line = next((ln.strip() for ln in message.strip().splitlines()), "")
    return line if len(line) <= _MESSAGE_WIDTH else line[: _MESSAGE_WIDTH - 1] + "…"


# --- Mermaid ----------------------------------------------------------------------------------


def mermaid_id(revision: str) -> str:
    """A node id Mermaid accepts for any revision id: `r_` keeps ids such as `end` or
    `1a` from clashing with keywords and numbers; characters outside [A-Za-z0-9_] are
    written as `_xHH_` so that two revision ids never share a node id."""
    return "r_" + re.sub(r"[^A-Za-z0-9]", lambda m: f"_x{ord(m.group()):x}_", revision)


def mermaid_text(text: str) -> str:
    """`text` safe inside a quoted Mermaid label: characters Mermaid reads as syntax or
    markup become its entity codes (`#quot;`, `#35;`, ...)."""
    return re.sub(r'["#<>&`\\|{}\[\]]', lambda m: f"#{ord(m.group())};", text)


_MERMAID_CLASSES = {
    "head": "stroke-width:3px",
    "branch point": "stroke-dasharray:4 2,stroke-width:2px",
    "database": "fill:#cde8ff",
    "on this branch": "fill:#d9f7d0",
}


def _mermaid(
    revisions: list[_Revision],
    edges: list[tuple[str, str]],
    depends: list[tuple[str, str]],
) -> str:
    lines = ["flowchart TD"]
    for rev in revisions:
        label = "<br/>".join(mermaid_text(line) for line in rev.label_lines)
        open_, close = ("{{", "}}") if "merge" in rev.kinds else ("[", "]")
        lines.append(f'    {mermaid_id(rev.revision)}{open_}"{label}"{close}')
    lines += [f"    {mermaid_id(p)} --> {mermaid_id(c)}" for p, c in edges]
    lines += [f"    {mermaid_id(d)} -.-> {mermaid_id(r)}" for d, r in depends]
    for kind, style in _MERMAID_CLASSES.items():
        members = [mermaid_id(r.revision) for r in revisions if kind in r.kinds]
        if members:
            name = re.sub(r"\W", "_", kind)
            lines.append(f"    classDef {name} {style}")
            lines.append(f"    class {','.join(members)} {name}")
    return "\n".join(lines) + "\n"


# --- DOT --------------------------------------------------------------------------------------


def dot_string(text: str) -> str:
    """`text` as a DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot(
    revisions: list[_Revision],
    edges: list[tuple[str, str]],
    depends: list[tuple[str, str]],
) -> str:
    lines = ["digraph revisions {", "    node [shape=box, style=rounded];"]
    for rev in revisions:
        attributes = [f"label={_dot_label(rev.label_lines)}"]
        if "merge" in rev.kinds:
            attributes.append("shape=hexagon")
        elif "branch point" in rev.kinds:
            attributes.append("shape=diamond")
        if "head" in rev.kinds:
            attributes.append("penwidth=3")
        fill = _fill(rev.kinds)
        if fill:
            attributes.append(f'style="rounded,filled", fillcolor="{fill}"')
        lines.append(f"    {dot_string(rev.revision)} [{', '.join(attributes)}];")
    lines += [f"    {dot_string(p)} -> {dot_string(c)};" for p, c in edges]
    lines += [
        f'    {dot_string(d)} -> {dot_string(r)} [style=dotted, label="depends_on"];'
        for d, r in depends
    ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_label(lines: Iterable[str]) -> str:
    """The lines as one DOT label: `\\n` (DOT's escString) breaks the line; a backslash
    of the text itself is doubled, so it is never read as an escape."""
    return '"' + "\\n".join(dot_string(line)[1:-1] for line in lines) + '"'


def _fill(kinds: tuple[str, ...]) -> str | None:
    if "database" in kinds:
        return "#cde8ff"
    if "on this branch" in kinds:
        return "#d9f7d0"
    return None
