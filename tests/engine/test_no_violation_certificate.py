"""processes/no_violation_certificate driven through every path, restored after every step.

Time is frozen at Tuesday 1404-07-01 (2025-09-23) 08:30 Tehran. The Article-100 detour's
10-day defence and objection windows and the 30-day fine deadline are calendar days.
The fakes here also serve tests/engine/test_completion_certificate.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory

from engine import CompiledProcess, HistoryEntry, ProcessLibrary, Runtime, StepResult, Workflow

from .support import FakeConnectors, only_task, restored

KEY = "no_violation_certificate"
START = "2025-09-23 05:00:00+00:00"  # 08:30 in Tehran, Tuesday 1404-07-01
STARTED = datetime(2025, 9, 23, 5, 0, tzinfo=UTC)

CITIZEN, COUNTER, INSPECTOR, EXPERT = "citizen:1", "counter:2", "inspector:3", "expert:4"
C100, ENFORCER, HEAD, BANK = "c100:5", "enforcement:6", "head:7", "gateway:bank"
FILE = {"name": "deed.pdf", "type": "application/pdf", "size": 1024}
PLATE = {"section": "3", "main": "88", "sub": "1902"}

APPLICATION: dict[str, Any] = {
    "applicant_type": "legal",
    "legal_id": "10862134507",
    "company_name": "شرکت ساختمانی نمونه‌سازان آذر (سهامی خاص)",
    "applicant_capacity": "attorney",
    "applicant_name": "مریم نیک‌پور",
    "power_of_attorney": FILE,
    "mobile": "09140001002",
    "plate": PLATE,
    "renewal_code": "9-2-15-40-1-0-0",
    "postal_code": "5153715311",
    "address": "تبریز، منطقه ۹، خیابان نمونه، پلاک ۱۲",
    "area": 180.0,
    "land_use": "residential",
    "permit_number": "1402-09-1187",
    "construction_stage": "roof",
    "stage_report_number": "NZ-5521",
    "purpose": "bank_loan",
    "deed_last_page": FILE,
    "renewal_receipt": FILE,
}
COMPLIANT = {
    "inspection_outcome": "compliant",
    "visited_on": "1404-07-03",
    "findings": "مطابق پروانه",
}
VIOLATION = {
    "inspection_outcome": "violation",
    "visited_on": "1404-07-03",
    "findings": "اضافه بنا در بام",
    "violation_kind": "extra_floor_area",
    "violation_area": 12.6,
    "violation_description": "۱۲٫۶ متر مربع اضافه بنا در طبقه بام",
}
REFERRAL = {
    "referral_number": "C100-77",
    "referred_on": "1404-07-05",
    "referral_summary": "اضافه بنا",
}
RULING_TEXT = {"ruling_number": "R-1404-310", "ruled_on": "1404-07-20", "ruling_text": "جریمه"}
FINE = 378_000_000
FEE_PAYMENT = {"amount": 7_200_000, "reference": "FEE-REF-1"}
FINE_PAYMENT = {"amount": FINE, "reference": "FINE-REF-1"}


class CertificateConnectors(FakeConnectors):
    """The sample's fakes plus the property register's."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.fake(
            "register_property",
            lambda inputs: {
                "property_id": 41,
                "zoning_on_record": True,
                "has_permit": True,
                "has_completion": False,
                "open_violations": 0,
            },
        )
        self.fake("record_violation", lambda inputs: {"violation_id": 7})
        self.fake("settle_violation", lambda inputs: {"settled": 1})
        self.fake("issue_document", lambda inputs: {"document_number": "1404090001237"})

    def events(self) -> list[str]:
        """The notification events sent, in order."""
        return [inputs["event_key"] for inputs in self.called("notify")]


class Case:
    """Drives a certificate process as the app would, restoring the state after every step."""

    def __init__(self, compiled: CompiledProcess, runtime: Runtime, **start_data: Any) -> None:
        self.runtime = runtime
        self.workflow = Workflow.start(compiled, start_data, actor=CITIZEN, runtime=runtime)
        self.history: list[HistoryEntry] = list(self.workflow.last_result.history)
        self.workflow = restored(self.workflow, runtime)

    def _record(self, result: StepResult) -> StepResult:
        assert result.incident is None, result.incident
        self.history.extend(result.history)
        self.workflow = restored(self.workflow, self.runtime)
        return result

    def complete(self, element_id: str, data: Mapping[str, Any], actor: str) -> StepResult:
        task = only_task(self.workflow, element_id)
        return self._record(self.workflow.complete(task.id, dict(data), actor=actor))

    def pay(self, payment: Mapping[str, Any]) -> StepResult:
        return self._record(
            self.workflow.send_message("payment_confirmed", dict(payment), actor=BANK)
        )

    def fire_timers(self) -> StepResult:
        return self._record(self.workflow.fire_due_timers())

    def ready(self) -> list[tuple[str, str | None]]:
        return sorted((t.element_id, t.lane) for t in self.workflow.human_tasks())

    def passed(self, element_id: str) -> bool:
        return any(entry.element_id == element_id for entry in self.history)


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


def filed(case: Case, **changes: Any) -> Case:
    case.complete("submit_application", {**APPLICATION, **changes}, CITIZEN)
    return case


def inspected(case: Case, report: Mapping[str, Any] = COMPLIANT) -> Case:
    """From a filed application to the expert's approval (documents accepted, site visited)."""
    case.complete("check_documents", {"doc_decision": "accept"}, COUNTER)
    case.complete("inspect_site", report, INSPECTOR)
    case.complete("review_case", {"decision": "approve"}, EXPERT)
    return case


def signed_and_issued(case: Case) -> None:
    case.pay(FEE_PAYMENT)
    assert case.ready() == [("sign_certificate", "URB_HEAD")]
    case.complete("sign_certificate", {"confirm": True}, HEAD)
    assert case.workflow.is_completed
    assert case.workflow.outcome == "end_issued"


def to_ruling(case: Case, clock: FrozenDateTimeFactory, *, defence: bool = False) -> Case:
    """From the violation report to the commission's first ruling being asked for."""
    inspected(filed(case), VIOLATION)
    if defence:
        case.complete("file_defence", {"defence_text": "بنای بام مجاز بوده است"}, CITIZEN)
    else:
        clock.tick(timedelta(days=10, minutes=1))
        case.fire_timers()
    case.complete("prepare_referral", REFERRAL, C100)
    return case


def ruled(case: Case, ruling: str, **more: Any) -> Case:
    case.complete("record_ruling", {"ruling": ruling, **RULING_TEXT, **more}, C100)
    return case


def window_closes(case: Case, clock: FrozenDateTimeFactory) -> None:
    clock.tick(timedelta(days=10, minutes=1))
    case.fire_timers()


# ---- main path ---------------------------------------------------------------------


def test_compliant_building_gets_its_certificate(
    case: Case, connectors: CertificateConnectors
) -> None:
    assert case.ready() == [("submit_application", "APPLICANT")]
    filed(case)

    assert connectors.called("register_property") == [
        {
            "plate": PLATE,
            "renewal_code": "9-2-15-40-1-0-0",
            "postal_code": "5153715311",
            "address": APPLICATION["address"],
            "area": 180.0,
            "land_use": "residential",
        }
    ]
    assert case.workflow.data["property"]["property_id"] == 41
    check = only_task(case.workflow, "check_documents")
    assert (check.lane, check.form_key) == ("COUNTER", f"{KEY}/document_check")
    assert check.outcomes == ("accept", "return_for_correction", "reject")

    case.complete("check_documents", {"doc_decision": "accept"}, COUNTER)
    milestone = case.workflow.milestone
    assert milestone is not None
    assert milestone.element_id == "documents_accepted"
    visit = only_task(case.workflow, "inspect_site")
    assert (visit.lane, visit.properties["appointment"]) == ("INSPECTOR", "site_visit")
    assert visit.outcomes == ("compliant", "violation")

    case.complete("inspect_site", COMPLIANT, INSPECTOR)
    assert case.ready() == [("review_case", "URB_EXPERT")]
    case.complete("review_case", {"decision": "approve"}, EXPERT)

    assert case.workflow.waiting_messages() == ["payment_confirmed"]
    assert case.workflow.data["fee"] == 7_200_000  # 180 m² × 40,000 rials (1404, residential)
    assert connectors.called("create_invoice") == [
        {
            "lines": {"certificate_fee": 7_200_000},
            "tariff_year": 1404,
            "event_key": "payment_requested",
        }
    ]
    signed_and_issued(case)

    [issue] = connectors.called("issue_document")
    assert issue == {
        "document_type": "no_violation_certificate",
        "applicant_name": "مریم نیک‌پور",
        "fee_paid": 7_200_000,
        "payment_reference": "FEE-REF-1",
        "valid_days": 90,
        "facts": {
            "plate": "پلاک 1902 فرعی از 88 اصلی، بخش 3",
            "renewal_code": "9-2-15-40-1-0-0",
            "address": APPLICATION["address"],
            "permit_number": "1402-09-1187",
            "stage": "roof",
            "stage_report_number": "NZ-5521",
            "inspection_date": "1404-07-03",
            "article_100": "none",
        },
    }
    assert connectors.events() == ["certificate_issued"]
    assert connectors.called("record_violation") == []
    assert connectors.called("settle_violation") == []


def test_a_plate_without_a_sub_plate_is_written_as_a_main_plate(
    case: Case, connectors: CertificateConnectors
) -> None:
    inspected(filed(case, plate={"section": "3", "main": "125"}))
    signed_and_issued(case)

    [issue] = connectors.called("issue_document")
    assert issue["facts"]["plate"] == "پلاک 125 اصلی، بخش 3"


# ---- document check ------------------------------------------------------------------


@pytest.mark.parametrize("rounds", [0, 1, 2, 3])
def test_each_correction_round_up_to_the_bound(
    case: Case, connectors: CertificateConnectors, rounds: int
) -> None:
    filed(case)
    for round_number in range(1, rounds + 1):
        case.complete(
            "check_documents",
            {"doc_decision": "return_for_correction", "fix_items": ["renewal_receipt"]},
            COUNTER,
        )
        correction = only_task(case.workflow, "correct_application")
        assert (correction.lane, correction.data["correction_round"]) == ("APPLICANT", round_number)
        case.complete("correct_application", {"correction_note": "قبض جدید"}, CITIZEN)

    inspected(case)
    assert connectors.events() == ["returned_for_correction"] * rounds
    assert case.workflow.waiting_messages() == ["payment_confirmed"]


def test_returning_past_the_bound_rejects(case: Case, connectors: CertificateConnectors) -> None:
    filed(case)
    for _ in range(3):
        case.complete("check_documents", {"doc_decision": "return_for_correction"}, COUNTER)
        case.complete("correct_application", {"correction_note": "اصلاح شد"}, CITIZEN)
    case.complete("check_documents", {"doc_decision": "return_for_correction"}, COUNTER)

    assert case.workflow.outcome == "end_documents_rejected"
    assert case.workflow.data["rejection_reason"] == "too_many_corrections"
    assert connectors.events() == ["returned_for_correction"] * 3 + ["rejected"]


def test_the_counter_may_reject_outright(case: Case, connectors: CertificateConnectors) -> None:
    filed(case)
    case.complete("check_documents", {"doc_decision": "reject", "doc_note": "سند نامعتبر"}, COUNTER)

    assert case.workflow.outcome == "end_documents_rejected"
    assert case.workflow.data["rejection_reason"] == "documents_rejected"
    assert connectors.events() == ["rejected"]


def test_the_expert_may_reject(case: Case, connectors: CertificateConnectors) -> None:
    filed(case)
    case.complete("check_documents", {"doc_decision": "accept"}, COUNTER)
    case.complete("inspect_site", COMPLIANT, INSPECTOR)
    case.complete("review_case", {"decision": "reject", "reason": "پروانه باطل شده"}, EXPERT)

    assert case.workflow.outcome == "end_review_rejected"
    assert case.workflow.data["rejection_reason"] == "review_rejected"
    assert connectors.events() == ["rejected"]
    assert connectors.called("create_invoice") == []


# ---- the Article-100 detour ------------------------------------------------------------


def test_violation_fine_without_defence_or_objection(
    case: Case, clock: FrozenDateTimeFactory, connectors: CertificateConnectors
) -> None:
    inspected(filed(case), VIOLATION)

    assert connectors.called("record_violation") == [
        {
            "description": VIOLATION["violation_description"],
            "area": 12.6,
            "kind": "extra_floor_area",
        }
    ]
    assert connectors.events() == ["violation_found", "c100_defence_requested"]
    defence = only_task(case.workflow, "file_defence")
    assert defence.lane == "APPLICANT"
    assert defence.due_at == STARTED + timedelta(days=10)

    clock.tick(timedelta(days=10) - timedelta(minutes=1))
    assert case.fire_timers().history == ()
    assert case.ready() == [("file_defence", "APPLICANT")]
    clock.tick(timedelta(minutes=2))
    case.fire_timers()
    assert case.workflow.data["defence_filed"] is False
    assert case.ready() == [("prepare_referral", "C100_SEC")]

    case.complete("prepare_referral", REFERRAL, C100)
    ruled(case, "fine", fine_amount=FINE)
    objection = only_task(case.workflow, "object_to_ruling")
    window_opened = clock()
    assert objection.due_at == window_opened.replace(tzinfo=UTC) + timedelta(days=10)
    assert connectors.events()[-2:] == ["c100_referred", "c100_ruling"]

    clock.tick(timedelta(days=9, hours=23))
    assert case.fire_timers().history == ()
    clock.tick(timedelta(hours=2))
    case.fire_timers()

    assert case.workflow.data["c100"] == {
        "ruling": "fine",
        "fine": FINE,
        "reference": "R-1404-310",
        "objection": False,
    }
    assert connectors.events()[-1] == "objection_window_closed"
    assert connectors.called("create_invoice")[-1] == {
        "lines": {"c100_fine": FINE},
        "tariff_year": 1404,
        "event_key": "fine_payable",
    }
    assert case.workflow.waiting_messages() == ["payment_confirmed"]
    assert case.workflow.current_steps() == ["انتظار پرداخت جریمه"]

    case.pay(FINE_PAYMENT)
    assert connectors.called("settle_violation") == [
        {"ruling": "fine", "fine": FINE, "reference": "R-1404-310"}
    ]
    assert case.workflow.data["fine_payment"] == FINE_PAYMENT
    milestone = case.workflow.milestone
    assert milestone is not None
    assert milestone.element_id == "violation_settled"
    assert connectors.called("create_invoice")[-1]["lines"] == {"certificate_fee": 7_200_000}

    signed_and_issued(case)
    [issue] = connectors.called("issue_document")
    assert issue["facts"]["article_100"] == "fine"
    assert issue["fee_paid"] == 7_200_000


def test_defence_filed_then_objection_and_appeal_dismisses(
    case: Case, clock: FrozenDateTimeFactory, connectors: CertificateConnectors
) -> None:
    to_ruling(case, clock, defence=True)
    assert case.workflow.data["defence_filed"] is True
    assert case.workflow.data["defence_text"] == "بنای بام مجاز بوده است"

    ruled(case, "fine", fine_amount=FINE)
    case.complete("object_to_ruling", {"objection_text": "مساحت اشتباه اندازه‌گیری شده"}, CITIZEN)
    assert case.ready() == [("record_appeal_ruling", "C100_SEC")]
    assert case.workflow.pending_timers() == []  # the window closed with the objection

    case.complete(
        "record_appeal_ruling",
        {
            "appeal_ruling": "dismissed",
            "appeal_ruling_number": "A-88",
            "appeal_ruled_on": "1404-08-01",
            "appeal_ruling_text": "رد گزارش",
        },
        C100,
    )

    assert case.workflow.data["c100"] == {
        "ruling": "dismissed",
        "fine": 0,
        "reference": "A-88",
        "objection": True,
    }
    assert connectors.called("settle_violation") == [
        {"ruling": "dismissed", "fine": 0, "reference": "A-88"}
    ]
    assert [c["lines"] for c in connectors.called("create_invoice")] == [
        {"certificate_fee": 7_200_000}
    ]
    signed_and_issued(case)


def test_appeal_may_change_the_fine(
    case: Case, clock: FrozenDateTimeFactory, connectors: CertificateConnectors
) -> None:
    ruled(to_ruling(case, clock), "fine", fine_amount=FINE)
    case.complete("object_to_ruling", {"objection_text": "جریمه زیاد است"}, CITIZEN)
    case.complete(
        "record_appeal_ruling",
        {
            "appeal_ruling": "fine",
            "appeal_fine_amount": 200_000_000,
            "appeal_ruling_number": "A-89",
            "appeal_ruled_on": "1404-08-01",
            "appeal_ruling_text": "کاهش جریمه",
        },
        C100,
    )

    assert connectors.called("create_invoice")[-1]["lines"] == {"c100_fine": 200_000_000}
    case.pay({"amount": 200_000_000, "reference": "FINE-2"})
    assert connectors.called("settle_violation") == [
        {"ruling": "fine", "fine": 200_000_000, "reference": "A-89"}
    ]


def test_unpaid_fine_goes_to_enforcement_and_the_case_is_refused(
    case: Case, clock: FrozenDateTimeFactory, connectors: CertificateConnectors
) -> None:
    ruled(to_ruling(case, clock), "fine", fine_amount=FINE)
    window_closes(case, clock)
    wait_started = clock().replace(tzinfo=UTC)
    [timer] = case.workflow.pending_timers()
    assert (timer.element_id, timer.due_at) == ("fine_deadline", wait_started + timedelta(days=30))

    clock.tick(timedelta(days=30, minutes=1))
    case.fire_timers()

    assert case.ready() == [("enforce_unpaid_fine", "ENFORCEMENT")]
    assert case.workflow.waiting_messages() == []
    case.complete(
        "enforce_unpaid_fine",
        {"enforcement_action": "collection_referral", "enforcement_note": "ارجاع به وصول"},
        ENFORCER,
    )
    assert case.workflow.outcome == "end_refused"
    assert case.workflow.data["rejection_reason"] == "ruling_not_complied"
    assert connectors.events()[-1] == "rejected"
    assert connectors.called("settle_violation") == []
    assert connectors.called("issue_document") == []


@pytest.mark.parametrize("ruling", ["demolition", "restoration"])
def test_demolition_or_restoration_is_checked_on_site_then_settled(
    case: Case, clock: FrozenDateTimeFactory, connectors: CertificateConnectors, ruling: str
) -> None:
    ruled(to_ruling(case, clock), ruling)
    window_closes(case, clock)

    assert case.ready() == [("enforce_ruling", "ENFORCEMENT")]
    case.complete(
        "enforce_ruling", {"remedy_order_number": "E-1", "remedy_note": "ابلاغ شد"}, ENFORCER
    )
    visit = only_task(case.workflow, "verify_remedy")
    assert (visit.lane, visit.properties["appointment"]) == ("INSPECTOR", "site_visit")
    report = {"remedy_visited_on": "1404-08-10", "remedy_findings": "اجرا نشده"}
    case.complete("verify_remedy", {**report, "remedy_done": False}, INSPECTOR)
    assert case.workflow.data["remedy_round"] == 1
    case.complete(
        "enforce_ruling", {"remedy_order_number": "E-2", "remedy_note": "اخطار دوم"}, ENFORCER
    )
    case.complete("verify_remedy", {**report, "remedy_done": True}, INSPECTOR)

    assert connectors.called("settle_violation") == [
        {"ruling": ruling, "fine": 0, "reference": "R-1404-310"}
    ]
    assert case.workflow.waiting_messages() == ["payment_confirmed"]
    signed_and_issued(case)
    assert connectors.called("issue_document")[0]["facts"]["article_100"] == ruling


def test_a_ruling_not_carried_out_past_the_bound_refuses_the_case(
    case: Case, clock: FrozenDateTimeFactory, connectors: CertificateConnectors
) -> None:
    ruled(to_ruling(case, clock), "demolition")
    window_closes(case, clock)
    report = {
        "remedy_visited_on": "1404-08-10",
        "remedy_findings": "اجرا نشده",
        "remedy_done": False,
    }
    for _ in range(3):  # max_remedy_visits = 2: the third failed visit ends it
        case.complete(
            "enforce_ruling", {"remedy_order_number": "E", "remedy_note": "ابلاغ"}, ENFORCER
        )
        case.complete("verify_remedy", report, INSPECTOR)

    assert case.workflow.outcome == "end_refused"
    assert case.workflow.data["remedy_round"] == 3
    assert connectors.called("settle_violation") == []


def test_a_dismissed_ruling_settles_without_payment(
    case: Case, clock: FrozenDateTimeFactory, connectors: CertificateConnectors
) -> None:
    ruled(to_ruling(case, clock), "dismissed")
    window_closes(case, clock)

    assert connectors.called("settle_violation") == [
        {"ruling": "dismissed", "fine": 0, "reference": "R-1404-310"}
    ]
    assert [c["event_key"] for c in connectors.called("create_invoice")] == ["payment_requested"]
    signed_and_issued(case)


def test_notifications_follow_every_stage_of_the_detour(
    case: Case, clock: FrozenDateTimeFactory, connectors: CertificateConnectors
) -> None:
    ruled(to_ruling(case, clock), "fine", fine_amount=FINE)
    window_closes(case, clock)
    case.pay(FINE_PAYMENT)
    signed_and_issued(case)

    # fine_payable and payment_requested are sent by create_invoice (its event_key).
    assert connectors.events() == [
        "violation_found",
        "c100_defence_requested",
        "c100_referred",
        "c100_ruling",
        "objection_window_closed",
        "certificate_issued",
    ]
    assert [c["event_key"] for c in connectors.called("create_invoice")] == [
        "fine_payable",
        "payment_requested",
    ]


# ---- fees per tariff year --------------------------------------------------------------


@pytest.mark.parametrize(
    ("filed_on", "land_use", "area", "fee", "rule"),
    [
        ("2026-03-20", "residential", 180, 7_200_000, "R"),
        ("2026-03-20", "commercial", 100.5, 9_045_000, "C"),
        ("2026-03-20", "mixed", 100, 6_000_000, "X"),
        ("2026-03-20", "green", 10, 600_000, "X"),
        ("2026-03-21", "residential", 180, 9_000_000, "R"),
        ("2026-03-21", "commercial", 100, 11_000_000, "C"),
        ("2026-03-21", "industrial", 100, 7_500_000, "X"),
        ("2027-06-01", "administrative", 100, 7_500_000, "X"),
    ],
)
def test_fee_per_tariff_year(
    compiled: CompiledProcess,
    runtime: Runtime,
    connectors: CertificateConnectors,
    filed_on: str,
    land_use: str,
    area: float,
    fee: int,
    rule: str,
) -> None:
    with freeze_time(START):
        case = inspected(
            filed(Case(compiled, runtime, filed_on=filed_on), land_use=land_use, area=area)
        )

    assert (case.workflow.data["fee"], case.workflow.data["fee_rule"]) == (fee, rule)
    assert connectors.called("create_invoice")[0]["tariff_year"] == (
        {"2026-03-20": 1404, "2026-03-21": 1405}.get(filed_on, 1406)
    )


def test_the_lanes_that_do_the_work(compiled: CompiledProcess) -> None:
    human = [s for s in compiled.steps() if s.type == "userTask"]
    assert {s.lane for s in human} == {
        "APPLICANT",
        "COUNTER",
        "INSPECTOR",
        "URB_EXPERT",
        "C100_SEC",
        "ENFORCEMENT",
        "URB_HEAD",
    }
    assert len(human) == 14
