"""SMS: one interface, a real HTTP adapter and a development backend with an inbox page."""
