"""An analyst adds a field by editing a form file: it is rendered and validated, no Python changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import html as lxml_html

from tests.forms.conftest import APPLICANT

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def forms_copy(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of forms/ that the app reads instead of the real one."""
    copy = tmp_path / "forms"
    shutil.copytree(ROOT / "forms", copy)
    monkeypatch.setitem(app.config, "FORMS_DIR", str(copy))
    return copy


def test_a_new_field_in_a_copied_form_file_is_rendered_and_validated(
    app: Flask, client: FlaskClient, forms_copy: Path
) -> None:
    path = forms_copy / "sample_permit" / "application.json"
    definition = json.loads(path.read_text(encoding="utf-8"))
    definition["schema"]["properties"]["landline"] = {
        "type": "string",
        "pattern": "^0[1-8][0-9]{9}$",
    }
    definition["schema"]["required"].append("landline")
    definition["ui"]["ui:pages"][0]["fields"].append("landline")
    definition["ui"]["landline"] = {
        "ui:label": {"fa": "تلفن ثابت", "en": "Landline"},
        "ui:help": {"fa": "با پیش‌شماره، مانند 04133334444", "en": "With the area code"},
    }
    definition["messages"]["landline"] = {
        "pattern": {
            "fa": "تلفن ثابت ۱۱ رقم است و با ۰ شروع می‌شود.",
            "en": "A landline has 11 digits.",
        }
    }
    path.write_text(json.dumps(definition, ensure_ascii=False), encoding="utf-8")

    page = lxml_html.fromstring(
        client.get("/forms/sample_permit/application").get_data(as_text=True)
    )
    assert page.xpath("//label[@for='field-landline']")[0].text_content().startswith("تلفن ثابت")
    assert (
        page.get_element_by_id("hint-landline").text_content() == "با پیش‌شماره، مانند 04133334444"
    )

    response = client.post(
        "/forms/sample_permit/application", data={**APPLICANT, "landline": "12345"}
    )
    assert response.status_code == 422
    errors = lxml_html.fromstring(response.get_data(as_text=True)).xpath(
        "//div[@id='error-summary']//a"
    )
    assert [(a.get("href"), a.text_content()) for a in errors] == [
        ("#field-landline", "تلفن ثابت ۱۱ رقم است و با ۰ شروع می‌شود.")
    ]
    response = client.post(response.request.path, data={**APPLICANT, "landline": "04133334444"})
    # The next page is /…/<draft>/2; go back to page 1 (only the last segment, not the draft id).
    next_page, _, page_number = response.headers["Location"].rpartition("/")
    assert page_number == "2"
    draft_page = client.get(f"{next_page}/1")
    assert response.status_code == 302
    assert "04133334444" in draft_page.get_data(as_text=True)

    result = app.test_cli_runner().invoke(
        args=["forms", "validate", "--forms-dir", str(forms_copy)]
    )
    assert result.exit_code == 0, result.output
