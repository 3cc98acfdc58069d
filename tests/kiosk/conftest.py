"""The kiosk tests use the citizens' helpers: fresh rate limits, dev-inbox codes, switching user."""

from tests.citizens.conftest import _fresh_limits, field_errors, last_code, switch_to

__all__ = ["_fresh_limits", "field_errors", "last_code", "switch_to"]
