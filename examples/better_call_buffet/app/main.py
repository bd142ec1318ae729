"""HTTP API: ``uvicorn app.main:app``."""

from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import get_session
from app.models import Subscription, Transaction, Vendor
from app.schemas import SubscriptionOut, TransactionIn, TransactionOut, VendorOut

app = FastAPI(title="Better Call Buffet")
DbSession = Annotated[Session, Depends(get_session)]


@app.get("/vendors", response_model=list[VendorOut])
def list_vendors(session: DbSession) -> list[Vendor]:
    return list(session.scalars(select(Vendor).order_by(Vendor.name)))


@app.post("/transactions", response_model=TransactionOut, status_code=201)
def create_transaction(body: TransactionIn, session: DbSession) -> Transaction:
    if body.vendor_id is not None and session.get(Vendor, body.vendor_id) is None:
        raise HTTPException(status_code=404, detail=f"vendor {body.vendor_id} not found")
    transaction = Transaction(**body.model_dump())
    session.add(transaction)
    session.commit()
    return transaction


@app.get("/subscriptions", response_model=list[SubscriptionOut])
def list_subscriptions(session: DbSession, active: bool | None = None) -> list[Subscription]:
    query = select(Subscription).order_by(Subscription.next_charge_on)
    if active is not None:
        query = query.where(Subscription.active.is_(active))
    return list(session.scalars(query))
