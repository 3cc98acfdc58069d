"""The transparency tests' fixtures (the sample permit and its people), shared here."""

from tests.transparency.conftest import people  # noqa: F401 - a fixture, found by name
