"""Models vs database drift (`revisor.drift`): each planted difference is named once, with
the model's file and line; the clean project has none. Real PostgreSQL 18 and 15."""

from __future__ import annotations

from pathlib import Path

import pytest

from revisor.check import check_models
from revisor.codes import get_code
from revisor.findings import Finding, Severity
from revisor.project import Project
from tests.support.drift_project import write_project

ROOT = Path(__file__).resolve().parents[1]

MODELS = """\
import datetime


class Cycle(enum.Enum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class Plan(Base):
    __tablename__ = "plans"
    __table_args__ = (
        sa.CheckConstraint("price > 0", name="ck_plans_price_positive"),
        sa.Index("ix_plans_name_active", "name", postgresql_where=sa.text("active")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    price: Mapped[int] = mapped_column(server_default="5")
    active: Mapped[bool] = mapped_column(server_default=sa.true())
    cycle: Mapped[Cycle] = mapped_column(sa.Enum(Cycle, name="cycle"))
    code: Mapped[str] = mapped_column(sa.String(10), unique=True)
    created_at: Mapped[datetime.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
"""

UPGRADE = """\
op.create_table(
    "plans",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("name", sa.String(50), nullable=False),
    sa.Column("price", sa.Integer(), server_default="5", nullable=False),
    sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column("cycle", sa.Enum("WEEKLY", "MONTHLY", name="cycle"), nullable=False),
    sa.Column("code", sa.String(10), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
              nullable=False),
    sa.CheckConstraint("price > 0", name="ck_plans_price_positive"),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("code"),
)
op.create_index("ix_plans_name_active", "plans", ["name"], postgresql_where=sa.text("active"))
"""

DOWNGRADE = """\
op.drop_table("plans")
sa.Enum(name="cycle").drop(op.get_bind())
"""


def write_plans(root: Path, models: str = MODELS, upgrade: str = UPGRADE, **kw: str) -> Path:
    return write_project(root, models, [("a1", "plans", None, upgrade, DOWNGRADE)], **kw)


def drift(root: Path, server_url) -> list[Finding]:
    return check_models(Project.load(root / "alembic.ini"), server_url)


def replaced(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


def test_clean_project_has_no_drift(tmp_path: Path, pg_server):
    write_plans(tmp_path)
    assert drift(tmp_path, pg_server.url) == []


# (id, side, old, new, code, words in the message, model line containing)
PLANTED = [
    (
        "column-no-migration",
        "models",
        "    code: Mapped[str]",
        "    note: Mapped[str | None] = mapped_column(sa.Text)\n    code: Mapped[str]",
        "RV603",
        ["plans.note", "no migration adds it"],
        "note: Mapped",
    ),
    (
        "enum-label-missing",
        "models",
        '    MONTHLY = "monthly"\n',
        '    MONTHLY = "monthly"\n    YEARLY = "yearly"\n',
        "RV618",
        ["enum cycle", "'YEARLY'"],
        "cycle: Mapped",
    ),
    (
        "enum-names-vs-values",
        "models",
        'sa.Enum(Cycle, name="cycle")',
        'sa.Enum(Cycle, name="cycle", values_callable=lambda e: [m.value for m in e])',
        "RV621",
        ["stores member values weekly, monthly", "names WEEKLY, MONTHLY"],
        "cycle: Mapped",
    ),
    (
        "nullable",
        "migration",
        'sa.Column("name", sa.String(50), nullable=False)',
        'sa.Column("name", sa.String(50), nullable=True)',
        "RV606",
        ["plans.name is nullable in the database but NOT NULL in the models"],
        "name: Mapped",
    ),
    (
        "server-default",
        "migration",
        'server_default="5"',
        'server_default="7"',
        "RV607",
        ["server default of plans.price", "database 7, models 5"],
        "price:",
    ),
    (
        "check-missing",
        "migration",
        '    sa.CheckConstraint("price > 0", name="ck_plans_price_positive"),\n',
        "",
        "RV615",
        ["ck_plans_price_positive", "no migration creates it"],
        "CheckConstraint",
    ),
    (
        "check-differs",
        "migration",
        '"price > 0"',
        '"price > 1"',
        "RV617",
        ["ck_plans_price_positive", "price > 1", "price > 0"],
        "CheckConstraint",
    ),
    (
        "index-only-in-model",
        "migration",
        'op.create_index("ix_plans_name_active", "plans", ["name"], '
        'postgresql_where=sa.text("active"))',
        "",
        "RV608",
        ["ix_plans_name_active", "no migration creates it"],
        "sa.Index(",
    ),
    (
        "index-where-differs",
        "migration",
        ', postgresql_where=sa.text("active"))',
        ")",
        "RV610",
        ["ix_plans_name_active", "WHERE active"],
        "sa.Index(",
    ),
    (
        "enum-order",
        "migration",
        'sa.Enum("WEEKLY", "MONTHLY"',
        'sa.Enum("MONTHLY", "WEEKLY"',
        "RV620",
        ["another order", "database MONTHLY, WEEKLY"],
        "cycle: Mapped",
    ),
    (
        "enum-type-renamed",
        "migration",
        'sa.Enum("WEEKLY", "MONTHLY", name="cycle")',
        'sa.Enum("WEEKLY", "MONTHLY", name="cycle_kind")',
        "RV605",
        ["plans.cycle is enum cycle_kind in the database but enum cycle in the models"],
        "cycle: Mapped",
    ),
    (
        "enum-label-only-in-database",
        "migration",
        'sa.Enum("WEEKLY", "MONTHLY"',
        'sa.Enum("WEEKLY", "MONTHLY", "DAILY"',
        "RV619",
        ["label 'DAILY' that the model does not know"],
        "cycle: Mapped",
    ),
    (
        "column-only-in-database",
        "migration",
        '    sa.Column("code"',
        '    sa.Column("legacy", sa.Text()),\n    sa.Column("code"',
        "RV604",
        ["plans.legacy exists in the database"],
        "class Plan",
    ),
    (
        "check-only-in-database",
        "models",
        '        sa.CheckConstraint("price > 0", name="ck_plans_price_positive"),\n',
        "",
        "RV616",
        ["ck_plans_price_positive", "no model declares it"],
        "class Plan",
    ),
    (
        "unique-missing",
        "migration",
        '    sa.UniqueConstraint("code"),\n',
        "",
        "RV611",
        ["plans(code)"],
        "code: Mapped",
    ),
    (
        "type-differs",
        "migration",
        'sa.Column("name", sa.String(50)',
        'sa.Column("name", sa.String(40)',
        "RV605",
        ["VARCHAR(40)", "VARCHAR(50)"],
        "name: Mapped",
    ),
    (
        "table-no-migration",
        "models",
        "class Plan(Base):",
        'class Tag(Base):\n    __tablename__ = "tags"\n    id: Mapped[int] = '
        "mapped_column(primary_key=True)\n\n\nclass Plan(Base):",
        "RV601",
        ["table tags"],
        "class Tag",
    ),
]


@pytest.mark.parametrize(
    ("side", "old", "new", "code", "words", "line_text"),
    [pytest.param(*case[1:], id=case[0]) for case in PLANTED],
)
def test_planted_drift_is_named(tmp_path: Path, pg_server, side, old, new, code, words, line_text):
    if side == "models":
        write_plans(tmp_path, models=replaced(MODELS, old, new))
    else:
        write_plans(tmp_path, upgrade=replaced(UPGRADE, old, new))
    findings = drift(tmp_path, pg_server.url)
    assert [f.code for f in findings] == [code], [f.message for f in findings]
    finding = findings[0]
    for word in words:
        assert word in finding.message
    assert finding.help and finding.name == get_code(code).name  # type: ignore[union-attr]
    assert finding.path == tmp_path / "models.py"
    source = finding.path.read_text().splitlines()
    assert line_text in source[finding.line - 1]


@pytest.mark.parametrize(("database", "expected"), [("'US'", []), ("'CA'", ["RV607"])])
def test_a_server_default_equal_to_the_python_default_is_no_drift(
    tmp_path: Path, pg_server, database: str, expected: list[str]
):
    """What draft writes for a NOT NULL column with `default="US"`: the server default
    stays for the release still running during the deploy."""
    models = replaced(
        MODELS,
        "    code: Mapped[str]",
        '    country: Mapped[str] = mapped_column(sa.String(2), default="US")\n'
        "    code: Mapped[str]",
    )
    upgrade = replaced(
        UPGRADE,
        '    sa.Column("code", sa.String(10), nullable=False),',
        f'    sa.Column("country", sa.String(2), server_default=sa.text("{database}"), '
        "nullable=False),\n"
        '    sa.Column("code", sa.String(10), nullable=False),',
    )
    write_plans(tmp_path, models=models, upgrade=upgrade)
    findings = drift(tmp_path, pg_server.url)
    assert [f.code for f in findings] == expected, [f.message for f in findings]


def test_reference_app_has_no_drift(example_project: Path, pg_server):
    project = Project.load(example_project / "alembic.ini")
    assert check_models(project, pg_server.url) == []


def test_reference_app_enum_stored_as_values_is_caught(example_project: Path, pg18):
    """The seed's trap: switching the model to values while the type holds names."""
    models = example_project / "app" / "models.py"
    models.write_text(
        replaced(
            models.read_text(),
            'sa.Enum(BillingCycle, name="billing_cycle")',
            'sa.Enum(BillingCycle, name="billing_cycle", '
            "values_callable=lambda e: [m.value for m in e])",
        )
    )
    findings = check_models(Project.load(example_project / "alembic.ini"), pg18.url)
    assert [f.code for f in findings] == ["RV621"]
    assert "billing_cycle" in findings[0].message and "WEEKLY, MONTHLY, YEARLY" in (
        findings[0].message
    )
    assert findings[0].severity is Severity.ERROR


def test_env_include_object_is_honoured(tmp_path: Path, pg18):
    """A table env.py excludes from autogenerate is not drift."""
    upgrade = UPGRADE + 'op.create_table("audit_log", sa.Column("id", sa.Integer()))\n'
    write_plans(
        tmp_path,
        upgrade=upgrade,
        env_options="include_object=include_object, ",
        env_extra=(
            "\ndef include_object(obj, name, type_, reflected, compare_to):\n"
            '    return not (type_ == "table" and name == "audit_log")\n'
        ),
    )
    assert drift(tmp_path, pg18.url) == []
    write_plans(tmp_path / "plain", upgrade=upgrade)
    findings = drift(tmp_path / "plain", pg18.url)
    assert [f.code for f in findings] == ["RV602"]
    # no model to point at: the finding points at the migration that created the table
    assert findings[0].path == tmp_path / "plain" / "migrations" / "versions" / "a1_plans.py"
    assert "audit_log" in findings[0].path.read_text().splitlines()[findings[0].line - 1]


def test_unnamed_check_matched_by_definition(tmp_path: Path, pg_server):
    """An unnamed model CHECK matches the database's by condition (PostgreSQL names it)."""
    models = replaced(
        MODELS,
        'sa.CheckConstraint("price > 0", name="ck_plans_price_positive")',
        'sa.CheckConstraint("price > 0")',
    )
    upgrade = replaced(
        UPGRADE,
        'sa.CheckConstraint("price > 0", name="ck_plans_price_positive")',
        'sa.CheckConstraint("price>0")',
    )
    write_plans(tmp_path, models=models, upgrade=upgrade)
    assert drift(tmp_path, pg_server.url) == []


def test_autogenerated_migration_of_rich_models_is_clean(tmp_path: Path, pg_server, database_url):
    """No false positives: a migration autogenerated from models using a naming convention,
    expression / GIN / partial unique indexes, enums stored by names and by values, enum
    arrays, JSONB, identity, computed and commented columns passes check. The one finding
    is real: autogenerate never writes a column-level CHECK constraint."""
    from alembic.autogenerate import produce_migrations, render_python_code
    from alembic.runtime.migration import MigrationContext

    from revisor.db.connect import connect

    models = (ROOT / "tests" / "fixtures" / "check" / "rich_models.py").read_text()
    project = Project.load(write_project(tmp_path, models, []))
    metadata = project.metadata[0]
    with connect(database_url) as conn:  # an empty database: autogenerate writes it all
        context = MigrationContext.configure(conn, opts={"target_metadata": metadata})
        ops = produce_migrations(context, metadata)
        code = [
            "\n".join(
                line.strip()
                for line in render_python_code(o, migration_context=context).splitlines()
            )
            for o in (ops.upgrade_ops, ops.downgrade_ops)
        ]
    write_project(
        tmp_path,
        models,
        [("a1", "rich", None, "from sqlalchemy.dialects import postgresql\n" + code[0], code[1])],
    )
    findings = drift(tmp_path, pg_server.url)
    assert [(f.code, f.extra.get("constraint")) for f in findings] == [
        ("RV615", "ck_shops_rating_range")
    ], [f.message for f in findings]


def test_generated_history_clean_then_planted_model_column(tmp_path: Path, database_url):
    """A generated 40-revision history (tables with CHECK, FK, unique, enums, renames,
    widened types) compared with its own reflected schema: no drift. A column added to the
    models only is then named."""
    import sqlalchemy as sa

    from revisor import migrate
    from revisor.db.connect import connect
    from revisor.drift import CompareOptions, compare_connection
    from tests.support.history_factory import write_history

    write_history(tmp_path, 40, seed=7)
    migrate.upgrade(Project.load(tmp_path / "alembic.ini"), database_url, "heads")
    with connect(database_url) as conn:
        metadata = sa.MetaData()
        metadata.reflect(conn)
        metadata.remove(metadata.tables["alembic_version"])
        conn.rollback()
        assert compare_connection(conn, [metadata], CompareOptions()) == []
        table = sorted(metadata.tables.values(), key=lambda t: t.name)[0]
        table.append_column(sa.Column("planted_note", sa.Text()))
        findings = compare_connection(conn, [metadata], CompareOptions())
    assert [f.code for f in findings] == ["RV603"]
    assert f"{table.name}.planted_note" in findings[0].message


def test_without_probe_text_fallback(tmp_path: Path, pg18, monkeypatch: pytest.MonkeyPatch):
    """When the server refuses temporary tables (no TEMP privilege, a standby), CHECKs are
    compared by normalised text: still no false positive, still the planted difference."""
    from revisor.drift.probe import Probe

    monkeypatch.setattr(Probe, "_copy", lambda self, schema, table: None)
    write_plans(tmp_path / "clean")
    assert drift(tmp_path / "clean", pg18.url) == []
    write_plans(tmp_path / "planted", upgrade=replaced(UPGRADE, '"price > 0"', '"price > 1"'))
    assert [f.code for f in drift(tmp_path / "planted", pg18.url)] == ["RV617"]


def test_column_from_a_mixin_points_at_the_mixin(tmp_path: Path, pg18):
    models = replaced(
        MODELS,
        "class Plan(Base):",
        "class Audited:\n"
        "    updated_by: Mapped[str | None] = mapped_column(sa.String(40))\n\n\n"
        "class Plan(Audited, Base):",
    )
    write_plans(tmp_path, models=models)
    findings = drift(tmp_path, pg18.url)
    assert [f.code for f in findings] == ["RV603"]
    line = (tmp_path / "models.py").read_text().splitlines()[findings[0].line - 1]
    assert "updated_by: Mapped" in line


ONLINE_ONLY_FILTER_ENV = """\
from alembic import context

from models import Base

config = context.config
target_metadata = Base.metadata


def include_object(obj, name, type_, reflected, compare_to):
    return not (type_ == "table" and name == "audit_log")


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes["connection"]
    # As in many projects: the filter is passed only where autogenerate runs (online).
    context.configure(
        connection=connection, target_metadata=target_metadata, include_object=include_object
    )
    with context.begin_transaction():
        context.run_migrations()
"""


def test_include_object_passed_only_online_is_honoured(tmp_path: Path, pg18):
    upgrade = UPGRADE + 'op.create_table("audit_log", sa.Column("id", sa.Integer()))\n'
    write_plans(tmp_path, upgrade=upgrade)
    (tmp_path / "migrations" / "env.py").write_text(ONLINE_ONLY_FILTER_ENV)
    assert drift(tmp_path, pg18.url) == []
