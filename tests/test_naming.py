"""One naming function for draft, `review --fix` and RV102: the name SQLAlchemy gives.

The proof that matters: after `review --fix` names a migration's constraints, the names
are exactly the ones SQLAlchemy gives the same constraints in the models (so autogenerate
and `revisor check` see no difference), for every token SQLAlchemy supports.
"""

from __future__ import annotations

import ast
import re
import runpy
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from revisor.cli import app
from revisor.db.url import DatabaseUrl
from revisor.naming import (
    SEED_CONVENTION,
    ConstraintShape,
    ConventionNotApplicable,
    constraint_name,
    final_name,
)
from revisor.review.rule import get_rule
from tests.support.draft_projects import MODELS_HEADER, DraftScenario, write_project

ROOT = Path(__file__).resolve().parents[1]

# Models: a composite foreign key, a composite unique constraint and a CHECK, so the
# N-column and referred-column tokens have something to join.
MODELS = """
Base.metadata.naming_convention = {convention}


class Vendor(Base):
    __tablename__ = "vendors"
    id: Mapped[int] = mapped_column(primary_key=True)
    region: Mapped[str] = mapped_column(sa.String(2), primary_key=True)


class Transaction(Base):
    __tablename__ = "{table}"
    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int]
    region: Mapped[str] = mapped_column(sa.String(2))
    amount: Mapped[int]
    __table_args__ = (
        sa.ForeignKeyConstraint(["vendor_id", "region"], ["vendors.id", "vendors.region"]),
        sa.UniqueConstraint("vendor_id", "amount"),
        sa.CheckConstraint("amount > 0"{check_name}),
    )
"""

MIGRATION = '''
"""add constraints"""
from alembic import op

revision = "a1"
down_revision = None


def upgrade():
    op.create_foreign_key(
        None, "{table}", "vendors", ["vendor_id", "region"], ["id", "region"]
    )
    op.create_unique_constraint(None, "{table}", ["vendor_id", "amount"])
    op.create_check_constraint(None, "{table}", "amount > 0")


def downgrade():
    op.drop_constraint(None, "{table}", type_="check")
    op.drop_constraint(None, "{table}", type_="unique")
    op.drop_constraint(None, "{table}", type_="foreignkey")
'''

CONVENTIONS = {
    # the issue's: draft wrote fk_..._vendors_id, review --fix fell back to fk_<t>_vendor_id
    "referred-column": {
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"
        "_%(referred_column_0_name)s",
    },
    "all-columns": {
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    },
    "labels-and-keys": {
        "fk": "fk_%(column_0_label)s_%(referred_table_name)s",
        "uq": "%(column_0_N_label)s_key",
        "ck": "%(table_name)s_%(constraint_name)s_check",
    },
    "keys": {"fk": "%(column_0_N_key)s_fkey", "uq": "uq_%(column_0_key)s_%(column_1_key)s"},
    "callable-token": {
        "fk": "fk_%(initials)s_%(referred_table_name)s",
        "uq": "uq_%(initials)s_%(column_0_name)s",
        "initials": "CALLABLE",
    },
    "none": {},
}
CALLABLE = '(lambda constraint, table: "".join(w[0] for w in table.name.split("_")))'


def _models(convention: dict[str, str], table: str) -> str:
    literal = repr(convention).replace(repr("CALLABLE"), CALLABLE)
    uses_name = "%(constraint_name)" in {**SEED_CONVENTION, **convention}["ck"]
    return MODELS.format(
        convention=literal, table=table, check_name=', name="amount"' if uses_name else ""
    )


def _names(path: Path) -> list[str | None]:
    """The first argument of every op.create_*/drop_constraint call, in order."""
    names: list[str | None] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr.startswith(("create_", "drop_constraint"))
            and node.args
        ):
            first = node.args[0]
            if isinstance(first, ast.Call) and first.args:  # op.f("name")
                first = first.args[0]
            names.append(first.value if isinstance(first, ast.Constant) else "?")
    return sorted(names, key=str)


@pytest.mark.parametrize("table", ["account_transactions", "t" * 58])
@pytest.mark.parametrize("which", CONVENTIONS)
def test_review_fix_writes_the_names_sqlalchemy_gives_the_models(
    tmp_path: Path, cli: CliRunner, which: str, table: str
) -> None:
    convention = CONVENTIONS[which]
    write_project(
        tmp_path,
        _models(convention, table),
        migrations={"a1_add.py": MIGRATION.format(table=table)},
    )
    result = cli.invoke(
        app, ["review", "--fix", "--select", "RV101", "-c", str(tmp_path / "alembic.ini")]
    )
    assert result.exit_code == 0, result.output

    # The same models with the convention revisor applies (the seed's templates for the
    # kinds the project's leaves out), named by SQLAlchemy itself.
    (tmp_path / "expected.py").write_text(
        MODELS_HEADER + _models({**SEED_CONVENTION, **convention}, table)
    )
    models = runpy.run_path(str(tmp_path / "expected.py"))
    model_table = models["Base"].metadata.tables[table]
    expected = sorted(
        str(final_name(c))
        for c in model_table.constraints
        if isinstance(c, sa.ForeignKeyConstraint | sa.UniqueConstraint | sa.CheckConstraint)
    )
    assert all(len(name) <= 63 for name in expected)
    written = _names(tmp_path / "migrations" / "versions" / "a1_add.py")
    assert written == sorted(expected * 2)  # each name in the upgrade and the downgrade


def test_a_template_sqlalchemy_cannot_apply_is_said_not_replaced(
    tmp_path: Path, cli: CliRunner
) -> None:
    """A custom token that reads what only the models have (the table's `info`): no fix
    with some other name, the reason instead."""
    models = MODELS.format(
        convention='{"fk": "fk_%(code)s_%(column_0_name)s", '
        '"code": lambda constraint, table: table.info["code"]}',
        table="payments",
        check_name="",
    ).replace('sa.CheckConstraint("amount > 0"),', '{"info": {"code": "pay"}},')
    write_project(tmp_path, models, migrations={"a1_add.py": MIGRATION.format(table="payments")})
    result = cli.invoke(app, ["review", "--select", "RV101", "-c", str(tmp_path / "alembic.ini")])
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "note:" not in output  # the models loaded
    assert (
        "(no fix: naming_convention['fk'] = 'fk_%(code)s_%(column_0_name)s' cannot name it: "
        "KeyError: 'code')" in output
    )
    assert "fk_payments" not in output


def test_exclusion_constraints_get_no_invented_name() -> None:
    with pytest.raises(ConventionNotApplicable):
        constraint_name(ConstraintShape("exclude", "rooms", ("during",)))


def test_seed_style_is_the_seed() -> None:
    fk = ConstraintShape(
        "foreignkey",
        "transactions",
        ("vendor_id",),
        referred_table="vendors",
        referred_columns=("id",),
    )
    assert constraint_name(fk) == "fk_transactions_vendor_id"
    check = ConstraintShape("check", "transactions", condition='"Fee" >= 0 AND amount > fee')
    assert constraint_name(check) == "ck_transactions_Fee_amount_fee"


@pytest.fixture
def scenario_18(tmp_path: Path, database_url_18: DatabaseUrl) -> DraftScenario:
    return DraftScenario(tmp_path / "proj", database_url_18)


def test_draft_and_review_fix_give_the_same_names(
    scenario_18: DraftScenario, cli: CliRunner
) -> None:
    """Autogenerate names the foreign key by the project's convention (op.f), draft names
    the unique constraint the convention leaves out; `review --fix` on the same file with
    every name put back to None writes the same names."""
    convention = CONVENTIONS["referred-column"]
    models = _models(convention, "account_transactions")
    scenario_18.start(models.split("    __table_args__")[0])
    drafted = scenario_18.draft(models)
    assert drafted.path is not None
    text = drafted.path.read_text()
    named = _names(drafted.path)
    assert named == sorted(
        ["fk_account_transactions_vendor_id_vendors_id", "uq_account_transactions_vendor_id_amount"]
        * 2
    ), text
    unnamed = text
    for name in set(named):
        unnamed = unnamed.replace(f"op.f('{name}')", "None").replace(f"'{name}'", "None")
    drafted.path.write_text(unnamed)
    result = cli.invoke(
        app, ["review", "--fix", "--select", "RV101", "-c", str(scenario_18.root / "alembic.ini")]
    )
    assert result.exit_code == 0, result.output
    assert _names(drafted.path) == named


def test_rv102_suggests_revisors_own_convention() -> None:
    """RV102's snippet and help give the convention --fix and draft name with."""
    rule = get_rule("RV102")
    assert rule is not None
    models = next(code for info, code in rule.code_blocks("Use instead") if "models" in info)
    namespace: dict[str, object] = {}
    exec(models, namespace)
    assert dict(namespace["metadata"].naming_convention) == SEED_CONVENTION  # type: ignore[attr-defined]


def test_example_readme_gives_the_name_review_fix_writes(tmp_path: Path, cli: CliRunner) -> None:
    readme = (ROOT / "examples" / "better_call_buffet" / "README.md").read_text()
    promised = re.search(r"revisor review --fix\s+# names both (\w+)", readme)
    assert promised, "the README's review --fix line"
    project = tmp_path / "app"
    shutil.copytree(
        ROOT / "examples" / "better_call_buffet",
        project,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    result = cli.invoke(app, ["review", "--diff", "-c", str(project / "alembic.ini")])
    created = re.findall(r'^\+\s+op\.create_foreign_key\("(\w+)"', result.output, re.M)
    dropped = re.findall(r'^\+\s+op\.drop_constraint\("(\w+)"', result.output, re.M)
    assert created == dropped == [promised.group(1)], result.output

    # ... which is also the name RV102's suggested convention gives the model's foreign key
    metadata = sa.MetaData(naming_convention=SEED_CONVENTION)
    sa.Table("vendors", metadata, sa.Column("id", sa.Integer, primary_key=True))
    transactions = sa.Table(
        "transactions", metadata, sa.Column("vendor_id", sa.ForeignKey("vendors.id"))
    )
    assert [final_name(fk) for fk in transactions.foreign_key_constraints] == [promised.group(1)]
