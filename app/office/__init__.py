"""The back office: reviewers' inbox, task pages, corrections, notes and escalation."""
