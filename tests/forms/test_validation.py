"""Cross-field rules and messages: shares add up to 6, dates in order, both languages."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask_babel import force_locale
from freezegun import freeze_time
from werkzeug.datastructures import MultiDict

from app.forms.definitions import FormDefinition
from app.forms.normalise import normalise
from app.forms.validation import validate
from tests.forms.conftest import APPLICANT, OWNERS, PROPERTY

Posted = Callable[..., MultiDict[str, str]]


def test_the_complete_sample_application_is_valid(
    application: FormDefinition, posted: Posted
) -> None:
    data = normalise(application, posted(APPLICANT, PROPERTY, OWNERS))
    assert validate(application, data) == {}
    assert data["area"] == 240.5
    assert data["plate"] == {"section": "3", "main": "125", "sub": "4217"}
    assert data["owners"][0] == {"name": "حسین رضایی", "national_code": "1375903381", "share": 4}
    # The process reads these names (fee table: usage, area; certificate: applicant_name).
    assert {"usage", "area", "applicant_name"} <= set(data)


@pytest.mark.parametrize(
    ("shares", "total"),
    [(("4", "1"), "۵"), (("۴", "۲٫۵"), "۶٫۵"), (("3.33", "2.66"), "۵٫۹۹")],
)
def test_owners_shares_must_add_up_to_six_dang(
    application: FormDefinition, posted: Posted, shares: tuple[str, str], total: str
) -> None:
    owners = dict(OWNERS, **{"owners.0.share": shares[0], "owners.1.share": shares[1]})
    data = normalise(application, posted(owners), page=2)
    assert validate(application, data, page=2) == {
        "owners": f"جمع سهم مالکان {total} دانگ است؛ باید روی هم ۶ دانگ (ششدانگ) باشد."
    }


def test_fractional_shares_that_add_up_exactly_pass(
    application: FormDefinition, posted: Posted
) -> None:
    owners = dict(OWNERS, **{"owners.0.share": "3.33", "owners.1.share": "2.67"})
    assert validate(application, normalise(application, posted(owners), page=2), page=2) == {}


def test_the_sum_waits_until_every_share_is_valid(
    application: FormDefinition, posted: Posted
) -> None:
    owners = dict(OWNERS, **{"owners.1.share": "دو"})
    errors = validate(application, normalise(application, posted(owners), page=2), page=2)
    assert errors == {"owners.1.share": "سهم مالکیت باید عدد باشد، مانند ۲ یا ۲٫۵."}


def test_dates_in_order(widgets: FormDefinition, posted: Posted) -> None:
    base = {
        "name": "x",
        "rooms": "1",
        "colour": "red",
        "agree": "no",
        "heirs.0.heir_name": "x",
        "heirs.0.share": "6",
    }
    dates = {
        "start_date__day": "10", "start_date__month": "7", "start_date__year": "1404",
        "end_date__day": "9", "end_date__month": "7", "end_date__year": "1404",
    }  # fmt: skip
    errors = validate(widgets, normalise(widgets, posted(base, dates)))
    assert errors == {"end_date": "«تاریخ پایان» نباید پیش از «تاریخ شروع» باشد."}
    with force_locale("en"):
        assert validate(widgets, normalise(widgets, posted(base, dates)))["end_date"] == (
            "«End date» must not be before «Start date»."
        )
    dates["end_date__day"] = "10"
    assert validate(widgets, normalise(widgets, posted(base, dates))) == {}


@freeze_time("2025-09-23 12:00:00")  # 1404-07-01 in Tehran
def test_a_deed_date_cannot_be_in_the_future(application: FormDefinition, posted: Posted) -> None:
    tomorrow = dict(PROPERTY, deed_date__day="2", deed_date__month="7", deed_date__year="1404")
    errors = validate(application, normalise(application, posted(tomorrow), page=1), page=1)
    assert errors == {"deed_date": "«تاریخ صدور سند» نمی‌تواند در آینده باشد."}
    today = dict(PROPERTY, deed_date__day="1", deed_date__month="7", deed_date__year="1404")
    assert validate(application, normalise(application, posted(today), page=1), page=1) == {}


def test_every_error_has_a_persian_and_an_english_message(
    application: FormDefinition, posted: Posted
) -> None:
    bad = posted(
        applicant_type="natural", national_code="۱۳۶۰۵۲۴۱۸۶", applicant_name="ع", mobile="0914",
        postal_code="12", email="x@", **{"plate.section": "0", "plate.main": "a"}, renewal_code="1-2",
        usage="industrial", area="-3", floors="40", deed_type="castle", deed_date__day="40",
        deed_date__month="1", deed_date__year="1400", estimated_cost="1.5", notes="ن" * 1001,
        **{"owners.0.name": "", "owners.0.national_code": "1111111111", "owners.0.share": "8"},
    )  # fmt: skip
    data = normalise(application, bad)
    persian = validate(application, data)
    with force_locale("en"):
        english = validate(application, data)
    assert list(persian) == list(english)
    assert len(persian) == 19  # every field above, each with its own message
    for path in persian:
        assert persian[path] != english[path], path
        assert any("\u0600" <= ch <= "\u06ff" for ch in persian[path]), path
        assert english[path].isascii() or "«" in english[path], path
        for jsonschema_default in (
            "is not valid under",
            "is a required property",
            "is not one of",
            "does not match",
        ):
            assert jsonschema_default not in english[path]


def test_errors_are_ordered_as_the_form_asks(application: FormDefinition, posted: Posted) -> None:
    owners = {
        "owners.0.name": "",
        "owners.0.national_code": "1",
        "owners.1.name": "",
        "owners.1.national_code": "",
    }
    errors = validate(application, normalise(application, posted(owners), page=2), page=2)
    assert list(errors)[:4] == [
        "owners.0.name",
        "owners.0.national_code",
        "owners.0.share",
        "owners.1.name",
    ]


def test_a_form_message_overrides_the_default(application: FormDefinition) -> None:
    assert (
        validate(application, {}, page=0)["applicant_type"]
        == "بگویید متقاضی شخص حقیقی است یا حقوقی."
    )
    with force_locale("en"):
        assert validate(application, {}, page=0)["applicant_type"] == (
            "Say whether the applicant is a natural or a legal person."
        )


def test_wrong_types_in_saved_data_give_messages_not_crashes(application: FormDefinition) -> None:
    data = {
        "applicant_type": 5,
        "applicant_name": ["x"],
        "mobile": None,
        "owners": "many",
        "area": True,
    }
    errors = validate(application, data)
    assert {"applicant_type", "applicant_name", "mobile", "owners", "area"} <= set(errors)
