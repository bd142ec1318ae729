"""Compare two catalog snapshots and say what differs in plain words."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum

from revisor.snapshot.catalog import RELATION_KINDS, CatalogObject, Snapshot
from revisor.snapshot.names import quote

# What a privilege beyond the expected schema's is, in the findings that report one.
SECURITY_NOTE = "a security finding: access that the history does not give"


class Change(StrEnum):
    LEFT = "left"  # present now, absent from the expected schema
    MISSING = "missing"  # expected, absent now
    CHANGED = "changed"  # present in both with different definitions
    RENAMED = "renamed"  # the same constraint (same table, same definition), another name


@dataclass(frozen=True)
class Difference:
    """One object that differs between the expected and the actual schema."""

    change: Change
    expected: CatalogObject | None
    actual: CatalogObject | None

    @property
    def object(self) -> CatalogObject:
        found = self.actual or self.expected
        assert found is not None
        return found

    def describe(self) -> str:
        """'index ix_x on t', 'enum type mood (no longer there)', ... without the verb."""
        if self.change is Change.CHANGED:
            assert self.expected is not None and self.actual is not None
            return (
                f"{self.expected.subject()} changed: {self.expected.definition!r} became "
                f"{self.actual.definition!r}"
            )
        if self.change is Change.RENAMED:
            assert self.expected is not None and self.actual is not None
            return f"{self.expected.subject()} renamed to {quote(self.actual.name)}"
        return self.object.describe()

    @property
    def widens_privileges(self) -> bool:
        """True for a grant the actual schema has beyond the expected one: a privilege
        that outlived the migration that made it, or that nobody migrated."""
        if self.object.kind != "grant" or self.actual is None:
            return False
        return bool(self.actual.privileges_beyond(self.expected))


@dataclass(frozen=True)
class SnapshotDiff:
    """What the actual schema has that the expected one has not, and the other way round."""

    differences: tuple[Difference, ...]

    def __bool__(self) -> bool:
        return bool(self.differences)

    @property
    def left(self) -> list[Difference]:
        return [d for d in self.differences if d.change is Change.LEFT]

    @property
    def missing(self) -> list[Difference]:
        return [d for d in self.differences if d.change is Change.MISSING]

    @property
    def changed(self) -> list[Difference]:
        return [d for d in self.differences if d.change is Change.CHANGED]

    @property
    def renamed(self) -> list[Difference]:
        return [d for d in self.differences if d.change is Change.RENAMED]

    @property
    def widened_privileges(self) -> list[Difference]:
        """The grants the actual schema has beyond the expected one (a security finding)."""
        return [d for d in self.differences if d.widens_privileges]

    def sentences(self, subject: str) -> list[str]:
        """One sentence per difference, e.g. with subject "downgrade of 3f2a…":
        "downgrade of 3f2a… left index ix_transactions_date on transactions"."""
        verbs = {
            Change.LEFT: "left",
            Change.MISSING: "removed",
            Change.CHANGED: "left",
            Change.RENAMED: "left",
        }
        return [f"{subject} {verbs[d.change]} {d.describe()}" for d in self.differences]


# Objects that only restate a difference already reported for their owner: when a table
# is left over, its columns, constraints, indexes, triggers, policies, grants and column
# comments come with it (and a domain's constraints with the domain).
_OWNED_KINDS = {
    "column",
    "constraint",
    "domain constraint",
    "index",
    "trigger",
    "policy",
    "grant",
    "comment",
}
_OWNER_KINDS = RELATION_KINDS | {"domain"}
# A constraint keeps its definition under another name (pg_get_constraintdef does not
# name it), so a left and a missing one that agree on everything else are one rename.
_RENAMEABLE = {"constraint", "domain constraint"}


def diff_snapshots(expected: Snapshot, actual: Snapshot) -> SnapshotDiff:
    """The differences from `expected` to `actual`, owners first, without restating the
    parts of a table that is itself left over or missing; a constraint that only has
    another name is one RENAMED difference."""
    want = expected.by_key()
    have = actual.by_key()
    owners_left = {
        (o.schema, o.name) for k, o in have.items() if o.kind in _OWNER_KINDS and k not in want
    }
    owners_missing = {
        (o.schema, o.name) for k, o in want.items() if o.kind in _OWNER_KINDS and k not in have
    }
    found: list[Difference] = []
    left: list[CatalogObject] = []
    missing: list[CatalogObject] = []
    for key, obj in have.items():
        if key not in want:
            if obj.kind in _OWNED_KINDS and obj.owner in owners_left:
                continue
            left.append(obj)
        elif want[key].definition != obj.definition:
            found.append(Difference(Change.CHANGED, want[key], obj))
    for key, obj in want.items():
        if key not in have:
            if obj.kind in _OWNED_KINDS and obj.owner in owners_missing:
                continue
            missing.append(obj)
    found += _renames(left, missing)
    order = {"schema": 0, "extension": 1, "table": 2, "enum": 3, "domain": 3}
    found.sort(key=lambda d: (order.get(d.object.kind, 5), d.object.key, d.change.value))
    return SnapshotDiff(tuple(found))


def _by_key(obj: CatalogObject) -> tuple[str, str, str, str]:
    return obj.key


def _renames(left: list[CatalogObject], missing: list[CatalogObject]) -> list[Difference]:
    """LEFT and MISSING differences, with a left and a missing constraint of the same
    kind, table and definition paired as RENAMED (in name order, one to one)."""
    unmatched: dict[tuple[str, str | None, str | None, str], list[CatalogObject]] = defaultdict(
        list
    )
    for obj in sorted(missing, key=_by_key):
        if obj.kind in _RENAMEABLE:
            unmatched[(obj.kind, obj.schema, obj.table, obj.definition)].append(obj)
    found: list[Difference] = []
    renamed: set[CatalogObject] = set()
    for obj in sorted(left, key=_by_key):
        candidates = unmatched.get((obj.kind, obj.schema, obj.table, obj.definition))
        if obj.kind in _RENAMEABLE and candidates:
            expected = candidates.pop(0)
            renamed.add(expected)
            found.append(Difference(Change.RENAMED, expected, obj))
        else:
            found.append(Difference(Change.LEFT, None, obj))
    found += [Difference(Change.MISSING, o, None) for o in missing if o not in renamed]
    return found
