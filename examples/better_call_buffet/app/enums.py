"""Python enums mapped to PostgreSQL enum types."""

import enum


class BillingCycle(enum.Enum):
    """How often a subscription charges.

    Mapped with ``sa.Enum(BillingCycle)``, so PostgreSQL stores the member NAMES
    (``MONTHLY``), not the values (``monthly``). Changing either side without a
    data migration is the enum trap the team's checklist warns about.
    """

    WEEKLY = "weekly"
    MONTHLY = "monthly"
    YEARLY = "yearly"
