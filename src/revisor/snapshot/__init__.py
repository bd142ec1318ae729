"""Catalog snapshots of a PostgreSQL schema (catalog.py) and their differences (diff.py)."""
