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
        ("125/4217", True),
        ("0076229645", False),  # a valid national code of someone else
        ("nothing", False),
    ],
)
def test_search_by_tracking_national_plate_or_renewal_code(
    people: dict[str, Any], filed: Callable[..., Case], typed: str, matches: bool
) -> None:
    filed()  # another case that must not match
    case = filed(renewal_code="9-2-15-37-1-0-0", registry_plate="125/4217")
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
