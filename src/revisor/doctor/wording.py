"""Plain words for one schema difference: what it is, what it breaks, what removes it."""

from __future__ import annotations

from revisor.doctor import kinds
from revisor.doctor.replay import HistoryState, Replay
from revisor.findings import Finding, Severity
from revisor.fix_commands import CommandLine, FixCommands
from revisor.snapshot.catalog import GRANT_OPTION, CatalogObject, Snapshot
from revisor.snapshot.diff import (
    SECURITY_NOTE,
    Change,
    Difference,
    SnapshotDiff,
    diff_snapshots,
)
from revisor.snapshot.names import quote, sql_name

# How many differences a "closest revision" message spells out before "and N more".
_SHOWN = 5

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
    "domain": "`CREATE DOMAIN`",
    "domain constraint": "`ALTER DOMAIN … ADD CONSTRAINT`",
    "composite type": "`CREATE TYPE`",
    "materialized view": "`CREATE MATERIALIZED VIEW`",
    "procedure": "`CREATE PROCEDURE`",
    "policy": "`CREATE POLICY`",
}


def difference_words(diff: SnapshotDiff, revision: str) -> list[str]:
    """Short sentences, one per difference, for a summary ("closest revision ...")."""
    where = revision or "the empty database"
    words = {
        Change.LEFT: f"the database has {{}}, {where} does not",
        Change.MISSING: f"the database lacks {{}}, {where} has it",
        Change.CHANGED: "{}",
        Change.RENAMED: f"the database has {{}} under another name than {where}",
    }
    return [words[d.change].format(d.describe()) for d in diff.differences]


def difference_finding(difference: Difference, revision: str, commands: FixCommands) -> Finding:
    """One DR105 finding: the object, at which revision, what it breaks, and the fix."""
    obj = difference.object
    what = obj.describe()
    at = f"the history at {revision}"
    fix: list[CommandLine] = []
    statement = fix_statement(difference)
    extra: dict[str, object] = {}
    if difference.change is Change.LEFT:
        op = _CREATED_BY.get(obj.kind, "migration that creates it")
        if obj.kind == "grant":
            message = (
                f"{what} exists in the database but not in {at}: a privilege no migration "
                f"gave ({SECURITY_NOTE})."
            )
        else:
            message = (
                f"{what} exists in the database but not in {at}: a later {op} of the same "
                "name will fail with 'already exists' (the constraint-name collision)."
            )
        if statement:
            fix = [commands.sql(statement)]
            verb = "revoke" if obj.kind == "grant" else "drop"
            help = (
                f"If it was left by a migration that is gone, {verb} it: {fix[0].quoted}"
                f"{_data_note(obj)}. If it belongs to a migration still to come, that "
                "migration was applied by hand: undo it, or stamp that revision instead."
            )
        else:
            fix = rebuild_commands(commands)
            help = f"Undo the change made by hand, or {commands.rebuild()}."
    elif difference.change is Change.RENAMED:
        assert difference.expected is not None and statement is not None
        new_name = quote(difference.expected.name)
        message = (
            f"{what} is named {new_name} in {at}, with the same definition: its migration "
            "was probably given that name after this database ran it (`revisor review "
            "--fix` names unnamed constraints), so a later migration that drops or alters "
            f"{new_name} will fail with 'does not exist'."
        )
        fix = [commands.sql(statement)]
        help = f"Rename it to the name the history gives it: {fix[0].quoted}."
        extra["renamed_to"] = difference.expected.name
    elif difference.change is Change.MISSING:
        message = (
            f"{what} is in {at} but not in the database: a later migration that alters or "
            "drops it will fail, and code that uses it breaks."
        )
        fix = rebuild_commands(commands)
        help = (
            "Recreate it as the revision that creates it does (its upgrade shows the "
            f"statement), or {commands.rebuild()}."
        )
    else:
        assert difference.expected is not None and difference.actual is not None
        subject = difference.expected.subject()
        verb = "differ" if obj.kind == "grant" else "differs"  # "privileges of ..."
        message = (
            f"{subject} {verb} from {at}: the history builds "
            f"{difference.expected.definition!r}, the database has "
            f"{difference.actual.definition!r}"
            + (f" ({SECURITY_NOTE})." if difference.widens_privileges else ".")
        )
        if statement:
            fix = [commands.sql(statement)]
            help = f"Revoke what the history does not grant: {fix[0].quoted}."
        else:
            help = (
                "Change it back to what the history builds, or write a migration that "
                "makes the change (revisor draft) so every database gets it."
            )
    return kinds.SCHEMA_DRIFT.finding(
        message,
        help,
        revision=revision,
        severity=_grant_severity(difference),
        commands=fix,
        change=difference.change.value,
        kind=obj.kind,
        object=obj.name,
        schema=obj.schema,
        table=obj.table,
        **extra,
    )


def _grant_severity(difference: Difference) -> Severity | None:
    """Privileges a DBA grants outside the migrations (a read-only role's SELECT) are
    ordinary on a real database and break no migration: reported, not failing. A
    privilege PUBLIC has that the history does not give opens the table to every role: a
    warning. Everything else keeps DR105's severity (an owner that is not the migrating
    role does break migrations: only the owner may ALTER the table)."""
    obj = difference.object
    if obj.kind != "grant":
        return None
    public = obj.kind == "grant" and obj.name == "public"
    if public and difference.change is not Change.MISSING:
        return Severity.WARNING
    return Severity.INFO


def rebuild_commands(commands: FixCommands) -> list[CommandLine]:
    """The commands of `commands.rebuild()`: reset and upgrade on the embedded dev
    database; on the user's own, the upgrade after they dropped and created it."""
    reset = commands.reset()
    return [reset, commands.upgrade()] if reset is not None else [commands.upgrade()]


def _data_note(obj: CatalogObject) -> str:
    # Dropping a table or column loses its rows; doctor never runs it, the user decides.
    if obj.kind in ("table", "column"):
        return " (its data goes with it: copy it first if it matters)"
    return ""


# DROP statements by kind, for leftover objects named by a schema-qualified name.
_DROP = {
    "index": "DROP INDEX",
    "enum": "DROP TYPE",
    "composite type": "DROP TYPE",
    "domain": "DROP DOMAIN",
    "table": "DROP TABLE",
    "view": "DROP VIEW",
    "materialized view": "DROP MATERIALIZED VIEW",
    "sequence": "DROP SEQUENCE",
}


def fix_statement(difference: Difference) -> str | None:
    """The SQL that makes the database's object what the history builds (doctor prints
    it, never runs it), or None where only words can say it: a statement for a leftover
    object, a renamed constraint, a privilege beyond the history's. Every name is quoted
    as PostgreSQL needs it and schema-qualified, so it runs as printed."""
    obj = difference.object
    schema, name, table = obj.schema, obj.name, obj.table
    if difference.change is Change.RENAMED:
        assert difference.expected is not None
        alter = "ALTER DOMAIN" if obj.kind == "domain constraint" else "ALTER TABLE"
        return (
            f"{alter} {sql_name(schema, table or '')} RENAME CONSTRAINT {quote(name)} "
            f"TO {quote(difference.expected.name)}"
        )
    if difference.change is Change.CHANGED:
        if not difference.widens_privileges:
            return None
        return _revoke(obj, difference.expected)
    if difference.change is not Change.LEFT:
        return None
    if obj.kind in _DROP:
        return f"{_DROP[obj.kind]} {sql_name(schema, name)}"
    if obj.kind == "grant":
        return _revoke(obj, None)
    if obj.kind in ("function", "procedure") and schema is not None:
        # the name is the signature, quoted by the server
        return f"DROP {obj.kind.upper()} {quote(schema)}.{name}"
    if table is None:
        return None
    on = sql_name(schema, table)
    if obj.kind == "column":
        return f"ALTER TABLE {on} DROP COLUMN {quote(name)}"
    if obj.kind == "constraint":
        return f"ALTER TABLE {on} DROP CONSTRAINT {quote(name)}"
    if obj.kind == "domain constraint":
        return f"ALTER DOMAIN {on} DROP CONSTRAINT {quote(name)}"
    if obj.kind in ("trigger", "policy"):
        return f"DROP {obj.kind.upper()} {quote(name)} ON {on}"
    return None


def _revoke(grant: CatalogObject, given: CatalogObject | None) -> str:
    """REVOKE what `grant` holds beyond what `given` (the history's grant to the same
    role, if any) gives: a privilege it does not give at all, or only its grant option."""
    beyond = grant.privileges_beyond(given)
    option = [p.removesuffix(GRANT_OPTION) for p in beyond if p.endswith(GRANT_OPTION)]
    option = [p for p in option if p in (given.privileges if given else [])]
    whole = [p.removesuffix(GRANT_OPTION) for p in beyond]
    whole = [p for p in whole if p not in option]
    # REVOKE ... ON TABLE works for every relation kind, sequences and views included.
    on, role = sql_name(grant.schema, grant.table or ""), grant.grantee
    statements = [f"REVOKE {', '.join(whole)} ON {on} FROM {role}"] if whole else []
    if option:
        statements.append(f"REVOKE GRANT OPTION FOR {', '.join(option)} ON {on} FROM {role}")
    return "; ".join(statements)


def first_line(error: BaseException) -> str:
    """`ErrorType: first line of its message`, without the SQL that follows."""
    orig = getattr(error, "orig", None) or error
    text = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {text[0]}" if text else type(orig).__name__


def stamp_instead(
    replay: Replay, match: HistoryState | None, ancestor: str | None, commands: FixCommands
) -> tuple[str, list[CommandLine]]:
    """The stamp that replaces an unknown revision, in words, and its commands."""
    if match is not None:
        stamp = commands.stamp(match.heads, purge=True)
        name = " ".join(match.heads)
        return f"{stamp.quoted}: the schema matches revision {name} exactly", [stamp]
    if ancestor is not None:
        stamp = commands.stamp([ancestor], purge=True)
        return (
            f"undo its changes by hand and {stamp.quoted} "
            "(doctor then lists anything that still differs)",
            [stamp],
        )
    if replay.closest is not None:
        state, _, count = replay.closest
        name = " ".join(state.heads) or "base"
        stamp = commands.stamp(state.heads or ("base",), purge=True)
        return (
            f"make the schema match revision {name} (the closest, {count} difference(s)) "
            f"and {stamp.quoted}",
            [stamp],
        )
    return commands.rebuild(), rebuild_commands(commands)


def closest_words(replay: Replay, schema: Snapshot) -> str:
    """'Closest: X, differing by N: ...' for a schema no state matches exactly."""
    if replay.closest is None:
        return "No revision could be built to compare with."
    state, expected, count = replay.closest
    name = " ".join(state.heads) if state.heads else "the empty database"
    words = difference_words(diff_snapshots(expected, schema), " ".join(state.heads))
    more = f"; and {len(words) - _SHOWN} more" if len(words) > _SHOWN else ""
    return f"Closest: {name}, differing by {count}: {'; '.join(words[:_SHOWN])}{more}."


def closest_help(replay: Replay, commands: FixCommands) -> tuple[str, list[CommandLine]]:
    """The fix line (and its commands) for an unstamped schema that matches no state
    exactly."""
    if replay.error is not None and replay.closest and replay.closest[0] is replay.states[-1]:
        # The history stops building where the database's schema probably began (an
        # empty base revision, the tables from create_all): the schema cannot be matched.
        heads = replay.closest[0].heads or ("base",)
        stamp, upgrade = commands.stamp(heads), commands.upgrade()
        return (
            f"The history cannot build past {replay.failed} from an empty database, so no "
            f"exact match is possible. If this schema is what the models had when "
            f"{replay.failed} was written, {stamp.quoted} then {upgrade.quoted} "
            f"continue from there; otherwise fix the history first ({commands.test().quoted}).",
            [stamp, upgrade],
        )
    if replay.closest is None or not replay.closest[0].heads:
        return f"Rebuild the database from the history: {commands.rebuild()}.", rebuild_commands(
            commands
        )
    heads = replay.closest[0].heads
    name = " ".join(heads)
    stamp = commands.stamp(heads)
    return (
        f"Make the schema equal to what {name} builds (the differences above), then "
        f"{stamp.quoted}; run {commands.doctor().quoted} again to confirm they are equal.",
        [stamp],
    )


def listed(revisions: list[str]) -> str:
    shown = ", ".join(revisions[:_SHOWN])
    return shown + (f" and {len(revisions) - _SHOWN} more" if len(revisions) > _SHOWN else "")
