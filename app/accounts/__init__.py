"""Accounts: citizens, staff and agency users, their roles and districts."""
