"""Enum types appearing, shared, in arrays, or stored by the other spelling."""

from __future__ import annotations

import pytest

from revisor.drafting.errors import DraftBlocked
from revisor.errors import MigrationFailed
from tests.support.draft_projects import DraftScenario

ACCOUNTS = """
class Plan(enum.Enum):
    FREE = "free"
    PRO = "pro"


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan: Mapped[Plan] = mapped_column(sa.Enum(Plan, name="plan"))
"""


def test_new_type_on_add_column_is_created_and_dropped(scenario: DraftScenario):
    scenario.start(ACCOUNTS, "INSERT INTO accounts (plan) VALUES ('FREE'), ('PRO')")
    models = (
        ACCOUNTS.replace(
            "class Account",
            "class Tier(enum.Enum):\n    GOLD = 1\n    SILVER = 2\n\n\nclass Account",
        )
        + '    tier: Mapped[Tier | None] = mapped_column(sa.Enum(Tier, name="tier"))\n'
    )
    result = scenario.draft(models)
    text = result.path.read_text()
    upgrade, downgrade = text.split("def downgrade")
    assert upgrade.index("CREATE TYPE tier") < upgrade.index("op.add_column")
    assert downgrade.index("op.drop_column") < downgrade.index("DROP TYPE tier")

    def after():
        assert scenario.labels("tier") == ["GOLD", "SILVER"]
        scenario.sql("UPDATE accounts SET tier = 'GOLD' WHERE plan = 'PRO'")
        rows = scenario.sql("SELECT plan::text, tier::text FROM accounts ORDER BY id")
        assert rows == [("FREE", None), ("PRO", "GOLD")]

    def before():
        assert scenario.labels("tier") == []
        assert scenario.sql("SELECT plan::text FROM accounts ORDER BY id") == [("FREE",), ("PRO",)]

    scenario.round_trip(after, before)


def test_type_shared_by_two_tables(scenario: DraftScenario):
    scenario.start(ACCOUNTS, "INSERT INTO accounts (plan) VALUES ('FREE'), ('PRO')")
    # a second table reuses the existing type, and the type loses nothing but gains a label:
    # create_table must not CREATE TYPE again; both tables follow the change
    models = ACCOUNTS.replace('    PRO = "pro"\n', '    PRO = "pro"\n    TEAM = "team"\n') + (
        "\n\nclass Invoice(Base):\n"
        '    __tablename__ = "invoices"\n'
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        '    plan: Mapped[Plan] = mapped_column(sa.Enum(Plan, name="plan"))\n'
    )
    result = scenario.draft(models)
    text = result.path.read_text()
    assert "create_type=False" in text
    assert "CREATE TYPE" not in text.split("def downgrade")[0]

    def after():
        scenario.sql("INSERT INTO invoices (plan) VALUES ('TEAM'), ('FREE')")
        assert scenario.labels("plan") == ["FREE", "PRO", "TEAM"]
        scenario.sql("DELETE FROM invoices")

    def before():
        assert scenario.labels("plan") == ["FREE", "PRO"]
        assert scenario.sql("SELECT to_regclass('invoices')") == [(None,)]

    scenario.round_trip(after, before)
    # now drop a label: the replacement converts the columns of both tables
    scenario.sql("INSERT INTO invoices (plan) VALUES ('PRO'), ('FREE')")
    scenario.draft(models.replace('    FREE = "free"\n', ""))

    def after_drop():
        assert scenario.labels("plan") == ["PRO", "TEAM"]

    scenario.sql("DELETE FROM accounts WHERE plan = 'FREE'")
    scenario.sql("DELETE FROM invoices WHERE plan = 'FREE'")

    def before_drop():
        assert scenario.labels("plan") == ["FREE", "PRO", "TEAM"]
        assert scenario.sql("SELECT plan::text FROM accounts") == [("PRO",)]
        assert scenario.sql("SELECT plan::text FROM invoices") == [("PRO",)]

    scenario.round_trip(after_drop, before_drop)


def test_array_column_is_converted(scenario: DraftScenario):
    models = """
class Tag(enum.Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    tags: Mapped[list[Tag]] = mapped_column(
        sa.ARRAY(sa.Enum(Tag, name="tag")), server_default="{RED}"
    )
"""
    scenario.start(models, "INSERT INTO items (tags) VALUES ('{RED,GREEN}'), ('{BLUE}'), (DEFAULT)")
    # GREEN goes, BLUE moves first: the type is replaced, arrays converted element-wise
    new_models = models.replace('    GREEN = "green"\n', "").replace(
        '    RED = "red"\n    BLUE = "blue"\n', '    BLUE = "blue"\n    RED = "red"\n'
    )
    scenario.draft(new_models)

    def tags():
        return [r[0] for r in scenario.sql("SELECT tags::text FROM items ORDER BY id")]

    with pytest.raises(MigrationFailed, match=r"items\.tags: 1 row"):
        scenario.upgrade()
    scenario.sql("UPDATE items SET tags = '{RED}' WHERE id = 1")

    def after():
        assert scenario.labels("tag") == ["BLUE", "RED"]
        assert tags() == ["{RED}", "{BLUE}", "{RED}"]

    def before():
        assert scenario.labels("tag") == ["RED", "GREEN", "BLUE"]
        assert tags() == ["{RED}", "{BLUE}", "{RED}"]

    scenario.round_trip(after, before)


def test_names_vs_values_mismatch_is_reported_not_converted(scenario: DraftScenario):
    values_stored = ACCOUNTS.replace(
        'sa.Enum(Plan, name="plan")',
        'sa.Enum(Plan, name="plan", values_callable=lambda e: [m.value for m in e])',
    )
    scenario.start(values_stored, "INSERT INTO accounts (plan) VALUES ('free')")
    # the model drops values_callable by accident: it would now store FREE/PRO
    result = scenario.draft(ACCOUNTS)
    assert result.empty
    [mismatch] = result.report.mismatches
    assert mismatch.db_labels == ("free", "pro")
    assert "values_callable" in mismatch.fix
    assert scenario.labels("plan") == ["free", "pro"]


@pytest.mark.parametrize(
    ("ddl", "described"),
    [
        ("CREATE VIEW free_accounts AS SELECT id, plan FROM accounts", "view free_accounts"),
        (
            "ALTER TABLE accounts ADD CONSTRAINT ck_not_pro CHECK (plan <> 'PRO')",
            "constraint ck_not_pro on table accounts",
        ),
    ],
    ids=["view", "check"],
)
def test_dependent_object_blocks_a_replacement(scenario: DraftScenario, ddl: str, described: str):
    scenario.start(ACCOUNTS)
    scenario.sql(ddl)
    with pytest.raises(DraftBlocked, match=described):
        scenario.draft(ACCOUNTS.replace('    FREE = "free"\n', ""))
    assert list((scenario.root / "migrations" / "versions").glob("*change*")) == []


def test_new_table_with_new_type_downgrades_to_base(scenario: DraftScenario):
    result = scenario.start(ACCOUNTS, "INSERT INTO accounts (plan) VALUES ('PRO')")
    upgrade, downgrade = result.path.read_text().split("def downgrade")
    assert upgrade.index("CREATE TYPE plan") < upgrade.index("op.create_table")
    assert downgrade.index("op.drop_table") < downgrade.index("DROP TYPE plan")
    scenario.downgrade("base")
    assert scenario.labels("plan") == []
    scenario.upgrade()
    assert scenario.labels("plan") == ["FREE", "PRO"]


def test_renames_declared_in_pyproject(scenario: DraftScenario, cli):
    from revisor.cli import app

    scenario.start(ACCOUNTS, "INSERT INTO accounts (plan) VALUES ('PRO')")
    (scenario.root / "pyproject.toml").write_text(
        '[tool.revisor]\nrename-labels = ["plan:PRO=PREMIUM"]\n'
    )
    models = ACCOUNTS.replace('PRO = "pro"', 'PREMIUM = "premium"\n    TRIAL = "trial"')
    (scenario.root / "models.py").write_text(
        (scenario.root / "models.py").read_text().split("class Plan")[0]
        + "class Plan"
        + models.split("class Plan")[1]
    )
    url = scenario.url.url.render_as_string(hide_password=False)
    result = cli.invoke(
        app, ["draft", "-c", str(scenario.root / "alembic.ini"), "--url", url, "-m", "premium"]
    )
    assert result.exit_code == 0, result.output
    assert "rename 'PRO' -> 'PREMIUM'" in result.output
    scenario.upgrade()
    assert scenario.sql("SELECT plan::text FROM accounts") == [("PREMIUM",)]
    assert scenario.labels("plan") == ["FREE", "PREMIUM", "TRIAL"]


def test_column_no_model_knows_is_converted_too(scenario: DraftScenario):
    scenario.start(ACCOUNTS, "INSERT INTO accounts (plan) VALUES ('PRO')")
    # another app's table uses the type; the draft leaves the table alone but must still
    # move its column onto the replacement type, or DROP TYPE of the old one would fail
    scenario.sql(
        "CREATE TABLE audit (id int, plans plan[] DEFAULT '{PRO}', last plan);"
        "INSERT INTO audit VALUES (1, '{PRO,PRO}', 'PRO')"
    )
    result = scenario.draft(ACCOUNTS.replace('    FREE = "free"\n', ""))
    assert [d.name for d in result.report.left_out] == ["audit"]
    assert any("audit.plans, audit.last" in line for line in result.report.rewrites)

    def rows():
        return scenario.sql("SELECT plans::text, last::text FROM audit")

    def after():
        assert scenario.labels("plan") == ["PRO"]
        assert rows() == [("{PRO,PRO}", "PRO")]

    def before():
        assert scenario.labels("plan") == ["FREE", "PRO"]
        assert rows() == [("{PRO,PRO}", "PRO")]

    scenario.round_trip(after, before, drift_free=False)  # audit stays, in no model


def test_allowed_drop_of_a_table_takes_its_orphaned_type(scenario: DraftScenario):
    scenario.start(ACCOUNTS)
    scenario.sql(
        "CREATE TYPE legacy_state AS ENUM ('on', 'off');"
        "CREATE TABLE legacy (id int PRIMARY KEY, state legacy_state, plan plan);"
        "INSERT INTO legacy VALUES (1, 'on', 'PRO')"
    )
    result = scenario.draft(ACCOUNTS, allow_drops=["legacy"])
    upgrade, downgrade = result.path.read_text().split("def downgrade")
    assert upgrade.index("op.drop_table('legacy')") < upgrade.index("DROP TYPE legacy_state")
    assert downgrade.index("CREATE TYPE legacy_state") < downgrade.index("op.create_table")
    # plan is still used by accounts: it stays, and the re-created table does not re-create it
    assert "DROP TYPE plan" not in upgrade

    def after():
        assert scenario.labels("legacy_state") == []
        assert scenario.sql("SELECT to_regclass('legacy')") == [(None,)]

    def before():
        assert scenario.labels("legacy_state") == ["on", "off"]
        assert scenario.sql("SELECT count(*) FROM legacy") == [(0,)]

    scenario.round_trip(after, before)


def test_text_column_becomes_an_enum_and_back(scenario: DraftScenario):
    text_models = ACCOUNTS.replace(
        'mapped_column(sa.Enum(Plan, name="plan"))', "mapped_column(sa.String(10))"
    ).replace("plan: Mapped[Plan]", "plan: Mapped[str]")
    scenario.start(text_models, "INSERT INTO accounts (plan) VALUES ('PRO'), ('FREE')")
    result = scenario.draft(ACCOUNTS)
    upgrade = result.path.read_text().split("def downgrade")[0]
    assert upgrade.index("CREATE TYPE plan") < upgrade.index("op.alter_column")
    assert "postgresql_using='plan::text::plan'" in upgrade

    def values():
        return scenario.sql("SELECT plan::text, pg_typeof(plan)::text FROM accounts ORDER BY id")

    scenario.round_trip(
        lambda: values() == [("PRO", "plan"), ("FREE", "plan")] or pytest.fail(str(values())),
        lambda: (
            values() == [("PRO", "character varying"), ("FREE", "character varying")]
            or pytest.fail(str(values()))
        ),
    )
    # and back to text: the type goes with its last column, and comes back on downgrade
    result = scenario.draft(text_models)
    text = result.path.read_text()
    upgrade, downgrade = text.split("def downgrade")
    assert upgrade.index("op.alter_column") < upgrade.index("DROP TYPE plan")
    assert downgrade.index("CREATE TYPE plan") < downgrade.index("op.alter_column")
    scenario.round_trip(
        lambda: scenario.labels("plan") == [] or pytest.fail("type left behind"),
        lambda: scenario.labels("plan") == ["FREE", "PRO"] or pytest.fail("type missing"),
    )
