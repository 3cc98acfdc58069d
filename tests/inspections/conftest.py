"""The office fixtures (people, filed cases) for the inspection tests."""

from tests.office.conftest import filed, in_request, people, sign_in  # noqa: F401
