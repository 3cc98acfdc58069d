"""processes/building_permit driven through every path, restored after every single step.

Time is frozen: the case starts on Tuesday 1404-07-01 (2025-09-23) at 08:30 Tehran time
(Thursday closed). The data is domain.md §9 case 1: plate 3/125/4217, 240.5 m², 4 floors over
pilotis, 8 units.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory

from engine import (
    CompiledProcess,
    HistoryEntry,
    NotWaitingForMessage,
    ProcessLibrary,
    Runtime,
    StepResult,
    Workflow,
)

from .support import FakeConnectors, only_task, restored

START = "2025-09-23 05:00:00+00:00"  # 08:30 in Tehran, Tuesday 1404-07-01
INQUIRY_DUE = datetime(2025, 10, 7, 10, 30, tzinfo=UTC)  # 10 working days: 1404-07-15 14:00
SILENCE_DUE = datetime(2025, 11, 22, 10, 30, tzinfo=UTC)  # 2 Jalali months: 1404-09-01 14:00
REMINDER_DUE = datetime(2025, 9, 30, 10, 30, tzinfo=UTC)  # 5 working days: 1404-07-08 14:00

CITIZEN, CLERK, INSPECTOR = "citizen:1360524185", "counter:4", "inspector:5"
EXPERT, HEAD, DEPUTY, BANK = "expert:12", "head:3", "deputy:2", "gateway:bank"
REGISTRY, FIRE, ENGINEERING = "agency:registry", "agency:fire", "agency:engineering"
UTILITIES, HERITAGE = "agency:utilities", "agency:heritage"

FILE = {"name": "deed.pdf", "type": "application/pdf", "size": 52_000}
PLATE = {"section": "3", "main": "125", "sub": "4217"}
APPLICATION: dict[str, Any] = {
    "applicant_role": "owner",
    "applicant_name": "علی کریمی",
    "national_code": "1360524185",
    "mobile": "09140001001",
    "owners": [{"name": "علی کریمی", "national_code": "1360524185", "share": 6}],
    "plate": PLATE,
    "renewal_code": "9-2-15-37-1-0-0",
    "address": "تبریز، منطقه ۹، حوزه ۲، خیابان نمونه، پلاک ۱۲",
    "postal_code": "5166614776",
    "area": 240.5,
    "land_use": "residential",
    "floors": 4,
    "units": 8,
    "pilotis": True,
    "deed_type": "single_sheet",
    "deed": FILE,
    "renewal_receipt": {**FILE, "name": "receipt.pdf"},
}
VISIT = {
    "visited_on": "1404-07-06",
    "existing_state": "old_building",
    "measured_area": 240.5,
    "setback_m": 1.2,
    "findings": "ساختمان قدیمی یک‌طبقه؛ عقب‌نشینی ۱٫۲۰ متر لازم است.",
}
BRIEF = {
    "brief_setback_m": 1.2,
    "brief_max_floors": 5,
    "brief_density_pct": 240,
    "brief_coverage_pct": 60,
}
DRAWINGS: dict[str, Any] = {
    "architecture_drawings": [FILE],
    "structure_drawings": [FILE],
    "installations_drawings": [FILE],
    "parking_spaces": 8,
    "architect_name": "سارا احمدی",
    "architect_licence": "1-12-34567",
    "structural_engineer_name": "رضا محمدی",
    "structural_engineer_licence": "1-12-45678",
    "supervisor_name": "مهدی رحیمی",
    "supervisor_licence": "1-12-56789",
}
UNDERTAKINGS = {
    "notarised_undertaking": FILE,
    "undertaking_number": "145782",
    "undertaking_date": "1404-08-09",
    "social_security_letter": FILE,
    "social_security_number": "9/1404/5512",
}
PAYMENT = {"amount": 125_060_000, "reference": "12540040704"}
ZONING = {
    "zone": "R212",
    "land_use": "residential",
    "max_floors": 5,
    "max_density_pct": 240,
    "max_coverage_pct": 60,
    "setback_m": 1.2,
    "street_width_m": 12.0,
}

#: What property_record answers for the parcel: its zoning, nothing else on record yet.
RECORD = {
    "found": True,
    "zoning": ZONING,
    "has_permit": False,
    "has_completion": False,
    "has_no_violation": False,
    "open_violations": 0,
    "unpaid_fees": 0,
    "documents": [],
}


class PermitConnectors(FakeConnectors):
    """The sample's fakes plus the property register's."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.fake(
            "register_property",
            lambda inputs: {
                "property_id": 7,
                "zoning_on_record": True,
                "has_permit": False,
                "has_completion": False,
                "open_violations": 0,
            },
        )
        self.fake(
            "property_record",
            lambda inputs: dict(RECORD),
        )
        self.fake("issue_document", lambda inputs: {"document_number": "1404090012345"})

    def events(self) -> list[tuple[str, str]]:
        """The notifications sent, as (event_key, recipient_role)."""
        return [(c["event_key"], c["recipient_role"]) for c in self.called("notify")]


class Case:
    """Drives the building permit as the app would, restoring the state after every step."""

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
        return self._record(self.workflow.complete(task.id, data, actor=actor))

    def pay(self, payment: Mapping[str, Any] = PAYMENT) -> StepResult:
        return self._record(
            self.workflow.send_message("payment_confirmed", dict(payment), actor=BANK)
        )

    def fire_timers(self, now: datetime | None = None) -> StepResult:
        return self._record(self.workflow.fire_due_timers(now))

    def ready(self) -> list[tuple[str, str | None, str | None]]:
        return sorted((t.element_id, t.lane, t.form_key) for t in self.workflow.human_tasks())

    def ready_ids(self) -> list[str]:
        return sorted(t.element_id for t in self.workflow.human_tasks())

    def milestones(self) -> list[str]:
        return [e.element_id or "" for e in self.history if e.kind == "milestone_reached"]


@pytest.fixture(scope="module")
def permit() -> CompiledProcess:
    from .support import FORMS_DIR, PROCESSES_DIR

    return ProcessLibrary(PROCESSES_DIR, FORMS_DIR).compile("building_permit")


@pytest.fixture
def connectors() -> PermitConnectors:
    return PermitConnectors()


@pytest.fixture
def clock() -> Iterator[FrozenDateTimeFactory]:
    with freeze_time(START) as frozen:
        yield frozen


@pytest.fixture
def case(permit: CompiledProcess, runtime: Runtime, clock: FrozenDateTimeFactory) -> Case:
    return Case(permit, runtime)


# ---- stage helpers ---------------------------------------------------------------------------


def filed(case: Case, **changes: Any) -> Case:
    case.complete("submit_application", {**APPLICATION, **changes}, CITIZEN)
    return case


def documents_ok(case: Case) -> Case:
    case.complete("check_documents", {"decision": "approve"}, CLERK)
    return case


def reviewed(
    case: Case, *, utilities: bool = False, heritage: bool = False, **changes: Any
) -> Case:
    """File, pass the documents and the site visit, approve the planning review."""
    documents_ok(filed(case, **changes))
    case.complete("inspect_site", VISIT, INSPECTOR)
    review = {"decision": "approve", "utility_row_affected": utilities, "heritage_buffer": heritage}
    case.complete("review_planning", review, EXPERT)
    return case


def answer(case: Case, agency: str, value: str = "no_objection", **extra: Any) -> None:
    actors = {
        "registry": REGISTRY,
        "fire": FIRE,
        "engineering": ENGINEERING,
        "utilities": UTILITIES,
        "heritage": HERITAGE,
    }
    case.complete(f"{agency}_inquiry", {f"{agency}_answer": value, **extra}, actors[agency])


def answered(case: Case, **kwargs: Any) -> Case:
    reviewed(case, **kwargs)
    answer(case, "registry")
    answer(case, "engineering")
    return case


def brief_issued(case: Case, **kwargs: Any) -> Case:
    answered(case, **kwargs)
    case.complete("draft_design_brief", BRIEF, EXPERT)
    case.complete("approve_design_brief", {"decision": "approve"}, HEAD)
    return case


def drawings_approved(case: Case, **kwargs: Any) -> Case:
    brief_issued(case, **kwargs)
    case.complete("upload_drawings", DRAWINGS, CITIZEN)
    case.complete(
        "verify_drawings", {"decision": "approve", "engineering_reference": "ن‌م-۴۵۱۲"}, ENGINEERING
    )
    case.complete("check_drawings", {"decision": "approve"}, EXPERT)
    return case


def undertakings_accepted(case: Case) -> Case:
    case.complete("upload_undertakings", UNDERTAKINGS, CITIZEN)
    case.complete("check_undertakings", {"decision": "approve"}, CLERK)
    return case


def signed(case: Case) -> Case:
    case.complete("sign_head", {"decision": "approve"}, HEAD)
    case.complete("sign_deputy", {"decision": "approve"}, DEPUTY)
    return case


# ---- the main path ---------------------------------------------------------------------------


def test_main_path_to_the_issued_permit(case: Case, connectors: PermitConnectors) -> None:
    assert case.ready() == [("submit_application", "APPLICANT", "building_permit/application")]

    filed(case)
    assert connectors.called("register_property") == [
        {
            "plate": PLATE,
            "renewal_code": "9-2-15-37-1-0-0",
            "postal_code": "5166614776",
            "address": APPLICATION["address"],
            "area": 240.5,
            "land_use": "residential",
        }
    ]
    assert case.workflow.data["property"]["property_id"] == 7
    check = only_task(case.workflow, "check_documents")
    assert (check.lane, check.form_key) == ("COUNTER", "building_permit/document_check")
    assert check.outcomes == ("approve", "return_for_correction", "reject")
    assert check.properties["assignment"] == "previous_performer"

    documents_ok(case)
    visit = only_task(case.workflow, "inspect_site")
    assert (visit.lane, visit.form_key) == ("INSPECTOR", "building_permit/site_visit")
    assert visit.properties["appointment"] == "site_visit"

    case.complete("inspect_site", VISIT, INSPECTOR)
    assert connectors.called("property_record") == [{}]
    review = only_task(case.workflow, "review_planning")
    assert review.lane == "URB_EXPERT"
    assert review.data["property_facts"] == RECORD
    assert "question" in review.properties

    case.complete(
        "review_planning",
        {"decision": "approve", "utility_row_affected": False, "heritage_buffer": False},
        EXPERT,
    )
    assert case.ready() == [
        ("engineering_inquiry", "AGENCY_ENGINEERING", "building_permit/engineering_answer"),
        ("registry_inquiry", "AGENCY_REGISTRY", "building_permit/registry_answer"),
    ]
    registry = only_task(case.workflow, "registry_inquiry")
    assert registry.outcomes == ("no_objection", "conditions", "objection")
    assert "مالکیت" in registry.properties["question"]
    assert registry.due_at == INQUIRY_DUE

    answer(case, "registry")
    assert case.ready_ids() == ["engineering_inquiry"]  # the join waits for every branch
    answer(case, "engineering", "conditions", engineering_conditions="ناظر از سازمان معرفی شود.")
    assert case.workflow.data["inquiry_answers"] == {
        "registry": "no_objection",
        "engineering": "conditions",
    }
    assert case.workflow.data["objections"] == []
    assert case.ready() == [("draft_design_brief", "URB_EXPERT", "building_permit/design_brief")]

    case.complete("draft_design_brief", BRIEF, EXPERT)
    assert case.ready_ids() == ["approve_design_brief"]
    case.complete("approve_design_brief", {"decision": "approve"}, HEAD)
    upload = only_task(case.workflow, "upload_drawings")
    assert (upload.lane, upload.form_key) == ("APPLICANT", "building_permit/drawings")

    case.complete("upload_drawings", DRAWINGS, CITIZEN)
    assert only_task(case.workflow, "verify_drawings").lane == "AGENCY_ENGINEERING"
    case.complete(
        "verify_drawings", {"decision": "approve", "engineering_reference": "۴۵۱۲"}, ENGINEERING
    )
    assert only_task(case.workflow, "check_drawings").lane == "URB_EXPERT"
    case.complete("check_drawings", {"decision": "approve"}, EXPERT)

    assert case.workflow.waiting_messages() == ["payment_confirmed"]
    assert connectors.called("create_invoice") == [
        {
            "lines": {
                "permit_fee": 115_440_000,  # 240.5 m² × 4 floors = 962 m² × 120,000
                "renewal_levy": 4_810_000,
                "education_levy": 4_810_000,
                "parking_shortfall": 0,
            },
            "tariff_year": 1404,
            "event_key": "payment_requested",
        }
    ]
    assert case.workflow.data["invoice"]["amount"] == PAYMENT["amount"]

    case.pay()
    assert case.ready() == [("upload_undertakings", "APPLICANT", "building_permit/undertakings")]
    undertakings_accepted(case)
    assert only_task(case.workflow, "sign_head").lane == "URB_HEAD"
    case.complete("sign_head", {"decision": "approve"}, HEAD)
    assert only_task(case.workflow, "sign_deputy").lane == "DEPUTY"
    case.complete("sign_deputy", {"decision": "approve"}, DEPUTY)

    assert case.workflow.is_completed
    assert case.workflow.outcome == "end_issued"
    [issued] = connectors.called("issue_document")
    assert issued["document_type"] == "building_permit"
    assert issued["applicant_name"] == "علی کریمی"
    assert (issued["fee_paid"], issued["payment_reference"]) == (125_060_000, "12540040704")
    assert issued["valid_days"] == 1095  # 1404-07-01 to 1407-07-01 (three Jalali years)
    facts = issued["facts"]
    assert facts["plate"] == PLATE
    assert (facts["floors"], facts["units"], facts["pilotis"], facts["area"]) == (4, 8, True, 240.5)
    assert facts["engineers"]["supervisor_licence"] == "1-12-56789"
    assert facts["design_brief"] == {
        "setback_m": 1.2,
        "max_floors": 5,
        "max_density_pct": 240,
        "max_coverage_pct": 60,
    }
    assert facts["valid_until"] == "2028-09-22"  # 1407-07-01
    assert facts["conditions"] == ""
    assert case.workflow.data["certificate"] == {"document_number": "1404090012345"}

    assert connectors.events() == [
        ("submitted", "APPLICANT"),
        ("review_passed", "APPLICANT"),
        ("inquiries_sent", "APPLICANT"),
        ("design_brief_issued", "APPLICANT"),
        ("undertakings_requested", "APPLICANT"),
        ("certificate_issued", "APPLICANT"),
    ]
    assert case.milestones() == [
        "application_registered",
        "documents_accepted",
        "site_visited",
        "review_passed",
        "inquiries_answered",
        "design_brief_issued",
        "drawings_uploaded",
        "drawings_approved",
        "payment_received",
        "undertakings_accepted",
        "permit_signed",
    ]
    assert case.workflow.pending_timers() == []


def test_every_human_task_sits_in_its_lane(permit: CompiledProcess) -> None:
    lanes = {s.id: s.lane for s in permit.steps()}
    assert lanes["submit_application"] == lanes["upload_drawings"] == "APPLICANT"
    assert lanes["check_documents"] == lanes["check_undertakings"] == "COUNTER"
    assert lanes["compute_fee"] == "REVENUE"
    assert lanes["sign_deputy"] == "DEPUTY"
    for agency in ("registry", "fire", "engineering", "utilities", "heritage"):
        assert lanes[f"{agency}_inquiry"] == f"AGENCY_{agency.upper()}"


# ---- DOC: the document check and its correction loop -------------------------------------------


@pytest.mark.parametrize("rounds", [0, 1, 3])
def test_document_correction_rounds_up_to_the_bound(
    case: Case, connectors: PermitConnectors, rounds: int
) -> None:
    filed(case)
    for round_number in range(1, rounds + 1):
        case.complete(
            "check_documents",
            {
                "decision": "return_for_correction",
                "fix_items": ["deed"],
                "reason": "سند خوانا نیست",
            },
            CLERK,
        )
        correction = only_task(case.workflow, "correct_documents")
        assert (correction.lane, correction.form_key) == (
            "APPLICANT",
            "building_permit/document_correction",
        )
        assert correction.data["document_round"] == round_number
        case.complete("correct_documents", {"correction_note": "سند دوباره اسکن شد"}, CITIZEN)
        assert only_task(case.workflow, "check_documents").properties["assignment"] == (
            "previous_performer"
        )
    documents_ok(case)

    assert case.ready_ids() == ["inspect_site"]
    assert connectors.events().count(("returned_for_correction", "APPLICANT")) == rounds


def test_document_corrections_past_the_bound_reject(
    case: Case, connectors: PermitConnectors
) -> None:
    filed(case)
    for _ in range(3):
        case.complete("check_documents", {"decision": "return_for_correction"}, CLERK)
        case.complete("correct_documents", {"correction_note": "اصلاح شد"}, CITIZEN)

    case.complete("check_documents", {"decision": "return_for_correction"}, CLERK)

    assert case.workflow.outcome == "end_rejected"
    assert case.workflow.data["rejection_reason"] == "too_many_document_corrections"
    assert connectors.events()[-1] == ("rejected", "APPLICANT")


def test_the_correction_bound_comes_from_start_data(
    permit: CompiledProcess, runtime: Runtime
) -> None:
    with freeze_time(START):
        case = filed(Case(permit, runtime, max_correction_rounds=1))
        case.complete("check_documents", {"decision": "return_for_correction"}, CLERK)
        case.complete("correct_documents", {"correction_note": "اصلاح شد"}, CITIZEN)
        case.complete("check_documents", {"decision": "return_for_correction"}, CLERK)

    assert case.workflow.outcome == "end_rejected"


def test_counter_rejects_the_documents(case: Case, connectors: PermitConnectors) -> None:
    filed(case)
    case.complete("check_documents", {"decision": "reject", "reason": "سند عادی است"}, CLERK)

    assert case.workflow.outcome == "end_rejected"
    assert connectors.events() == [("submitted", "APPLICANT"), ("rejected", "APPLICANT")]
    assert connectors.called("property_record") == []


def test_optional_renewal_code_is_sent_empty(case: Case, connectors: PermitConnectors) -> None:
    application = {k: v for k, v in APPLICATION.items() if k != "renewal_code"}
    case.complete("submit_application", application, CITIZEN)

    assert connectors.called("register_property")[0]["renewal_code"] == ""


# ---- REV: the planning review and its correction loop ------------------------------------------


def _to_review(case: Case) -> None:
    documents_ok(filed(case))
    case.complete("inspect_site", VISIT, INSPECTOR)


def test_review_correction_changes_the_proposal(case: Case, connectors: PermitConnectors) -> None:
    _to_review(case)
    case.complete(
        "review_planning",
        {"decision": "return_for_correction", "fix_items": ["floors"], "reason": "حداکثر ۵ طبقه"},
        EXPERT,
    )
    correction = only_task(case.workflow, "correct_application")
    assert correction.form_key == "building_permit/correction"
    assert correction.data["review_round"] == 1

    case.complete("correct_application", {"floors": 5, "correction_note": "۵ طبقه"}, CITIZEN)
    assert only_task(case.workflow, "review_planning").data["floors"] == 5
    case.complete(
        "review_planning",
        {"decision": "approve", "utility_row_affected": False, "heritage_buffer": False},
        EXPERT,
    )

    assert case.ready_ids() == ["engineering_inquiry", "fire_inquiry", "registry_inquiry"]
    assert connectors.called("property_record") == [{}]  # fetched once, before the first review


def test_review_corrections_past_the_bound_reject(case: Case) -> None:
    _to_review(case)
    for _ in range(3):
        case.complete("review_planning", {"decision": "return_for_correction"}, EXPERT)
        case.complete("correct_application", {"correction_note": "اصلاح شد"}, CITIZEN)
    case.complete("review_planning", {"decision": "return_for_correction"}, EXPERT)

    assert case.workflow.outcome == "end_rejected"
    assert case.workflow.data["rejection_reason"] == "too_many_review_corrections"


def test_planning_review_rejects(case: Case, connectors: PermitConnectors) -> None:
    _to_review(case)
    case.complete("review_planning", {"decision": "reject", "reason": "کاربری فضای سبز"}, EXPERT)

    assert case.workflow.outcome == "end_rejected"
    assert connectors.events()[-1] == ("rejected", "APPLICANT")
    assert case.workflow.pending_timers() == []


# ---- INQ: which agencies are asked ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "utilities", "heritage", "asked"),
    [
        ({}, False, False, ["engineering", "registry"]),
        ({"floors": 5}, False, False, ["engineering", "fire", "registry"]),
        ({"units": 9}, False, False, ["engineering", "fire", "registry"]),
        ({}, True, False, ["engineering", "registry", "utilities"]),
        ({}, False, True, ["engineering", "heritage", "registry"]),
        (
            {"floors": 6, "units": 12},
            True,
            True,
            ["engineering", "fire", "heritage", "registry", "utilities"],
        ),
    ],
)
def test_agencies_asked_depend_on_the_case(
    case: Case,
    changes: dict[str, Any],
    utilities: bool,
    heritage: bool,
    asked: list[str],
) -> None:
    reviewed(case, utilities=utilities, heritage=heritage, **changes)

    assert case.ready_ids() == [f"{agency}_inquiry" for agency in asked]
    for agency in asked:
        task = only_task(case.workflow, f"{agency}_inquiry")
        assert task.lane == f"AGENCY_{agency.upper()}"
        assert task.form_key == f"building_permit/{agency}_answer"
        assert task.properties["question"]

    for agency in asked:
        assert case.workflow.milestone is not None
        assert case.workflow.milestone.element_id == "review_passed"
        answer(case, agency)
    assert case.ready_ids() == ["draft_design_brief"]
    assert sorted(case.workflow.data["inquiry_answers"]) == sorted(asked)


def test_utilities_silence_is_consent_after_two_jalali_months(
    case: Case, clock: FrozenDateTimeFactory, connectors: PermitConnectors
) -> None:
    reviewed(case, utilities=True)
    utilities = only_task(case.workflow, "utilities_inquiry")
    assert utilities.due_at == SILENCE_DUE
    answer(case, "registry")
    answer(case, "engineering")
    assert case.ready_ids() == ["utilities_inquiry"]

    clock.move_to(SILENCE_DUE - timedelta(minutes=1))
    assert case.fire_timers().history == ()
    assert case.ready_ids() == ["utilities_inquiry"]

    clock.move_to(SILENCE_DUE + timedelta(minutes=1))
    result = case.fire_timers()

    assert ("timer_fired", "utilities_silence") in [(e.kind, e.element_id) for e in result.history]
    assert case.ready_ids() == ["draft_design_brief"]
    assert case.workflow.data["utilities_answer"] == "consent_by_silence"
    assert case.workflow.data["inquiry_answers"]["utilities"] == "consent_by_silence"
    assert case.workflow.data["objections"] == []
    assert ("inquiry_overdue", "URB_HEAD") not in connectors.events()  # answered in time


def test_utilities_answer_before_the_deadline_stops_the_timer(case: Case) -> None:
    reviewed(case, utilities=True)
    answer(case, "utilities", "conditions", utilities_conditions="فاصله ۲ متر از کابل برق")
    answer(case, "registry")
    answer(case, "engineering")

    assert case.workflow.data["inquiry_answers"]["utilities"] == "conditions"
    assert case.workflow.pending_timers() == []


@pytest.mark.parametrize("agency", ["registry", "engineering", "fire", "heritage"])
def test_late_agency_escalates_to_the_head_and_keeps_its_task(
    case: Case, clock: FrozenDateTimeFactory, connectors: PermitConnectors, agency: str
) -> None:
    reviewed(case, floors=5, heritage=True)
    task_id = only_task(case.workflow, f"{agency}_inquiry").id
    for other in {"registry", "engineering", "fire", "heritage"} - {agency}:
        answer(case, other)

    clock.move_to(INQUIRY_DUE - timedelta(minutes=1))
    assert case.fire_timers().history == ()

    clock.move_to(INQUIRY_DUE + timedelta(minutes=1))
    result = case.fire_timers()

    assert ("timer_fired", f"{agency}_overdue") in [(e.kind, e.element_id) for e in result.history]
    assert connectors.events()[-1] == ("inquiry_overdue", "URB_HEAD")
    assert only_task(case.workflow, f"{agency}_inquiry").id == task_id  # non-interrupting
    answer(case, agency)
    assert case.ready_ids() == ["draft_design_brief"]


@pytest.mark.parametrize("agency", ["registry", "engineering", "fire", "utilities", "heritage"])
def test_an_objection_goes_to_the_head_who_may_proceed_with_conditions(
    case: Case, agency: str
) -> None:
    reviewed(case, floors=5, utilities=True, heritage=True)
    for other in ("registry", "engineering", "fire", "utilities", "heritage"):
        if other == agency:
            answer(case, other, "objection", **{f"{other}_conditions": "مخالفت به دلیل ضوابط"})
        else:
            answer(case, other)

    decide = only_task(case.workflow, "decide_objection")
    assert (decide.lane, decide.form_key) == ("URB_HEAD", "building_permit/objection_decision")
    assert decide.outcomes == ("proceed_with_conditions", "reject")
    assert decide.data["objections"] == [agency]

    conditions = "رعایت نظر دستگاه در نما و ارتفاع"
    case.complete(
        "decide_objection",
        {"decision": "proceed_with_conditions", "permit_conditions": conditions},
        HEAD,
    )
    assert case.ready_ids() == ["draft_design_brief"]
    assert case.workflow.data["permit_conditions"] == conditions


def test_an_objection_the_head_upholds_rejects(case: Case, connectors: PermitConnectors) -> None:
    reviewed(case)
    answer(case, "registry", "objection", registry_conditions="مالکیت مورد اختلاف است")
    answer(case, "engineering")

    case.complete("decide_objection", {"decision": "reject", "reason": "اختلاف مالکیت"}, HEAD)

    assert case.workflow.outcome == "end_rejected"
    assert connectors.events()[-1] == ("rejected", "APPLICANT")
    assert case.workflow.pending_timers() == []


# ---- DES / CHK: drawings ------------------------------------------------------------------------


def test_drawings_returned_by_either_checker_come_back_to_the_applicant(
    case: Case, connectors: PermitConnectors
) -> None:
    brief_issued(case)
    case.complete("upload_drawings", DRAWINGS, CITIZEN)
    case.complete(
        "verify_drawings",
        {"decision": "return_for_correction", "reason": "محاسبات ناقص"},
        ENGINEERING,
    )
    assert case.ready_ids() == ["upload_drawings"]
    assert case.workflow.data["drawings_round"] == 1

    case.complete("upload_drawings", DRAWINGS, CITIZEN)
    case.complete(
        "verify_drawings", {"decision": "approve", "engineering_reference": "۱"}, ENGINEERING
    )
    case.complete(
        "check_drawings", {"decision": "return_for_correction", "reason": "عقب‌نشینی"}, EXPERT
    )
    assert case.ready_ids() == ["upload_drawings"]
    assert case.workflow.data["drawings_round"] == 2
    assert connectors.events().count(("drawings_returned", "APPLICANT")) == 2

    case.complete("upload_drawings", DRAWINGS, CITIZEN)
    case.complete(
        "verify_drawings", {"decision": "approve", "engineering_reference": "۲"}, ENGINEERING
    )
    case.complete("check_drawings", {"decision": "approve"}, EXPERT)
    assert case.workflow.waiting_messages() == ["payment_confirmed"]


def test_drawings_returned_past_the_bound_reject(case: Case) -> None:
    brief_issued(case)
    for _ in range(4):
        case.complete("upload_drawings", DRAWINGS, CITIZEN)
        case.complete("verify_drawings", {"decision": "return_for_correction"}, ENGINEERING)

    assert case.workflow.outcome == "end_rejected"
    assert case.workflow.data["rejection_reason"] == "too_many_drawing_corrections"


# ---- FEE / PAY ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filed_on", "changes", "parking", "lines", "rule"),
    [
        # Tariff book 1404: 962 m² built (240.5 × 4), residential up to 1000 m².
        ("2025-09-23", {}, 8, (115_440_000, 4_810_000, 4_810_000, 0), "R1"),
        # Two units without a parking space.
        ("2025-09-23", {}, 6, (115_440_000, 4_810_000, 4_810_000, 300_000_000), "R1"),
        # 300 m² × 4 floors: 1,200 m² built, the larger band.
        ("2025-09-23", {"area": 300}, 8, (180_000_000, 6_000_000, 6_000_000, 0), "R2"),
        (
            "2025-09-23",
            {"land_use": "commercial", "area": 100, "floors": 2},
            8,
            (80_000_000, 2_000_000, 1_000_000, 0),
            "C",
        ),
        (
            "2025-09-23",
            {"land_use": "mixed", "area": 100, "floors": 2},
            8,
            (40_000_000, 2_000_000, 1_000_000, 0),
            "X",
        ),
        # Tariff book 1405 (filed 1405-01-01) and later years.
        ("2026-03-21", {}, 7, (138_528_000, 6_012_500, 5_772_000, 180_000_000), "R1"),
        (
            "2027-06-01",
            {"land_use": "green", "area": 100, "floors": 1},
            8,
            (24_000_000, 2_500_000, 600_000, 0),
            "X",
        ),
    ],
)
def test_fee_lines_per_tariff_year(
    permit: CompiledProcess,
    runtime: Runtime,
    connectors: PermitConnectors,
    filed_on: str,
    changes: dict[str, Any],
    parking: int,
    lines: tuple[int, int, int, int],
    rule: str,
) -> None:
    with freeze_time(START):
        case = brief_issued(Case(permit, runtime, filed_on=filed_on), **changes)
        case.complete("upload_drawings", {**DRAWINGS, "parking_spaces": parking}, CITIZEN)
        case.complete(
            "verify_drawings", {"decision": "approve", "engineering_reference": "۱"}, ENGINEERING
        )
        case.complete("check_drawings", {"decision": "approve"}, EXPERT)

    [call] = connectors.called("create_invoice")
    names = ("permit_fee", "renewal_levy", "education_levy", "parking_shortfall")
    assert call["lines"] == dict(zip(names, lines, strict=True))
    assert case.workflow.data["fee_rule"] == rule
    assert all(isinstance(amount, int) for amount in call["lines"].values())


def test_payment_reminder_after_five_working_days(
    case: Case, clock: FrozenDateTimeFactory, connectors: PermitConnectors
) -> None:
    drawings_approved(case)
    [timer] = case.workflow.pending_timers()
    assert (timer.element_id, timer.due_at) == ("payment_reminder", REMINDER_DUE)
    with pytest.raises(NotWaitingForMessage):
        case.workflow.send_message("agency_answered", {})

    clock.move_to(REMINDER_DUE - timedelta(minutes=1))
    assert case.fire_timers().history == ()
    clock.move_to(REMINDER_DUE + timedelta(minutes=1))
    case.fire_timers()

    assert connectors.events()[-1] == ("payment_reminder", "APPLICANT")
    assert case.workflow.waiting_messages() == ["payment_confirmed"]  # still waiting
    case.pay()
    assert case.ready_ids() == ["upload_undertakings"]
    assert case.workflow.data["payment"] == PAYMENT


def test_payment_before_the_reminder_sends_none(
    case: Case, clock: FrozenDateTimeFactory, connectors: PermitConnectors
) -> None:
    drawings_approved(case)
    case.pay()
    clock.move_to(REMINDER_DUE + timedelta(days=3))

    assert case.fire_timers().history == ()
    assert ("payment_reminder", "APPLICANT") not in connectors.events()


def test_the_payment_is_on_the_case_history_with_its_sender(case: Case) -> None:
    drawings_approved(case)
    result = case.pay()
    received = [e for e in result.history if e.kind == "message_received"]
    assert [(e.element_id, e.actor) for e in received] == [("wait_payment", BANK)]


def test_no_payment_message_before_the_fee(case: Case) -> None:
    brief_issued(case)
    with pytest.raises(NotWaitingForMessage):
        case.workflow.send_message("payment_confirmed", PAYMENT)


# ---- INS / DRF ------------------------------------------------------------------------------------


def test_undertakings_returned_then_accepted(case: Case, connectors: PermitConnectors) -> None:
    drawings_approved(case)
    case.pay()
    case.complete("upload_undertakings", UNDERTAKINGS, CITIZEN)
    case.complete(
        "check_undertakings", {"decision": "return_for_correction", "reason": "مهر ندارد"}, CLERK
    )
    assert case.ready_ids() == ["upload_undertakings"]
    assert case.workflow.data["undertaking_round"] == 1

    undertakings_accepted(case)
    assert case.ready_ids() == ["sign_head"]
    assert connectors.events().count(("returned_for_correction", "APPLICANT")) == 1


def test_undertakings_past_the_bound_reject(case: Case) -> None:
    drawings_approved(case)
    case.pay()
    for _ in range(4):
        case.complete("upload_undertakings", UNDERTAKINGS, CITIZEN)
        case.complete("check_undertakings", {"decision": "return_for_correction"}, CLERK)

    assert case.workflow.outcome == "end_rejected"
    assert case.workflow.data["rejection_reason"] == "too_many_undertaking_corrections"


@pytest.mark.parametrize("returner", ["sign_head", "sign_deputy"])
def test_a_signer_returns_the_draft_for_revision(case: Case, returner: str) -> None:
    drawings_approved(case)
    case.pay()
    undertakings_accepted(case)
    if returner == "sign_deputy":
        case.complete("sign_head", {"decision": "approve"}, HEAD)
    case.complete(returner, {"decision": "return_for_correction", "reason": "شرایط درج نشده"}, HEAD)

    revision = only_task(case.workflow, "revise_permit_draft")
    assert (revision.lane, revision.form_key) == ("URB_EXPERT", "building_permit/draft_revision")
    case.complete("revise_permit_draft", {"revision_note": "شرایط درج شد"}, EXPERT)
    assert case.ready_ids() == ["sign_head"]  # every revision is signed again from the head
    signed(case)
    assert case.workflow.outcome == "end_issued"


def test_signature_returns_past_the_bound_reject(case: Case, connectors: PermitConnectors) -> None:
    drawings_approved(case)
    case.pay()
    undertakings_accepted(case)
    for _ in range(3):
        case.complete("sign_head", {"decision": "return_for_correction"}, HEAD)
        case.complete("revise_permit_draft", {"revision_note": "اصلاح شد"}, EXPERT)
    case.complete("sign_head", {"decision": "approve"}, HEAD)
    case.complete("sign_deputy", {"decision": "return_for_correction"}, DEPUTY)

    assert case.workflow.outcome == "end_rejected"
    assert case.workflow.data["rejection_reason"] == "too_many_draft_corrections"
    assert connectors.called("issue_document") == []
