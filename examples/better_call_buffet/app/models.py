"""ORM models. Alembic autogenerate compares ``Base.metadata`` with the database."""

import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.enums import BillingCycle


class Vendor(Base):
    """A shop or service the user pays."""

    __tablename__ = "vendors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    created_at: Mapped[datetime.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )

    transactions: Mapped[list["Transaction"]] = relationship(back_populates="vendor")
    subscriptions: Mapped[list["Subscription"]] = relationship(back_populates="vendor")


class Transaction(Base):
    """One money movement; negative amounts are spending."""

    __tablename__ = "transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    description: Mapped[str | None] = mapped_column(sa.String(255))
    occurred_on: Mapped[datetime.date] = mapped_column(sa.Date, index=True)
    # Unnamed on purpose, as in the real app: PostgreSQL names it transactions_vendor_id_fkey
    # (revision e6995e90df34).
    vendor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vendors.id"))
    category: Mapped[str | None] = mapped_column(sa.String(50))
    created_at: Mapped[datetime.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )

    vendor: Mapped[Vendor | None] = relationship(back_populates="transactions")


class Subscription(Base):
    """A recurring charge from a vendor."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("vendors.id", name="fk_subscriptions_vendor_id_vendors")
    )
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    # SQLAlchemy's default for a Python enum stores member names: 'MONTHLY'.
    billing_cycle: Mapped[BillingCycle] = mapped_column(sa.Enum(BillingCycle, name="billing_cycle"))
    next_charge_on: Mapped[datetime.date] = mapped_column(sa.Date)
    active: Mapped[bool] = mapped_column(server_default=sa.true())
    created_at: Mapped[datetime.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )

    vendor: Mapped[Vendor] = relationship(back_populates="subscriptions")
