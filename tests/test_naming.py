from __future__ import annotations

import sqlalchemy as sa

from revisor.drafting.naming import constraint_name as draft_name
from revisor.naming import MAX_IDENTIFIER, seed_style
from revisor.review.rules._naming import constraint_name as review_name


def test_seed_style_matches_the_seed():
    assert seed_style("fk", "transactions", ["vendor_id"]) == "fk_transactions_vendor_id"


def test_long_names_fit_and_stay_distinct():
    a = seed_style("uq", "t" * 40, ["column_a_with_a_long_name", "x"])
    b = seed_style("uq", "t" * 40, ["column_a_with_a_long_name", "y"])
    assert len(a.encode()) <= MAX_IDENTIFIER and len(b.encode()) <= MAX_IDENTIFIER
    assert a != b


def test_review_fix_and_draft_name_a_foreign_key_alike():
    meta = sa.MetaData()
    sa.Table("vendors", meta, sa.Column("id", sa.Integer, primary_key=True))
    table = sa.Table(
        "transactions", meta, sa.Column("id", sa.Integer), sa.Column("vendor_id", sa.Integer)
    )
    fk = sa.ForeignKeyConstraint(["vendor_id"], ["vendors.id"])
    table.append_constraint(fk)
    assert draft_name(fk, table, {}) == review_name(
        "foreignkey", "transactions", ("vendor_id",), referred_table="vendors"
    )
