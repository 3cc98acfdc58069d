"""Kiosk mode for the office terminals, and filing assisted by a counter clerk."""
