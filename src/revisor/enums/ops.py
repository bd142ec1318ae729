"""Alembic operations for the PostgreSQL enum lifecycle, each with its reverse and a renderer.

They render as plain `op.execute(...)` SQL, so a migration written by `revisor draft`
does not import revisor and reads like a hand-written one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from alembic.autogenerate import renderers
from alembic.operations import MigrateOperation, ops
from sqlalchemy.dialects import postgresql

from revisor import alembic_api
from revisor.enums.catalog import EnumColumn

_PREPARER = postgresql.dialect().identifier_preparer
_ADD_VALUE_WHY = [
    "# ALTER TYPE ... ADD VALUE cannot run in a transaction before PostgreSQL 12, and a label",
    "# added inside one cannot be used until it commits: run it in autocommit.",
]


def ident(name: str) -> str:
    """`name` as a PostgreSQL identifier, quoted only when it must be."""
    return str(_PREPARER.quote(name))


def literal(text: str) -> str:
    """`text` as a SQL string literal (standard_conforming_strings: only ' is doubled)."""
    return "'" + text.replace("'", "''") + "'"


def qualified(schema: str | None, name: str) -> str:
    return f"{ident(schema)}.{ident(name)}" if schema else ident(name)


def label_list(labels: Sequence[str]) -> str:
    return ", ".join(literal(label) for label in labels)


def array_literal(labels: Sequence[str]) -> str:
    """A PostgreSQL array literal holding `labels`, every item double-quoted."""
    items = ('"' + x.replace("\\", "\\\\").replace('"', '\\"') + '"' for x in labels)
    return "{" + ",".join(items) + "}"


def _execute(sql: str) -> list[str]:
    """`op.execute(...)` lines; multi-line SQL as a triple-quoted block when no label could
    be altered by the re-indentation of the rendered file (labels never hold a newline
    here: PostgreSQL allows it, and then the one-line repr form is used)."""
    lines = sql.split("\n")
    if len(lines) == 1 or "\\" in sql or '"""' in sql or "\r" in sql or sql.endswith('"'):
        return [f"op.execute({sql!r})"]
    return ["op.execute(", '"""', *lines, '"""', ")"]


@dataclass(eq=False)
class EnumOp(MigrateOperation):
    """Base: one enum type, addressed by schema and name."""

    name: str
    schema: str | None

    @property
    def type_sql(self) -> str:
        return qualified(self.schema, self.name)

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return (type(self).__name__, self.schema, self.name)


@dataclass(eq=False)
class CreateEnumTypeOp(EnumOp):
    """CREATE TYPE ... AS ENUM; its reverse drops the type again."""

    labels: tuple[str, ...] = ()

    def reverse(self) -> DropEnumTypeOp:
        return DropEnumTypeOp(self.name, self.schema, self.labels)

    def statements(self) -> list[str]:
        return [f"CREATE TYPE {self.type_sql} AS ENUM ({label_list(self.labels)})"]


@dataclass(eq=False)
class DropEnumTypeOp(EnumOp):
    """DROP TYPE, once no column uses it; its reverse creates it with the same labels."""

    labels: tuple[str, ...] = ()

    def reverse(self) -> CreateEnumTypeOp:
        return CreateEnumTypeOp(self.name, self.schema, self.labels)

    def statements(self) -> list[str]:
        return [f"DROP TYPE {self.type_sql}"]


@dataclass(eq=False)
class RenameEnumValueOp(EnumOp):
    """ALTER TYPE ... RENAME VALUE (PostgreSQL 10+): no table rewrite, rows follow by OID."""

    old: str = ""
    new: str = ""

    def reverse(self) -> RenameEnumValueOp:
        return RenameEnumValueOp(self.name, self.schema, self.new, self.old)

    def statements(self) -> list[str]:
        return [
            f"ALTER TYPE {self.type_sql} RENAME VALUE {literal(self.old)} TO {literal(self.new)}"
        ]


@dataclass(eq=False)
class AddEnumValuesOp(EnumOp):
    """ALTER TYPE ... ADD VALUE for each new label, positioned to keep the model's order.

    PostgreSQL cannot remove a label, so the reverse replaces the type (RecreateEnumOp)."""

    before: tuple[str, ...] = ()  # labels before the additions
    after: tuple[str, ...] = ()  # labels afterwards
    columns: tuple[EnumColumn, ...] = ()

    def reverse(self) -> RecreateEnumOp:
        return RecreateEnumOp(self.name, self.schema, self.after, self.before, self.columns)

    def statements(self) -> list[str]:
        from revisor.enums.detect import addition_anchors

        out = []
        for label, where, anchor in addition_anchors(self.before, self.after):
            position = f" {where} {literal(anchor)}" if where else ""
            out.append(
                f"ALTER TYPE {self.type_sql} ADD VALUE IF NOT EXISTS {literal(label)}{position}"
            )
        return out


@dataclass(eq=False)
class RecreateEnumOp(EnumOp):
    """Replace the type to remove or reorder labels: guard, rename the old type, create the
    new one, convert every column through text, drop the old type."""

    old: tuple[str, ...] = ()
    new: tuple[str, ...] = ()
    columns: tuple[EnumColumn, ...] = field(default_factory=tuple)

    def reverse(self) -> RecreateEnumOp:
        return RecreateEnumOp(self.name, self.schema, self.new, self.old, self.columns)

    @property
    def removed(self) -> tuple[str, ...]:
        return tuple(label for label in self.old if label not in self.new)

    @property
    def old_type_name(self) -> str:
        # The old type lives on under this name until the columns have moved off it.
        return self.name[:55] + "__old"

    def statements(self) -> list[str]:
        old_sql = qualified(self.schema, self.old_type_name)
        out = []
        if self.removed:
            out.append(guard_sql(self.name, self.removed, self.columns))
        out.append(f"ALTER TYPE {self.type_sql} RENAME TO {ident(self.old_type_name)}")
        out.append(f"CREATE TYPE {self.type_sql} AS ENUM ({label_list(self.new)})")
        for column in self.columns:
            table = qualified(column.schema, column.table)
            col = ident(column.column)
            target = self.type_sql + ("[]" if column.is_array else "")
            via = "text[]" if column.is_array else "text"
            alter = f"ALTER TABLE {table} ALTER COLUMN {col}"
            if column.default is not None:
                # The default is typed with the old enum; PostgreSQL cannot cast it along.
                out.append(f"{alter} DROP DEFAULT")
            out.append(f"{alter} TYPE {target} USING {col}::{via}::{target}")
            if column.default is not None:
                out.append(f"{alter} SET DEFAULT {column.default}::{target}")
        out.append(f"DROP TYPE {old_sql}")
        return out


def guard_sql(type_name: str, removed: Sequence[str], columns: Sequence[EnumColumn]) -> str:
    """A DO block that raises, naming each column and its row count, when any row still
    holds a label the new type drops; the migration then stops before changing anything."""
    checks = []
    for column in columns:
        table = qualified(column.schema, column.table)
        col = ident(column.column)
        if column.is_array:
            test = f"{col}::text[] && ARRAY[{label_list(removed)}]::text[]"
        else:
            test = f"{col}::text IN ({label_list(removed)})"
        where = literal(f"{column.table}.{column.column}")
        checks.append(
            f"  SELECT count(*) INTO n FROM {table} WHERE {test};\n"
            f"  IF n > 0 THEN used := used || format(' %s: %s row(s);', {where}, n); END IF;"
        )
    body = "\n".join(checks)
    tag = _dollar_tag([*removed, type_name])
    return (
        f"DO {tag}\nDECLARE n bigint; used text := '';\nBEGIN\n{body}\n"
        f"  IF used <> '' THEN\n"
        f"    RAISE EXCEPTION 'enum %: labels % are still used:%', {literal(type_name)}, "
        f"{literal(', '.join(removed))}, used\n"
        f"      USING HINT = 'Move those rows to a remaining label first "
        f"(a data migration before this one).';\n"
        f"  END IF;\nEND {tag}"
    )


def _dollar_tag(texts: Sequence[str]) -> str:
    tag, n = "$revisor$", 0
    while any(tag in text for text in texts):
        n += 1
        tag = f"$revisor{n}$"
    return tag


def with_default(column: EnumColumn, labels: tuple[str, ...] | None) -> EnumColumn:
    """`column` whose default is restored as the literal for `labels` (None: no default)."""
    if labels is None:
        return replace(column, default=None)
    text = array_literal(labels) if column.is_array else labels[0]
    return replace(column, default=literal(text))


class AlterColumnUsingOp(ops.AlterColumnOp):
    """alter_column whose file keeps `postgresql_using` (Alembic's renderer leaves it out)."""


# --- renderers -------------------------------------------------------------------------


@renderers.dispatch_for(AlterColumnUsingOp)
def _render_alter_using(autogen_context: Any, op: AlterColumnUsingOp) -> str:
    text = alembic_api.render_alter_column(autogen_context, op)
    using = op.kw.get("postgresql_using")
    if using and text.endswith(")"):
        text = text[:-1] + f",\n               postgresql_using={using!r})"
    return text


def _comment(op: EnumOp) -> list[str]:
    if isinstance(op, RecreateEnumOp):
        what = []
        if op.removed:
            what.append("drops " + ", ".join(repr(x) for x in op.removed))
        if [x for x in op.old if x in op.new] != [x for x in op.new if x in op.old]:
            what.append("reorders labels")
        return [
            f"# enum {op.name}: {' and '.join(what) or 'changes labels'}.",
            "# PostgreSQL cannot remove or move a label: the type is replaced and each column",
            "# converted through text. The guard stops first if rows hold a dropped label.",
        ]
    return []


@renderers.dispatch_for(CreateEnumTypeOp)
@renderers.dispatch_for(DropEnumTypeOp)
@renderers.dispatch_for(RenameEnumValueOp)
@renderers.dispatch_for(RecreateEnumOp)
def _render_enum_op(autogen_context: Any, op: EnumOp) -> list[str | None]:
    lines: list[str | None] = list(_comment(op))
    for sql in op.statements():  # type: ignore[attr-defined]
        lines.extend(_execute(sql))
    return lines


@renderers.dispatch_for(AddEnumValuesOp)
def _render_add_values(autogen_context: Any, op: AddEnumValuesOp) -> list[str | None]:
    lines: list[str | None] = [*_ADD_VALUE_WHY, "with op.get_context().autocommit_block():"]
    for sql in op.statements():
        lines.extend(_execute(sql))
    lines.append(None)  # PythonPrinter: end of the with-block
    return lines
