"""The sandbox helpers that pause a working-day clock: now(), working_days_since(),
working_days_left(); and the sample permit's review deadline resuming after a correction.

Dates (Tehran, Mehr 1404, no public holidays in the span):
Tue 2025-10-07 = 1404-07-15, Wed 10-08, Thu 10-09, Sat 10-11, Sun 10-12 = 1404-07-20,
Wed 10-22 = 1404-07-30, Thu 10-23, Sat 10-25, Sun 10-26 = 1404-08-04.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from engine import CompiledProcess, Runtime, WorkCalendar, Workflow
from engine.scripting import RESERVED_DATA_NAMES, script_helpers

from .support import FakeConnectors, only_task, restored

APPLICATION = {
    "applicant_name": "علی کریمی",
    "national_code": "1360524185",
    "usage": "residential",
    "area": 240.5,
    "address": "تبریز، منطقه ۹",
}
RETURN = {"decision": "return_for_correction", "fix_items": ["deed_scan"], "reason": "سند ناخوانا"}


def _at(day: str) -> datetime:
    """09:00 Tehran on ``day``, in UTC."""
    return datetime.fromisoformat(f"{day}T05:30:00+00:00")


def _due(day: str) -> datetime:
    """14:00 Tehran (end of the office day) on ``day``, in UTC."""
    return datetime.fromisoformat(f"{day}T10:30:00+00:00")


@pytest.mark.parametrize("thursday_closed", [True, False], ids=["thu-closed", "thu-open"])
def test_now_is_the_tehran_moment_and_its_date_is_the_tehran_day(thursday_closed: bool) -> None:
    # 23:00 UTC on Monday is already Tuesday 02:30 in Tehran.
    with freeze_time("2025-10-06 23:00:00+00:00"):
        helpers = script_helpers(WorkCalendar(thursday_closed=thursday_closed), _utc_now)
        assert helpers["now"]() == "2025-10-07T02:30:00+03:30"
        assert helpers["working_days_since"](helpers["now"]()) == 0


@pytest.mark.parametrize(
    ("thursday_closed", "since", "used"),
    [
        (True, "2025-10-07", 3),  # Wed 08, Sat 11, Sun 12
        (False, "2025-10-07", 4),  # Wed 08, Thu 09, Sat 11, Sun 12
        (True, "2025-10-07T09:00:00+03:30", 3),  # a now() value reads as its Tehran day
        (False, "2025-10-12", 0),  # the same day: nothing used yet
    ],
)
def test_working_days_since_counts_up_to_today(
    thursday_closed: bool, since: str, used: int
) -> None:
    with freeze_time(_at("2025-10-12")):
        helpers = script_helpers(WorkCalendar(thursday_closed=thursday_closed), _utc_now)
        assert helpers["working_days_since"](since) == used


@pytest.mark.parametrize(
    ("thursday_closed", "total", "used", "due"),
    [
        (True, 5, 3, "2025-10-26T14:00:00+03:30"),  # Sat 25, Sun 26
        (False, 5, 3, "2025-10-25T14:00:00+03:30"),  # Thu 23, Sat 25
        (True, 5, 0, "2025-10-29T14:00:00+03:30"),  # nothing used: the full five
        (True, 5, 5, "2025-10-25T14:00:00+03:30"),  # spent: still one working day
        (False, 5, 9, "2025-10-23T14:00:00+03:30"),  # overspent: still one working day
    ],
)
def test_working_days_left_gives_the_rest_of_the_budget_from_today(
    thursday_closed: bool, total: int, used: int, due: str
) -> None:
    with freeze_time(_at("2025-10-22")):  # Wednesday 1404-07-30, 09:00 Tehran
        helpers = script_helpers(WorkCalendar(thursday_closed=thursday_closed), _utc_now)
        assert helpers["working_days_left"](total, used) == due


def test_the_new_helpers_are_reserved_names() -> None:
    assert {"now", "working_days_since", "working_days_left"} <= RESERVED_DATA_NAMES


class _Driver:
    """The sample permit driven as the app would, restoring the state after every step."""

    def __init__(self, compiled: CompiledProcess, runtime: Runtime) -> None:
        self.runtime = runtime
        self.workflow = restored(
            Workflow.start(compiled, {}, actor="citizen", runtime=runtime), runtime
        )

    def complete(self, element_id: str, data: dict[str, object], actor: str) -> None:
        task = only_task(self.workflow, element_id)
        self.workflow.complete(task.id, data, actor=actor)
        self.workflow = restored(self.workflow, self.runtime)

    def review_due(self) -> datetime | None:
        return only_task(self.workflow, "review_application").due_at


@pytest.mark.parametrize(
    ("thursday_closed", "opened", "returned", "first_due", "resumed_due"),
    [
        # Opened Tue 07-15; three working days (Wed, Sat, Sun) pass; returned Sun 07-20.
        (True, "2025-10-07", "2025-10-12", "2025-10-14", "2025-10-26"),
        # Opened Wed; three working days (Thu, Sat, Sun) pass; returned Sun 07-20.
        (False, "2025-10-08", "2025-10-12", "2025-10-14", "2025-10-25"),
    ],
    ids=["thu-closed", "thu-open"],
)
def test_a_correction_pauses_the_review_clock_and_the_reviewer_gets_the_rest(
    sample: CompiledProcess,
    connectors: FakeConnectors,
    thursday_closed: bool,
    opened: str,
    returned: str,
    first_due: str,
    resumed_due: str,
) -> None:
    runtime = Runtime(
        calendar=WorkCalendar(thursday_closed=thursday_closed), connectors=connectors.registry
    )
    with freeze_time(_at(opened)) as clock:
        case = _Driver(sample, runtime)
        case.complete("submit_application", APPLICATION, "citizen")
        assert case.review_due() == _due(first_due)  # five working days

        clock.move_to(_at(returned))
        case.complete("review_application", RETURN, "expert")
        assert case.workflow.data["review_days_used"] == 3

        clock.move_to(_at(returned) + timedelta(days=10))  # Wed 1404-07-30: the citizen is back
        assert case.workflow.fire_due_timers().history == ()  # no review clock ran meanwhile
        case.complete("correct_application", {"correction_note": "سند تازه"}, "citizen")

        # Two working days are left, counted from the citizen's return.
        assert case.review_due() == _due(resumed_due)
        assert case.workflow.next_timer_at() == _due(resumed_due)

        clock.move_to(_due(resumed_due) + timedelta(minutes=1))
        case.workflow.fire_due_timers()
        assert "escalate_review" in [t.element_id for t in case.workflow.human_tasks()]


def _utc_now() -> datetime:
    return datetime.now(UTC)
