"""Constraint and index names, as SQLAlchemy's naming convention gives them.

`draft`, `review --fix` (RV101, RV106) and RV102's suggested convention all name through
`constraint_name`: it builds a throwaway MetaData/Table/constraint carrying the convention
and reads back the name SQLAlchemy gives it, in the form PostgreSQL stores (SQLAlchemy
shortens names over 63 characters with a hash). So every token SQLAlchemy supports works
(`column_0_N_name`, `column_0_label`, `referred_column_0_name`, callables, ...), and the
name `--fix` writes is the one autogenerate compares the models with afterwards.

Kinds the project's MetaData has no template for get revisor's, SEED_CONVENTION — the
seed's style (`fk_transactions_vendor_id`). RV102 suggests exactly that convention, so a
project that adopts it keeps every name `--fix` and `draft` already wrote.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

PG_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]

# Alembic's constraint type_ names → SQLAlchemy's naming_convention keys.
PREFIX = {"foreignkey": "fk", "unique": "uq", "check": "ck", "primary": "pk", "index": "ix"}

_CLASS_PREFIX: dict[Any, str] = {
    sa.ForeignKeyConstraint: "fk",
    sa.UniqueConstraint: "uq",
    sa.CheckConstraint: "ck",
    sa.PrimaryKeyConstraint: "pk",
    sa.Index: "ix",
}
_KIND_OF_PREFIX = {prefix: kind for kind, prefix in PREFIX.items()}

# The seed's style as a SQLAlchemy naming convention: what revisor names with when the
# project's MetaData has no template for a kind, and what RV102 suggests. `ix` is
# SQLAlchemy's own default (every MetaData has it), so adopting this changes no index name.
SEED_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}


@dataclass(frozen=True)
class ConstraintShape:
    """What a migration says about a constraint or index that has no name yet."""

    kind: str  # foreignkey | unique | check | primary | index
    table: str
    columns: tuple[str, ...] = ()
    schema: str | None = None
    referred_table: str | None = None  # foreign keys
    referred_schema: str | None = None
    referred_columns: tuple[str, ...] = ()
    condition: str | None = None  # CHECK: the SQL expression
    # What a template's %(constraint_name)s starts from; default: the columns involved.
    label: str | None = None


class ConventionNotApplicable(Exception):
    """SQLAlchemy could not name the constraint (a custom token that fails on it, columns
    the migration does not spell out as literals); the message says which template and
    why."""


def convention_of(metadata: Iterable[sa.MetaData] | None) -> dict[str, Any]:
    """The project's naming_convention (several MetaData merged, later ones win), with
    class keys (`sa.UniqueConstraint: ...`) turned into their prefixes."""
    merged: dict[str, Any] = {}
    for meta in metadata or ():
        for key, value in meta.naming_convention.items():
            merged[_CLASS_PREFIX.get(key, key)] = value
    return merged


def has_convention(metadata: Sequence[sa.MetaData] | None) -> bool:
    """True when the MetaData names constraints (SQLAlchemy's default names only indexes)."""
    return any(key != "ix" for key in convention_of(metadata))


def constraint_name(shape: ConstraintShape, convention: Mapping[str, Any] | None = None) -> str:
    """The name SQLAlchemy gives `shape` under the project's `convention` (SEED_CONVENTION
    for the kinds it leaves out), as PostgreSQL will store it.

    A template with `%(constraint_name)s` needs a name to start from (SQLAlchemy refuses an
    unnamed constraint there): revisor uses the columns involved, for a CHECK the columns
    its condition mentions (`amount > 0` → `ck_transactions_amount`). Raises
    ConventionNotApplicable when SQLAlchemy cannot apply the project's template.
    """
    if shape.kind not in PREFIX:
        raise ConventionNotApplicable(f"naming conventions do not cover {shape.kind} constraints")
    merged = {**SEED_CONVENTION, **(convention or {})}
    try:
        return _ask_sqlalchemy(shape, merged)
    except Exception as exc:  # custom tokens are user code and may raise anything
        prefix = PREFIX[shape.kind]
        raise ConventionNotApplicable(
            f"naming_convention[{prefix!r}] = {merged.get(prefix)!r} cannot name it: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def seed_name(shape: ConstraintShape) -> str:
    """The name revisor's own convention (the seed's style) gives `shape`."""
    return _ask_sqlalchemy(shape, SEED_CONVENTION)


def shape_of(item: Any) -> ConstraintShape:
    """The ConstraintShape of a SQLAlchemy constraint or Index attached to a table."""
    table = item.table
    prefix = next(p for cls, p in _CLASS_PREFIX.items() if isinstance(item, cls))
    kind = _KIND_OF_PREFIX[prefix]
    if isinstance(item, sa.ForeignKeyConstraint):
        targets = [_split_target(element.target_fullname) for element in item.elements]
        return ConstraintShape(
            kind,
            table.name,
            tuple(str(element.parent.name) for element in item.elements),
            schema=table.schema,
            referred_table=targets[0][1] if targets else None,
            referred_schema=targets[0][0] if targets else None,
            referred_columns=tuple(column for _, _, column in targets),
        )
    if isinstance(item, sa.CheckConstraint):
        return ConstraintShape(kind, table.name, schema=table.schema, condition=_sql(item.sqltext))
    return ConstraintShape(
        kind, table.name, tuple(str(c.name) for c in item.columns), schema=table.schema
    )


def final_name(item: Any) -> str | None:
    """The name PostgreSQL gets for a model constraint or index (naming convention
    applied, long names shortened as SQLAlchemy does), or None for an unnamed one."""
    name = getattr(item, "name", None)
    if name is None:
        return None
    try:
        from alembic.util.sqla_compat import _get_constraint_final_name

        return _get_constraint_final_name(item, PG_DIALECT)
    except Exception:  # an incomplete naming-convention token: no usable name
        return str(name) if isinstance(name, str) else None


def check_columns(condition: str | None) -> tuple[str, ...]:
    """The columns a CHECK condition mentions, in order (read by PostgreSQL's parser)."""
    from revisor.sqltree import column_names, expression

    return tuple(column_names(expression(condition)))


def _ask_sqlalchemy(shape: ConstraintShape, convention: dict[str, Any]) -> str:
    if shape.kind != "check" and not shape.columns:
        raise ValueError("its columns are not written as literals")
    if shape.kind == "foreignkey" and len(shape.referred_columns) != len(shape.columns):
        raise ValueError("the referred columns are not written as literals")
    metadata = sa.MetaData(naming_convention=convention)
    columns: dict[tuple[str | None, str], list[str]] = {}
    own = (shape.schema, shape.table)
    referred = (shape.referred_schema, shape.referred_table or shape.table)
    condition_columns = check_columns(shape.condition) if shape.kind == "check" else ()
    for key, names in (
        (own, [*shape.columns, *condition_columns]),
        (referred, list(shape.referred_columns)),
    ):
        listed = columns.setdefault(key, [])
        listed.extend(n for n in names if n not in listed)
    tables = {
        key: sa.Table(key[1], metadata, *[sa.Column(n, sa.Integer) for n in names], schema=key[0])
        for key, names in columns.items()
    }
    table = tables[own]
    template = convention.get(PREFIX[shape.kind])
    # SQLAlchemy refuses %(constraint_name)s on an unnamed constraint: start from a name.
    start = None
    if isinstance(template, str) and "%(constraint_name)" in template:
        start = shape.label or "_".join(condition_columns or shape.columns) or shape.kind
    item: Any
    if shape.kind == "foreignkey":
        target = ".".join(p for p in (shape.referred_schema, referred[1]) if p)
        item = sa.ForeignKeyConstraint(
            list(shape.columns), [f"{target}.{c}" for c in shape.referred_columns], name=start
        )
    elif shape.kind == "unique":
        item = sa.UniqueConstraint(*shape.columns, name=start)
    elif shape.kind == "primary":
        item = sa.PrimaryKeyConstraint(*shape.columns, name=start)
    elif shape.kind == "check":
        item = sa.CheckConstraint(sa.text(shape.condition or "true"), name=start)
    else:
        item = sa.Index(start, *[table.c[c] for c in shape.columns])
    if not isinstance(item, sa.Index):
        table.append_constraint(item)
    name = final_name(item)
    if not name:
        raise ValueError(f"no {PREFIX[shape.kind]!r} template names it")
    # A plain str: SQLAlchemy's `conv` would make alembic render op.f("...").
    return str.__str__(name)


def _split_target(fullname: str) -> tuple[str | None, str, str]:
    """(schema, table, column) of a foreign key target `schema.table.column`."""
    *table_parts, column = fullname.split(".")
    schema = ".".join(table_parts[:-1]) or None
    return schema, table_parts[-1] if table_parts else "", column


def _sql(clause: Any) -> str:
    """A CHECK's condition as PostgreSQL text (literals inlined)."""
    try:
        return str(clause.compile(dialect=PG_DIALECT, compile_kwargs={"literal_binds": True}))
    except Exception:  # an expression PostgreSQL's compiler cannot inline: its plain text
        return str(clause)
