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


def topological_order(project: Project) -> list[str]:
    """All revision ids, each after its down_revisions and depends_on; ties keep alembic's
    walk order so the result is stable."""
    try:
        scripts = project.revisions
    except KeyError as exc:  # alembic's bare KeyError for a down_revision nobody defines
        raise HistoryError(
            f"A revision's down_revision names {exc.args[0]!r}, which no migration file defines.",
            hint="Was that revision deleted or squashed? Point down_revision at an "
            "existing revision.",
        ) from None
    position = {s.revision: i for i, s in enumerate(scripts)}
    parents = {s.revision: [p for p in s._all_down_revisions if p in position] for s in scripts}
    done: set[str] = set()
    order: list[str] = []
    pending = sorted(position, key=position.__getitem__)
    while pending:
        progressed = False
        for rev in list(pending):
            if all(p in done for p in parents[rev]):
                order.append(rev)
                done.add(rev)
                pending.remove(rev)
                progressed = True
                break
        if not progressed:  # a cycle; alembic normally refuses to load one
            raise HistoryError(f"Revisions {', '.join(pending)} depend on each other.")
    return order


def make_plan(
    project: Project,
    *,
    last: int | None = None,
    from_rev: str | None = None,
    to_rev: str | None = None,
) -> RoundTripPlan:
    """The plan for `--last N` or `--from A --to B` (both ends included), else everything.
    Raises HistoryError for an unknown revision or an empty selection."""
    order = topological_order(project)
    if last is not None:
        if last < 1:
            raise HistoryError("--last must be at least 1.")
        tested = set(order[-last:])
    elif from_rev or to_rev:
        start = project.revision(from_rev).revision if from_rev else None
        end = project.revision(to_rev).revision if to_rev else None
        upto = project.ancestors({end}) if end else set(order)
        tested = set()
        for rev in order:
            if rev in upto and (start is None or start in project.ancestors({rev})):
                tested.add(rev)
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
