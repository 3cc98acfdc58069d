"""Deadlines through the database calendar: domain.md §7.4 worked examples, pauses, engine timers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from freezegun import freeze_time

from app.calendar import services
from app.calendar.models import DayKind, MunicipalCalendar
from app.calendar.working import DeadlineUnit, Pause, due_date, paused_days
from app.cases.workflow import runtime
from app.db import db
from app.persian.jalali import parse_jalali_date, to_jalali

# domain.md §7.4: start, working days, due with Thursday closed, due with Thursday open.
SLA_EXAMPLES = [
    ("1404-07-01", 15, "1404-07-22", "1404-07-19"),
    ("1403-12-25", 10, "1404-01-18", "1404-01-16"),  # spans Nowruz and Eid al-Fitr
    ("1404-04-10", 10, "1404-04-28", "1404-04-24"),  # spans Tasua/Ashura
    ("1404-01-05", 3, "1404-01-10", "1404-01-09"),
]


def jalali(text: str) -> date:
    return parse_jalali_date(*text.split("-"))


def as_text(day: date) -> str:
    return "{:04d}-{:02d}-{:02d}".format(*to_jalali(day))


def seeded(thursday_closed: bool) -> MunicipalCalendar:
    calendar = services.ensure_calendar(thursday_closed=thursday_closed)
    services.seed_official_holidays(calendar, [1403, 1404, 1405])
    db.session.commit()
    return calendar


@pytest.mark.parametrize("thursday_closed", [True, False], ids=["thursday-closed", "thursday-open"])
@pytest.mark.parametrize(("start", "days", "closed_due", "open_due"), SLA_EXAMPLES)
def test_worked_examples_through_the_database_calendar(
    app: Flask, thursday_closed: bool, start: str, days: int, closed_due: str, open_due: str
) -> None:
    seeded(thursday_closed)
    expected = closed_due if thursday_closed else open_due
    snapshot = services.calendar_snapshot()
    assert snapshot is not None

    assert as_text(due_date(snapshot, jalali(start), days, DeadlineUnit.WORKING_DAYS)) == expected
    # BPMN timers count with the engine's calendar, which must be built from the same rows.
    engine_calendar = runtime().calendar
    assert as_text(engine_calendar.add_working_days(jalali(start), days)) == expected


def test_jalali_months_keep_the_day_and_clamp_to_the_month_end(app: Flask) -> None:
    snapshot = services.calendar_snapshot() or _snapshot(seeded(True))
    assert as_text(due_date(snapshot, jalali("1404-07-15"), 3, "months")) == "1404-10-15"
    assert as_text(due_date(snapshot, jalali("1404-06-31"), 1, "months")) == "1404-07-30"
    assert as_text(due_date(snapshot, jalali("1403-11-30"), 1, "months")) == "1403-12-30"  # leap
    assert as_text(due_date(snapshot, jalali("1404-11-30"), 1, "months")) == "1404-12-29"


def _snapshot(_calendar: MunicipalCalendar) -> Any:
    return services.calendar_snapshot()


def test_calendar_days_ignore_holidays(app: Flask) -> None:
    snapshot = _snapshot(seeded(True))
    assert as_text(due_date(snapshot, jalali("1403-12-25"), 10, "calendar_days")) == "1404-01-05"


def test_days_waiting_for_the_citizen_do_not_count(app: Flask) -> None:
    snapshot = _snapshot(seeded(True))
    start = jalali("1404-07-01")  # Tuesday; 15 working days → 1404-07-22 without pauses
    # Returned for correction on Sat 07-05, corrected on Tue 07-08: 07-06, 07-07, 07-08 do not
    # count, of which Sun, Mon and Tue are working days: three working days later.
    pause = Pause(jalali("1404-07-05"), jalali("1404-07-08"))
    paused = paused_days([pause], today=jalali("1404-08-01"))
    assert sorted(as_text(d) for d in paused) == ["1404-07-06", "1404-07-07", "1404-07-08"]
    assert as_text(due_date(snapshot, start, 15, "working_days", paused)) == "1404-07-27"
    assert as_text(due_date(snapshot, start, 20, "calendar_days", paused)) == "1404-07-24"
    assert as_text(due_date(snapshot, start, 1, "months", paused)) == "1404-08-04"
    # A same-day return and answer costs nothing.
    same_day = paused_days([Pause(start, start)], today=start)
    assert same_day == frozenset()


def _task(lane: str, created: str, completed: str | None) -> SimpleNamespace:
    def moment(text: str) -> datetime:
        return datetime.combine(jalali(text), datetime.min.time(), UTC).replace(hour=6)

    return SimpleNamespace(
        lane=lane, created_at=moment(created), completed_at=moment(completed) if completed else None
    )


def test_a_cases_effective_due_date_pauses_for_the_citizen_and_optionally_for_agencies(
    app: Flask,
) -> None:
    seeded(True)
    case = SimpleNamespace(
        created_at=datetime(2025, 9, 23, 6, 0, tzinfo=UTC),  # Tuesday 1404-07-01
        process_version=SimpleNamespace(
            card={"legal_deadline": {"value": 15, "unit": "working_days"}}
        ),
        tasks=[
            _task("URB_EXPERT", "1404-07-01", "1404-07-05"),
            _task("APPLICANT", "1404-07-05", "1404-07-08"),
            _task("AGENCY_FIRE", "1404-07-09", "1404-07-12"),
            _task("URB_HEAD", "1404-07-12", None),
        ],
    )
    plain = services.effective_due_date(case, today=jalali("1404-07-15"))
    assert plain is not None
    assert (as_text(plain.due), plain.paused_days, plain.paused_now) == ("1404-07-27", 3, False)

    with_agency = services.effective_due_date(case, include_agency=True, today=jalali("1404-07-15"))
    assert with_agency is not None
    # 07-10 (Thu, closed), 07-11 (Fri), 07-12 (Sat): one more working day.
    assert as_text(with_agency.due) == "1404-07-28"

    case.tasks.append(_task("APPLICANT", "1404-07-14", None))
    waiting = services.effective_due_date(case, today=jalali("1404-07-16"))
    assert waiting is not None
    assert waiting.paused_now
    # Waiting since Mon 07-14: 07-15 and 07-16 (Tue, Wed) are two more working days.
    assert as_text(waiting.due) == "1404-07-29"


def test_without_a_calendar_there_is_no_effective_due_date(app: Flask) -> None:
    case = SimpleNamespace(
        created_at=datetime(2025, 9, 23, tzinfo=UTC),
        process_version=SimpleNamespace(
            card={"legal_deadline": {"value": 15, "unit": "working_days"}}
        ),
        tasks=[],
    )
    assert services.effective_due_date(case) is None


def test_weekday_rules_apply_by_date_range(app: Flask) -> None:
    calendar = seeded(True)
    # From 1404-10-01 Thursdays are working days (a decree), until the year's end.
    services.add_week_rule(calendar, jalali("1404-10-01"), jalali("1404-12-29"), [4], "decree")
    db.session.commit()
    snapshot = services.calendar_snapshot()
    assert snapshot is not None
    assert not snapshot.is_working_day(jalali("1404-09-27"))  # Thursday before the decree
    assert snapshot.is_working_day(jalali("1404-10-04"))  # Thursday under it
    assert not snapshot.is_working_day(jalali("1405-01-27"))  # the old rule applies again
    assert runtime().calendar.is_working_day(jalali("1404-10-04"))
    assert not runtime().calendar.is_working_day(jalali("1404-09-27"))


@freeze_time("2025-09-23 05:00:00")
def test_an_admin_edit_rebuilds_the_engine_calendar(app: Flask) -> None:
    calendar = seeded(True)
    start = jalali("1404-07-01")
    before = runtime()
    assert as_text(before.calendar.add_working_days(start, 1)) == "1404-07-02"

    services.save_day(
        calendar, jalali("1404-07-02"), DayKind.CLOSURE, "تعطیلی به علت گرما", "Heat closure"
    )
    db.session.commit()
    after = runtime()
    assert after is not before
    assert as_text(after.calendar.add_working_days(start, 1)) == "1404-07-05"
    assert runtime() is after  # unchanged calendar: the runtime is reused

    services.save_day(calendar, jalali("1404-07-03"), DayKind.WORKING, "", "")  # a Thursday opened
    db.session.commit()
    assert as_text(runtime().calendar.add_working_days(start, 1)) == "1404-07-03"
    # A BPMN script's working_days(n) now ends on that Thursday at office closing time.
    assert runtime().calendar.deadline(datetime.now(UTC), 1).date() == jalali("1404-07-03")

    services.delete_day(calendar, jalali("1404-07-02"))
    services.delete_day(calendar, jalali("1404-07-03"))
    db.session.commit()
    assert as_text(runtime().calendar.add_working_days(start, 1)) == "1404-07-02"


def test_seeding_is_idempotent_keeps_admin_changes_and_marks_estimates(app: Flask) -> None:
    calendar = seeded(True)
    nowruz = jalali("1405-01-02")
    services.save_day(calendar, nowruz, DayKind.HOLIDAY, "عید نوروز (تأییدشده)", "Nowruz")
    db.session.commit()
    assert services.seed_official_holidays(calendar, [1404, 1405]) == 0
    days = {d.day: d for d in services.days_in_year(calendar, 1405)}
    assert days[nowruz].name_fa == "عید نوروز (تأییدشده)"
    fitr = days[jalali("1405-12-19")]
    assert fitr.estimated
    assert "تخمینی" not in fitr.name_fa
    assert fitr.name_en == "Eid al-Fitr"
    ashura_1404 = {d.day for d in services.days_in_year(calendar, 1404)}
    assert jalali("1404-04-15") in ashura_1404
    assert jalali("1404-12-10") in ashura_1404  # the ad-hoc closure days of Esfand 1404


def test_a_week_must_keep_a_working_day(app: Flask) -> None:
    calendar = seeded(True)
    with app.test_request_context("/"):
        with pytest.raises(services.CalendarProblem, match="دست‌کم یک روز"):
            services.add_week_rule(calendar, jalali("1404-01-01"), None, range(7))
        with pytest.raises(services.CalendarProblem, match="پیش از تاریخ آغاز"):
            services.add_week_rule(calendar, jalali("1404-02-01"), jalali("1404-01-01"), [4])
