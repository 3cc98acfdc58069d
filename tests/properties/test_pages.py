"""The staff property page and search: district scoping, Persian digits, audit, query count."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import g
from flask.testing import FlaskClient
from sqlalchemy import event, select

from app.accounts.models import User
from app.audit.models import AuditEntry
from app.cases.models import Case
from app.certificates import services as certificates
from app.db import db
from app.properties.models import Property
from app.properties.zoning import put_on_record

from .conftest import PLATE, call, issue

FULL = {
    "plate": PLATE,
    "renewal_code": "9-2-15-37-1-0-0",
    "postal_code": "5153715311",
    "address": "تبریز، خیابان امام، کوچه ۱۲",
    "area": 240.5,
    "land_use": "residential",
}


@contextmanager
def counted() -> Iterator[list[str]]:
    """Record every SQL statement run inside the block."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def sign_in(client: FlaskClient, user: User) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    g.pop("_login_user", None)


def _property(new_case: Callable[..., Case], cases: int = 1) -> Property:
    result: dict[str, Any] = {}
    for _ in range(cases):
        result = call("register_property", FULL, new_case())
    prop = db.session.get(Property, result["property_id"])
    assert prop is not None
    return prop


def test_the_page_shows_the_record_cases_documents_violations_and_inquiries(
    people: dict[str, Any], new_case: Callable[..., Case], client: FlaskClient
) -> None:
    permit_case, inquiry = new_case(), new_case()
    call("register_property", FULL, permit_case)
    prop = _property(lambda: inquiry)
    put_on_record(prop.key, {"zone": "R-2", "max_floors": 4, "setback_m": 3.5})
    permit = issue(permit_case, "building_permit")
    revoked = issue(permit_case, "completion_certificate")
    certificates.revoke_document(revoked, reason="خطا", now=datetime.now(UTC))
    call(
        "record_violation",
        {"description": "طبقه اضافه", "kind": "extra_floor_area", "area": 35.0},
        permit_case,
    )
    inquiry.process_key = "property_inquiry"
    answer = issue(inquiry, "property_inquiry_answer", valid_days=90)
    db.session.flush()
    sign_in(client, people["expert"])

    response = client.get(f"/office/properties/{prop.id}")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "پلاک ۴۲۱۷ فرعی از ۱۲۵ اصلی، بخش ۳" in html
    assert "۹-۲-۱۵-۳۷-۱-۰-۰" in html
    assert "۵۱۵۳۷-۱۵۳۱۱" in html
    assert FULL["address"] in html
    assert html.count('class="case-row"') == 2
    assert permit_case.tracking_code not in html  # digits are shown in Persian
    assert permit.document_number not in html.replace(f"/verify/{permit.document_number}", "")
    assert f"/verify/{permit.document_number}" in html
    assert f"/verify/{answer.document_number}" in html
    assert html.count('class="document-row"') == 3
    assert "document-standing--revoked" in html
    assert html.count('class="violation-row"') == 1
    assert html.count('class="inquiry-row"') == 1
    assert "R-۲" in html
    assert "۳٫۵" in html or "۳.۵" in html


def test_another_districts_property_is_not_found(
    people: dict[str, Any], new_case: Callable[..., Case], client: FlaskClient
) -> None:
    prop = _property(new_case)
    sign_in(client, people["elsewhere"])
    assert client.get(f"/office/properties/{prop.id}").status_code == 404
    assert client.get("/office/properties/?q=3/125/4217").status_code == 200
    assert 'class="property-row"' not in client.get("/office/properties/?q=3/125/4217").text


def test_citizens_may_not_open_the_register(
    people: dict[str, Any], new_case: Callable[..., Case], client: FlaskClient
) -> None:
    prop = _property(new_case)
    sign_in(client, people["citizen"])
    assert client.get(f"/office/properties/{prop.id}").status_code == 403


def test_search_by_plate_key_renewal_and_postal_code_in_any_digits(
    people: dict[str, Any], new_case: Callable[..., Case], client: FlaskClient
) -> None:
    prop = _property(new_case)
    put_on_record("3/88/1902", {"zone": "C-1"})
    sign_in(client, people["expert"])
    link = f"/office/properties/{prop.id}"
    for q in ("۳/۱۲۵/۴۲۱۷", "3/125/4217", "۱۲۵/۴۲۱۷", "٩-٢-١٥-٣٧-١-٠-٠", "۵۱۵۳۷۱۵۳۱۱"):
        html = client.get("/office/properties/", query_string={"q": q}).text
        assert link in html, q
        assert html.count('class="property-row"') == 1, q
    html = client.get("/office/properties/", query_string={"q": "125/9999"}).text
    assert 'class="property-row"' not in html
    assert "No property" in html or "هیچ ملکی" in html


def test_viewing_the_page_is_audited(
    people: dict[str, Any], new_case: Callable[..., Case], client: FlaskClient
) -> None:
    prop = _property(new_case)
    sign_in(client, people["expert"])
    client.get(f"/office/properties/{prop.id}")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.subject == f"property:{prop.id}"))
    assert entry is not None
    assert entry.action == "personal_data.viewed"
    assert entry.actor_id == people["expert"].id
    assert "address" in (entry.after or {})["fields"]


def test_queries_per_page_do_not_grow_with_the_cases(
    people: dict[str, Any], new_case: Callable[..., Case], client: FlaskClient
) -> None:
    prop = _property(new_case)
    sign_in(client, people["expert"])
    client.get(f"/office/properties/{prop.id}")  # warm the session and caches
    with counted() as few:
        assert client.get(f"/office/properties/{prop.id}").status_code == 200
    for _ in range(6):
        case = new_case()
        call("register_property", {"plate": PLATE}, case)
        issue(case, "building_permit")
        call("record_violation", {"description": "x"}, case)
    db.session.flush()
    with counted() as many:
        response = client.get(f"/office/properties/{prop.id}")
    assert response.text.count('class="case-row"') == 7
    assert len(many) == len(few), "\n".join(s[:150] for s in many)


def test_the_page_reads_in_english_too(
    people: dict[str, Any], new_case: Callable[..., Case], client: FlaskClient
) -> None:
    prop = _property(new_case)
    sign_in(client, people["expert"])
    html = client.get(f"/office/properties/{prop.id}", query_string={"lang": "en"}).text
    assert "Sub-plate 4217 of main plate 125, registration section 3" in html
    assert "The parcel's detailed-plan data is not on record." in html
