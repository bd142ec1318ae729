"""Every enum change a draft writes applies, rolls back and re-applies with rows kept."""

from __future__ import annotations

import pytest

from revisor.errors import MigrationFailed
from tests.support.draft_projects import DraftScenario

PLAN = """
class Plan(enum.Enum):
    {members}


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan: Mapped[Plan] = mapped_column(sa.Enum(Plan, name="plan"){default})
"""

SEED = "INSERT INTO accounts (plan) VALUES ('FREE'), ('PRO'), ('FREE'), ('TEAM')"


def plan_models(*labels: str, default: str = "") -> str:
    members = "\n    ".join(f"{label} = {label.lower()!r}" for label in labels)
    extra = f", server_default={default!r}" if default else ""
    return PLAN.format(members=members, default=extra)


def plans(s: DraftScenario) -> list[str]:
    return [r[0] for r in s.sql("SELECT plan::text FROM accounts ORDER BY id")]


def test_added_labels_keep_the_model_order(scenario: DraftScenario):
    scenario.start(plan_models("FREE", "PRO", "TEAM"), SEED)
    result = scenario.draft(plan_models("TRIAL", "FREE", "PRO", "BUSINESS", "TEAM"))
    text = result.path.read_text()
    assert "autocommit_block()" in text
    assert "ADD VALUE IF NOT EXISTS 'TRIAL' BEFORE 'FREE'" in text
    assert "ADD VALUE IF NOT EXISTS 'BUSINESS' AFTER 'PRO'" in text

    def after():
        assert scenario.labels("plan") == ["TRIAL", "FREE", "PRO", "BUSINESS", "TEAM"]
        assert plans(scenario) == ["FREE", "PRO", "FREE", "TEAM"]

    def before():
        assert scenario.labels("plan") == ["FREE", "PRO", "TEAM"]
        assert plans(scenario) == ["FREE", "PRO", "FREE", "TEAM"]

    scenario.round_trip(after, before)


def test_removed_label_replaces_the_type(scenario: DraftScenario):
    scenario.start(plan_models("FREE", "PRO", "TEAM", "LEGACY"), SEED)
    result = scenario.draft(plan_models("FREE", "PRO", "TEAM"))
    assert any("drop 'LEGACY'" in line for line in result.report.rewrites)

    def after():
        assert scenario.labels("plan") == ["FREE", "PRO", "TEAM"]
        assert plans(scenario) == ["FREE", "PRO", "FREE", "TEAM"]

    def before():
        assert scenario.labels("plan") == ["FREE", "PRO", "TEAM", "LEGACY"]
        assert plans(scenario) == ["FREE", "PRO", "FREE", "TEAM"]

    scenario.round_trip(after, before)
    assert scenario.sql("SELECT count(*) FROM pg_type WHERE typname LIKE 'plan__old'") == [(0,)]


def test_guard_stops_removal_while_rows_use_the_label(scenario: DraftScenario):
    scenario.start(plan_models("FREE", "PRO", "TEAM"), SEED)
    scenario.draft(plan_models("FREE", "PRO"))
    with pytest.raises(MigrationFailed) as caught:
        scenario.upgrade()
    assert "accounts.plan: 1 row(s)" in str(caught.value.cause)
    # nothing changed: the guard ran first and the transaction rolled back
    assert scenario.labels("plan") == ["FREE", "PRO", "TEAM"]
    assert plans(scenario) == ["FREE", "PRO", "FREE", "TEAM"]


def test_reorder_replaces_the_type(scenario: DraftScenario):
    scenario.start(plan_models("FREE", "PRO", "TEAM"), SEED)
    result = scenario.draft(plan_models("TEAM", "PRO", "FREE"))
    assert any("reorder" in line for line in result.report.rewrites)

    def after():
        assert scenario.labels("plan") == ["TEAM", "PRO", "FREE"]
        assert plans(scenario) == ["FREE", "PRO", "FREE", "TEAM"]
        ordered = scenario.sql("SELECT plan::text AS l FROM accounts ORDER BY accounts.plan, id")
        assert [r[0] for r in ordered] == ["TEAM", "PRO", "FREE", "FREE"]

    def before():
        assert scenario.labels("plan") == ["FREE", "PRO", "TEAM"]

    scenario.round_trip(after, before)


def test_case_change_renames_in_place(scenario: DraftScenario):
    models = plan_models("FREE", "PRO", "TEAM")
    scenario.start(models, SEED)
    result = scenario.draft(models.replace("PRO = 'pro'", "Pro = 'pro'"))
    text = result.path.read_text()
    assert "RENAME VALUE 'PRO' TO 'Pro'" in text
    assert "CREATE TYPE" not in text

    def after():
        assert scenario.labels("plan") == ["FREE", "Pro", "TEAM"]
        assert plans(scenario) == ["FREE", "Pro", "FREE", "TEAM"]

    def before():
        assert scenario.labels("plan") == ["FREE", "PRO", "TEAM"]
        assert plans(scenario) == ["FREE", "PRO", "FREE", "TEAM"]

    scenario.round_trip(after, before)


def test_declared_rename_with_other_changes(scenario: DraftScenario):
    scenario.start(plan_models("FREE", "PRO", "TEAM"), SEED)
    # not positional (a label is also added), so only the declaration makes it a rename
    result = scenario.draft(
        plan_models("FREE", "PREMIUM", "TEAM", "ENTERPRISE"), renames=["plan:PRO=PREMIUM"]
    )
    text = result.path.read_text()
    assert "RENAME VALUE 'PRO' TO 'PREMIUM'" in text
    assert "ADD VALUE IF NOT EXISTS 'ENTERPRISE' AFTER 'TEAM'" in text

    def after():
        assert scenario.labels("plan") == ["FREE", "PREMIUM", "TEAM", "ENTERPRISE"]
        assert plans(scenario) == ["FREE", "PREMIUM", "FREE", "TEAM"]

    def before():
        assert scenario.labels("plan") == ["FREE", "PRO", "TEAM"]
        assert plans(scenario) == ["FREE", "PRO", "FREE", "TEAM"]

    scenario.round_trip(after, before)


def test_undeclared_rename_is_remove_and_add(scenario: DraftScenario):
    scenario.start(plan_models("FREE", "PRO", "TEAM"))
    result = scenario.draft(plan_models("FREE", "PREMIUM", "TEAM", "ENTERPRISE"))
    assert not any("rename" in line for line in result.report.rewrites)
    assert any("drop 'PRO'" in line for line in result.report.rewrites)


def test_default_value_survives_a_type_replacement(scenario: DraftScenario):
    scenario.start(plan_models("FREE", "PRO", "TEAM", "LEGACY", default="FREE"), SEED)
    scenario.draft(plan_models("PRO", "FREE", "TEAM", default="FREE"))

    def default():
        return scenario.sql(
            "SELECT column_default FROM information_schema.columns "
            "WHERE table_name = 'accounts' AND column_name = 'plan'"
        )[0][0]

    def after():
        assert default() == "'FREE'::plan"
        scenario.sql("INSERT INTO accounts DEFAULT VALUES")
        assert plans(scenario)[-1] == "FREE"
        scenario.sql("DELETE FROM accounts WHERE id > 4")
        assert plans(scenario) == ["FREE", "PRO", "FREE", "TEAM"]

    def before():
        assert default() == "'FREE'::plan"
        assert scenario.labels("plan") == ["FREE", "PRO", "TEAM", "LEGACY"]

    scenario.round_trip(after, before)


def test_rename_and_removal_together_keep_the_renamed_default(scenario: DraftScenario):
    scenario.start(plan_models("FREE", "PRO", "TEAM", "LEGACY", default="PRO"), SEED)
    models = plan_models("FREE", "PRO", "TEAM", default="PRO").replace("PRO = ", "Pro = ")
    result = scenario.draft(models.replace("server_default='PRO'", "server_default='Pro'"))
    text = result.path.read_text()
    upgrade = text.split("def downgrade")[0]
    assert upgrade.index("RENAME VALUE 'PRO' TO 'Pro'") < upgrade.index("RENAME TO plan__old")
    assert "SET DEFAULT 'Pro'::plan" in upgrade

    def after():
        assert scenario.labels("plan") == ["FREE", "Pro", "TEAM"]
        assert plans(scenario) == ["FREE", "Pro", "FREE", "TEAM"]

    def before():
        assert scenario.labels("plan") == ["FREE", "PRO", "TEAM", "LEGACY"]
        assert plans(scenario) == ["FREE", "PRO", "FREE", "TEAM"]

    scenario.round_trip(after, before)


def test_same_position_replacement_is_a_rename_with_a_note(scenario: DraftScenario):
    scenario.start(plan_models("FREE", "PRO", "TEAM"), SEED)
    result = scenario.draft(plan_models("FREE", "PREMIUM", "TEAM"))
    text = result.path.read_text()
    assert "RENAME VALUE 'PRO' TO 'PREMIUM'" in text
    assert any("--no-rename-guess" in note for note in result.report.notes)
    # ... and in the file, next to the rename, for the reviewer
    comment = text[: text.index("RENAME VALUE 'PRO'")]
    assert "taken as a rename" in comment.replace("\n    # ", " ")

    def after():
        assert plans(scenario) == ["FREE", "PREMIUM", "FREE", "TEAM"]

    def before():
        assert plans(scenario) == ["FREE", "PRO", "FREE", "TEAM"]

    scenario.round_trip(after, before)


def test_without_rename_guess_a_replacement_is_removal_plus_addition(scenario: DraftScenario):
    scenario.start(plan_models("FREE", "PRO", "TEAM"), SEED)
    result = scenario.draft(plan_models("FREE", "PREMIUM", "TEAM"), guess_renames=False)
    assert "RENAME VALUE" not in result.path.read_text()
    with pytest.raises(MigrationFailed, match=r"labels PRO are still used: accounts\.plan: 1 row"):
        scenario.upgrade()
    assert plans(scenario) == ["FREE", "PRO", "FREE", "TEAM"]


def test_default_on_a_removed_label_blocks_the_draft(scenario: DraftScenario):
    from revisor.drafting.errors import DraftBlocked

    scenario.start(plan_models("FREE", "PRO", "TEAM", default="TEAM"))
    with pytest.raises(DraftBlocked, match=r"accounts\.plan defaults to 'TEAM'"):
        scenario.draft(plan_models("FREE", "PRO", default="TEAM"))


def test_new_enum_types_are_written_with_create_type_false(scenario: DraftScenario):
    """The draft creates the type itself (CREATE TYPE), so create_table must not create it
    again: SQLAlchemy 2.0's repr of postgresql.ENUM leaves create_type out, so revisor
    renders it; without it the file fails with DuplicateObject on SQLAlchemy 2.0."""
    initial = scenario.start(plan_models("FREE", "PRO", "TEAM"), SEED)
    text = initial.path.read_text()
    assert "CREATE TYPE plan AS ENUM" in text
    assert "name='plan', create_type=False)" in text, text
