"""The models and the three-revision history every env.py shape gets (tests/support/
env_shapes.py): customers and invoices with a named FK and index, then a column, then an
enum column, each with a working downgrade, so that `revisor test` and `revisor check` pass
when revisor runs them on the right database.

`schema` puts everything in a non-public schema (created by the first revision); None
leaves it to env.py (public, a tenant's search_path, or schema_translate_map).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

REVISIONS = ("5a0e00000001", "5a0e00000002", "5a0e00000003")

NAMING_CONVENTION = """{
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}"""

DECLARATIVE_MODELS = '''\
"""The app's models."""

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

{imports}
NAMING_CONVENTION = {convention}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class Customer(Base):
    __tablename__ = "customers"{table_args}

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(120))
    name: Mapped[str | None] = mapped_column(sa.String(80))


class Invoice(Base):
    __tablename__ = "invoices"{table_args}

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("{prefix}customers.id"), index=True)
    status: Mapped[str | None] = mapped_column(
        sa.Enum("draft", "paid", "void", name="invoice_status"{enum_schema})
    )
'''

FLASK_MODELS = '''\
"""The app's models (Flask-SQLAlchemy)."""

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy

NAMING_CONVENTION = {convention}

db = SQLAlchemy(metadata=sa.MetaData(naming_convention=NAMING_CONVENTION))


class Customer(db.Model):
    __tablename__ = "customers"

    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(120), nullable=False)
    name = db.Column(db.String(80))


class Invoice(db.Model):
    __tablename__ = "invoices"

    id = db.Column(db.Integer, primary_key=True)
    customer_id = db.Column(db.Integer, db.ForeignKey("customers.id"), nullable=False, index=True)
    status = db.Column(db.Enum("draft", "paid", "void", name="invoice_status"))
'''

# The model change `revisor draft` is run on: one new nullable column.
NEW_COLUMN = {
    "declarative": (
        "    name: Mapped[str | None] = mapped_column(sa.String(80))\n",
        "    phone: Mapped[str | None] = mapped_column(sa.String(30))\n",
    ),
    "flask": (
        "    name = db.Column(db.String(80))\n",
        "    phone = db.Column(db.String(30))\n",
    ),
}


def models_source(
    *, flavour: str = "declarative", schema: str | None = None, imports: str = ""
) -> str:
    """The models module: `declarative` (SQLAlchemy 2 DeclarativeBase) or `flask`
    (Flask-SQLAlchemy's db.Model). `imports` is extra source put before the models (an app
    whose models module imports its engine module)."""
    if flavour == "flask":
        assert schema is None
        return FLASK_MODELS.format(convention=NAMING_CONVENTION)
    return DECLARATIVE_MODELS.format(
        convention=NAMING_CONVENTION,
        imports=imports,
        table_args=f'\n    __table_args__ = {{"schema": "{schema}"}}' if schema else "",
        prefix=f"{schema}." if schema else "",
        enum_schema=f', schema="{schema}"' if schema else "",
    )


def add_model_column(models: Path, flavour: str = "declarative") -> None:
    """The models gain `customers.phone`: edit the module in place (fails loudly when the
    line it follows is not there exactly once)."""
    anchor, new_line = NEW_COLUMN[flavour]
    text = models.read_text()
    if text.count(anchor) != 1:
        raise AssertionError(f"{models}: expected the line {anchor!r} once")
    models.write_text(text.replace(anchor, anchor + new_line))


REVISION = '''\
"""{message}

Revision ID: {revision}
Revises: {down}
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = {revision!r}
down_revision = {down!r}
branch_labels = None
depends_on = None

{functions}
'''

SINGLE_DB = """
def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
"""

# The multidb template's revision layout (script.py.mako of `alembic init -t multidb`):
# one upgrade_<engine>/downgrade_<engine> pair per database in the ini's `databases`.
MULTI_DB = """
def upgrade(engine_name: str) -> None:
    globals()["upgrade_%s" % engine_name]()


def downgrade(engine_name: str) -> None:
    globals()["downgrade_%s" % engine_name]()


def upgrade_engine1() -> None:
{upgrade}


def downgrade_engine1() -> None:
{downgrade}


def upgrade_engine2() -> None:
    pass


def downgrade_engine2() -> None:
    pass
"""


def _steps(schema: str | None) -> list[tuple[str, str, str]]:
    """(message, upgrade body, downgrade body) of the three revisions."""
    s = f", schema={schema!r}" if schema else ""
    p = f"{schema}." if schema else ""
    create_schema = f'op.execute("CREATE SCHEMA {schema}")\n' if schema else ""
    drop_schema = f'\nop.execute("DROP SCHEMA {schema}")' if schema else ""
    return [
        (
            "create customers and invoices",
            f"""{create_schema}op.create_table(
    "customers",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("email", sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")){s},
)
op.create_table(
    "invoices",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("customer_id", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(
        ["customer_id"], ["{p}customers.id"], name=op.f("fk_invoices_customer_id_customers")
    ),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")){s},
)
op.create_index(op.f("ix_invoices_customer_id"), "invoices", ["customer_id"], unique=False{s})""",
            f"""op.drop_index(op.f("ix_invoices_customer_id"), table_name="invoices"{s})
op.drop_table("invoices"{s})
op.drop_table("customers"{s}){drop_schema}""",
        ),
        (
            "add customers.name",
            f'op.add_column("customers", sa.Column("name", sa.String(80), nullable=True){s})',
            f'op.drop_column("customers", "name"{s})',
        ),
        (
            "add invoices.status",
            f"""invoice_status = postgresql.ENUM(
    "draft", "paid", "void", name="invoice_status"{s}, create_type=False
)
invoice_status.create(op.get_bind())
op.add_column("invoices", sa.Column("status", invoice_status, nullable=True){s})""",
            f"""op.drop_column("invoices", "status"{s})
postgresql.ENUM(name="invoice_status"{s}).drop(op.get_bind())""",
        ),
    ]


def write_history(versions: Path, *, schema: str | None = None, multidb: bool = False) -> None:
    """Write the three revision files into `versions` (created if missing)."""
    versions.mkdir(parents=True, exist_ok=True)
    layout = MULTI_DB if multidb else SINGLE_DB
    down: str | None = None
    for revision, (message, upgrade, downgrade) in zip(REVISIONS, _steps(schema), strict=True):
        functions = layout.format(
            upgrade=textwrap.indent(upgrade, "    "), downgrade=textwrap.indent(downgrade, "    ")
        )
        slug = message.replace(" ", "_").replace(".", "_")
        (versions / f"{revision}_{slug}.py").write_text(
            REVISION.format(message=message, revision=revision, down=down, functions=functions)
        )
        down = revision
