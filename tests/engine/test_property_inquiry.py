"""processes/property_inquiry driven through every path, restored after every single step.

Time is frozen: the inquiry is filed on Tuesday 1404-07-01 (2025-09-23) at 08:30 Tehran time,
so the expert's 3-working-day deadline (Thursday closed) is 1404-07-06 14:00 Tehran.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory

from engine import CompiledProcess, ProcessLibrary, Runtime

from .support import only_task
from .test_property_info import Case, PropertyConnectors, empty_record

START = "2025-09-23 05:00:00+00:00"  # 08:30 in Tehran, Tuesday 1404-07-01
REVIEW_DUE = datetime(2025, 9, 28, 10, 30, tzinfo=UTC)  # 1404-07-06 14:00 Tehran

NOTARY, EXPERT, INSPECTOR, HEAD = "user:21", "user:12", "user:14", "user:3"

PLATE = {"section": "3", "main": "125", "sub": "4217-5"}
LETTER = {
    "requester_name": "دفتر اسناد رسمی شماره ۰۰۰ تبریز",
    "letter_number": "1404/2231",
    "letter_date": "1404-06-31",
    "plate": PLATE,
    "renewal_code": "9-2-15-37-1-5-0",
    "postal_code": "5138893611",
    "area": 85.5,
}
NOTARY_INQUIRY = {
    **LETTER,
    "requester_kind": "notary",
    "purpose": "transfer",
    "land_use": "residential",
    "seller_national_code": "0084127759",
    "buyer_national_code": "1367710944",
}
BANK_INQUIRY = {
    **LETTER,
    "requester_kind": "bank",
    "requester_name": "بانک نمونه، شعبه ولیعصر تبریز",
    "purpose": "mortgage",
    "borrower_national_code": "1367710944",
}
UTILITY_INQUIRY = {
    **LETTER,
    "requester_kind": "utility",
    "requester_name": "شرکت گاز استان",
    "purpose": "connection",
    "utility_service": "gas",
}
COMPLETION = {
    "type": "completion_certificate",
    "number": "1404090000017",
    "issued_on": "1404-05-01",
}
PERMIT = {"type": "building_permit", "number": "1404090000029", "issued_on": "1403-02-11"}


def record(**changes: Any) -> dict[str, Any]:
    return {**empty_record(), **changes}


EARLIER_ANSWER = {
    "type": "property_inquiry_answer",
    "number": "1404090000031",
    "issued_on": "1404-06-20",
}
# An earlier answer about the unit is on record too, but an answer is no basis for another.
CLEAN = record(has_permit=True, has_completion=True, documents=[PERMIT, COMPLETION, EARLIER_ANSWER])


@pytest.fixture(scope="session")
def compiled(library: ProcessLibrary) -> CompiledProcess:
    return library.compile("property_inquiry")


@pytest.fixture
def fakes() -> PropertyConnectors:
    return PropertyConnectors()


@pytest.fixture
def runtime(fakes: PropertyConnectors) -> Runtime:
    return Runtime(connectors=fakes.registry)


@pytest.fixture
def clock() -> Iterator[FrozenDateTimeFactory]:
    with freeze_time(START) as frozen:
        yield frozen


@pytest.fixture
def case(compiled: CompiledProcess, runtime: Runtime, clock: FrozenDateTimeFactory) -> Case:
    return Case(compiled, runtime, filed_on="2025-09-23")


def filed(case: Case, inquiry: dict[str, Any], **changes: Any) -> Case:
    case.complete("submit_inquiry", {**inquiry, **changes}, NOTARY)
    return case


def issued_facts(fakes: PropertyConnectors) -> dict[str, Any]:
    [issued] = fakes.called("issue_document")
    assert issued["document_type"] == "property_inquiry_answer"
    assert issued["valid_days"] == 180
    facts: dict[str, Any] = issued["facts"]
    return facts


def test_a_clean_file_for_a_notary_is_answered_after_the_levies(
    case: Case, fakes: PropertyConnectors
) -> None:
    fakes.record = dict(CLEAN)
    assert case.ready() == [("submit_inquiry", "APPLICANT", "property_inquiry/request")]

    filed(case, NOTARY_INQUIRY)

    assert case.ready() == []
    assert case.workflow.waiting_messages() == ["payment_confirmed"]
    assert fakes.called("create_invoice") == [
        {
            "lines": {"transfer_levy": 3_420_000, "renewal_levy": 1_710_000},
            "tariff_year": 1404,
            "event_key": "payment_requested",
        }
    ]
    assert case.elements("milestone_reached") == ["record_checked", "verdict_reached"]

    case.pay(5_130_000, "40704")

    assert case.workflow.outcome == "end_answered"
    facts = issued_facts(fakes)
    assert fakes.called("issue_document")[0]["applicant_name"] == "دفتر اسناد رسمی شماره ۰۰۰ تبریز"
    assert facts == {
        "requester_kind": "notary",
        "requester_name": "دفتر اسناد رسمی شماره ۰۰۰ تبریز",
        "letter_number": "1404/2231",
        "letter_date": "1404-06-31",
        "purpose": "transfer",
        "plate_section": "3",
        "plate_main": "125",
        "plate_sub": "4217-5",
        "renewal_code": "9-2-15-37-1-5-0",
        "address": "",
        "verdict": "no_objection",
        "answer": "بلامانع",
        "conditions": "",
        "reviewed_by_expert": False,
        "documents": "1404090000029, 1404090000017",
        "open_violations": 0,
        "unpaid_fees": 0,
        "fee_paid": 5_130_000,
        "payment_reference": "40704",
        "valid_days": 180,
    }
    assert fakes.notices() == [("submitted", "APPLICANT"), ("answer_issued", "APPLICANT")]


@pytest.mark.parametrize("inquiry", [BANK_INQUIRY, UTILITY_INQUIRY], ids=["bank", "utility"])
def test_banks_and_utilities_are_answered_at_once_and_free(
    case: Case, fakes: PropertyConnectors, inquiry: dict[str, Any]
) -> None:
    fakes.record = dict(CLEAN)

    filed(case, inquiry)

    assert case.workflow.outcome == "end_answered"
    assert fakes.called("create_invoice") == []
    facts = issued_facts(fakes)
    assert (facts["answer"], facts["fee_paid"]) == ("بلامانع", 0)
    assert facts["requester_kind"] == inquiry["requester_kind"]


def test_a_no_violation_certificate_also_clears_the_file(
    case: Case, fakes: PropertyConnectors
) -> None:
    fakes.record = record(has_permit=True, has_no_violation=True)

    filed(case, BANK_INQUIRY)

    assert case.workflow.outcome == "end_answered"
    assert issued_facts(fakes)["verdict"] == "no_objection"


def test_an_open_violation_is_answered_with_the_article_100_referral(
    case: Case, fakes: PropertyConnectors
) -> None:
    fakes.record = record(has_permit=True, has_completion=True, open_violations=1)
    filed(case, NOTARY_INQUIRY)
    assert case.ready() == [("expert_review", "URB_EXPERT", "property_inquiry/review")]
    assert fakes.notices()[-1] == ("under_review", "APPLICANT")
    assert only_task(case.workflow, "expert_review").due_at == REVIEW_DUE

    case.complete("expert_review", {"verdict": "violation_referral", "site_visit": False}, EXPERT)

    assert case.workflow.outcome == "end_answered"
    assert fakes.called("create_invoice") == []  # no transfer levy on a blocked deal
    facts = issued_facts(fakes)
    assert facts["answer"] == "دارای خلاف — ارجاع به کمیسیون ماده ۱۰۰"
    assert (facts["open_violations"], facts["reviewed_by_expert"]) == (1, True)


def test_no_completion_on_record_is_reviewed_and_may_carry_conditions(
    case: Case, fakes: PropertyConnectors
) -> None:
    fakes.record = record(has_permit=True, documents=[PERMIT])
    filed(case, NOTARY_INQUIRY)

    case.complete(
        "expert_review",
        {
            "verdict": "conditions",
            "conditions": "ارائه پایان‌کار پیش از تنظیم سند قطعی",
            "site_visit": False,
        },
        EXPERT,
    )
    assert case.workflow.waiting_messages() == ["payment_confirmed"]
    case.pay(5_130_000)

    facts = issued_facts(fakes)
    assert facts["answer"] == "بلامانع با شرایط: ارائه پایان‌کار پیش از تنظیم سند قطعی"
    assert facts["verdict"] == "conditions"
    assert facts["documents"] == "1404090000029"


def test_the_expert_may_clear_a_file_without_conditions(
    case: Case, fakes: PropertyConnectors
) -> None:
    filed(case, UTILITY_INQUIRY)  # nothing on record at all

    case.complete("expert_review", {"verdict": "no_objection", "site_visit": False}, EXPERT)

    facts = issued_facts(fakes)
    assert (facts["answer"], facts["conditions"], facts["reviewed_by_expert"]) == (
        "بلامانع",
        "",
        True,
    )


def test_unpaid_fees_are_listed_and_hold_the_transfer_levy(
    case: Case, fakes: PropertyConnectors
) -> None:
    fakes.record = {**CLEAN, "unpaid_fees": 12_500_000}

    filed(case, NOTARY_INQUIRY)

    assert case.workflow.outcome == "end_answered"
    assert fakes.called("create_invoice") == []
    facts = issued_facts(fakes)
    assert facts["answer"] == "بلامانع — بدهی عوارض ملک: 12500000 ریال"
    assert facts["unpaid_fees"] == 12_500_000


@pytest.mark.parametrize(
    ("land_use", "day", "lines"),
    [
        ("commercial", START, {"transfer_levy": 10_260_000, "renewal_levy": 3_420_000}),
        ("mixed", START, {"transfer_levy": 5_130_000, "renewal_levy": 1_710_000}),
        (
            "residential",
            "2026-04-04 06:00:00+00:00",
            {"transfer_levy": 4_275_000, "renewal_levy": 2_137_500},
        ),
        (
            "green",
            "2026-04-04 06:00:00+00:00",
            {"transfer_levy": 6_412_500, "renewal_levy": 2_137_500},
        ),
    ],
)
def test_the_levies_follow_land_use_and_the_tariff_year(
    compiled: CompiledProcess,
    runtime: Runtime,
    fakes: PropertyConnectors,
    land_use: str,
    day: str,
    lines: dict[str, int],
) -> None:
    fakes.record = dict(CLEAN)
    with freeze_time(day):
        filed(Case(compiled, runtime), NOTARY_INQUIRY, land_use=land_use)

    [invoice] = fakes.called("create_invoice")
    assert invoice["lines"] == lines
    assert invoice["tariff_year"] == (1404 if day == START else 1405)


def test_a_site_visit_then_the_expert_answers(case: Case, fakes: PropertyConnectors) -> None:
    fakes.record = record(open_violations=2)
    filed(case, BANK_INQUIRY)
    case.complete(
        "expert_review",
        {"verdict": "conditions", "conditions": "-----", "site_visit": True},
        EXPERT,
    )

    assert case.ready() == [("inspect_site", "INSPECTOR", "property_inquiry/inspection")]
    case.complete(
        "inspect_site",
        {"visited_on": "1404-07-02", "violation_seen": True, "findings": "طبقه پنجم بدون پروانه"},
        INSPECTOR,
    )
    assert case.ready() == [("expert_review", "URB_EXPERT", "property_inquiry/review")]

    case.complete("expert_review", {"verdict": "violation_referral", "site_visit": True}, EXPERT)

    assert case.workflow.data["site_visits"] == 1  # a second visit is past the bound
    assert case.workflow.outcome == "end_answered"
    assert issued_facts(fakes)["verdict"] == "violation_referral"


def test_the_review_deadline_escalates_to_the_head_and_not_before(
    case: Case, fakes: PropertyConnectors, clock: FrozenDateTimeFactory
) -> None:
    fakes.record = record(open_violations=1)
    filed(case, NOTARY_INQUIRY)
    clock.move_to(REVIEW_DUE - timedelta(seconds=1))
    assert case.fire_timers().history == ()

    clock.move_to(REVIEW_DUE)
    case.fire_timers()

    assert fakes.notices()[-1] == ("review_overdue", "URB_HEAD")
    assert sorted(case.ready()) == [
        ("escalate_review", "URB_HEAD", "property_inquiry/escalation"),
        ("expert_review", "URB_EXPERT", "property_inquiry/review"),
    ]
    case.complete("expert_review", {"verdict": "violation_referral", "site_visit": False}, EXPERT)
    # The answer ends the case; the head's open follow-up closes with it.
    assert case.workflow.is_completed
    assert case.ready() == []
