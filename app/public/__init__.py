"""Public pages: home, health check; no sign-in needed."""
