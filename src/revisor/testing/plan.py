"""Which revisions a round-trip run visits, in which order (pure: no database)."""

from __future__ import annotations

from dataclasses import dataclass

from revisor.errors import HistoryError
from revisor.project import Project


@dataclass(frozen=True)
class RoundTripPlan:
    """`order`: every revision to apply, parents (and depends_on targets) first.
    `tested`: the ones to round-trip; the others are only applied on the way.
    `full`: the whole history is tested, so the run ends with `downgrade base`."""

    order: tuple[str, ...]
    tested: frozenset[str]
    full: bool

    @property
    def tested_in_order(self) -> list[str]:
        return [r for r in self.order if r in self.tested]


def make_plan(
    project: Project,
    *,
    last: int | None = None,
    from_rev: str | None = None,
    to_rev: str | None = None,
) -> RoundTripPlan:
    """The plan for `--last N` or `--from A --to B` (both ends included), else everything.
    Raises HistoryError for an unknown revision or an empty selection."""
    order = project.graph.order()
    if last is not None:
        if last < 1:
            raise HistoryError("--last must be at least 1.")
        tested = set(order[-last:])
    elif from_rev or to_rev:
        start = project.revision(from_rev).revision if from_rev else None
        end = project.revision(to_rev).revision if to_rev else None
        upto = project.ancestors({end}) if end else set(order)
        # the revisions built on `start` (itself included): one walk, not one per revision
        tested = upto & project.graph.descendants({start}) if start else upto
        if not tested:
            raise HistoryError(f"No revision lies between {from_rev} and {to_rev}.")
    else:
        tested = set(order)
    needed = project.ancestors(tested)
    return RoundTripPlan(
        order=tuple(r for r in order if r in needed),
        tested=frozenset(tested),
        full=tested == set(order),
    )
