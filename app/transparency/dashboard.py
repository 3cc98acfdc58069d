"""The public dashboard's figures for one filter: a handful of reads of the rollups.

Statistics (median, 90th percentile, shares, averages) of fewer than MIN_CASES cases are
not shown, and counts from 1 to 4 are shown as "fewer than 5", as in the open data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import g
from sqlalchemy import func, select

from app.accounts.models import District
from app.db import db
from app.processes.models import ProcessVersion
from app.transparency import queries
from app.transparency.metrics import (
    MIN_CASES,
    jalali_month,
    jalali_month_days,
    percentile,
    previous_months,
)
from app.transparency.models import ALL_DISTRICTS, ALL_SERVICES, MetricStep
from app.transparency.queries import Backlog, Histogram, Slice
from app.transparency.recording import settings
from app.transparency.services import (
    ExpectedCompletion,
    expected_range,
    history_window,
    range_from,
)

#: Rolling windows offered, in days (today included).
WINDOWS = (30, 90, 365)
#: Jalali months in the monthly charts and the period menu.
MONTHS_SHOWN = 12


@dataclass(frozen=True)
class Filters:
    """What the visitor chose: a service (or all), a district (or all), and a period."""

    service: str = ALL_SERVICES
    district: int = ALL_DISTRICTS
    period: str = "90"  # "30", "90", "365" or a Jalali month "m140407"


def period_days(period: str, today: date) -> tuple[date, date]:
    """The first and last day of a period key."""
    if period.startswith("m"):
        first, last = jalali_month_days(int(period[1:]))
        return first, min(last, today)
    return today - timedelta(days=int(period) - 1), today


def period_choices(today: date) -> list[str]:
    """The period keys offered: the rolling windows, then the last Jalali months, newest first."""
    months = previous_months(jalali_month(today), MONTHS_SHOWN)
    return [str(days) for days in WINDOWS] + [f"m{month}" for month in reversed(months)]


def shown(count: int) -> int | None:
    """A count as published: None for 1 to 4 cases."""
    return None if 0 < count < MIN_CASES else count


def share(part: int, whole: int) -> int | None:
    """A percentage, or None when the whole or either side of it is fewer than 5 cases."""
    if whole < MIN_CASES or 0 < part < MIN_CASES or 0 < whole - part < MIN_CASES:
        return None
    return round(100 * part / whole)


@dataclass(frozen=True)
class Spread:
    """Median and 90th percentile of a histogram, or None for fewer than 5 cases."""

    cases: int
    median: int | None
    p90: int | None

    @classmethod
    def of(cls, histogram: Histogram) -> Spread:
        """The spread of a histogram of working days."""
        cases = sum(histogram.values())
        if cases < MIN_CASES:
            return cls(cases, None, None)
        return cls(cases, percentile(histogram, 50), percentile(histogram, 90))


@dataclass(frozen=True)
class Summary:
    """The headline figures of a slice over a period."""

    received: int | None
    completed: int | None
    within_deadline: int | None  # percent
    visits_avoided: int | None
    visits_avoided_share: int | None
    rating: float | None
    ratings: int | None
    handling: Spread
    wait: Spread


def summarize(counts: dict[str, int], handling: Histogram, wait: Histogram) -> Summary:
    """The headline figures from a slice's totals and histograms."""
    ratings = counts["rating_count"]
    return Summary(
        received=shown(counts["received"]),
        completed=shown(counts["completed"]),
        within_deadline=share(counts["within_deadline"], counts["with_deadline"]),
        visits_avoided=shown(counts["visits_avoided"]),
        visits_avoided_share=share(counts["visits_avoided"], counts["completed"]),
        rating=round(counts["rating_sum"] / ratings, 1) if ratings >= MIN_CASES else None,
        ratings=shown(ratings),
        handling=Spread.of(handling),
        wait=Spread.of(wait),
    )


@dataclass(frozen=True)
class Month:
    """One Jalali month of the monthly series."""

    month: int
    received: int | None
    completed: int | None
    handling: Spread


@dataclass(frozen=True)
class StepRow:
    """One step of a service: its name, lane and own duration."""

    step: str
    name: str
    lane: str
    spread: Spread


@dataclass(frozen=True)
class ServiceRow:
    """One service in the all-services table."""

    key: str
    name: dict[str, str]
    summary: Summary
    expected: ExpectedCompletion | None


@dataclass
class Dashboard:
    """Everything the dashboard page shows for one filter."""

    filters: Filters
    first: date
    last: date
    today: date
    summary: Summary
    backlog: Backlog
    months: list[Month]
    steps: list[StepRow] = field(default_factory=list)
    services: list[ServiceRow] = field(default_factory=list)
    expected: ExpectedCompletion | None = None


def service_names() -> dict[str, dict[str, str]]:
    """Every deployed service's name from its latest service card, by process key."""
    cached: dict[str, dict[str, str]] | None = g.get("transparency_service_names")
    if cached is None:
        cached = g.transparency_service_names = _read_service_names()
    return cached


def _read_service_names() -> dict[str, dict[str, str]]:
    latest = (
        select(ProcessVersion.process_key, func.max(ProcessVersion.number).label("number"))
        .group_by(ProcessVersion.process_key)
        .subquery()
    )
    rows = db.session.execute(
        select(ProcessVersion.process_key, ProcessVersion.card).join(
            latest,
            (latest.c.process_key == ProcessVersion.process_key)
            & (latest.c.number == ProcessVersion.number),
        )
    )
    names: dict[str, dict[str, str]] = {}
    for key, card in rows:
        name: Any = (card or {}).get("name") or {}
        names[key] = {"fa": str(name.get("fa") or key), "en": str(name.get("en") or key)}
    return dict(sorted(names.items()))


def districts() -> list[District]:
    """The districts, in code order."""
    return list(db.session.scalars(select(District).order_by(District.code)))


def build(filters: Filters, today: date) -> Dashboard:
    """Read the figures of one filter."""
    workdays = settings().workdays
    where = Slice(filters.service, filters.district)
    first, last = period_days(filters.period, today)
    summary = summarize(
        queries.totals(where, first, last),
        queries.histogram(where, "handling", first, last),
        queries.histogram(where, "wait", first, last),
    )
    months = previous_months(jalali_month(today), MONTHS_SHOWN)
    monthly = queries.monthly_totals(where, months)
    spreads = queries.monthly_histograms(where, "handling", months)
    empty = dict.fromkeys(("received", "completed"), 0)
    dashboard = Dashboard(
        filters=filters,
        first=first,
        last=last,
        today=today,
        summary=summary,
        backlog=queries.backlog(where, today, workdays),
        months=[
            Month(
                month,
                shown(monthly.get(month, empty)["received"]),
                shown(monthly.get(month, empty)["completed"]),
                Spread.of(spreads.get(month, {})),
            )
            for month in months
        ],
    )
    if filters.service != ALL_SERVICES:
        dashboard.steps = _steps(where, first, last)
        dashboard.expected = expected_range(filters.service, "total", "", 0, today, workdays)
    else:
        dashboard.services = _services(filters.district, first, last, today)
    return dashboard


def _steps(where: Slice, first: date, last: date) -> list[StepRow]:
    histograms = queries.step_histograms(where, first, last)
    names = {
        step.step: step
        for step in db.session.scalars(
            select(MetricStep).where(MetricStep.process_key == where.process_key)
        )
    }
    rows = []
    for step, histogram in histograms.items():
        known = names.get(step)
        rows.append(
            StepRow(
                step=step,
                name=known.name if known else step,
                lane=known.lane if known else "",
                spread=Spread.of(histogram),
            )
        )
    return sorted(rows, key=lambda row: -(row.spread.median or -1))


def _services(district: int, first: date, last: date, today: date) -> list[ServiceRow]:
    workdays = settings().workdays
    names = service_names()
    keys = list(names)
    totals = queries.service_totals(keys, district, first, last)
    handling = queries.service_histograms(keys, district, "handling", first, last)
    wait = queries.service_histograms(keys, district, "wait", first, last)
    past = queries.service_histograms(keys, ALL_DISTRICTS, "total", *history_window(today))
    rows = []
    for key, name in names.items():
        counts = totals.get(key) or dict.fromkeys(queries.COUNT_FIELDS, 0)
        rows.append(
            ServiceRow(
                key=key,
                name=name,
                summary=summarize(counts, handling.get(key, {}), wait.get(key, {})),
                expected=range_from(past.get(key, {}), 0, today, workdays),
            )
        )
    return rows
