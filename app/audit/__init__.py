"""Audit trail: an append-only, hash-chained record of state changes and personal-data views."""
