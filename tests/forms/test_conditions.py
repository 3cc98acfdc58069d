"""Conditional questions decided on the server: if/then/else, dependentRequired and oneOf."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from lxml import html as lxml_html
from werkzeug.datastructures import MultiDict

from app.forms.definitions import FormDefinition
from app.forms.normalise import normalise
from app.forms.rendering import answer_sections, render_page
from app.forms.validation import validate
from tests.forms.conftest import APPLICANT

Posted = Callable[..., MultiDict[str, str]]


def page_one(form: FormDefinition, data: dict[str, Any]) -> Any:
    return lxml_html.fromstring(f"<div>{render_page(form, 0, data=data)}</div>")


def test_a_natural_person_needs_a_national_code_not_a_legal_id(
    application: FormDefinition, posted: Posted
) -> None:
    data = normalise(application, posted(APPLICANT, national_code=""), page=0)
    errors = validate(application, data, page=0)
    assert errors == {"national_code": "کد ملی را وارد کنید."}


def test_a_legal_person_needs_the_legal_id_and_name_instead(
    application: FormDefinition, posted: Posted
) -> None:
    data = normalise(application, posted(APPLICANT, applicant_type="legal"), page=0)
    assert "national_code" not in data  # an answer that no longer applies is dropped
    errors = validate(application, data, page=0)
    assert list(errors) == ["legal_id", "company_name"]
    assert errors["legal_id"] == "شناسه ملی را وارد کنید."
    data = normalise(
        application,
        posted(
            APPLICANT, applicant_type="legal", legal_id="۱۰۸۶۲۱۳۴۵۰۷", company_name="نمونه‌سازان آذر"
        ),
        page=0,
    )
    assert validate(application, data, page=0) == {}
    assert data["legal_id"] == "10862134507"


def test_both_branches_render_for_the_browser_to_switch_with_notes_for_no_javascript(
    application: FormDefinition,
) -> None:
    root = page_one(application, {"applicant_type": "natural"})
    national = root.xpath("//div[@data-field='national_code']")[0]
    legal = root.xpath("//div[@data-field='legal_id']")[0]
    assert "field--inactive" not in national.get("class")
    assert "field--inactive" in legal.get("class")
    test = json.loads(legal.get("data-show-if"))
    assert test == {"any": [{"all": [{"field": "applicant_type", "in": ["legal"]}]}]}
    note = legal.xpath(".//div[@class='field__condition']")[0].text_content()
    assert (
        note
        == "فقط اگر پاسخ «متقاضی کیست؟» «شخص حقوقی (شرکت یا سازمان)» است به این پرسش پاسخ دهید."
    )


def test_a_condition_decided_on_an_earlier_page_is_applied_by_the_server(
    branches: FormDefinition, posted: Posted
) -> None:
    # In this form everything is on one page; render only the basement area's page slice.
    data = normalise(branches, posted(kind="house", bedrooms="2", has_basement="no"))
    assert "basement_area" not in data
    markup = str(render_page(branches, data=data))
    assert "field-basement_area" in markup  # the controlling question is on the same page
    data = normalise(branches, posted(kind="house", bedrooms="2", has_basement="yes"))
    assert validate(branches, data) == {"basement_area": "«مساحت زیرزمین» را وارد کنید."}


def test_dependent_required(application: FormDefinition, posted: Posted) -> None:
    data = normalise(application, posted(APPLICANT, email="a@example.ir"), page=0)
    assert validate(application, data, page=0) == {
        "email_notices": "برای «اطلاع‌رسانی‌ها به رایانامه هم فرستاده شود؟» یک گزینه را انتخاب کنید."
    }
    data = normalise(application, posted(APPLICANT, email_notices="yes"), page=0)
    assert "email_notices" not in data  # only asked when an email is given
    assert validate(application, data, page=0) == {}


def test_one_of_branches_show_and_require_their_own_fields(
    branches: FormDefinition, posted: Posted
) -> None:
    data = normalise(branches, posted(kind="shop", bedrooms="3"))
    assert "bedrooms" not in data
    assert validate(branches, data) == {"trade": "«صنف» را وارد کنید."}
    data = normalise(branches, posted(kind="house", trade="نانوایی"))
    assert validate(branches, data) == {"bedrooms": "«اتاق خواب» را وارد کنید."}
    assert validate(branches, normalise(branches, posted(kind="house", bedrooms="۲"))) == {}
    assert validate(branches, {}) == {"kind": "برای «نوع» یک گزینه را انتخاب کنید."}


def test_check_answers_leaves_out_questions_that_do_not_apply(application: FormDefinition) -> None:
    data = {"applicant_type": "legal", "legal_id": "10862134507", "national_code": "1360524185"}
    labels = [row.label for row in answer_sections(application, data)[0].rows]
    assert "شناسه ملی شخص حقوقی" in labels
    assert "کد ملی" not in labels
