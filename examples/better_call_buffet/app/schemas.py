"""Request and response bodies for the API."""

import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from app.enums import BillingCycle


class VendorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str


class TransactionIn(BaseModel):
    amount: Decimal
    description: str | None = None
    occurred_on: datetime.date
    vendor_id: int | None = None
    category: str | None = None


class TransactionOut(TransactionIn):
    model_config = ConfigDict(from_attributes=True)

    id: int


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    vendor_id: int
    amount: Decimal
    billing_cycle: BillingCycle
    next_charge_on: datetime.date
    active: bool
