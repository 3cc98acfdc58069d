"""A return for correction pauses the review clock: the reviewer's due date on screen
(`CaseTask.due_at`) resumes with the working days left, not a fresh five.

Dates (Tehran, Mehr 1404, no public holidays in the span): Tue 2025-10-07 = 1404-07-15,
Sun 10-12 = 1404-07-20, Wed 10-22 = 1404-07-30, Sat 10-25, Sun 10-26 = 1404-08-04.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from freezegun import freeze_time

from app.calendar.services import ensure_calendar, forget_runtime, seed_official_holidays
from app.cases import services as cases
from app.cases.models import Case, CaseEvent
from app.db import db
from app.processes.services import latest_version

from .conftest import APPLICATION, complete, open_task

RETURNED = {
    "decision": "return_for_correction",
    "fix_items": ["deed_scan"],
    "reason": "سند ناخوانا",
}


def _tehran(day: str, clock: str = "09:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}:00+03:30").astimezone(UTC)


def _as_utc(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("thursday_closed", "opened", "resumed_due"),
    [
        # Opened Tue; Wed, Sat, Sun pass (3 of 5); back Wed 07-30 -> Sat, Sun.
        (True, "2025-10-07", "2025-10-26"),
        # Opened Wed; Thu, Sat, Sun pass (3 of 5); back Wed 07-30 -> Thu, Sat.
        (False, "2025-10-08", "2025-10-25"),
    ],
    ids=["thursday-closed", "thursday-open"],
)
def test_the_reviewer_gets_the_working_days_left_after_the_citizen_corrects(
    people: dict[str, Any], thursday_closed: bool, opened: str, resumed_due: str
) -> None:
    with freeze_time(_tehran(opened)) as clock:
        seed_official_holidays(ensure_calendar(thursday_closed=thursday_closed), [1404])
        forget_runtime()
        version = latest_version("sample_permit")
        assert version is not None
        case = cases.start_case(
            version,
            applicant=people["citizen"],
            district=people["district"],
            data={},
            actor=people["citizen"],
        )
        complete(case, "submit_application", APPLICATION, people["citizen"])
        first = open_task(case, "review_application")
        assert _as_utc(first.due_at) == _tehran("2025-10-14", "14:00")  # five working days

        clock.move_to(_tehran("2025-10-12", "10:00"))  # three working days later
        complete(case, "review_application", RETURNED, people["expert"])
        correction = open_task(case, "correct_application")

        clock.move_to(_tehran("2025-10-22", "10:00"))  # the citizen answers ten days later
        complete(case, "correct_application", {"correction_note": "سند تازه"}, people["citizen"])

        again = open_task(case, "review_application")
        assert again.id != first.id
        assert again.claimed_by_id == people["expert"].id  # back to the same reviewer
        assert _as_utc(again.due_at) == _tehran(resumed_due, "14:00")
        db.session.expire_all()
        stored = db.session.get(Case, case.id)
        assert stored is not None
        assert _as_utc(stored.due_at) == _tehran(resumed_due, "14:00")
        # The pause is the citizen's time: their task had no review deadline running.
        assert correction.due_at is None
        fired = db.session.scalars(
            db.select(CaseEvent).where(
                CaseEvent.case_id == case.id, CaseEvent.kind == "timer_fired"
            )
        ).all()
        assert fired == []
