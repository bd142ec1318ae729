"""Plain words for one schema difference: what it is, what it breaks, what removes it."""

from __future__ import annotations

from revisor.doctor import kinds
from revisor.findings import Finding
from revisor.snapshot.catalog import CatalogObject
from revisor.snapshot.diff import Change, Difference, SnapshotDiff

# The operation of a later migration that fails on an object that is already there.
_CREATED_BY = {
    "table": "`create_table`",
    "column": "`add_column`",
    "index": "`create_index`",
    "constraint": "`create_*_constraint` / `create_foreign_key`",
    "enum": "`CREATE TYPE` (sa.Enum)",
    "sequence": "`CREATE SEQUENCE`",
    "view": "`CREATE VIEW`",
    "function": "`CREATE FUNCTION`",
    "trigger": "`CREATE TRIGGER`",
    "schema": "`CREATE SCHEMA`",
    "extension": "`CREATE EXTENSION`",
}


def difference_words(diff: SnapshotDiff, revision: str) -> list[str]:
    """Short sentences, one per difference, for a summary ("closest revision ...")."""
    where = revision or "the empty database"
    words = {
        Change.LEFT: f"the database has {{}}, {where} does not",
        Change.MISSING: f"the database lacks {{}}, {where} has it",
        Change.CHANGED: "{}",
    }
    return [words[d.change].format(d.describe()) for d in diff.differences]


def difference_finding(difference: Difference, revision: str) -> Finding:
    """One DR105 finding: the object, at which revision, what it breaks, and the fix."""
    obj = difference.object
    what = obj.describe()
    at = f"the history at {revision}"
    if difference.change is Change.LEFT:
        op = _CREATED_BY.get(obj.kind, "a migration")
        message = (
            f"{what} exists in the database but not in {at}: a later {op} of the same "
            "name will fail with 'already exists' (the constraint-name collision)."
        )
        drop = _drop_statement(obj)
        help = (
            f"If it was left by a migration that is gone, drop it: `{drop}`. If it belongs "
            "to a migration still to come, that migration was applied by hand: undo it or "
            "`alembic stamp` that revision."
            if drop
            else "Undo the change made by hand, or rebuild the database: drop it and run "
            "`revisor deploy`."
        )
    elif difference.change is Change.MISSING:
        message = (
            f"{what} is in {at} but not in the database: a later migration that alters or "
            "drops it will fail, and code that uses it breaks."
        )
        help = (
            "Recreate it as the revision that creates it does (its upgrade shows the "
            "statement), or rebuild the database: drop it and run `revisor deploy`."
        )
    else:
        assert difference.expected is not None and difference.actual is not None
        message = (
            f"{what} differs from {at}: the history builds "
            f"{difference.expected.definition!r}, the database has "
            f"{difference.actual.definition!r}."
        )
        help = (
            "Change it back to what the history builds, or write a migration that makes "
            "the change (`revisor draft`) so every database gets it."
        )
    return kinds.SCHEMA_DRIFT.finding(
        message,
        help,
        revision=revision,
        change=difference.change.value,
        kind=obj.kind,
        object=obj.name,
        table=obj.table,
    )


def _drop_statement(obj: CatalogObject) -> str | None:
    """The statement that removes a leftover object (never run by doctor)."""
    if obj.kind == "index":
        return f"DROP INDEX {obj.name}"
    if obj.kind == "constraint" and obj.table:
        return f"ALTER TABLE {obj.table} DROP CONSTRAINT {obj.name}"
    if obj.kind == "column" and obj.table:
        return f"ALTER TABLE {obj.table} DROP COLUMN {obj.name}"
    if obj.kind in ("enum", "domain", "composite type"):
        return f"DROP TYPE {obj.name}"
    if obj.kind in ("table", "view", "sequence"):
        return f"DROP {obj.kind.upper()} {obj.name}"
    return None


def first_line(error: BaseException) -> str:
    """`ErrorType: first line of its message`, without the SQL that follows."""
    orig = getattr(error, "orig", None) or error
    text = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {text[0]}" if text else type(orig).__name__
