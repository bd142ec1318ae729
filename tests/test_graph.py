"""The one revision graph (revisor.graph): down_revision and depends_on, order with the
ties kept as given, ancestors, descendants, and the Project's graph on a real history."""

from __future__ import annotations

from pathlib import Path

from revisor.graph import Node, build_graph
from revisor.project import Project
from revisor.testing.plan import make_plan

HISTORIES = Path(__file__).resolve().parent / "fixtures" / "histories"


def test_depends_on_orders_and_links_without_branching() -> None:
    """billing (x -> y) branches off the core base a; y also needs core's b applied
    first (depends_on), which neither makes b a parent of y nor b a non-head."""
    graph = build_graph(
        [
            Node("a"),
            Node("x", ("a",), branch_labels=("billing",)),
            Node("y", ("x",), depends_on=("b",)),
            Node("b", ("a",)),
        ]
    )
    assert graph.heads == ["b", "y"]
    assert graph.branch_points == {"a": ["b", "x"]}
    assert graph.order() == ["a", "x", "b", "y"]
    assert graph.ancestors({"y"}) == {"a", "x", "y", "b"}
    assert graph.ancestors({"y"}, depends_on=False) == {"a", "x", "y"}
    assert graph.descendants({"b"}) == {"b", "y"}
    assert graph.descendants({"y"}) == {"y"}  # a head is its own only descendant
    assert graph.ancestors({"nope", "b"}) == {"a", "b"}  # unknown ids are left out
    assert graph.unintended_heads() == []  # billing is labelled


def test_ties_keep_the_order_given() -> None:
    """Parallel branches come in the order the revisions were given (alembic's walk
    order, or file order), not sorted by id: the same input, the same order."""
    graph = build_graph([Node("a"), Node("c", ("a",)), Node("b", ("a",)), Node("d", ("b", "c"))])
    assert graph.order() == ["a", "c", "b", "d"]
    reversed_input = build_graph(
        [Node("a"), Node("b", ("a",)), Node("c", ("a",)), Node("d", ("b", "c"))]
    )
    assert reversed_input.order() == ["a", "b", "c", "d"]


def test_cycles_and_what_is_built_on_them_come_last_in_the_order_given() -> None:
    graph = build_graph(
        [
            Node("z"),
            Node("c", ("b",)),
            Node("a", ("c",)),
            Node("b", ("a",)),
            Node("d", ("c",)),
            Node("e", ("z",)),
        ]
    )
    assert graph.cycles == [["a", "c", "b"]]
    assert graph.order() == ["z", "e", "c", "a", "b", "d"]


def test_a_cycle_through_depends_on_is_a_cycle() -> None:
    graph = build_graph([Node("a"), Node("b", ("a",), depends_on=("c",)), Node("c", ("b",))])
    assert graph.cycles == [["b", "c"]]
    assert graph.order() == ["a", "b", "c"]  # no order exists for b and c: given order


def test_project_graph_follows_depends_on_across_version_folders() -> None:
    """two_version_folders: core ce0000a1b2c3 -> ce0001d4e5f6 and billing b1000a9b8c7d ->
    b1001e6f5a4b, which depends_on ce0001d4e5f6 (its view reads customers.tier)."""
    project = Project.load(HISTORIES / "two_version_folders" / "alembic.ini")
    graph = project.graph
    assert graph is project.graph  # built once per project
    assert graph.heads == ["b1001e6f5a4b", "ce0001d4e5f6"]
    order = graph.order()
    assert order.index("ce0001d4e5f6") < order.index("b1001e6f5a4b")
    assert project.ancestors({"b1001e6f5a4b"}) == {
        "ce0000a1b2c3",
        "b1000a9b8c7d",
        "b1001e6f5a4b",
        "ce0001d4e5f6",
    }
    assert graph.descendants({"ce0001d4e5f6"}) == {"ce0001d4e5f6", "b1001e6f5a4b"}
    # `revisor test --from`: the revision and everything that needs it
    assert make_plan(project, from_rev="ce0001d4e5f6").tested == {
        "ce0001d4e5f6",
        "b1001e6f5a4b",
    }
    assert make_plan(project, from_rev="b1001e6f5a4b").tested == {"b1001e6f5a4b"}
