"""A renamed column or table, which autogenerate sees as a drop plus an add.

Written as autogenerate writes it, the upgrade adds an empty column (or table) and drops
the old one with its data. When a table loses a column and gains one of the same type,
or a table disappears and one with the same columns appears, the draft asks (on a
terminal, through the `confirm` callback the CLI gives) or stops and names the flags:
`--rename-column TABLE.OLD=NEW` / `--rename-table OLD=NEW` write
`alter_column(new_column_name=...)` / `rename_table`, `--allow-drop` keeps the drop plus
add on purpose, and `--no-rename` writes the add and leaves the old one alone (as an
unrequested drop). A renamed table takes its indexes, constraints and sequences along
when their names carry the table's name (the naming convention's names and PostgreSQL's
own: `ix_vendors_name`, `vendors_pkey`, `vendors_id_seq`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from revisor.drafting.errors import DraftNeedsChoice
from revisor.drafting.source import SourceOp, comment
from revisor.enums.ops import ident, qualified

Confirm = Callable[[str], bool]

# Indexes, constraints and owned sequences of a table: (kind, name).
_DEPENDENTS = sa.text(
    """
    SELECT 'constraint', con.conname::text FROM pg_constraint con
    WHERE con.conrelid = CAST(:table AS regclass)
    UNION ALL
    SELECT 'index', i.relname::text FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
    WHERE x.indrelid = CAST(:table AS regclass)
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid
                      AND c.conrelid = x.indrelid)
    UNION ALL
    SELECT 'sequence', s.relname::text FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
    WHERE d.refobjid = CAST(:table AS regclass) AND d.classid = 'pg_class'::regclass
      AND s.relkind = 'S' AND d.deptype IN ('a', 'i')
    ORDER BY 1, 2
    """
)


@dataclass(frozen=True)
class Renames:
    """The renames the user declared, and how to ask about the others."""

    columns: Mapping[str, str] = field(default_factory=dict)  # "table.old" -> "new"
    tables: Mapping[str, str] = field(default_factory=dict)  # "old" -> "new"
    confirm: Confirm | None = None
    not_renamed: frozenset[str] = frozenset()  # "table" / "table.old": not a rename


def parse_name_renames(
    columns: Iterable[str], tables: Iterable[str], not_renamed: Iterable[str] = ()
) -> Renames:
    """`TABLE.OLD=NEW` and `OLD=NEW` specs (an optional `SCHEMA.` in front of a table).
    Raises ValueError naming a malformed one."""
    column_map: dict[str, str] = {}
    for spec in columns:
        where, _, new = spec.partition("=")
        if "." not in where or not new.strip() or not where.rpartition(".")[2].strip():
            raise ValueError(f"{spec!r}: write TABLE.OLD=NEW")
        column_map[where.strip()] = new.strip()
    table_map: dict[str, str] = {}
    for spec in tables:
        old, _, new = spec.partition("=")
        if not old.strip() or not new.strip() or "." in new:
            raise ValueError(f"{spec!r}: write OLD=NEW (the new name without a schema)")
        table_map[old.strip()] = new.strip()
    return Renames(column_map, table_map, not_renamed=frozenset(n.strip() for n in not_renamed))


def apply_renames(
    upgrade: ops.UpgradeOps,
    renames: Renames,
    allowed_drops: Collection[str],
    conn: Connection | None,
) -> list[str]:
    """Turn each drop plus add that is a declared (or confirmed) rename into the rename;
    one the user declines stays a drop plus an add (the drop then goes to
    `leave_out_drops`). Mutates the ops; returns one line per rename. Raises
    DraftNeedsChoice when nobody can be asked about a likely rename that is neither
    declared nor an allowed drop, or a declared rename matches no drop plus add."""
    undecided: list[str] = []
    done: list[str] = []
    used: set[str] = set()
    for dropped, created in _table_pairs(upgrade):
        old = _table_key(dropped.schema, dropped.table_name)
        new = created.table_name
        if old in allowed_drops or old in renames.not_renamed:
            continue
        question = f"Did you rename the table {old} to {new}?"
        if renames.tables.get(old) == new or _asked(renames, question):
            used.add(f"table {old}")
            upgrade.ops.remove(dropped)
            at = upgrade.ops.index(created)
            rename, moved = _rename_table(dropped, new, conn)
            upgrade.ops[at : at + 1] = rename
            _forget_table_ops(upgrade, dropped.schema, dropped.table_name, set())
            _forget_table_ops(upgrade, dropped.schema, new, moved)
            done.append(f"table {old} renamed to {new} (data kept)")
        elif renames.tables.get(old) is None and renames.confirm is None:
            undecided.append(f"--rename-table {old}={new}")
    for container, dropped, added in _column_pairs(upgrade):
        table = _table_key(container.schema, container.table_name)
        old, new = dropped.column_name, str(added.column.name)
        if f"{table}.{old}" in allowed_drops or f"{table}.{old}" in renames.not_renamed:
            continue
        question = f"Did you rename {table}.{old} to {table}.{new}?"
        if renames.columns.get(f"{table}.{old}") == new or _asked(renames, question):
            used.add(f"column {table}.{old}")
            container.ops.remove(dropped)
            at = container.ops.index(added)
            container.ops[at : at + 1] = [
                comment(
                    f"{old} is renamed to {new}: the data stays. The release still running "
                    f"during the deploy fails on {old}: deploy this with the code that uses "
                    f"{new}, or add {new} and drop {old} in a later release."
                ),
                _rename_column(container, old, new),
                *_nullability(container, dropped, added),
            ]
            _rename_column_indexes(container, old, new)
            done.append(f"column {table}.{old} renamed to {new} (data kept)")
        elif renames.columns.get(f"{table}.{old}") is None and renames.confirm is None:
            undecided.append(f"--rename-column {table}.{old}={new}")
    _check_declared(renames, used)
    if undecided:
        raise DraftNeedsChoice(
            "The draft drops and adds what looks like a rename: "
            + "; ".join(_plain(flag) for flag in undecided)
            + ". Written as a drop plus an add, the data would be lost.",
            hint="If it is a rename, draft again with "
            + " ".join(undecided)
            + "; if the old one really goes, with "
            + " ".join(f"--allow-drop {_drop_name(flag)}" for flag in undecided)
            + "; to keep it in the database, not in the models, with "
            + " ".join(f"--no-rename {_drop_name(flag)}" for flag in undecided)
            + ".",
        )
    return done


def _plain(flag: str) -> str:
    kind, _, spec = flag.partition(" ")
    old, _, new = spec.partition("=")
    what = "table" if kind == "--rename-table" else "column"
    return f"{what} {old} -> {new}"


def _drop_name(flag: str) -> str:
    return flag.partition(" ")[2].partition("=")[0]


def _asked(renames: Renames, question: str) -> bool:
    return renames.confirm is not None and renames.confirm(question)


def _check_declared(renames: Renames, used: set[str]) -> None:
    unknown = [f"--rename-column {k}={v}" for k, v in renames.columns.items()]
    unknown = [f for f in unknown if f"column {_drop_name(f)}" not in used]
    unknown += [
        f"--rename-table {k}={v}" for k, v in renames.tables.items() if f"table {k}" not in used
    ]
    if unknown:
        raise DraftNeedsChoice(
            f"{', '.join(unknown)}: the draft has no matching drop plus add (is the model "
            "changed, and the old name still in the database?).",
            hint="Rename in the model first, then draft with the flag; a type change is "
            "drafted separately.",
        )


def _table_key(schema: str | None, table: str) -> str:
    return f"{schema}.{table}" if schema else table


def _type_sql(type_: Any) -> str:
    try:
        return str(type_.compile(dialect=postgresql.dialect())).lower()
    except Exception:  # a type PostgreSQL's compiler cannot render: never a rename match
        return f"<{id(type_)}>"


def _column_pairs(
    upgrade: ops.UpgradeOps,
) -> list[tuple[ops.ModifyTableOps, ops.DropColumnOp, ops.AddColumnOp]]:
    """(table, drop, add) where the drop is the only one of its type and the add the only
    one of the same type in that table: a rename, or a drop plus an add."""
    pairs = []
    for container in upgrade.ops:
        if not isinstance(container, ops.ModifyTableOps):
            continue
        drops = [op for op in container.ops if isinstance(op, ops.DropColumnOp)]
        adds = [op for op in container.ops if isinstance(op, ops.AddColumnOp)]
        for drop in drops:
            old_column = drop.to_column()
            type_sql = _type_sql(old_column.type)
            same = [a for a in adds if _type_sql(a.column.type) == type_sql]
            rivals = [d for d in drops if _type_sql(d.to_column().type) == type_sql]
            if len(same) == 1 and len(rivals) == 1:
                pairs.append((container, drop, same[0]))
    return pairs


def _shape(table: sa.Table) -> frozenset[tuple[str, str]]:
    return frozenset((str(c.name), _type_sql(c.type)) for c in table.columns)


def _table_pairs(upgrade: ops.UpgradeOps) -> list[tuple[ops.DropTableOp, ops.CreateTableOp]]:
    """(drop, create) where the two tables have the same columns (names and types) and no
    other dropped or created table has them."""
    drops = [op for op in upgrade.ops if isinstance(op, ops.DropTableOp)]
    creates = [op for op in upgrade.ops if isinstance(op, ops.CreateTableOp)]
    shapes = {id(op): _shape(op.to_table()) for op in [*drops, *creates]}
    pairs = []
    for drop in drops:
        same = [c for c in creates if shapes[id(c)] == shapes[id(drop)]]
        rivals = [d for d in drops if shapes[id(d)] == shapes[id(drop)]]
        if len(same) == 1 and len(rivals) == 1 and shapes[id(drop)]:
            pairs.append((drop, same[0]))
    return pairs


def _rename_column(container: ops.ModifyTableOps, old: str, new: str) -> SourceOp:
    schema = f", schema={container.schema!r}" if container.schema else ""
    table = container.table_name
    return SourceOp(
        (f"op.alter_column({table!r}, {old!r}{schema}, new_column_name={new!r})",),
        (f"op.alter_column({table!r}, {new!r}{schema}, new_column_name={old!r})",),
    )


def _nullability(
    container: ops.ModifyTableOps, dropped: ops.DropColumnOp, added: ops.AddColumnOp
) -> list[ops.MigrateOperation]:
    """An alter_column for a renamed column whose model also changes its NULL-ability."""
    before = dropped.to_column()
    if bool(before.nullable) == bool(added.column.nullable):
        return []
    return [
        ops.AlterColumnOp(
            container.table_name,
            str(added.column.name),
            schema=container.schema,
            existing_type=added.column.type,
            existing_nullable=before.nullable,
            modify_nullable=added.column.nullable,
        )
    ]


def _index_columns(op: ops.MigrateOperation) -> tuple[list[str], bool] | None:
    create = op._reverse if isinstance(op, ops.DropIndexOp) else op  # type: ignore[attr-defined]
    if not isinstance(create, ops.CreateIndexOp):
        return None
    names = [c if isinstance(c, str) else getattr(c, "name", None) for c in create.columns]
    if not all(isinstance(n, str) for n in names):
        return None  # an expression index: leave it to autogenerate
    return [str(n) for n in names], bool(create.unique)


def _rename_column_indexes(container: ops.ModifyTableOps, old: str, new: str) -> None:
    """An index on the renamed column follows it; autogenerate's drop of its old name
    plus create under the new name becomes `ALTER INDEX ... RENAME` (no rebuild, no lock
    on writes while it builds)."""
    drops = [op for op in container.ops if isinstance(op, ops.DropIndexOp)]
    creates = [op for op in container.ops if isinstance(op, ops.CreateIndexOp)]
    for drop in drops:
        shape = _index_columns(drop)
        if shape is None or old not in shape[0]:
            continue
        wanted = ([new if c == old else c for c in shape[0]], shape[1])
        match = [c for c in creates if _index_columns(c) == wanted]
        if len(match) != 1 or not isinstance(match[0].index_name, str):
            continue
        create = match[0]
        old_sql = qualified(container.schema, str(drop.index_name))
        new_sql = qualified(container.schema, create.index_name)
        up = f"ALTER INDEX {old_sql} RENAME TO {ident(create.index_name)}"
        down = f"ALTER INDEX {new_sql} RENAME TO {ident(str(drop.index_name))}"
        container.ops.remove(drop)
        at = container.ops.index(create)
        container.ops[at : at + 1] = [SourceOp((_execute(up),), (_execute(down),))]
        creates.remove(create)


def _rename_table(
    dropped: ops.DropTableOp, new: str, conn: Connection | None
) -> tuple[list[ops.MigrateOperation], set[str]]:
    """The rename and its dependents' renames, and the new names of those (the new
    table's indexes autogenerate would create again)."""
    old, schema = dropped.table_name, dropped.schema
    schema_arg = f", schema={schema!r}" if schema else ""
    up = [f"op.rename_table({old!r}, {new!r}{schema_arg})"]
    down = [f"op.rename_table({new!r}, {old!r}{schema_arg})"]
    moved: set[str] = set()
    for kind, name in _dependents(conn, schema, old):
        renamed = _renamed(name, old, new)
        if renamed is None:
            continue
        moved.add(renamed)
        up.append(_execute(_rename_sql(kind, schema, new, name, renamed)))
        down.insert(0, _execute(_rename_sql(kind, schema, new, renamed, name)))
    rename: list[ops.MigrateOperation] = [
        comment(
            f"{old} is renamed to {new}: the rows stay. The code still reading {old} "
            "fails once this runs: deploy it with the code that uses the new name."
        ),
        SourceOp(tuple(up), tuple(down)),
    ]
    return rename, moved


def _execute(sql: str) -> str:
    return f"op.execute({sql!r})"


def _rename_sql(kind: str, schema: str | None, table: str, name: str, new_name: str) -> str:
    if kind == "constraint":  # renames the index behind a primary key or unique one too
        return (
            f"ALTER TABLE {qualified(schema, table)} RENAME CONSTRAINT {ident(name)} "
            f"TO {ident(new_name)}"
        )
    keyword = "SEQUENCE" if kind == "sequence" else "INDEX"
    return f"ALTER {keyword} {qualified(schema, name)} RENAME TO {ident(new_name)}"


def _renamed(name: str, old: str, new: str) -> str | None:
    """`name` with the table's name replaced, when it carries it as a whole word
    (`vendors_pkey`, `ix_vendors_name`, `fk_subscriptions_vendor_id_vendors`)."""
    parts = name.split("_")
    old_parts = old.split("_")
    for at in range(len(parts) - len(old_parts) + 1):
        if parts[at : at + len(old_parts)] == old_parts:
            renamed = "_".join([*parts[:at], new, *parts[at + len(old_parts) :]])
            return renamed if len(renamed) <= 63 else None
    return None


def _dependents(conn: Connection | None, schema: str | None, table: str) -> list[tuple[str, str]]:
    if conn is None:
        return []
    regclass = qualified(schema, table)
    return [(str(k), str(n)) for k, n in conn.execute(_DEPENDENTS, {"table": regclass}).all()]


def _forget_table_ops(
    upgrade: ops.UpgradeOps, schema: str | None, table: str, names: set[str]
) -> None:
    """Leave out the index ops autogenerate wrote for `table` that the rename made: all
    of the old table's drops (empty `names`), or the new table's creates of `names`."""

    def moved(op: ops.MigrateOperation) -> bool:
        if not isinstance(op, ops.DropIndexOp | ops.CreateIndexOp):
            return False
        if op.table_name != table or op.schema != schema:
            return False
        return not names if isinstance(op, ops.DropIndexOp) else op.index_name in names

    for container in [upgrade, *(o for o in upgrade.ops if isinstance(o, ops.ModifyTableOps))]:
        container.ops[:] = [op for op in container.ops if not moved(op)]
    upgrade.ops[:] = [
        op for op in upgrade.ops if not (isinstance(op, ops.ModifyTableOps) and not op.ops)
    ]
