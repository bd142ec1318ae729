"""Label diffs, pure: what the models store versus what pg_enum holds."""

from __future__ import annotations

import enum

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from revisor.enums.detect import (
    ModelEnum,
    addition_anchors,
    compare_enums,
    model_enums,
    parse_renames,
)


class Cycle(enum.Enum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"


def _model(*labels: str, enum_class: type[enum.Enum] | None = None) -> ModelEnum:
    return ModelEnum("t", None, labels, enum_class)


def test_stored_labels_are_names_unless_values_callable():
    meta = sa.MetaData()
    sa.Table("a", meta, sa.Column("c", sa.Enum(Cycle, name="cycle")))
    sa.Table(
        "b",
        meta,
        sa.Column(
            "c",
            sa.ARRAY(
                sa.Enum(Cycle, name="cycle_v", values_callable=lambda e: [m.value for m in e])
            ),
        ),
        sa.Column("plain", sa.Enum("x", "y", name="plain")),
        sa.Column("not_native", sa.Enum("x", name="nn", native_enum=False)),
    )
    found = {m.name: m for m in model_enums([meta])}
    assert set(found) == {"cycle", "cycle_v", "plain"}
    assert found["cycle"].labels == ("WEEKLY", "MONTHLY") and found["cycle"].stores == "names"
    assert found["cycle_v"].labels == ("weekly", "monthly") and found["cycle_v"].stores == "values"
    assert found["plain"].stores == "strings"


@pytest.mark.parametrize(
    ("db", "model", "renames", "added", "removed", "reordered"),
    [
        (("A", "B"), ("A", "B", "C"), (), ("C",), (), False),
        (("A", "B", "C"), ("A", "C"), (), (), ("B",), False),
        (("A", "B", "C"), ("C", "B", "A"), (), (), (), True),
        (
            ("MONTHLY", "YEARLY"),
            ("monthly", "yearly"),
            (("MONTHLY", "monthly"), ("YEARLY", "yearly")),
            (),
            (),
            False,
        ),
        (("A", "B", "C"), ("A", "X", "C"), (("B", "X"),), (), (), False),
        # not one-to-one: a rename is not guessed, it is a remove + add
        (("A", "B", "C"), ("A", "X", "C", "D"), (), ("X", "D"), ("B",), False),
        # case-only, with an addition elsewhere
        (("a", "b"), ("a", "B", "c"), (("b", "B"),), ("c",), (), False),
    ],
)
def test_label_diff(db, model, renames, added, removed, reordered):
    [change] = compare_enums([_model(*model)], {("public", "t"): db}).changed
    assert change.renames == renames
    assert change.added == added
    assert change.removed == removed
    assert change.reordered == reordered


def test_declared_rename_wins():
    [change] = compare_enums(
        [_model("A", "X", "C", "D")],
        {("public", "t"): ("A", "B", "C")},
        declared_renames={"t": {"B": "X"}},
    ).changed
    assert change.renames == (("B", "X"),)
    assert change.added == ("D",) and not change.removed and not change.needs_recreate


def test_names_model_against_values_db_is_a_mismatch():
    result = compare_enums(
        [_model("WEEKLY", "MONTHLY", enum_class=Cycle)],
        {("public", "t"): ("weekly", "monthly")},
    )
    assert not result.changed
    [mismatch] = result.mismatches
    assert "values_callable" in mismatch.fix


def test_values_model_against_names_db_renames_with_a_note():
    [change] = compare_enums(
        [_model("weekly", "monthly", enum_class=Cycle)],
        {("public", "t"): ("WEEKLY", "MONTHLY")},
    ).changed
    assert change.renames == (("WEEKLY", "weekly"), ("MONTHLY", "monthly"))
    assert change.note and "values_callable" in change.note


def test_missing_type_is_created():
    result = compare_enums([_model("A")], {})
    assert [m.name for m in result.created] == ["t"]


def test_parse_renames():
    assert parse_renames(["t:A=B", "t:C=D", "u:x=y"]) == {
        "t": {"A": "B", "C": "D"},
        "u": {"x": "y"},
    }
    for bad in ["t", "t:A", "t:=B", ":A=B"]:
        with pytest.raises(ValueError):
            parse_renames([bad])


@given(
    st.lists(st.text(min_size=1, max_size=3), min_size=1, max_size=6, unique=True),
    st.data(),
)
def test_addition_anchors_reproduce_the_target_order(target, data):
    keep = data.draw(st.lists(st.sampled_from(target), unique=True, min_size=1))
    before = [label for label in target if label in keep]
    present = list(before)
    for label, where, anchor in addition_anchors(before, target):
        if where == "AFTER":
            present.insert(present.index(anchor) + 1, label)
        elif where == "BEFORE":
            present.insert(present.index(anchor), label)
        else:
            present.append(label)
    assert present == target


def test_tables_excluded_by_include_object_are_skipped():
    meta = sa.MetaData()
    sa.Table("kept", meta, sa.Column("c", sa.Enum(Cycle, name="cycle")))
    sa.Table("skipped", meta, sa.Column("c", sa.Enum("x", name="other")))
    found = model_enums([meta], keep=lambda table: table.name != "skipped")
    assert [m.name for m in found] == ["cycle"]
