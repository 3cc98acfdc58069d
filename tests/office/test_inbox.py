"""The inbox: tabs and counts, filters, search, overdue first, pagination, constant queries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.accounts.models import User
from app.cases.models import Case
from app.db import db
from app.office import queries
from app.office.queries import InboxFilter

from .conftest import open_task

pytestmark = pytest.mark.usefixtures("in_request")

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def _codes(user: User, **wanted: Any) -> list[str]:
    page = queries.inbox(user, InboxFilter(**wanted), NOW)
    return [row.tracking_code for row in page.rows]


def test_tabs_count_unassigned_and_mine(people: dict[str, Any], filed: Callable[..., Case]) -> None:
    first, second, third = filed(), filed(), filed()
    open_task(second, "review_application").claimed_by_id = people["expert"].id
    open_task(third, "review_application").claimed_by_id = people["expert2"].id
    db.session.flush()

    page = queries.inbox(people["expert"], InboxFilter(tab="unassigned"), NOW)

    assert page.counts == {"mine": 1, "unassigned": 1}
    assert [r.tracking_code for r in page.rows] == [first.tracking_code]
    assert _codes(people["expert"], tab="mine") == [second.tracking_code]
    # Other roles and districts see none of it.
    assert queries.inbox(people["inspector"], InboxFilter(), NOW).counts == {
        "mine": 0,
        "unassigned": 0,
    }
    assert queries.inbox(people["elsewhere"], InboxFilter(), NOW).rows == []


def test_overdue_first_then_by_deadline(people: dict[str, Any], filed: Callable[..., Case]) -> None:
    cases = [filed() for _ in range(3)]
    deadlines = [NOW + timedelta(days=2), NOW - timedelta(days=3), NOW - timedelta(hours=1)]
    for case, due in zip(cases, deadlines, strict=True):
        open_task(case, "review_application").due_at = due
    db.session.flush()

    page = queries.inbox(people["expert"], InboxFilter(), NOW)

    assert [r.tracking_code for r in page.rows] == [
        cases[1].tracking_code,
        cases[2].tracking_code,
        cases[0].tracking_code,
    ]
    assert [r.overdue(NOW) for r in page.rows] == [True, True, False]
    assert _codes(people["expert"], due="overdue") == [
        cases[1].tracking_code,
        cases[2].tracking_code,
    ]
    assert _codes(people["expert"], due="week") == [r.tracking_code for r in page.rows]


def test_filters_by_service_step_and_district(
    people: dict[str, Any], filed: Callable[..., Case]
) -> None:
    case = filed()
    user = people["head"]

    assert _codes(user, service="sample_permit") == [case.tracking_code]
    assert _codes(user, service="another_service") == []
    assert _codes(user, step="review_application") == [case.tracking_code]
    assert _codes(user, step="escalate_review") == []
    assert _codes(user, district=people["district"].id) == [case.tracking_code]
    assert _codes(user, district=people["district"].id + 1000) == []
    page = queries.inbox(user, InboxFilter(), NOW)
    assert ("review_application", "بررسی مدارک") in page.steps
    assert ("escalate_review", "پیگیری تأخیر بررسی") in page.steps  # URB_HEAD's step
    assert ("inspect_site", "بازدید میدانی") not in page.steps  # not the head's role
    assert page.services == [("sample_permit", "صدور پروانه نمونه")]


@pytest.mark.parametrize(
    ("typed", "matches"),
    [
        ("{tracking}", True),
        ("{tracking_fa}", True),
        ("۱۳۶۰۵۲۴۱۸۵", True),  # the applicant's national code, in Persian digits
        ("1360524185", True),
        ("9-2-15-37-1-0-0", True),
        ("۹-۲-۱۵-۳۷-۱-۰-۰", True),
        ("3/125/4217", True),  # the plate key: section/main/sub
        ("۳/۱۲۵/۴۲۱۷", True),
        (" 03 / ۱۲۵ / 4217 ", True),
        ("125/4217", True),  # main/sub, as deeds write it, of any section
        ("۱۲۵/۴۲۱۷", True),
        ("4/125/4217", False),  # another section
        ("125/421", False),
        ("25/4217", False),  # not a suffix of a number
        ("0076229645", False),  # a valid national code of someone else
        ("nothing", False),
    ],
)
def test_search_by_tracking_national_plate_or_renewal_code(
    people: dict[str, Any], filed: Callable[..., Case], typed: str, matches: bool
) -> None:
    filed()  # another case that must not match
    case = filed(renewal_code="9-2-15-37-1-0-0", registry_plate="3/125/4217")
    other = next(c for c in db.session.scalars(db.select(Case)) if c.id != case.id)
    other.applicant_id = None
    db.session.flush()
    persian = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
    query = typed.format(
        tracking=case.tracking_code, tracking_fa=case.tracking_code.translate(persian)
    )

    found = _codes(people["expert"], q=query)

    assert found == ([case.tracking_code] if matches else [])


def test_pages_of_25(people: dict[str, Any], filed: Callable[..., Case]) -> None:
    for _ in range(queries.PAGE_SIZE + 2):
        filed()

    first = queries.inbox(people["expert"], InboxFilter(), NOW)
    second = queries.inbox(people["expert"], InboxFilter(page=2), NOW)

    assert (first.pages, len(first.rows), len(second.rows)) == (2, 25, 2)
    assert not {r.task_id for r in first.rows} & {r.task_id for r in second.rows}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("3/125/4217", ("3/125/4217", None)),
        ("۰۳/۱۲۵/۴۲۱۷", ("3/125/4217", None)),
        ("125/4217", ("125/4217", "125/4217")),  # section/main, or main/sub
        ("3/211-253", ("3/211-253", "3/211-253")),
        ("211-253/5", (None, "211-253/5")),  # a section is one number: main/sub only
        ("9-2-15-37-1-0-0", (None, None)),
        ("1/2/3/4", (None, None)),
        ("0/5", (None, None)),
    ],
)
def test_plate_keys_read_what_reviewers_type(typed: str, expected: tuple[str | None, ...]) -> None:
    assert queries.plate_keys(typed) == expected


def test_a_two_number_plate_is_also_a_key_of_its_own(
    people: dict[str, Any], filed: Callable[..., Case]
) -> None:
    keyed = filed(registry_plate="125/4217")  # section 125, main 4217
    filed(registry_plate="1/4217/125")

    assert _codes(people["expert"], q="125/4217") == [keyed.tracking_code]


def test_counts_stop_past_the_cap_and_pages_still_follow(
    people: dict[str, Any], filed: Callable[..., Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    made = [filed() for _ in range(5)]
    open_task(made[0], "review_application").claimed_by_id = people["expert"].id
    db.session.flush()

    first = queries.inbox(people["expert"], InboxFilter(), NOW)
    second = queries.inbox(people["expert"], InboxFilter(page=2), NOW)
    last = queries.inbox(people["expert"], InboxFilter(page=3), NOW)

    assert first.counts == {"mine": 1, "unassigned": 4}  # counted one past the cap
    assert (first.capped("unassigned"), first.capped("mine")) == (True, False)
    assert (first.pages, first.more, len(first.rows)) == (None, True, 2)
    assert (second.more, len(second.rows)) == (False, 2)
    assert last.rows == []
    mine = queries.inbox(people["expert"], InboxFilter(tab="mine"), NOW)
    assert (mine.pages, mine.more) == (1, False)
