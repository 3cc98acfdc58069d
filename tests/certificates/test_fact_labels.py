"""/verify lists a document's signed facts with the labels its package gives them, in fa and en.

The labels live in each package's service.json (`document_facts`), so the analysts who name a
fact in the BPMN also name it for people; a fact without a label shows its raw name.
"""

from __future__ import annotations

import ast
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.accounts.models import User, UserKind
from app.accounts.services import ensure_citizen, ensure_district, ensure_staff
from app.cases import services as cases
from app.certificates import services as certificates
from app.certificates.models import IssuedDocument
from app.processes.services import deploy_all, latest_version

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [
    "sample_permit",
    "building_permit",
    "no_violation_certificate",
    "completion_certificate",
    "property_info",
    "property_inquiry",
]
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
#: issue_document's own parameters; every other one becomes a fact.
NOT_FACTS = {"document_type", "facts", "valid_days"}


def _dict_keys(node: ast.expr) -> set[str]:
    keys: set[str] = set()
    if isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                keys.add(key.value)
            keys |= _dict_keys(value)
    return keys


def signed_fact_names(key: str) -> set[str]:
    """Every fact name the package's issue_document steps sign, nested ones included."""
    tree = ET.parse(ROOT / "processes" / key / "process.bpmn")  # noqa: S314 - our own file
    names = {"tracking_code"}  # the connector adds the case's tracking code
    fact_variables: set[str] = set()
    for operator in tree.iter(f"{{{NS['spiffworkflow']}}}serviceTaskOperator"):
        if operator.get("id") != "issue_document":
            continue
        for parameter in operator.iter(f"{{{NS['spiffworkflow']}}}parameter"):
            name = parameter.get("id") or ""
            if name == "facts":
                fact_variables.add(parameter.get("value") or "")
            elif name not in NOT_FACTS:
                names.add(name)
    for script in tree.iter(f"{{{NS['bpmn']}}}script"):
        for statement in ast.walk(ast.parse(script.text or "")):
            if isinstance(statement, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id in fact_variables
                for target in statement.targets
            ):
                names |= _dict_keys(statement.value)
    return names


@pytest.mark.parametrize("key", PACKAGES)
def test_every_fact_a_package_signs_has_a_label_in_fa_and_en(key: str) -> None:
    card = json.loads((ROOT / "processes" / key / "service.json").read_text(encoding="utf-8"))
    labels = card["document_facts"]
    missing = sorted(signed_fact_names(key) - set(labels))
    assert missing == [], f"{key}: facts without a label in service.json document_facts"
    for name, spec in labels.items():
        assert spec["fa"].strip(), (key, name)
        assert spec["en"].strip(), (key, name)
        for code, text in (spec.get("values") or {}).items():
            assert text["fa"].strip(), (key, name, code)
            assert text["en"].strip(), (key, name, code)


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    deploy_all(["property_inquiry", "building_permit"])
    district = ensure_district("09", "منطقه ۹", "District 9")
    return {
        "district": district,
        "notary": ensure_staff(
            "notary-12",
            "دفترخانه ۱۲",
            "correct horse battery",
            ["REQUESTER_NOTARY"],
            [district],
            kind=UserKind.AGENCY,
        ),
        "citizen": ensure_citizen("09140001001", "علی کریمی", "1360524185"),
    }


def issue(
    key: str, document_type: str, applicant: User, district: Any, facts: dict[str, Any]
) -> IssuedDocument:
    version = latest_version(key)
    assert version is not None
    case = cases.start_case(
        version, applicant=applicant, district=district, data={}, actor=applicant
    )
    return certificates.issue_document(
        document_type=document_type,
        facts={"tracking_code": case.tracking_code, **facts},
        idempotency_key=f"labels-test:{case.id}",
        case=case,
        now=datetime.now(UTC),
    )


def fact(page: str, label: str) -> str:
    """The value shown after a label (the text between its <dd> tags)."""
    start = page.index(f"<dt>{label}</dt>")
    value = page[page.index("<dd", start) :]
    return value[value.index(">") + 1 : value.index("</dd>")]


def test_an_inquiry_answer_reads_with_labels_values_dates_and_money(
    world: dict[str, Any], client: FlaskClient
) -> None:
    answer = issue(
        "property_inquiry",
        "property_inquiry_answer",
        world["notary"],
        world["district"],
        {
            "applicant_name": "دفترخانه ۱۲",
            "requester_kind": "notary",
            "letter_number": "1404/2231",
            "letter_date": "1404-06-31",
            "purpose": "transfer",
            "plate_section": "3",
            "plate_main": "125",
            "plate_sub": "4217-5",
            "verdict": "no_objection",
            "answer": "بلامانع",
            "reviewed_by_expert": False,
            "open_violations": 0,
            "unpaid_fees": 1250000,
            "valid_days": 180,
            "conditions": "",
            "custom_note": "x",
        },
    )
    url = f"/verify/{answer.document_number}"

    fa = client.get(url).get_data(as_text=True)
    assert "<dt>استعلام‌کننده</dt>" in fa
    assert fact(fa, "استعلام‌کننده") == "<bdi>دفتر اسناد رسمی</bdi>"  # a code read as its name
    assert fact(fa, "تاریخ نامه استعلام") == "دوشنبه ۳۱ شهریور ۱۴۰۴"  # a form's Jalali date
    # Numbers joined by / or - read left to right, or bidi would swap their parts.
    assert fact(fa, "شماره نامه استعلام") == '<bdi dir="ltr">۱۴۰۴/۲۲۳۱</bdi>'
    assert fact(fa, "بدهی عوارض ملک") == "۱٬۲۵۰٬۰۰۰ ریال"
    assert fact(fa, "بررسی‌شده توسط کارشناس") == "<bdi>خیر</bdi>"
    assert fact(fa, "تخلفات باز") == "<bdi>۰</bdi>"
    assert fact(fa, "مدت اعتبار (روز)") == "<bdi>۱۸۰</bdi>"
    assert fact(fa, "پلاک فرعی") == '<bdi dir="ltr">۴۲۱۷-۵</bdi>'
    assert fact(fa, "custom_note") == "<bdi>x</bdi>"  # no label: the raw name
    assert "<dt>شرایط</dt>" not in fa  # empty facts are left out
    assert fa.index("<dt>استعلام‌کننده</dt>") < fa.index("<dt>پاسخ</dt>")  # the package's order

    en = client.get(url, query_string={"lang": "en"}).get_data(as_text=True)
    assert fact(en, "Asked by") == "<bdi>Notary office</bdi>"
    assert fact(en, "Inquiry letter date") == "Monday 31 Shahrivar 1404"
    assert fact(en, "Unpaid fees of the property") == "1,250,000 rials"
    assert fact(en, "Purpose") == "<bdi>Transfer of the property</bdi>"
    assert fact(en, "Reviewed by an expert") == "<bdi>No</bdi>"
    assert fact(en, "Verdict") == "<bdi>No objection</bdi>"


def test_a_permit_reads_its_plate_and_nested_facts(
    world: dict[str, Any], client: FlaskClient
) -> None:
    permit = issue(
        "building_permit",
        "building_permit",
        world["citizen"],
        world["district"],
        {
            "plate": {"section": "3", "main": "125", "sub": "4217-5"},
            "land_use": "residential",
            "pilotis": True,
            "design_brief": {"setback_m": 2.5, "max_floors": 4},
            "fee_paid": 98000000,
            "valid_until": "2029-11-29",
        },
    )
    url = f"/verify/{permit.document_number}"

    fa = client.get(url).get_data(as_text=True)
    assert fact(fa, "پلاک ثبتی") == "پلاک‌های ۴۲۱۷ و ۵ فرعی از ۱۲۵ اصلی، بخش ۳"
    assert fact(fa, "کاربری") == "<bdi>مسکونی</bdi>"
    assert fact(fa, "طبقه همکف پیلوت") == "<bdi>بله</bdi>"
    assert fact(fa, "عوارض پرداخت‌شده") == "۹۸٬۰۰۰٬۰۰۰ ریال"
    assert fact(fa, "عقب‌نشینی (متر)") == "<bdi>۲.۵</bdi>"  # a nested fact, labelled too
    assert fact(fa, "حداکثر طبقات") == "<bdi>۴</bdi>"
    assert "<dt>دستور نقشه</dt>" in fa
    assert fact(fa, "اعتبار تا") == "پنجشنبه ۹ آذر ۱۴۰۸"  # a Gregorian ISO date, shown Jalali

    en = client.get(url, query_string={"lang": "en"}).get_data(as_text=True)
    assert fact(en, "Registry plate").startswith("Sub-plates 4217 and 5 of main plate 125")
    assert fact(en, "Land use") == "<bdi>Residential</bdi>"
    assert fact(en, "Setback (m)") == "<bdi>2.5</bdi>"
    assert fact(en, "Pilotis ground floor") == "<bdi>Yes</bdi>"
