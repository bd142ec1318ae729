"""The revision graph from (revision, down_revision) pairs: pure, no database, no imports.

Built from parsed files (not from alembic's ScriptDirectory) so that a broken history —
a cycle, an unknown parent, a duplicate id — is still described instead of raising.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Node:
    """One revision as its file declares it."""

    revision: str
    down_revisions: tuple[str, ...] = ()
    path: Path | None = None
    line: int | None = None  # where `down_revision` (or `revision`) is assigned
    branch_labels: tuple[str, ...] = ()


@dataclass
class RevisionGraph:
    """Facts about a history: heads, bases, branch points, and what is broken."""

    nodes: dict[str, Node]
    children: dict[str, list[str]]
    duplicates: dict[str, list[Node]] = field(default_factory=dict)
    unknown_parents: list[tuple[Node, str]] = field(default_factory=list)
    cycles: list[list[str]] = field(default_factory=list)

    @property
    def heads(self) -> list[str]:
        """Revisions nothing revises, sorted."""
        return sorted(r for r in self.nodes if not self.children.get(r))

    @property
    def bases(self) -> list[str]:
        return sorted(r for r, n in self.nodes.items() if not n.down_revisions)

    @property
    def branch_points(self) -> dict[str, list[str]]:
        """Parent → its children, for parents with more than one child."""
        return {p: sorted(c) for p, c in self.children.items() if len(c) > 1 and p in self.nodes}

    def ancestors(self, revision: str) -> set[str]:
        """`revision` and every revision (or unknown id) it descends from."""
        seen: set[str] = set()
        stack = [revision]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            node = self.nodes.get(current)
            if node is not None:
                stack.extend(node.down_revisions)
        return seen

    def unintended_heads(self) -> list[str]:
        """Heads that diverged by accident: they share an ancestor with another head and
        no revision of their own branch declares a branch label (`alembic revision
        --branch-label` makes parallel heads on purpose)."""
        heads = self.heads
        if len(heads) < 2:
            return []
        lines = {head: self.ancestors(head) for head in heads}
        shared = set.intersection(*lines.values())
        unlabelled = [
            head
            for head in heads
            if not any(self.nodes[r].branch_labels for r in lines[head] - shared if r in self.nodes)
        ]
        return [
            head
            for head in unlabelled
            if any(lines[head] & lines[other] for other in unlabelled if other != head)
        ]

    def order(self) -> list[str]:
        """Revisions base first (parents before children); members of cycles last."""
        indegree = {r: 0 for r in self.nodes}
        for revision, node in self.nodes.items():
            indegree[revision] = sum(1 for p in node.down_revisions if p in self.nodes)
        ready = deque(sorted(r for r, d in indegree.items() if d == 0))
        ordered: list[str] = []
        while ready:
            current = ready.popleft()
            ordered.append(current)
            for child in sorted(self.children.get(current, [])):
                indegree[child] -= 1
                if indegree[child] == 0:
                    ready.append(child)
        seen = set(ordered)
        return ordered + sorted(r for r in self.nodes if r not in seen)


def build_graph(nodes: Iterable[Node]) -> RevisionGraph:
    """The graph of `nodes`; the first node seen for a duplicated id wins."""
    by_id: dict[str, Node] = {}
    duplicates: dict[str, list[Node]] = {}
    for node in nodes:
        if node.revision in by_id:
            duplicates.setdefault(node.revision, [by_id[node.revision]]).append(node)
            continue
        by_id[node.revision] = node
    children: dict[str, list[str]] = {}
    unknown: list[tuple[Node, str]] = []
    for node in by_id.values():
        for parent in node.down_revisions:
            if parent not in by_id:
                unknown.append((node, parent))
            children.setdefault(parent, []).append(node.revision)
    graph = RevisionGraph(by_id, children, duplicates, unknown)
    graph.cycles = _cycles(by_id)
    return graph


def _cycles(nodes: dict[str, Node]) -> list[list[str]]:
    """Each cycle once, as the list of revisions along it (iterative DFS on parents)."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(nodes, WHITE)
    cycles: list[list[str]] = []
    seen_sets: set[frozenset[str]] = set()
    for start in sorted(nodes):
        if colour[start] != WHITE:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = []
        colour[start] = GREY
        path.append(start)
        while stack:
            current, index = stack[-1]
            parents = [p for p in nodes[current].down_revisions if p in nodes]
            if index < len(parents):
                stack[-1] = (current, index + 1)
                parent = parents[index]
                if colour[parent] == GREY:
                    cycle = path[path.index(parent) :]
                    key = frozenset(cycle)
                    if key not in seen_sets:
                        seen_sets.add(key)
                        cycles.append(cycle)
                elif colour[parent] == WHITE:
                    colour[parent] = GREY
                    path.append(parent)
                    stack.append((parent, 0))
            else:
                colour[current] = BLACK
                path.pop()
                stack.pop()
    return cycles
