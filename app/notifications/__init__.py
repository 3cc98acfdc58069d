"""Notifications: the outbox of messages to citizens and staff, written with each case change."""
