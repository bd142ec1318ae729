"""Constraint names, unintended drops and the empty draft."""

from __future__ import annotations

from tests.support.draft_projects import DraftScenario

SHOP = """
class Vendor(Base):
    __tablename__ = "vendors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))


class Purchase(Base):
    __tablename__ = "purchases"
    id: Mapped[int] = mapped_column(primary_key=True)
    amount: Mapped[int]
"""

WITH_FK = SHOP + (
    '    vendor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vendors.id"))\n'
    "    code: Mapped[str | None] = mapped_column(sa.String(10), unique=True)\n"
)


def test_unnamed_foreign_key_gets_the_seed_name(scenario: DraftScenario):
    scenario.start(
        SHOP,
        "INSERT INTO vendors (name) VALUES ('acme');INSERT INTO purchases (amount) VALUES (5), (7)",
    )
    result = scenario.draft(WITH_FK)
    text = result.path.read_text()
    assert "create_foreign_key('fk_purchases_vendor_id', 'purchases', 'vendors'" in text
    assert "drop_constraint('fk_purchases_vendor_id', 'purchases'" in text
    assert "create_unique_constraint('uq_purchases_code', 'purchases'" in text
    assert "(None," not in text

    def names():
        rows = scenario.sql(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'purchases'::regclass "
            "AND contype IN ('f', 'u') ORDER BY 1"
        )
        return [r[0] for r in rows]

    def after():
        assert names() == ["fk_purchases_vendor_id", "uq_purchases_code"]
        assert scenario.sql("SELECT amount FROM purchases ORDER BY id") == [(5,), (7,)]

    def before():
        assert names() == []
        assert scenario.sql("SELECT amount FROM purchases ORDER BY id") == [(5,), (7,)]

    scenario.round_trip(after, before)


def test_new_table_constraints_are_named(scenario: DraftScenario):
    checked = WITH_FK + '    __table_args__ = (sa.CheckConstraint("amount > 0"),)\n'
    result = scenario.start(checked)
    text = result.path.read_text()
    assert "sa.CheckConstraint('amount > 0', name='ck_purchases_amount')" in text
    assert (
        "sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name='fk_purchases_vendor_id')"
        in text
    )
    assert "sa.UniqueConstraint('code', name='uq_purchases_code')" in text
    scenario.downgrade("base")
    scenario.upgrade()


def test_naming_convention_wins(scenario: DraftScenario):
    scenario.start(SHOP)
    # a naming_convention covering only uq: fk falls back to the seed style
    models = (
        "Base.metadata.naming_convention = {'uq': 'unique_%(table_name)s_%(column_0_name)s'}\n"
        + WITH_FK
    )
    result = scenario.draft(models)
    text = result.path.read_text()
    assert "'unique_purchases_code'" in text
    assert "'fk_purchases_vendor_id'" in text


def test_postgres_invented_name_is_dropped_by_its_real_name(scenario: DraftScenario):
    scenario.start(SHOP)
    scenario.sql("ALTER TABLE purchases ADD COLUMN vendor_id integer REFERENCES vendors (id)")
    cascade = WITH_FK.replace(
        'sa.ForeignKey("vendors.id")', 'sa.ForeignKey("vendors.id", ondelete="CASCADE")'
    )
    result = scenario.draft(cascade.replace("    code:", "    # code:"))
    text = result.path.read_text()
    upgrade, downgrade = text.split("def downgrade")
    assert "drop_constraint(op.f('purchases_vendor_id_fkey'), 'purchases'" in upgrade
    assert "create_foreign_key('fk_purchases_vendor_id'" in upgrade
    assert "drop_constraint('fk_purchases_vendor_id'" in downgrade
    assert "create_foreign_key(op.f('purchases_vendor_id_fkey')" in downgrade
    scenario.round_trip(lambda: None, lambda: None)


def test_tables_and_columns_in_no_model_are_left_out(scenario: DraftScenario):
    scenario.start(SHOP)
    scenario.sql(
        "CREATE TABLE legacy_audit (id serial PRIMARY KEY, note text);"
        "INSERT INTO legacy_audit (note) VALUES ('keep me');"
        "ALTER TABLE vendors ADD COLUMN nickname text;"
        "CREATE INDEX ix_vendors_nickname ON vendors (nickname);"
        "UPDATE vendors SET nickname = 'n'"
    )
    (scenario.root / "reporting.py").write_text(
        "class Audit:\n    __tablename__ = 'legacy_audit'\n"
    )
    models = SHOP + "    note: Mapped[str | None]\n"
    result = scenario.draft(models)
    text = result.path.read_text()
    assert "legacy_audit" not in text
    assert "nickname" not in text
    assert "add_column('purchases'" in text
    left = {item.name: item.cause for item in result.report.left_out}
    assert set(left) == {"legacy_audit", "vendors.nickname"}
    assert "reporting.py" in left["legacy_audit"]
    scenario.round_trip(lambda: None, lambda: None, drift_free=False)  # left out on purpose
    assert scenario.sql("SELECT note FROM legacy_audit") == [("keep me",)]

    scenario.downgrade()
    result.path.unlink()
    allowed = scenario.draft(models, allow_drops=["legacy_audit"])
    assert "op.drop_table('legacy_audit')" in allowed.path.read_text()
    assert [item.name for item in allowed.report.left_out] == ["vendors.nickname"]


def test_no_changes_writes_nothing(scenario: DraftScenario):
    scenario.start(SHOP)
    versions = scenario.root / "migrations" / "versions"
    before = sorted(versions.glob("*.py"))
    result = scenario.draft()
    assert result.empty
    assert sorted(versions.glob("*.py")) == before


def test_unnamed_drop_uses_the_name_from_pg_constraint(scenario: DraftScenario):
    import sqlalchemy as sa
    from alembic.operations import ops

    from revisor.db.connect import connect
    from revisor.drafting.naming import name_constraints

    scenario.start(SHOP)
    scenario.sql("ALTER TABLE purchases ADD COLUMN vendor_id integer REFERENCES vendors (id)")
    meta = sa.MetaData()
    sa.Table("vendors", meta, sa.Column("id", sa.Integer, primary_key=True))
    purchases = sa.Table(
        "purchases", meta, sa.Column("vendor_id", sa.Integer, sa.ForeignKey("vendors.id"))
    )
    [fk] = purchases.foreign_key_constraints
    drop = ops.DropConstraintOp.from_constraint(fk)
    assert drop.constraint_name is None
    upgrade = ops.UpgradeOps([ops.ModifyTableOps("purchases", [drop])])
    with connect(scenario.url) as conn:
        changes = name_constraints(upgrade, [meta], conn)
    assert drop.constraint_name == "purchases_vendor_id_fkey"
    assert changes == ["drop of the unnamed constraint on purchases uses purchases_vendor_id_fkey"]
