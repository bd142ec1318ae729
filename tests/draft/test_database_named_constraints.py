"""A naming convention added to models whose history left the naming to PostgreSQL
(what `revisor init` does on fastapi-boilerplate): the database's unique constraints are
named `<table>_<column>_key`, the models now `uq_<table>_<column>`. Autogenerate compares
unique constraints by name and writes a DROP + ADD for each (an index rebuilt under a lock
for a name); the draft leaves those pairs out and keeps real changes."""

from __future__ import annotations

from tests.support.draft_projects import DraftScenario

CONVENTION = "Base.metadata.naming_convention = {'uq': 'uq_%(table_name)s_%(column_0_name)s'}\n"
SHOP = """
class Vendor(Base):
    __tablename__ = "vendors"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(sa.String(10), unique=True)
"""
EMAIL = SHOP + "    email: Mapped[str | None] = mapped_column(sa.String(80), unique=True)\n"


def _named_by_postgres(scenario: DraftScenario) -> None:
    """The database as a history without names left it."""
    scenario.start(SHOP)
    scenario.sql("ALTER TABLE vendors RENAME CONSTRAINT uq_vendors_code TO vendors_code_key")


def test_a_constraint_differing_only_in_name_is_no_change(scenario: DraftScenario):
    _named_by_postgres(scenario)
    result = scenario.draft(CONVENTION + SHOP)
    assert result.empty, result.path.read_text() if result.path else ""
    assert any("vendors_code_key" in line for line in result.report.rewrites)


def test_real_changes_stay_and_round_trip(scenario: DraftScenario):
    _named_by_postgres(scenario)
    result = scenario.draft(CONVENTION + EMAIL)
    text = result.path.read_text()
    assert "vendors_code_key" not in text and "uq_vendors_code" not in text, text
    assert "create_unique_constraint(op.f('uq_vendors_email'), 'vendors', ['email'])" in text

    def names() -> list[str]:
        rows = scenario.sql(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'vendors'::regclass "
            "AND contype = 'u' ORDER BY 1"
        )
        return [r[0] for r in rows]

    def after() -> None:
        assert names() == ["uq_vendors_email", "vendors_code_key"]

    def before() -> None:
        assert names() == ["vendors_code_key"]

    scenario.round_trip(after, before, drift_free=False)
