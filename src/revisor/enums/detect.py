"""Compare the models' enum types with PostgreSQL's, label by label. Pure: no database.

SQLAlchemy stores a Python enum by member NAME unless `values_callable` says otherwise;
`sa.Enum.enums` holds exactly the strings it will write, so that is what is compared with
`pg_enum` (in `enumsortorder` order).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import MetaData


def spellings(enum_class: type[enum.Enum]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(member names, member values as text) of a Python enum, in definition order."""
    members = list(enum_class)
    return tuple(m.name for m in members), tuple(str(m.value) for m in members)


def stored_spelling(labels: Sequence[str], enum_class: type[enum.Enum] | None) -> str:
    """'names', 'values' or 'strings': what SQLAlchemy writes for an sa.Enum whose `enums`
    are `labels` (member names by default, values with values_callable)."""
    if enum_class is None:
        return "strings"
    names, _values = spellings(enum_class)
    return "names" if tuple(labels) == names else "values"


def other_spelling(
    labels: Sequence[str], enum_class: type[enum.Enum] | None
) -> tuple[str, tuple[str, ...]] | None:
    """("values"|"names", labels) the model would store with the other spelling; None when
    there is no Python enum or its names and values are the same strings."""
    if enum_class is None:
        return None
    names, values = spellings(enum_class)
    if names == values:
        return None
    if tuple(labels) == names:
        return "values", values
    if tuple(labels) == values:
        return "names", names
    return None


@dataclass(frozen=True)
class ModelEnum:
    """One named enum type as the models declare it."""

    name: str
    schema: str | None
    labels: tuple[str, ...]
    enum_class: type[enum.Enum] | None = None
    columns: tuple[tuple[str, str], ...] = ()  # (table, column) in the models

    @property
    def stores(self) -> str:
        """'names', 'values' or 'strings': what SQLAlchemy writes for this type."""
        return stored_spelling(self.labels, self.enum_class)


@dataclass(frozen=True)
class EnumChange:
    """How one existing type must change: renames first, then adds or a full recreate."""

    name: str
    schema: str | None
    old: tuple[str, ...]  # the labels in the database
    new: tuple[str, ...]  # the labels the models store
    renames: tuple[tuple[str, str], ...] = ()  # (old label, new label), applied first
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    reordered: bool = False
    note: str | None = None
    by_position: tuple[tuple[str, str], ...] = ()  # renames guessed from the position alone

    @property
    def renamed(self) -> tuple[str, ...]:
        """The database labels after the renames (what adds or a recreate start from)."""
        mapping = dict(self.renames)
        return tuple(mapping.get(label, label) for label in self.old)

    @property
    def needs_recreate(self) -> bool:
        """Removing or reordering labels needs a new type; PostgreSQL cannot drop a label."""
        return bool(self.removed) or self.reordered


@dataclass(frozen=True)
class StorageMismatch:
    """The database holds the other spelling of the same Python enum (values vs names)."""

    name: str
    schema: str | None
    model_labels: tuple[str, ...]
    db_labels: tuple[str, ...]
    enum_class: str
    model_stores: str  # 'names' or 'values'

    @property
    def fix(self) -> str:
        if self.model_stores == "names":
            return (
                f"sa.Enum({self.enum_class}, name={self.name!r}, "
                "values_callable=lambda e: [m.value for m in e])"
            )
        return f"sa.Enum({self.enum_class}, name={self.name!r}) (without values_callable)"


@dataclass
class EnumComparison:
    """Everything the models and the database disagree on, per enum type."""

    created: list[ModelEnum] = field(default_factory=list)  # types missing from the DB
    changed: list[EnumChange] = field(default_factory=list)
    mismatches: list[StorageMismatch] = field(default_factory=list)


Key = tuple[str | None, str]


def model_enums(
    metadata: Iterable[MetaData], keep: Callable[[sa.Table], bool] | None = None
) -> list[ModelEnum]:
    """Every named enum type used by a column of `metadata` (array items included), in
    table order, from the tables `keep` accepts (env.py's include_object). Non-native enums
    (VARCHAR + CHECK) are not PostgreSQL types and are skipped.
    """
    found: dict[Key, ModelEnum] = {}
    for meta in metadata:
        for table in meta.sorted_tables:
            if keep is not None and not keep(table):
                continue
            for column in table.columns:
                enum_type = enum_of(column.type)
                if enum_type is None or not enum_type.name or not enum_type.native_enum:
                    continue
                schema = enum_type.schema or table.schema
                key = (schema, enum_type.name)
                where = (table.name, column.name)
                if key in found:
                    known = found[key]
                    found[key] = ModelEnum(
                        known.name,
                        known.schema,
                        known.labels,
                        known.enum_class,
                        (*known.columns, where),
                    )
                    continue
                found[key] = ModelEnum(
                    name=enum_type.name,
                    schema=schema,
                    labels=tuple(enum_type.enums),
                    enum_class=enum_type.enum_class,
                    columns=(where,),
                )
    return list(found.values())


def enum_of(type_: sa.types.TypeEngine) -> sa.Enum | None:
    """The sa.Enum inside `type_` (itself, or an ARRAY's item type), else None."""
    if isinstance(type_, sa.types.TypeDecorator):
        type_ = type_.impl_instance
    if isinstance(type_, sa.ARRAY):
        type_ = type_.item_type
    return type_ if isinstance(type_, sa.Enum) else None


def compare_enums(
    models: Sequence[ModelEnum],
    database: Mapping[Key, tuple[str, ...]],
    *,
    declared_renames: Mapping[str, Mapping[str, str]] | None = None,
    guess_by_position: bool = True,
    default_schema: str = "public",
) -> EnumComparison:
    """Compare each model enum with the database's labels.

    `declared_renames` maps a type name to {old label: new label} (from --rename-label or
    `[tool.revisor] rename-labels`); they win over the automatic guesses.
    """
    result = EnumComparison()
    declared_renames = declared_renames or {}
    for model in models:
        db_labels = database.get((model.schema or default_schema, model.name))
        if db_labels is None:
            result.created.append(model)
            continue
        if tuple(db_labels) == model.labels:
            continue
        declared = dict(declared_renames.get(model.name, {}))
        mismatch = _storage_mismatch(model, tuple(db_labels))
        if mismatch is not None and not declared:
            result.mismatches.append(mismatch)
            continue
        result.changed.append(
            label_diff(model, tuple(db_labels), declared, by_position=guess_by_position)
        )
    return result


def label_diff(
    model: ModelEnum,
    old: tuple[str, ...],
    declared: Mapping[str, str],
    *,
    by_position: bool = True,
) -> EnumChange:
    """The renames, additions, removals and reordering that turn `old` into the model's."""
    new = model.labels
    renames = {o: n for o, n in declared.items() if o in old and o not in new and n in new}
    guessed = _guessed_renames(old, new, renames, by_position=by_position)
    renames.update(guessed)
    after = tuple(renames.get(label, label) for label in old)
    added = tuple(label for label in new if label not in after)
    removed = tuple(label for label in after if label not in new)
    kept_in_db_order = [label for label in after if label in new]
    kept_in_model_order = [label for label in new if label in after]
    note = None
    if model.enum_class is not None and renames and model.stores == "values":
        names = tuple(m.name for m in model.enum_class)
        if old == names:
            note = (
                "the model now stores the Python values (values_callable) where the database "
                "stores member names; the labels are renamed in place, so deploy the code "
                "and this migration together"
            )
    return EnumChange(
        name=model.name,
        schema=model.schema,
        old=old,
        new=new,
        renames=tuple((o, renames[o]) for o in old if o in renames),
        added=added,
        removed=removed,
        reordered=kept_in_db_order != kept_in_model_order,
        note=note,
        by_position=tuple((o, n) for o, n in guessed.items() if o.casefold() != n.casefold()),
    )


def _guessed_renames(
    old: tuple[str, ...],
    new: tuple[str, ...],
    taken: Mapping[str, str],
    *,
    by_position: bool = True,
) -> dict[str, str]:
    """Renames revisor is sure of: one-to-one replacements at the same position (same
    length, every differing slot holds labels unknown to the other side), else labels that
    differ only in case and match exactly one label on the other side."""
    gone = [o for o in old if o not in new and o not in taken]
    fresh = [n for n in new if n not in old and n not in taken.values()]
    if by_position and len(old) == len(new):
        pairs = [(o, n) for o, n in zip(old, new, strict=True) if o != n]
        if pairs and all(o in gone and n in fresh for o, n in pairs):
            return dict(pairs)
    guessed: dict[str, str] = {}
    for label in gone:
        matches = [n for n in fresh if n.casefold() == label.casefold()]
        twins = [o for o in gone if o.casefold() == label.casefold()]
        if len(matches) == 1 and len(twins) == 1 and matches[0] not in guessed.values():
            guessed[label] = matches[0]
    return guessed


def _storage_mismatch(model: ModelEnum, db_labels: tuple[str, ...]) -> StorageMismatch | None:
    """The model stores member NAMES (SQLAlchemy's default) but the database holds the
    VALUES: almost always a forgotten `values_callable`, not a wish to rewrite every row.

    The reverse (the model opted into values_callable while the database holds names) is a
    deliberate switch and becomes renames, with a note."""
    if model.enum_class is None or model.stores != "names":
        return None
    if db_labels != spellings(model.enum_class)[1]:
        return None
    return StorageMismatch(
        name=model.name,
        schema=model.schema,
        model_labels=model.labels,
        db_labels=db_labels,
        enum_class=model.enum_class.__name__,
        model_stores="names",
    )


def parse_renames(specs: Iterable[str]) -> dict[str, dict[str, str]]:
    """Parse `TYPE:OLD=NEW` strings into {type: {old: new}}. Raises ValueError on bad input."""
    result: dict[str, dict[str, str]] = {}
    for spec in specs:
        type_name, sep, pair = spec.partition(":")
        old, eq, new = pair.partition("=")
        if not sep or not eq or not type_name or not old or not new:
            raise ValueError(f"{spec!r} is not of the form TYPE:OLD=NEW")
        result.setdefault(type_name, {})[old] = new
    return result


def addition_anchors(before: Sequence[str], target: Sequence[str]) -> list[tuple[str, str, str]]:
    """For each label of `target` missing from `before`, (label, 'AFTER'|'BEFORE', anchor)
    so that adding them one by one reproduces `target`'s order (kept labels must already be
    in `target`'s relative order)."""
    present = list(before)
    steps: list[tuple[str, str, str]] = []
    for index, label in enumerate(target):
        if label in present:
            continue
        previous = [t for t in target[:index] if t in present]
        if previous:
            steps.append((label, "AFTER", previous[-1]))
            present.insert(present.index(previous[-1]) + 1, label)
        else:
            following = next((t for t in target[index + 1 :] if t in present), None)
            if following is None:  # the type has no labels yet: append
                steps.append((label, "", ""))
                present.append(label)
            else:
                steps.append((label, "BEFORE", following))
                present.insert(present.index(following), label)
    return steps
