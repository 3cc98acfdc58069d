"""The public dashboard, the open data downloads and the rating page, through HTTP."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from flask import g
from flask.testing import FlaskClient
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.services import ensure_citizen, ensure_district
from app.cases.models import Case
from app.db import db
from app.transparency.metrics import MIN_CASES, CaseFacts
from app.transparency.models import ServiceRating
from app.transparency.opendata import Group, merge_small
from app.transparency.recording import Rollup, apply, settings
from tests.transparency.conftest import APPLICATION, start, step


def _completions(district_id: int, day: date, count: int, handling: int = 3) -> None:
    rollup = Rollup()
    for _ in range(count):
        rollup.received("sample_permit", district_id, day)
        facts = CaseFacts(handling + 1, 1, handling, True, False)
        rollup.completed("sample_permit", district_id, day, facts, [], settings().workdays)
    apply(rollup)


def test_the_dashboard_is_public_and_draws_accessible_charts(
    client: FlaskClient, people: dict[str, Any]
) -> None:
    today = datetime.now(UTC).date()
    _completions(people["district"].id, today, 7)
    response = client.get("/transparency")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count('role="img"') >= 3
    assert '<title id="chart-monthly-title">' in page
    assert "<desc" in page
    assert "<table>" in page
    assert "۷" in page  # seven completed requests, in Persian digits
    english = client.get("/transparency?lang=en&service=sample_permit&period=30").get_data(
        as_text=True
    )
    assert "How fast we work" in english
    assert "Sample permit" in english
    assert 'dir="ltr"' in english


def test_small_numbers_are_not_shown(client: FlaskClient, people: dict[str, Any]) -> None:
    _completions(people["district"].id, datetime.now(UTC).date(), MIN_CASES - 2)
    page = client.get("/transparency?lang=en&period=30").get_data(as_text=True)
    assert "not shown" in page


def test_a_bad_filter_is_reported_beside_its_field(
    client: FlaskClient, people: dict[str, Any]
) -> None:
    response = client.get("/transparency?lang=en&period=7&district=abc&service=nope")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert 'id="error-period"' in page
    assert 'id="error-district"' in page
    assert 'id="error-service"' in page


def test_open_data_has_no_cell_about_fewer_than_five_cases(
    client: FlaskClient, people: dict[str, Any]
) -> None:
    today = datetime.now(UTC).date()
    small = [ensure_district(code, f"منطقه {code}", f"District {code}") for code in ("41", "42")]
    _completions(people["district"].id, today, 9)
    _completions(small[0].id, today, 2)
    _completions(small[1].id, today, 2)
    rows = list(
        csv.DictReader(io.StringIO(client.get("/open-data/performance.csv").get_data(as_text=True)))
    )
    assert rows, "the month's rows are published"
    for row in rows:
        for column in ("received", "completed", "visits_avoided", "ratings"):
            assert row[column] == "" or int(row[column]) == 0 or int(row[column]) >= MIN_CASES
    # The two small districts were merged into one group of 4, still too small, so the
    # smallest other district joined them: one row of 13.
    assert [(r["districts"], r["completed"]) for r in rows] == [("09+41+42", "13")]
    body = client.get("/open-data/performance.json").get_json()
    assert body["minimum_cases_per_cell"] == MIN_CASES
    assert [c["name"] for c in body["columns"]][:3] == ["month", "service", "service_name_fa"]
    assert "national_code" not in str(body)
    assert "tracking" not in str(body)
    assert client.get("/open-data?lang=en").status_code == 200


def test_merging_keeps_every_group_at_zero_or_five_and_more() -> None:
    def group(code: str, received: int, completed: int) -> Group:
        g = Group(districts=[code])
        g.counts.update({"received": received, "completed": completed})
        return g

    merged = merge_small(
        [group("01", 3, 0), group("02", 9, 7), group("03", 2, 2), group("05", 6, 5)]
    )
    # 01 and 03 together are 5 received but 2 completed: the smallest other group joins them.
    assert sorted(g.districts for g in merged) == [["01", "03", "05"], ["02"]]
    assert all(not g.too_small for g in merged)
    lonely = merge_small([group("01", 2, 1)])
    assert lonely[0].too_small  # nothing to merge with: its cells are left empty instead


def _completed_case(people: dict[str, Any]) -> Case:
    from app.cases import services

    case = start(people)
    case = step(case, "submit_application", APPLICATION, people["citizen"])
    case = step(case, "review_application", {"decision": "approve"}, people["expert"])
    waiting = services.waiting_case("payment_confirmed", case.tracking_code)
    services.deliver_message(waiting, "payment_confirmed", {"amount": 1, "reference": "1"})
    db.session.commit()
    return waiting


def test_the_applicant_rates_a_completed_case_once(
    client: FlaskClient, people: dict[str, Any], login_as: Callable[[User], None]
) -> None:
    case = _completed_case(people)
    login_as(people["citizen"])
    url = f"/satisfaction/{case.tracking_code}?lang=en"
    assert client.get(url).status_code == 200
    bad = client.post(url, data={"rating": "9", "comment": "خوب بود"})
    assert bad.status_code == 422
    assert "Choose a rating from 1 to 5." in bad.get_data(as_text=True)
    assert "خوب بود" in bad.get_data(as_text=True)  # what was typed is kept
    good = client.post(url, data={"rating": "۴", "comment": "خوب بود"})  # Persian digit accepted
    assert good.status_code == 302
    rating = db.session.scalar(select(ServiceRating).where(ServiceRating.case_id == case.id))
    assert rating is not None
    assert rating.rating == 4
    again = client.post(url, data={"rating": "1"}, follow_redirects=True)
    assert "You rated this service 4 of 5" in again.get_data(as_text=True)
    assert (
        db.session.scalar(select(ServiceRating.rating).where(ServiceRating.case_id == case.id)) == 4
    )


def test_only_the_applicant_of_a_completed_case_may_rate(
    client: FlaskClient, people: dict[str, Any], login_as: Callable[[User], None]
) -> None:
    open_case = start(people)
    login_as(people["citizen"])
    assert client.get(f"/satisfaction/{open_case.tracking_code}").status_code == 404
    done = _completed_case(people)
    stranger = ensure_citizen("09140001002", "مینا رضایی", "0499370899")
    db.session.commit()
    g.pop("_login_user", None)  # the test's app context outlives requests: forget the citizen
    login_as(stranger)
    assert client.get(f"/satisfaction/{done.tracking_code}").status_code == 404
    assert client.get("/satisfaction/000000000000").status_code == 404
