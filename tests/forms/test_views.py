"""The preview route: pages, drafts, check your answers, an idempotent submit, and JSON."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import html as lxml_html
from sqlalchemy import delete, func, select

from app.db import db
from app.forms import services
from app.forms.models import DraftStatus, FormDraft, FormSubmission
from tests.forms.conftest import APPLICANT, OWNERS, PROPERTY

START = "/forms/sample_permit/application"


def parse(response: Any) -> Any:
    return lxml_html.fromstring(response.get_data(as_text=True))


def only_draft() -> FormDraft:
    return db.session.scalars(select(FormDraft)).one()


def submissions() -> int:
    return db.session.scalar(select(func.count()).select_from(FormSubmission)) or 0


def fill_all_pages(client: FlaskClient) -> FormDraft:
    response = client.post(START, data={**APPLICANT, "_action": "continue"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    draft = only_draft()
    base = f"{START}/{draft.public_id}"
    assert response.headers["Location"] == f"{base}/2"
    response = client.post(f"{base}/2", data={**PROPERTY, "_action": "continue"})
    assert response.headers["Location"] == f"{base}/3"
    response = client.post(f"{base}/3", data={**OWNERS, "_action": "continue"})
    assert response.headers["Location"] == f"{base}/check"
    return draft


def test_the_first_page_is_served_without_creating_a_draft(client: FlaskClient) -> None:
    response = client.get(START)
    assert response.status_code == 200
    root = parse(response)
    assert root.xpath("//h1")[0].text_content() == "مشخصات متقاضی"
    assert root.xpath("//form[@data-generated-form]")[0].get("action") == START
    assert root.xpath("//input[@name='csrf_token']")
    assert "گام ۱ از ۳" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(FormDraft)) == 0


def test_errors_come_back_with_everything_typed_and_status_422(client: FlaskClient) -> None:
    typed = {
        **APPLICANT,
        "national_code": "۱۳۶۰۵۲۴۱۸۶",
        "applicant_name": "<script>alert('x')</script>",
        "mobile": "۰۹۱۴",
    }
    response = client.post(START, data={**typed, "_action": "continue"})
    assert response.status_code == 422
    root = parse(response)
    assert root.xpath("//title")[0].text_content().startswith("خطا:")
    links = root.xpath("//div[@id='error-summary']//a")
    assert [a.get("href") for a in links] == ["#field-national_code", "#field-mobile"]
    assert links[0].text_content() == "کد ملی معتبر نیست؛ رقم‌ها را دوباره بررسی کنید."
    for name, value in typed.items():
        if name != "applicant_type":
            assert root.get_element_by_id(f"field-{name}").get("value") == value
    assert root.get_element_by_id("field-applicant_type").get("checked") is not None
    assert "<script>alert" not in response.get_data(as_text=True)
    # The draft keeps them too, so leaving and coming back shows the same.
    response = client.get(START, follow_redirects=True)
    assert parse(response).get_element_by_id("field-national_code").get("value") == "۱۳۶۰۵۲۴۱۸۶"


def test_save_as_draft_and_resume(client: FlaskClient, app: Flask) -> None:
    client.post(START, data={**APPLICANT, "_action": "continue"})
    draft = only_draft()
    response = client.post(
        f"{START}/{draft.public_id}/2",
        data={"renewal_code": "9-2-15", "area": "۲۴۰٫۵", "_action": "draft"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{START}/{draft.public_id}/2"
    page = client.get(response.headers["Location"])
    assert "پاسخ‌هایتان ذخیره شد" in page.get_data(as_text=True)
    root = parse(page)
    assert root.get_element_by_id("field-renewal_code").get("value") == "9-2-15"
    assert root.get_element_by_id("field-area").get("value") == "240.5"
    assert not root.xpath("//div[@id='error-summary']")  # a draft is saved as it is
    # Coming back to the form later continues on the saved page.
    resumed = client.get(START)
    assert resumed.headers["Location"] == f"{START}/{draft.public_id}/2"
    assert only_draft().data["area"] == 240.5


def test_a_draft_is_private_to_its_session(client: FlaskClient, app: Flask) -> None:
    client.post(START, data={**APPLICANT, "_action": "continue"})
    draft = only_draft()
    stranger = app.test_client()
    assert stranger.get(f"{START}/{draft.public_id}/1").status_code == 404
    assert stranger.post(f"{START}/{draft.public_id}/1", data=APPLICANT).status_code == 404
    assert stranger.get(f"{START}/{draft.public_id}/check").status_code == 404
    assert stranger.get(START).status_code == 200  # a fresh start, not the other draft


def test_a_signed_in_user_owns_the_draft(
    client: FlaskClient, make_staff: Callable[..., Any], login_as: Callable[[Any], None]
) -> None:
    user = make_staff()
    login_as(user)
    client.post(START, data={**APPLICANT, "_action": "continue"})
    draft = only_draft()
    assert draft.owner_user_id == user.id
    assert draft.owner_session is None


def test_add_and_remove_owners_without_javascript(client: FlaskClient) -> None:
    client.post(START, data={**APPLICANT, "_action": "continue"})
    draft = only_draft()
    page3 = f"{START}/{draft.public_id}/3"
    response = client.post(page3, data={**OWNERS, "owners.1.share": "دو", "_action": "add:owners"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"{page3}#field-owners-2"
    root = parse(client.get(page3))
    assert root.get_element_by_id("field-owners-0-name").get("value") == "حسین رضایی"
    assert root.get_element_by_id("field-owners-1-share").get("value") == "دو"  # kept as typed
    assert root.get_element_by_id("field-owners-2-name").get("value") == ""
    response = client.post(
        page3, data={**OWNERS, "owners.2.name": "", "_action": "remove:owners.0"}
    )
    root = parse(client.get(page3))
    assert root.get_element_by_id("field-owners-0-name").get("value") == "زهرا رضایی"
    assert not root.xpath("//*[@id='field-owners-2-name']")


def test_check_answers_shows_every_answer_with_change_links(client: FlaskClient) -> None:
    draft = fill_all_pages(client)
    response = client.get(f"{START}/{draft.public_id}/check")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    for shown in (
        "علی کریمی",
        "پلاک ۴۲۱۷ فرعی از ۱۲۵ اصلی، بخش ۳",
        "۲۴۰٫۵ متر مربع",
        "۱۵ مهر ۱۳۹۸",
        "مسکونی",
        "سند تک‌برگ",
        "۴ دانگ",
    ):
        assert shown in text, shown
    assert "پاسخ داده نشده" in text  # optional questions left empty
    links = [a.get("href") for a in parse(response).xpath("//dd[@class='answers__change']/a")]
    assert f"{START}/{draft.public_id}/1#field-national_code" in links
    assert f"{START}/{draft.public_id}/2#field-plate" in links
    assert f"{START}/{draft.public_id}/3#field-owners-1-share" in links
    assert "#field-legal_id" not in " ".join(links)  # a question that did not apply


def test_submit_is_idempotent(client: FlaskClient) -> None:
    draft = fill_all_pages(client)
    token = draft.submission_token
    first = client.post(f"{START}/{draft.public_id}/submit", data={"submission_token": token})
    again = client.post(f"{START}/{draft.public_id}/submit", data={"submission_token": token})
    assert first.status_code == again.status_code == 303
    assert (
        first.headers["Location"] == again.headers["Location"] == f"{START}/{draft.public_id}/done"
    )
    assert submissions() == 1
    submission = db.session.scalars(select(FormSubmission)).one()
    assert submission.data["owners"][1]["share"] == 2
    assert only_draft().status == DraftStatus.SUBMITTED
    done = client.get(first.headers["Location"])
    assert submission.reference in done.get_data(as_text=True)
    # A refresh of the confirmation, or going back to a page, never sends again.
    assert client.get(f"{START}/{draft.public_id}/done").status_code == 200
    assert client.get(f"{START}/{draft.public_id}/3").headers["Location"].endswith("/done")
    assert (
        client.post(f"{START}/{draft.public_id}/3", data=OWNERS)
        .headers["Location"]
        .endswith("/done")
    )
    assert submissions() == 1
    # The next visit starts a new, empty draft.
    assert client.get(START).status_code == 200


def test_submit_refuses_a_foreign_token_and_incomplete_answers(client: FlaskClient) -> None:
    client.post(START, data={**APPLICANT, "_action": "continue"})
    draft = only_draft()
    url = f"{START}/{draft.public_id}/submit"
    assert client.post(url, data={"submission_token": "guess"}).status_code == 400
    response = client.post(url, data={"submission_token": draft.submission_token})
    assert response.status_code == 422
    hrefs = [a.get("href") for a in parse(response).xpath("//div[@id='error-summary']//a")]
    assert f"{START}/{draft.public_id}/2#field-plate" in hrefs
    assert f"{START}/{draft.public_id}/3#field-owners" in hrefs
    assert submissions() == 0


@pytest.fixture
def committed(app: Flask) -> Iterator[None]:
    yield
    db.session.rollback()
    db.session.execute(delete(FormSubmission))
    db.session.execute(delete(FormDraft))
    db.session.commit()


@pytest.mark.requires_commit
@pytest.mark.usefixtures("committed")
def test_a_racing_second_submit_is_refused_by_the_database(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    draft = fill_all_pages(client)
    url = f"{START}/{draft.public_id}/submit"
    assert client.post(url, data={"submission_token": draft.submission_token}).status_code == 303
    # The second request does not see the first one's submission (as when both pass the
    # lock at once) and marks the draft open again: only the unique constraints stop it.
    monkeypatch.setattr(services, "find_submission", lambda _draft: None)
    db.session.execute(FormDraft.__table__.update().values(status=DraftStatus.OPEN.name))
    db.session.commit()
    response = client.post(url, data={"submission_token": draft.submission_token})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/done")
    assert submissions() == 1


# --- JSON -----------------------------------------------------------------------------------------


def test_definitions_are_served_as_json_in_each_language(client: FlaskClient) -> None:
    fa = client.get("/api/v1/forms/sample_permit/application?lang=fa").get_json()
    en = client.get("/api/v1/forms/sample_permit/application?lang=en").get_json()
    assert fa["title"] == "درخواست پروانه ساختمانی (نمونه)"
    assert fa["dir"] == "rtl"
    assert en["title"] == "Building permit application (sample)"
    assert en["dir"] == "ltr"
    assert en["schema"]["properties"]["national_code"]["title"] == "National code"
    assert fa["schema"]["properties"]["national_code"]["description"] == "۱۰ رقم، روی کارت ملی"
    assert (
        en["schema"]["properties"]["applicant_type"]["oneOf"][1]["title"]
        == "A legal person (company or organisation)"
    )
    assert (
        en["schema"]["properties"]["owners"]["items"]["properties"]["share"]["title"]
        == "Share (dang)"
    )
    assert en["ui"]["ui:pages"][2]["title"] == "Owners and documents"
    assert fa["messages"]["applicant_type"]["required"] == "بگویید متقاضی شخص حقیقی است یا حقوقی."
    assert fa["version"] == en["version"]
    assert re.fullmatch("[0-9a-f]{64}", fa["version"])
    assert "sample_permit/application" in client.get("/api/v1/forms").get_json()["forms"]


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/v1/forms/sample_permit/nothing", 404),
        ("/api/v1/forms/sample_permit/application?lang=de", 400),
        ("/api/v1/forms/..%2F..%2Fetc/passwd", 404),
        ("/forms/Sample/Application", 404),
        ("/forms/sample_permit/application/not-a-draft/1", 404),
    ],
)
def test_unknown_forms_and_languages(client: FlaskClient, url: str, status: int) -> None:
    assert client.get(url).status_code == status


def test_the_index_lists_every_form(client: FlaskClient) -> None:
    text = client.get("/forms/").get_data(as_text=True)
    for key in ("application", "review", "correction", "escalation"):
        assert f"/forms/sample_permit/{key}" in text
