"""Generate runnable Alembic projects with long linear histories, optionally with faults.

Benchmarks use it for 50/150/300 revisions and tests for "hundreds of revisions"::

    from tests.support.history_factory import Fault, revision_id, write_history

    project = write_history(tmp_path / "shop", 300, seed=1)
    broken = write_history(tmp_path / "broken", 50, faults={Fault.ENUM_LEFT_BEHIND: 20})
    revision_id(20)  # the id of the faulty revision, for assertions

The project is laid out like a fixture under ``tests/fixtures/histories``: ``alembic.ini``
(``script_location = %(here)s/migrations``), ``migrations/env.py`` (URL from
``sqlalchemy.url``, or the connection in ``config.attributes["connection"]``),
``migrations/versions/<rev>_<slug>.py`` and a ``case.toml`` that records the heads, the
revision count and the round-trip outcome each planted fault causes.

Revisions are varied, realistic operations, each with a downgrade that undoes it:
create table (identity key, unique, CHECK, foreign key + index, sometimes seed rows),
add column, add index, create enum type + column, widen a column type, rename a
column, and an ``op.execute`` data update. The same ``n`` and ``seed`` always give the
same files.
"""

from __future__ import annotations

import hashlib
import random
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

__all__ = ["Fault", "revision_id", "write_history"]


class Fault(StrEnum):
    """A defect planted in one revision, and what a per-revision round-trip then hits.

    The round-trip is ``revisor test``'s: upgrade, downgrade, upgrade again, revision
    by revision. Faults go at positions 2..n: position 1 creates the first table.
    """

    INDEX_LEFT_BEHIND = "index-left-behind"
    """The revision adds a column and an index on another column; the downgrade drops
    only the column. Re-upgrade: DuplicateTable (the index already exists)."""

    ENUM_LEFT_BEHIND = "enum-left-behind"
    """The revision creates an enum type and a column of it; the downgrade drops the
    column but not the type. Re-upgrade: DuplicateObject, because every generated enum
    is created with ``checkfirst=False`` (with SQLAlchemy's default ``checkfirst=True``
    the leftover type would be reused silently and only a schema comparison sees it)."""

    PASS_DOWNGRADE = "pass-downgrade"
    """The revision adds a column; its downgrade is ``pass``. Re-upgrade:
    DuplicateColumn."""

    NOT_NULL_WITHOUT_DEFAULT = "not-null-without-default"
    """The revision adds a NOT NULL column without a default to a table that has rows
    (the first table always gets seed rows). Upgrade: NotNullViolation."""


# What each fault makes the per-revision round-trip report: (step, error class).
ROUNDTRIP_FAILURE: dict[Fault, tuple[str, str]] = {
    Fault.INDEX_LEFT_BEHIND: ("re-upgrade", "DuplicateTable"),
    Fault.ENUM_LEFT_BEHIND: ("re-upgrade", "DuplicateObject"),
    Fault.PASS_DOWNGRADE: ("re-upgrade", "DuplicateColumn"),
    Fault.NOT_NULL_WITHOUT_DEFAULT: ("upgrade", "NotNullViolation"),
}

TABLE_WORDS = [
    "customers", "orders", "invoices", "products", "suppliers", "shipments",
    "payments", "refunds", "coupons", "warehouses", "employees", "teams",
    "projects", "tickets", "comments", "tags", "reviews", "carts", "wishlists",
    "addresses", "vendors", "budgets", "expenses", "ledgers", "accounts",
]  # fmt: skip
COLUMN_WORDS = [
    "note", "label", "source", "channel", "region", "reference", "status_text",
    "summary", "code", "external_id", "owner", "category", "memo", "locale",
]  # fmt: skip
ENUM_VALUES = [
    ["draft", "active", "archived"],
    ["low", "medium", "high", "urgent"],
    ["pending", "approved", "rejected"],
    ["bronze", "silver", "gold"],
]


def revision_id(position: int, seed: int = 0) -> str:
    """The 12-hex-digit revision id ``write_history`` gives the revision at position.

    Positions start at 1 (the base revision).
    """
    return hashlib.sha1(f"revisor-history:{seed}:{position}".encode()).hexdigest()[:12]


@dataclass
class Column:
    """A generated, non-key column the history can alter, rename or index later."""

    name: str
    kind: str  # "varchar" or "integer"
    length: int = 0
    indexed: bool = False
    backfilled: bool = False


@dataclass
class Table:
    """A table as it stands at the current revision."""

    name: str
    has_rows: bool
    columns: list[Column] = field(default_factory=list)


@dataclass
class Revision:
    """The source of one revision: message and the bodies of upgrade and downgrade."""

    message: str
    upgrade: str
    downgrade: str
    imports: str = ""


def q(text: str) -> str:
    """A double-quoted Python literal for an identifier or a word, as autogenerate writes."""
    return '"' + text + '"'


class HistoryBuilder:
    """Tracks the schema while revisions are generated so every op is valid."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.tables: list[Table] = []
        self.position = 0

    # -- helpers ---------------------------------------------------------------

    def new_table_name(self) -> str:
        """A table name not used yet: a word from the list, numbered once they repeat."""
        used = {t.name for t in self.tables}
        word = TABLE_WORDS[len(self.tables) % len(TABLE_WORDS)]
        return word if word not in used else f"{word}_{self.position}"

    def new_column_name(self) -> str:
        """A column name unique in the history (it carries the revision position)."""
        return f"{self.rng.choice(COLUMN_WORDS)}_{self.position}"

    def varchar_columns(self, min_length: int = 0) -> list[tuple[Table, Column]]:
        """Every (table, column) pair whose column is a varchar of at least min_length."""
        return [
            (t, c)
            for t in self.tables
            for c in t.columns
            if c.kind == "varchar" and c.length >= min_length
        ]

    # -- operations ------------------------------------------------------------

    def create_table(self) -> Revision:
        """A table with identity key, unique name, CHECK, an optional FK, maybe rows."""
        name = self.new_table_name()
        parent = self.rng.choice(self.tables) if self.tables else None
        seed_rows = not self.tables or self.rng.random() < 0.5
        table = Table(name, has_rows=seed_rows)
        table.columns.append(Column("title", "varchar", 120))
        lines = [
            "op.create_table(",
            f"    {q(name)},",
            '    sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),',
            '    sa.Column("title", sa.String(length=120), nullable=False),',
            '    sa.Column("quantity", sa.Integer(), server_default="0", nullable=False),',
        ]
        if parent:
            lines.append(f'    sa.Column("{parent.name}_id", sa.BigInteger(), nullable=True),')
            lines.append(
                f'    sa.ForeignKeyConstraint(["{parent.name}_id"], ["{parent.name}.id"], '
                f'name="fk_{name}_{parent.name}_id_{parent.name}", ondelete="SET NULL"),'
            )
        lines += [
            f'    sa.CheckConstraint("quantity >= 0", name="ck_{name}_quantity_nonnegative"),',
            f'    sa.PrimaryKeyConstraint("id", name="pk_{name}"),',
            f'    sa.UniqueConstraint("title", name="uq_{name}_title"),',
            ")",
        ]
        down = []
        if parent:
            index = f"ix_{name}_{parent.name}_id"
            lines.append(f'op.create_index("{index}", {q(name)}, ["{parent.name}_id"])')
            down.append(f'op.drop_index("{index}", table_name={q(name)})')
        if seed_rows:
            values = ", ".join(f"('{name} {i}', {i})" for i in range(1, 4))
            lines.append(f'op.execute("INSERT INTO {name} (title, quantity) VALUES {values}")')
        down.append(f"op.drop_table({q(name)})")
        self.tables.append(table)
        return Revision(f"create {name}", "\n".join(lines), "\n".join(down))

    def add_column(self, *, downgrade_pass: bool = False) -> Revision:
        """A nullable varchar or integer column, or NOT NULL with a server default."""
        table = self.rng.choice(self.tables)
        column = self.new_column_name()
        if self.rng.random() < 0.7:
            length = self.rng.choice([32, 64, 120])
            coltype = f"sa.String(length={length})"
            table.columns.append(Column(column, "varchar", length))
        else:
            coltype = "sa.Integer()"
            table.columns.append(Column(column, "integer"))
        if self.rng.random() < 0.3 and coltype == "sa.Integer()":
            spec = 'server_default="0", nullable=False'
        else:
            spec = "nullable=True"
        up = f"op.add_column({q(table.name)}, sa.Column({q(column)}, {coltype}, {spec}))"
        down = "pass" if downgrade_pass else f"op.drop_column({q(table.name)}, {q(column)})"
        return Revision(f"add {table.name}.{column}", up, down)

    def add_not_null_without_default(self) -> Revision:
        """Fault: NOT NULL, no default, on a table with rows; the upgrade fails."""
        table = next(t for t in self.tables if t.has_rows)
        column = self.new_column_name()
        table.columns.append(Column(column, "varchar", 64))
        up = (
            f"op.add_column({q(table.name)}, "
            f"sa.Column({q(column)}, sa.String(length=64), nullable=False))"
        )
        down = f"op.drop_column({q(table.name)}, {q(column)})"
        return Revision(f"add required {table.name}.{column}", up, down)

    def add_index(self) -> Revision | None:
        """An index on a column that has none."""
        candidates = [(t, c) for t in self.tables for c in t.columns if not c.indexed]
        if not candidates:
            return None
        table, column = self.rng.choice(candidates)
        column.indexed = True
        index = f"ix_{table.name}_{column.name}"[:63]
        up = f'op.create_index("{index}", {q(table.name)}, [{q(column.name)}], unique=False)'
        down = f'op.drop_index("{index}", table_name={q(table.name)})'
        return Revision(f"index {table.name}.{column.name}", up, down)

    def add_column_and_index_left_behind(self) -> Revision:
        """Fault: adds a column and indexes another; the downgrade forgets the index."""
        table = self.tables[0]
        column = self.new_column_name()
        index = f"ix_{table.name}_title_{self.position}"
        up = "\n".join(
            [
                f"op.add_column({q(table.name)}, "
                f"sa.Column({q(column)}, sa.Integer(), nullable=True))",
                f'op.create_index("{index}", {q(table.name)}, ["title"], unique=False)',
            ]
        )
        down = f"op.drop_column({q(table.name)}, {q(column)})"
        table.columns.append(Column(column, "integer"))
        return Revision(f"add {table.name}.{column} and title index", up, down)

    def add_enum_column(self, *, keep_type: bool = False) -> Revision:
        """CREATE TYPE ... AS ENUM and a column of it (with a default when rows exist)."""
        table = self.rng.choice(self.tables)
        values = self.rng.choice(ENUM_VALUES)
        type_name = f"{table.name}_state_{self.position}"[:63]
        column = f"state_{self.position}"
        enum = f"postgresql.ENUM({', '.join(q(v) for v in values)}, name={q(type_name)})"
        default = f", server_default={q(values[0])}" if table.has_rows else ""
        up = "\n".join(
            [
                f"{enum}.create(op.get_bind(), checkfirst=False)",
                "op.add_column(",
                f"    {q(table.name)},",
                "    sa.Column(",
                f"        {q(column)},",
                f"        postgresql.ENUM(name={q(type_name)}, create_type=False),",
                f"        nullable=True{default},",
                "    ),",
                ")",
            ]
        )
        down_lines = [f"op.drop_column({q(table.name)}, {q(column)})"]
        if not keep_type:
            down_lines.append(f'op.execute("DROP TYPE {type_name}")')
        return Revision(
            f"add {table.name}.{column} enum",
            up,
            "\n".join(down_lines),
            imports="from sqlalchemy.dialects import postgresql\n",
        )

    def alter_column_type(self) -> Revision | None:
        """Widen a varchar (or an integer to bigint); the downgrade narrows it back."""
        candidates = [
            (t, c) for t in self.tables for c in t.columns
            if (c.kind == "varchar" and c.length <= 2000) or c.kind == "integer"
        ]  # fmt: skip
        if not candidates:
            return None
        table, column = self.rng.choice(candidates)
        if column.kind == "varchar":
            old, new = (
                f"sa.String(length={column.length})",
                f"sa.String(length={column.length * 2})",
            )
            column.length *= 2
        else:
            old, new = "sa.Integer()", "sa.BigInteger()"
            column.kind = "bigint"

        def alter(from_type: str, to_type: str) -> str:
            return (
                f"op.alter_column(\n    {q(table.name)},\n    {q(column.name)},\n"
                f"    existing_type={from_type},\n    type_={to_type},\n)"
            )

        return Revision(f"widen {table.name}.{column.name}", alter(old, new), alter(new, old))

    def rename_column(self) -> Revision | None:
        """Rename a generated column; the downgrade renames it back."""
        candidates = [(t, c) for t in self.tables for c in t.columns if c.name != "title"]
        if not candidates:
            return None
        table, column = self.rng.choice(candidates)
        old, new = column.name, f"{self.rng.choice(COLUMN_WORDS)}_{self.position}"
        column.name = new
        up = f"op.alter_column({q(table.name)}, {q(old)}, new_column_name={q(new)})"
        down = f"op.alter_column({q(table.name)}, {q(new)}, new_column_name={q(old)})"
        return Revision(f"rename {table.name}.{old} to {new}", up, down)

    def data_update(self) -> Revision | None:
        """Fill a nullable varchar with a marker; the downgrade clears the marker."""
        candidates = [
            (t, c) for t, c in self.varchar_columns(min_length=32)
            if t.has_rows and c.name != "title" and not c.backfilled
        ]  # fmt: skip
        if not candidates:
            return None
        table, column = self.rng.choice(candidates)
        column.backfilled = True
        marker = f"backfill-{self.position}"
        up = (
            f'op.execute(\n    sa.text("UPDATE {table.name} SET {column.name} = :v '
            f'WHERE {column.name} IS NULL").bindparams(v={q(marker)})\n)'
        )
        down = (
            f'op.execute(\n    sa.text("UPDATE {table.name} SET {column.name} = NULL '
            f'WHERE {column.name} = :v").bindparams(v={q(marker)})\n)'
        )
        return Revision(f"backfill {table.name}.{column.name}", up, down)

    # -- driver ----------------------------------------------------------------

    def next_revision(self, fault: Fault | None) -> Revision:
        """The revision at the next position: the fault's op if one is planted here."""
        self.position += 1
        if fault is Fault.INDEX_LEFT_BEHIND:
            return self.add_column_and_index_left_behind()
        if fault is Fault.ENUM_LEFT_BEHIND:
            return self.add_enum_column(keep_type=True)
        if fault is Fault.PASS_DOWNGRADE:
            return self.add_column(downgrade_pass=True)
        if fault is Fault.NOT_NULL_WITHOUT_DEFAULT:
            return self.add_not_null_without_default()
        if len(self.tables) < 2 or self.rng.random() < 0.12:
            return self.create_table()
        choices: list[Callable[[], Revision | None]] = [
            self.add_column, self.add_column, self.add_index, self.add_enum_column,
            self.alter_column_type, self.rename_column, self.data_update,
        ]  # fmt: skip
        while True:
            revision = self.rng.choice(choices)()
            if revision is not None:
                return revision


REVISION_TEMPLATE = '''\
"""{message}

Revision ID: {revision}
Revises: {down_revision_text}
Create Date: {create_date}

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
{imports}

# revision identifiers, used by Alembic.
revision: str = {revision!r}
down_revision: Union[str, Sequence[str], None] = {down_revision!r}
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
{upgrade}


def downgrade() -> None:
    """Downgrade schema."""
{downgrade}
'''

ALEMBIC_INI = """\
[alembic]
script_location = %(here)s/migrations
prepend_sys_path = .
path_separator = os
# sqlalchemy.url is set by the caller with config.set_main_option()
"""

ENV_PY = '''\
"""Generated env.py: a caller-provided connection, else an engine from sqlalchemy.url."""

from alembic import context
from sqlalchemy import engine_from_config, pool
from sqlalchemy.engine import Connection

config = context.config
target_metadata = None


def run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as connection:
        run(connection)


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
'''

SCRIPT_MAKO = '''\
"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision: str = ${repr(up_revision)}
down_revision: Union[str, Sequence[str], None] = ${repr(down_revision)}
branch_labels: Union[str, Sequence[str], None] = ${repr(branch_labels)}
depends_on: Union[str, Sequence[str], None] = ${repr(depends_on)}


def upgrade() -> None:
    """Upgrade schema."""
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    """Downgrade schema."""
    ${downgrades if downgrades else "pass"}
'''


def slug(message: str) -> str:
    """File-name part alembic derives from a message."""
    words = "".join(ch if ch.isalnum() else " " for ch in message.lower()).split()
    return "_".join(words)[:40].rstrip("_")


def toml_string(text: str) -> str:
    """A TOML basic string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def case_toml(n: int, seed: int, faults: Mapping[Fault, int]) -> str:
    """The case.toml describing a generated history and what its faults cause."""
    lines = [
        f"description = {toml_string(f'Generated linear history of {n} revisions (seed {seed}).')}",
        f'heads = ["{revision_id(n, seed)}"]',
        f"revision_count = {n}",
    ]
    if faults:
        first_fault, position = min(faults.items(), key=lambda item: item[1])
        step, error = ROUNDTRIP_FAILURE[first_fault]
        lines += [
            f'roundtrip = "{revision_id(position, seed)}"',
            f'roundtrip_step = "{step}"',
            f'roundtrip_error = "{error}"',
            f"roundtrip_reason = {toml_string(f'{first_fault} planted at position {position}')}",
        ]
        lines += full_cycle_lines(faults, seed)
    else:
        lines.append('roundtrip = "clean"')
    lines += [
        "needs_extension = []",
        'url_source = "sqlalchemy.url"',
        "injected_connection = true",
        "",
    ]
    for fault, position in sorted(faults.items(), key=lambda item: item[1]):
        lines += [
            "[[faults]]",
            f'kind = "{fault}"',
            f"position = {position}",
            f'revision = "{revision_id(position, seed)}"',
            "",
        ]
    return "\n".join(lines)


def full_cycle_lines(faults: Mapping[Fault, int], seed: int) -> list[str]:
    """case.toml keys for upgrade heads -> downgrade base -> upgrade heads.

    A NOT NULL fault stops the first upgrade. Otherwise only a leftover enum type
    survives "downgrade base" (dropping a table drops its indexes and columns), so
    the second upgrade fails at the enum revision; index and pass faults go unseen.
    """
    if Fault.NOT_NULL_WITHOUT_DEFAULT in faults:
        position = faults[Fault.NOT_NULL_WITHOUT_DEFAULT]
        step, error = "upgrade", "NotNullViolation"
    elif Fault.ENUM_LEFT_BEHIND in faults:
        position = faults[Fault.ENUM_LEFT_BEHIND]
        step, error = "re-upgrade", "DuplicateObject"
    else:
        return ['full_cycle = "clean"']
    return [
        f'full_cycle = "{revision_id(position, seed)}"',
        f'full_cycle_step = "{step}"',
        f'full_cycle_error = "{error}"',
    ]


def write_history(
    root: Path,
    n: int,
    *,
    seed: int = 0,
    faults: Mapping[Fault, int] | None = None,
) -> Path:
    """Write an Alembic project with ``n`` linear revisions under ``root``; return root.

    ``faults`` maps each fault to plant to the 1-based position of the revision that
    carries it (at most one of each kind); ``revision_id(position, seed)`` gives that
    revision's id. The same arguments always produce the same files. ``root`` is
    created if needed; existing files with the same names are overwritten.

    Raises ValueError for n < 1, a position outside 2..n (the first revision creates
    the table the faults need) or two faults at one position.
    """
    faults = dict(faults or {})
    if n < 1:
        raise ValueError("a history needs at least one revision")
    by_position: dict[int, Fault] = {}
    for fault, position in faults.items():
        fault = Fault(fault)
        if not 1 <= position <= n:
            raise ValueError(f"{fault} at position {position}: positions are 1..{n}")
        if position in by_position:
            raise ValueError(f"two faults at position {position}")
        if position == 1:
            raise ValueError(f"{fault} needs an existing table: use a position >= 2")
        by_position[position] = fault

    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    (root / "alembic.ini").write_text(ALEMBIC_INI)
    (root / "migrations" / "env.py").write_text(ENV_PY)
    (root / "migrations" / "script.py.mako").write_text(SCRIPT_MAKO)

    builder = HistoryBuilder(seed)
    for position in range(1, n + 1):
        revision = builder.next_revision(by_position.get(position))
        rev = revision_id(position, seed)
        down = revision_id(position - 1, seed) if position > 1 else None
        source = REVISION_TEMPLATE.format(
            message=revision.message,
            revision=rev,
            down_revision=down,
            down_revision_text=down or "",
            create_date=f"2024-01-01 00:00:00.{position:06d}",
            imports=revision.imports,
            upgrade=textwrap.indent(revision.upgrade, "    "),
            downgrade=textwrap.indent(revision.downgrade, "    "),
        )
        (versions / f"{rev}_{slug(revision.message)}.py").write_text(source)

    (root / "case.toml").write_text(case_toml(n, seed, {Fault(f): p for f, p in faults.items()}))
    return root
