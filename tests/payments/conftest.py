from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from app.accounts.models import User
from tests.fees.support import people as make_people


@pytest.fixture
def people(app: Flask, make_staff: Callable[..., User]) -> dict[str, Any]:
    return make_people(make_staff)
