"""Fixtures for generated forms: the showcase form, the widget fixtures, posted data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict

from app.forms.definitions import FormDefinition, load_form

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOOD_FORMS = FIXTURES / "good" / "forms"

#: A complete, valid application (domain.md §9, case 1) as a browser posts it, page by page.
APPLICANT = {
    "applicant_type": "natural",
    "national_code": "1360524185",
    "applicant_name": "علی کریمی",
    "mobile": "09140001001",
    "postal_code": "5166614776",
}
PROPERTY = {
    "plate.section": "3",
    "plate.main": "125",
    "plate.sub": "4217",
    "renewal_code": "9-2-15-37-1-0-0",
    "usage": "residential",
    "area": "240.50",
    "floors": "5",
    "deed_type": "single_sheet",
    "deed_date__day": "15",
    "deed_date__month": "7",
    "deed_date__year": "1398",
}
OWNERS = {
    "owners.0.name": "حسین رضایی",
    "owners.0.national_code": "1375903381",
    "owners.0.share": "4",
    "owners.1.name": "زهرا رضایی",
    "owners.1.national_code": "1380335124",
    "owners.1.share": "2",
}


@pytest.fixture
def request_context(app: Flask) -> Iterator[None]:
    """A request context in Persian (the default locale)."""
    with app.test_request_context("/"):
        yield


@pytest.fixture
def in_english(request_context: None) -> Iterator[None]:
    with force_locale("en"):
        yield


@pytest.fixture
def application(request_context: None) -> FormDefinition:
    return load_form("sample_permit/application")


@pytest.fixture
def widgets(request_context: None) -> FormDefinition:
    return load_form("demo/widgets", GOOD_FORMS)


@pytest.fixture
def branches(request_context: None) -> FormDefinition:
    return load_form("demo/branches", GOOD_FORMS)


@pytest.fixture
def posted() -> Callable[..., MultiDict[str, str]]:
    """Build posted form data: posted({"a": "1"}, b=["x", "y"])."""

    def build(*mappings: dict[str, Any], **fields: Any) -> MultiDict[str, str]:
        merged: dict[str, Any] = {}
        for mapping in [*mappings, fields]:
            merged.update(mapping)  # later answers replace earlier ones
        data: MultiDict[str, str] = MultiDict()
        for key, value in merged.items():
            for item in value if isinstance(value, list) else [value]:
                data.add(key, item)
        return data

    return build
