"""The public service catalogue: the card, the steps from the BPMN, the diagram file."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask.testing import FlaskClient
from lxml import etree, html

from app.accounts.models import District, User

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def test_the_catalogue_lists_deployed_services(client: FlaskClient, district: District) -> None:
    root = html.fromstring(client.get("/services").get_data(as_text=True))
    links = root.xpath("//ul[@class='card-grid']//a")
    assert [(a.text_content(), a.get("href")) for a in links] == [
        ("صدور پروانه نمونه", "/services/sample_permit")
    ]


def test_the_service_page_shows_the_card_and_the_steps(
    client: FlaskClient, district: District
) -> None:
    response = client.get("/services/sample_permit")
    assert response.status_code == 200
    root = html.fromstring(response.get_data(as_text=True))
    facts = root.xpath("//dl[@class='facts']")[0].text_content()
    assert "۱۳۰۴۲۶۵۲۱۰۰" in facts
    assert "سند مالکیت" in facts
    assert "۱۵ روز کاری" in facts
    steps = [li.text_content() for li in root.xpath("//ol[@class='steps']/li")]
    assert any("ثبت درخواست" in s and "شما" in s for s in steps)
    assert any("بررسی مدارک" in s and "کارشناس شهرسازی" in s for s in steps)
    assert any("محاسبه عوارض" in s and "خودکار" in s for s in steps)
    english = client.get("/services/sample_permit?lang=en").get_data(as_text=True)
    assert "Sample permit" in english
    assert "Urban-planning expert" in english


def test_the_diagram_is_served_as_xml_that_cannot_be_sniffed(
    client: FlaskClient, district: District
) -> None:
    response = client.get("/services/sample_permit/v1/process.bpmn")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert b"<bpmn:definitions" in response.data
    assert client.get("/services/sample_permit/v99/process.bpmn").status_code == 404
    assert client.get("/services/nothing").status_code == 404


def _names(xml: bytes, kind: str) -> dict[str, str]:
    root = etree.fromstring(xml)
    return {e.get("id"): e.get("name") for e in root.iter(f"{BPMN}{kind}") if e.get("name")}


def test_citizens_read_the_diagram_with_roles_and_steps_named_in_their_language(
    client: FlaskClient, district: District
) -> None:
    raw = client.get("/services/sample_permit/v1/process.bpmn").data
    assert _names(raw, "lane")["lane_applicant"] == "APPLICANT"  # as deployed: role codes
    persian = client.get("/services/sample_permit/v1/process.bpmn?labels=fa")
    assert persian.status_code == 200
    assert persian.mimetype == "application/xml"
    assert persian.headers["X-Content-Type-Options"] == "nosniff"
    assert persian.headers["Cache-Control"] == "public, max-age=86400"
    lanes = _names(persian.data, "lane")
    assert lanes["lane_applicant"] == "متقاضی / مالک / وکیل مالک"
    assert lanes["lane_urb_expert"] == "کارشناس شهرسازی"
    assert _names(persian.data, "userTask")["review_application"] == "بررسی مدارک"
    english = client.get("/services/sample_permit/v1/process.bpmn?labels=en").data
    assert _names(english, "lane")["lane_applicant"] == "Applicant (owner or attorney)"
    assert _names(english, "userTask")["review_application"] == "Document review"
    assert list(_names(english, "participant").values()) == ["Sample permit"]
    assert list(_names(persian.data, "participant").values()) == ["صدور پروانه نمونه"]
    # Only names change: every element, flow and shape of the layout is still there.
    assert [e.get("id") for e in etree.fromstring(english).iter() if e.get("id")] == [
        e.get("id") for e in etree.fromstring(raw).iter() if e.get("id")
    ]
    # Any other value is the file as deployed, cached for good.
    other = client.get("/services/sample_permit/v1/process.bpmn?labels=de")
    assert other.data == raw
    assert other.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def _clone_service(key: str, channels: list[str] | None, name: str) -> None:
    """Another deployed service: the sample permit's package under a new key and card."""
    import secrets

    from app.db import db
    from app.processes.models import ProcessVersion
    from app.processes.services import latest_version

    sample = latest_version("sample_permit")
    assert sample is not None
    card = {key_: value for key_, value in sample.card.items() if key_ != "channels"}
    card["name"] = {"fa": name, "en": name}
    if channels is not None:
        card["channels"] = channels
    db.session.add(
        ProcessVersion(
            process_key=key,
            number=1,
            content_hash=secrets.token_hex(32),
            files=dict(sample.files),
            forms=dict(sample.forms),
            card=card,
        )
    )
    db.session.commit()


def test_only_services_offered_on_the_channel_are_listed_and_can_be_filed(
    client: FlaskClient,
    district: District,
    citizen: User,
    sign_in: Callable[[User | None], None],
) -> None:
    _clone_service("notary_inquiry", ["agency", "api"], "استعلام دفترخانه")
    _clone_service("web_only", ["web"], "خدمت فقط وب")
    _clone_service("everywhere", None, "خدمت همه‌جا")

    def listed() -> set[str]:
        root = html.fromstring(client.get("/services").get_data(as_text=True))
        return {a.get("href") for a in root.xpath("//ul[@class='card-grid']//a")}

    on_the_web = {"/services/sample_permit", "/services/web_only", "/services/everywhere"}
    assert listed() == on_the_web
    assert client.get("/services/notary_inquiry").status_code == 404
    sign_in(citizen)
    response = client.post("/services/notary_inquiry/apply", data={"district": str(district.id)})
    assert response.status_code == 404
    assert client.get("/services/notary_inquiry/apply").status_code == 404

    # On an office kiosk the card must name "kiosk" (or no channels at all).
    with client.session_transaction() as session:
        session["kiosk_terminal"] = True
        session["kiosk_seen"] = int(time.time())
    assert listed() == {"/services/sample_permit", "/services/everywhere"}
    assert client.get("/services/web_only").status_code == 404
