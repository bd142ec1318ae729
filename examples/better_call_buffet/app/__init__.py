"""Better Call Buffet: a small personal-finance app (vendors, transactions, subscriptions)."""
