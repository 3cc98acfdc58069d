"""The building permit at app level: real database, real connectors, app.cases.services.

Domain §9 case 1: علی کریمی files for plate 3/125/4217 (240.50 m², pilotis + 4 floors, 8 units,
single-sheet deed) in District 9; the counter, inspector, expert, head, agencies, bank and
deputy act through the same services the pages call, and the permit is issued with its facts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.services import ensure_citizen, ensure_district
from app.cases import services as cases
from app.cases.models import Case, CaseStatus
from app.certificates.models import IssuedDocument
from app.certificates.pdf import render_html
from app.db import db
from app.fees.models import Invoice
from app.notifications.models import Notification
from app.processes.services import deploy_all, latest_version
from app.properties.models import PropertyCase
from app.properties.services import property_of_case
from app.properties.zoning import put_on_record

# Domain §9 case 1's answers, as the engine test gives them.
from tests.engine.test_building_permit import APPLICATION, DRAWINGS, FILE, PLATE, ZONING


@pytest.fixture
def clock(app: Flask) -> Iterator[FrozenDateTimeFactory]:
    with freeze_time("2025-09-23 07:12:00+00:00") as frozen:  # 1404-07-01 10:42 Tehran
        yield frozen


@pytest.fixture
def people(app: Flask, make_staff: Callable[..., User]) -> dict[str, User]:
    deploy_all(["building_permit"])
    return {
        "owner": ensure_citizen("09140001001", "علی کریمی", "1360524185"),
        "counter": make_staff("counter", roles=["COUNTER"]),
        "inspector": make_staff("inspector", roles=["INSPECTOR"]),
        "expert": make_staff("expert", roles=["URB_EXPERT"]),
        "head": make_staff("head", roles=["URB_HEAD"]),
        "deputy": make_staff("deputy", roles=["DEPUTY"]),
        "registry": make_staff("registry", roles=["AGENCY_REGISTRY"]),
        "engineering": make_staff("engineering", roles=["AGENCY_ENGINEERING"]),
    }


class Driver:
    """Acts on one case as its people would, through app.cases.services."""

    def __init__(self, people: dict[str, User]) -> None:
        version = latest_version("building_permit")
        assert version is not None
        self.people = people
        self.case = cases.start_case(
            version,
            applicant=people["owner"],
            district=ensure_district("09", "منطقه ۹", "District 9"),
            data={},
            actor=people["owner"],
        )

    def open(self) -> list[str]:
        return sorted(t.element_id for t in self.case.tasks if t.state.value == "open")

    def do(self, element_id: str, who: str, answers: dict[str, Any]) -> None:
        [task] = [
            t for t in self.case.tasks if t.element_id == element_id and t.state.value == "open"
        ]
        result = cases.complete_task(
            self.case,
            task.engine_task_id,
            answers,
            actor=self.people[who],
            expected_version=self.case.version_id,
        )
        assert result.incident is None, result.incident
        db.session.flush()

    def pay(self, amount: int, reference: str) -> None:
        waiting = cases.waiting_case("payment_confirmed", self.case.tracking_code)
        cases.deliver_message(
            waiting, "payment_confirmed", {"amount": amount, "reference": reference}
        )
        db.session.flush()

    def events(self) -> list[str]:
        rows = db.session.scalars(
            select(Notification)
            .where(Notification.case_id == self.case.id)
            .order_by(Notification.id)
        )
        return [row.event_key for row in rows]


def test_domain_case_1_new_building_permit(
    app: Flask, people: dict[str, User], clock: FrozenDateTimeFactory
) -> None:
    district = ensure_district("09", "منطقه ۹", "District 9")
    put_on_record("3/125/4217", ZONING, district=district)
    run = Driver(people)
    run.do("submit_application", "owner", APPLICATION)

    case = run.case
    prop = property_of_case(case.id)
    assert prop is not None
    assert (prop.key, case.registry_plate, case.renewal_code) == (
        "3/125/4217",
        "3/125/4217",
        "9-2-15-37-1-0-0",
    )
    assert db.session.scalars(select(PropertyCase).where(PropertyCase.case_id == case.id)).one()
    assert run.open() == ["check_documents"]

    run.do("check_documents", "counter", {"decision": "approve"})
    run.do(
        "inspect_site",
        "inspector",
        {
            "visited_on": "1404-07-01",
            "existing_state": "old_building",
            "measured_area": 240.5,
            "setback_m": 1.2,
            "findings": "ساختمان قدیمی یک‌طبقه؛ عقب‌نشینی ۱٫۲۰ متر لازم است.",
        },
    )
    run.do(
        "review_planning",
        "expert",
        {"decision": "approve", "utility_row_affected": False, "heritage_buffer": False},
    )
    assert run.open() == ["engineering_inquiry", "registry_inquiry"]
    run.do("registry_inquiry", "registry", {"registry_answer": "no_objection"})
    run.do("engineering_inquiry", "engineering", {"engineering_answer": "no_objection"})
    run.do(
        "draft_design_brief",
        "expert",
        {
            "brief_setback_m": 1.2,
            "brief_max_floors": 5,
            "brief_density_pct": 240,
            "brief_coverage_pct": 60,
        },
    )
    run.do("approve_design_brief", "head", {"decision": "approve"})
    assert case.status != CaseStatus.COMPLETED
    run.do("upload_drawings", "owner", DRAWINGS)
    run.do(
        "verify_drawings",
        "engineering",
        {"decision": "approve", "engineering_reference": "NM-4512"},
    )
    run.do("check_drawings", "expert", {"decision": "approve"})

    [invoice] = db.session.scalars(select(Invoice).where(Invoice.case_id == case.id))
    assert invoice.total_rials == 125_060_000  # 962 m² built × 120,000 + levies (tariff 1404)
    run.pay(invoice.total_rials, "12540040704")
    run.do(
        "upload_undertakings",
        "owner",
        {
            "notarised_undertaking": FILE,
            "undertaking_number": "145782",
            "undertaking_date": "1404-07-01",
            "social_security_letter": FILE,
            "social_security_number": "9/1404/5512",
        },
    )
    run.do("check_undertakings", "counter", {"decision": "approve"})
    run.do("sign_head", "head", {"decision": "approve"})
    run.do("sign_deputy", "deputy", {"decision": "approve"})

    assert case.status == CaseStatus.COMPLETED
    document = db.session.scalars(
        select(IssuedDocument).where(IssuedDocument.case_id == case.id)
    ).one()
    assert document.document_type == "building_permit"
    assert document.facts["tracking_code"] == case.tracking_code
    assert document.facts["plate"] == PLATE
    assert document.facts["floors"] == 4
    assert document.facts["engineers"]["supervisor"] == "مهدی رحیمی"
    assert document.facts["fee_paid"] == 125_060_000
    assert document.valid_until is not None
    assert document.valid_until.isoformat() == "2028-09-22"  # 1407-07-01

    assert run.events() == [
        "submitted",
        "review_passed",
        "inquiries_sent",
        "design_brief_issued",
        "payment_requested",
        "undertakings_requested",
        "certificate_issued",
    ]
    with app.test_request_context():
        html = render_html(document)
    assert "پروانه ساختمانی (احداث بنا)" in html
    assert "پلاک ۱۲۵ فرعی ۴۲۱۷ اصلی، بخش ۳" in html
    assert "مهدی رحیمی" in html
    assert "۱ مهر ۱۴۰۷" in html


def test_the_expert_reviews_with_the_zoning_on_record(
    app: Flask, people: dict[str, User], clock: FrozenDateTimeFactory
) -> None:
    put_on_record("3/125/4217", ZONING, district=ensure_district("09", "منطقه ۹", "District 9"))
    run = Driver(people)
    run.do("submit_application", "owner", APPLICATION)
    run.do("check_documents", "counter", {"decision": "approve"})
    run.do(
        "inspect_site",
        "inspector",
        {
            "visited_on": "1404-07-01",
            "existing_state": "vacant_land",
            "measured_area": 240.5,
            "findings": "زمین خالی است.",
        },
    )

    from app.cases.workflow import load_workflow

    [review] = [
        t for t in load_workflow(run.case).human_tasks() if t.element_id == "review_planning"
    ]
    facts = review.data["property_facts"]
    assert facts["found"] is True
    assert facts["zoning"]["max_floors"] == 5
    assert facts["zoning"]["setback_m"] == 1.2


def test_the_package_validates_against_the_real_connectors(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["processes", "validate", "building_permit"])
    assert result.exit_code == 0, result.output
    assert "building_permit: ok" in result.output


def test_demo_cases_reach_their_stages_and_seeding_twice_adds_nothing(app: Flask) -> None:
    from app.demo_procedures import building_permit

    for _ in range(2):
        building_permit.seed()
        db.session.commit()

    rows = db.session.scalars(
        select(Case).where(Case.process_key == "building_permit").order_by(Case.id)
    )
    stages = [
        (case.outcome, sorted(t.element_id for t in case.tasks if t.state.value == "open"))
        for case in rows
    ]
    assert stages == [
        (None, ["check_documents"]),
        (None, ["correct_documents"]),
        (None, ["engineering_inquiry", "fire_inquiry", "heritage_inquiry", "utilities_inquiry"]),
        (None, ["upload_drawings"]),
        ("end_issued", []),
    ]
    document = db.session.scalars(
        select(IssuedDocument).where(IssuedDocument.document_type == "building_permit")
    ).one()
    assert document.facts["engineers"]["architect"] == "سارا احمدی"
