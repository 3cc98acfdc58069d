"""The public service catalogue: the card, the steps from the BPMN, the diagram file."""

from __future__ import annotations

from flask.testing import FlaskClient
from lxml import html

from app.accounts.models import District


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
