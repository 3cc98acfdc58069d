"""processes/completion_certificate driven through every path, restored after every step.

Time is frozen at Tuesday 1404-07-01 (2025-09-23) 08:30 Tehran; the fire service's 10
working days (Thursday closed) end on 1404-07-15 at 14:00 Tehran. The Article-100 detour is
the same model as the no-violation certificate's; its branches are covered there in depth
and here once each.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory

from engine import CompiledProcess, ProcessLibrary, Runtime

from .support import only_task
from .test_no_violation_certificate import (
    APPLICATION as NV_APPLICATION,
)
from .test_no_violation_certificate import (
    C100,
    CITIZEN,
    COMPLIANT,
    COUNTER,
    ENFORCER,
    EXPERT,
    FILE,
    FINE,
    HEAD,
    INSPECTOR,
    PLATE,
    REFERRAL,
    RULING_TEXT,
    START,
    VIOLATION,
    Case,
    CertificateConnectors,
)

KEY = "completion_certificate"
FIRE, MAYOR = "fire:9", "mayor:10"
FIRE_DUE = datetime(2025, 10, 7, 10, 30, tzinfo=UTC)  # 1404-07-15 14:00 Tehran

APPLICATION: dict[str, Any] = {
    **{
        k: v
        for k, v in NV_APPLICATION.items()
        if k
        not in (
            "construction_stage",
            "stage_report_number",
            "purpose",
            "deed_last_page",
            "renewal_receipt",
        )
    },
    "completion_form_number": "PK-3391",
    "floors": 5,
    "units": 8,
    "built_area": 820.5,
    "deed_scan": FILE,
    "as_built_drawings": [FILE, FILE],
}
FEE = 98_460_000  # 820.5 m² × 120,000 rials (1404, residential)
FEE_PAYMENT = {"amount": FEE, "reference": "FEE-REF-2"}
NO_OBJECTION = {"answer": "no_objection"}
OBJECTION = {"answer": "objection", "reasons": "راه فرار دوم ندارد"}


@pytest.fixture
def connectors() -> CertificateConnectors:
    return CertificateConnectors()


@pytest.fixture
def clock() -> Iterator[FrozenDateTimeFactory]:
    with freeze_time(START) as frozen:
        yield frozen


@pytest.fixture(scope="module")
def compiled(library: ProcessLibrary) -> CompiledProcess:
    return library.compile(KEY)


@pytest.fixture
def case(compiled: CompiledProcess, runtime: Runtime, clock: FrozenDateTimeFactory) -> Case:
    return Case(compiled, runtime)


def reviewed(case: Case, report: Mapping[str, Any] = COMPLIANT, **changes: Any) -> Case:
    """Filed, documents accepted, site visited, approved by the expert: at the fire service."""
    case.complete("submit_application", {**APPLICATION, **changes}, CITIZEN)
    case.complete("check_documents", {"doc_decision": "accept"}, COUNTER)
    case.complete("inspect_site", report, INSPECTOR)
    case.complete("review_case", {"decision": "approve"}, EXPERT)
    return case


def signed(case: Case) -> None:
    case.pay(FEE_PAYMENT)
    assert case.ready() == [("sign_head", "URB_HEAD")]
    case.complete("sign_head", {"confirm": True}, HEAD)
    assert case.ready() == [("sign_mayor", "DISTRICT_MAYOR")]
    case.complete("sign_mayor", {"confirm": True, "signature_note": "تأیید"}, MAYOR)
    assert case.workflow.outcome == "end_issued"


def test_main_path_with_the_fire_services_no_objection(
    case: Case, connectors: CertificateConnectors
) -> None:
    reviewed(case)

    inquiry = only_task(case.workflow, "fire_inquiry")
    assert (inquiry.lane, inquiry.form_key) == ("AGENCY_FIRE", f"{KEY}/fire_answer")
    assert "آتش‌نشانی" in inquiry.properties["question"]
    assert inquiry.outcomes == ("no_objection", "conditions", "objection")
    assert inquiry.due_at == FIRE_DUE
    assert connectors.events() == ["fire_inquiry_sent"]

    case.complete("fire_inquiry", NO_OBJECTION, FIRE)
    assert case.workflow.data["fire_clearance"] == "no_objection"
    assert case.workflow.data["fee"] == FEE
    assert connectors.called("create_invoice") == [
        {"lines": {"certificate_fee": FEE}, "tariff_year": 1404, "event_key": "payment_requested"}
    ]
    signed(case)

    [issue] = connectors.called("issue_document")
    assert issue == {
        "document_type": "completion_certificate",
        "applicant_name": "مریم نیک‌پور",
        "fee_paid": FEE,
        "payment_reference": "FEE-REF-2",
        "facts": {
            "plate": "پلاک 1902 فرعی از 88 اصلی، بخش 3",
            "renewal_code": "9-2-15-40-1-0-0",
            "address": APPLICATION["address"],
            "permit_number": "1402-09-1187",
            "completion_form_number": "PK-3391",
            "floors": 5,
            "units": 8,
            "built_area": 820.5,
            "land_use": "residential",
            "fire_clearance": "no_objection",
            "inspection_date": "1404-07-03",
            "article_100": "none",
        },
    }
    assert connectors.called("register_property")[0]["plate"] == PLATE
    assert connectors.events() == ["fire_inquiry_sent", "certificate_issued"]


def test_silence_of_the_fire_service_counts_as_consent(
    case: Case, clock: FrozenDateTimeFactory, connectors: CertificateConnectors
) -> None:
    reviewed(case)

    clock.move_to(FIRE_DUE - timedelta(minutes=1))
    assert case.fire_timers().history == ()
    assert case.ready() == [("fire_inquiry", "AGENCY_FIRE")]
    clock.move_to(FIRE_DUE + timedelta(minutes=1))
    case.fire_timers()

    assert case.ready() == []
    assert case.workflow.data["fire_clearance"] == "consent_by_silence"
    assert case.workflow.waiting_messages() == ["payment_confirmed"]
    signed(case)
    assert connectors.called("issue_document")[0]["facts"]["fire_clearance"] == (
        "consent_by_silence"
    )


def test_conditions_are_kept_with_the_clearance(case: Case) -> None:
    reviewed(case)
    case.complete("fire_inquiry", {"answer": "conditions", "conditions": "کپسول در هر طبقه"}, FIRE)

    assert case.workflow.data["fire_clearance"] == "conditions"
    assert case.workflow.data["fire_conditions"] == "کپسول در هر طبقه"


def test_objection_then_fix_then_reinspection(
    case: Case, connectors: CertificateConnectors
) -> None:
    reviewed(case)
    case.complete("fire_inquiry", OBJECTION, FIRE)

    fix = only_task(case.workflow, "fix_fire_issues")
    assert (fix.lane, fix.data["fire_round"]) == ("APPLICANT", 1)
    assert connectors.events()[-1] == "fire_objection"
    case.complete("fix_fire_issues", {"fire_fix_note": "پله فرار ساخته شد"}, CITIZEN)

    again = only_task(case.workflow, "fire_inquiry")
    assert again.due_at is not None
    case.complete("fire_inquiry", NO_OBJECTION, FIRE)
    assert case.workflow.data["fire_clearance"] == "no_objection"
    signed(case)


def test_objections_past_the_bound_reject(case: Case, connectors: CertificateConnectors) -> None:
    reviewed(case)
    for _ in range(2):
        case.complete("fire_inquiry", OBJECTION, FIRE)
        case.complete("fix_fire_issues", {"fire_fix_note": "اصلاح شد"}, CITIZEN)
    case.complete("fire_inquiry", OBJECTION, FIRE)

    assert case.workflow.outcome == "end_fire_rejected"
    assert case.workflow.data["rejection_reason"] == "fire_safety"
    assert connectors.events()[-1] == "rejected"


def test_domain_case_2_extra_roof_area_fine_then_certificate(
    case: Case, clock: FrozenDateTimeFactory, connectors: CertificateConnectors
) -> None:
    reviewed(case, VIOLATION)
    case.complete("fire_inquiry", NO_OBJECTION, FIRE)
    assert connectors.called("record_violation")[0]["area"] == 12.6
    assert case.ready() == [("file_defence", "APPLICANT")]

    clock.tick(timedelta(days=10, minutes=1))
    case.fire_timers()
    case.complete("prepare_referral", REFERRAL, C100)
    case.complete("record_ruling", {"ruling": "fine", "fine_amount": FINE, **RULING_TEXT}, C100)
    clock.tick(timedelta(days=10, minutes=1))
    case.fire_timers()
    case.pay({"amount": FINE, "reference": "FINE-REF"})

    assert connectors.called("settle_violation") == [
        {"ruling": "fine", "fine": FINE, "reference": "R-1404-310"}
    ]
    signed(case)
    facts = connectors.called("issue_document")[0]["facts"]
    assert (facts["article_100"], facts["fire_clearance"]) == ("fine", "no_objection")


@pytest.mark.parametrize("ruling", ["dismissed", "restoration"])
def test_other_rulings_return_to_the_main_path(
    case: Case, clock: FrozenDateTimeFactory, connectors: CertificateConnectors, ruling: str
) -> None:
    reviewed(case, VIOLATION)
    case.complete("fire_inquiry", NO_OBJECTION, FIRE)
    case.complete("file_defence", {"defence_text": "دفاع"}, CITIZEN)
    case.complete("prepare_referral", REFERRAL, C100)
    case.complete("record_ruling", {"ruling": ruling, **RULING_TEXT}, C100)
    case.complete("object_to_ruling", {"objection_text": "اعتراض"}, CITIZEN)
    case.complete(
        "record_appeal_ruling",
        {
            "appeal_ruling": ruling,
            "appeal_ruling_number": "A-1",
            "appeal_ruled_on": "1404-08-01",
            "appeal_ruling_text": "تأیید رأی بدوی",
        },
        C100,
    )
    if ruling == "restoration":
        case.complete(
            "enforce_ruling", {"remedy_order_number": "E-1", "remedy_note": "ابلاغ"}, ENFORCER
        )
        case.complete(
            "verify_remedy",
            {"remedy_done": True, "remedy_visited_on": "1404-08-20", "remedy_findings": "اجرا شد"},
            INSPECTOR,
        )

    assert connectors.called("settle_violation") == [
        {"ruling": ruling, "fine": 0, "reference": "A-1"}
    ]
    signed(case)


def test_unpaid_fine_refuses_the_completion(
    case: Case, clock: FrozenDateTimeFactory, connectors: CertificateConnectors
) -> None:
    reviewed(case, VIOLATION)
    case.complete("fire_inquiry", NO_OBJECTION, FIRE)
    case.complete("file_defence", {"defence_text": "دفاع"}, CITIZEN)
    case.complete("prepare_referral", REFERRAL, C100)
    case.complete("record_ruling", {"ruling": "fine", "fine_amount": FINE, **RULING_TEXT}, C100)
    clock.tick(timedelta(days=10, minutes=1))
    case.fire_timers()
    clock.tick(timedelta(days=30, minutes=1))
    case.fire_timers()
    case.complete(
        "enforce_unpaid_fine",
        {"enforcement_action": "stop_order", "enforcement_note": "-----"},
        ENFORCER,
    )

    assert case.workflow.outcome == "end_refused"
    assert connectors.called("issue_document") == []


@pytest.mark.parametrize("rounds", [1, 3])
def test_document_corrections_up_to_the_bound(case: Case, rounds: int) -> None:
    case.complete("submit_application", APPLICATION, CITIZEN)
    for _ in range(rounds):
        case.complete("check_documents", {"doc_decision": "return_for_correction"}, COUNTER)
        case.complete("correct_application", {"correction_note": "نقشه جدید"}, CITIZEN)
    case.complete("check_documents", {"doc_decision": "accept"}, COUNTER)

    assert case.ready() == [("inspect_site", "INSPECTOR")]


def test_fourth_return_rejects(case: Case) -> None:
    case.complete("submit_application", APPLICATION, CITIZEN)
    for _ in range(3):
        case.complete("check_documents", {"doc_decision": "return_for_correction"}, COUNTER)
        case.complete("correct_application", {"correction_note": "نقشه جدید"}, CITIZEN)
    case.complete("check_documents", {"doc_decision": "return_for_correction"}, COUNTER)

    assert case.workflow.outcome == "end_documents_rejected"


def test_review_rejection(case: Case) -> None:
    case.complete("submit_application", APPLICATION, CITIZEN)
    case.complete("check_documents", {"doc_decision": "accept"}, COUNTER)
    case.complete("inspect_site", COMPLIANT, INSPECTOR)
    case.complete("review_case", {"decision": "reject", "reason": "خلاف پروانه"}, EXPERT)

    assert case.workflow.outcome == "end_review_rejected"


@pytest.mark.parametrize(
    ("filed_on", "land_use", "built_area", "fee", "rule"),
    [
        ("2026-03-20", "residential", 820.5, 98_460_000, "R"),
        ("2026-03-20", "commercial", 100, 25_000_000, "C"),
        ("2026-03-20", "administrative", 100, 18_000_000, "X"),
        ("2026-03-21", "residential", 100, 15_000_000, "R"),
        ("2026-03-21", "commercial", 100, 30_000_000, "C"),
        ("2026-03-21", "mixed", 100, 22_000_000, "X"),
    ],
)
def test_fee_per_tariff_year(
    compiled: CompiledProcess,
    runtime: Runtime,
    filed_on: str,
    land_use: str,
    built_area: float,
    fee: int,
    rule: str,
) -> None:
    with freeze_time(START):
        case = reviewed(
            Case(compiled, runtime, filed_on=filed_on), land_use=land_use, built_area=built_area
        )
        case.complete("fire_inquiry", NO_OBJECTION, FIRE)

    assert (case.workflow.data["fee"], case.workflow.data["fee_rule"]) == (fee, rule)
