"""The revision graph: pure, no database, no imports of revision files.

One graph for every command. `Project.graph` builds it once from alembic's scripts (the
history as alembic loads it); review builds it from the parsed files, so that a broken
history — a cycle, an unknown parent, a duplicate id — is still described instead of
raising. Both answer the same questions: topological order (the standard library's
`graphlib`), ancestors, descendants, heads, branch points, cycles.

Two kinds of edges, as in alembic: `down_revision` makes a revision a child of its
parents (heads, bases and branch points follow these only), and `depends_on` makes it wait
for other revisions without branching (order, ancestors and descendants follow both).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from graphlib import CycleError, TopologicalSorter
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Node:
    """One revision as its file declares it."""

    revision: str
    down_revisions: tuple[str, ...] = ()
    path: Path | None = None
    line: int | None = None  # where `down_revision` (or `revision`) is assigned
    branch_labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()  # revision ids (branch labels already resolved)

    @property
    def requires(self) -> tuple[str, ...]:
        """Every revision that must be applied before this one: down_revisions, then
        depends_on."""
        return tuple(dict.fromkeys(self.down_revisions + self.depends_on))


@dataclass
class RevisionGraph:
    """Facts about a history: heads, bases, branch points, order, and what is broken.

    `nodes` keeps the order the revisions were given in; it breaks ties wherever the
    graph leaves the order open (see `order`)."""

    nodes: dict[str, Node]
    children: dict[str, list[str]]  # parent -> revisions naming it as down_revision
    duplicates: dict[str, list[Node]] = field(default_factory=dict)
    unknown_parents: list[tuple[Node, str]] = field(default_factory=list)
    # Both directions of every edge between known revisions (down_revision or depends_on),
    # so that each walk is linear in the size of the history.
    requires: dict[str, tuple[str, ...]] = field(default_factory=dict)  # -> applied first
    dependents: dict[str, list[str]] = field(default_factory=dict)  # -> applied after

    @cached_property
    def _down_edges(self) -> dict[str, tuple[str, ...]]:
        """Revision -> its known down_revisions (depends_on left out)."""
        return {
            r: tuple(p for p in n.down_revisions if p in self.nodes) for r, n in self.nodes.items()
        }

    @cached_property
    def cycles(self) -> list[list[str]]:
        """Each cycle once, as the revisions along it (through down_revision or
        depends_on)."""
        return _cycles(self.requires)

    @property
    def heads(self) -> list[str]:
        """Revisions nothing revises, sorted (depends_on does not revise: alembic's
        heads)."""
        return sorted(r for r in self.nodes if not self.children.get(r))

    @property
    def bases(self) -> list[str]:
        return sorted(r for r, n in self.nodes.items() if not n.down_revisions)

    @property
    def branch_points(self) -> dict[str, list[str]]:
        """Parent → its children, for parents with more than one child."""
        return {p: sorted(c) for p, c in self.children.items() if len(c) > 1 and p in self.nodes}

    def ancestors(self, revisions: Iterable[str], *, depends_on: bool = True) -> set[str]:
        """`revisions` and every revision below them, transitively (through depends_on
        too unless depends_on=False). Ids the graph does not define are left out."""
        edges = self.requires if depends_on else self._down_edges
        return _reachable(revisions, edges, self.nodes)

    def descendants(self, revisions: Iterable[str]) -> set[str]:
        """`revisions` and every revision built on them (through down_revision or
        depends_on), transitively. Ids the graph does not define are left out."""
        return _reachable(revisions, self.dependents, self.nodes)

    def unintended_heads(self) -> list[str]:
        """Heads that diverged by accident: they share an ancestor with another head and
        no revision of their own branch declares a branch label (`alembic revision
        --branch-label` makes parallel heads on purpose)."""
        heads = self.heads
        if len(heads) < 2:
            return []
        lines = {head: self.ancestors({head}, depends_on=False) for head in heads}
        shared = set.intersection(*lines.values())
        unlabelled = [
            head
            for head in heads
            if not any(self.nodes[r].branch_labels for r in lines[head] - shared)
        ]
        return [
            head
            for head in unlabelled
            if any(lines[head] & lines[other] for other in unlabelled if other != head)
        ]

    def order(self) -> list[str]:
        """Every revision, each after the revisions it requires (down_revision and
        depends_on). Where several could come next, the one given first wins (alembic's
        walk order for a Project, file order for review), so the order is the same on
        every run. Members of cycles, and what is built on them, come last in the order
        given: no order exists for them."""
        try:
            return self._order(stuck=set())
        except CycleError:  # graphlib found one: order what does not depend on any
            stuck = self.descendants(r for cycle in self.cycles for r in cycle)
            return self._order(stuck) + [r for r in self.nodes if r in stuck]

    def _order(self, stuck: set[str]) -> list[str]:
        """The revisions outside `stuck` in order; raises CycleError for a cycle."""
        sorter: TopologicalSorter[str] = TopologicalSorter()
        rank: dict[str, int] = {}
        for revision, required in self.requires.items():
            if revision not in stuck:
                rank[revision] = len(rank)
                sorter.add(revision, *required)  # outside `stuck`, none of them is inside
        sorter.prepare()
        ready: list[tuple[int, str]] = []
        ordered: list[str] = []
        while sorter.is_active():
            for revision in sorter.get_ready():
                heapq.heappush(ready, (rank[revision], revision))
            _, revision = heapq.heappop(ready)
            ordered.append(revision)
            sorter.done(revision)
        return ordered


def build_graph(nodes: Iterable[Node]) -> RevisionGraph:
    """The graph of `nodes`, in the order given; the first node seen for a duplicated id
    wins. A down_revision nobody defines is an unknown parent; a depends_on nobody
    defines is left out (RV202 is about down_revision; alembic reports the rest)."""
    by_id: dict[str, Node] = {}
    duplicates: dict[str, list[Node]] = {}
    for node in nodes:
        if node.revision in by_id:
            duplicates.setdefault(node.revision, [by_id[node.revision]]).append(node)
            continue
        by_id[node.revision] = node
    children: dict[str, list[str]] = {}
    requires: dict[str, tuple[str, ...]] = {}
    dependents: dict[str, list[str]] = {}
    unknown: list[tuple[Node, str]] = []
    for revision, node in by_id.items():
        for parent in node.down_revisions:
            if parent not in by_id:
                unknown.append((node, parent))
            children.setdefault(parent, []).append(revision)
        requires[revision] = tuple(r for r in node.requires if r in by_id)
        for required in requires[revision]:
            dependents.setdefault(required, []).append(revision)
    return RevisionGraph(by_id, children, duplicates, unknown, requires, dependents)


def _reachable(
    starts: Iterable[str], edges: dict[str, Sequence[str]], known: dict[str, Node]
) -> set[str]:
    """`starts` (those in `known`) and everything `edges` leads to from them."""
    seen: set[str] = set()
    stack = [r for r in starts if r in known]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(edges.get(current, ()))
    return seen


def _cycles(requires: dict[str, tuple[str, ...]]) -> list[list[str]]:
    """Each cycle once, as the list of revisions along it (iterative DFS on parents)."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(requires, WHITE)
    cycles: list[list[str]] = []
    seen_sets: set[frozenset[str]] = set()
    for start in sorted(requires):
        if colour[start] != WHITE:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = []
        colour[start] = GREY
        path.append(start)
        while stack:
            current, index = stack[-1]
            parents = requires[current]
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
