"""The public dashboard's figures for one filter: a handful of reads of the rollups.

Statistics (median, 90th percentile, shares, averages) of fewer than MIN_CASES cases are
not shown, and counts from 1 to 4 are shown as "fewer than 5", as in the open data.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
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
from app.transparency.recording import COUNT_FIELDS, pending_since, settings
from app.transparency.services import (
    ExpectedCompletion,
    expected_range,
    history_window,
    range_from,
)
from app.transparency.suppression import Equation, published, suppress

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


def summarize(
    counts: dict[str, int],
    handling: Histogram,
    wait: Histogram,
    hidden: Collection[str] = (),
) -> Summary:
    """The headline figures from a slice's totals and histograms.

    `hidden` names counts left empty by complementary suppression (see `protect`), on top of
    those describing 1 to 4 cases.
    """
    ratings = counts["rating_count"]

    def count(name: str) -> int | None:
        return None if name in hidden else shown(counts[name])

    avoided_share = share(counts["visits_avoided"], counts["completed"])
    if "visits_avoided" in hidden or "completed" in hidden:
        avoided_share = None  # with the other count it would give the hidden one away
    return Summary(
        received=count("received"),
        completed=count("completed"),
        within_deadline=share(counts["within_deadline"], counts["with_deadline"]),
        visits_avoided=count("visits_avoided"),
        visits_avoided_share=avoided_share,
        rating=round(counts["rating_sum"] / ratings, 1) if ratings >= MIN_CASES else None,
        ratings=count("rating_count"),
        handling=Spread.of(handling),
        wait=Spread.of(wait),
    )


def page_equations(
    counts: dict[str, int],
    backlog: Backlog,
    services: Mapping[str, dict[str, int]] | None = None,
) -> tuple[dict[Hashable, int], list[Equation]]:
    """The counts one dashboard page publishes, and the sums that tie them together.

    The headline: completed = visits avoided + (unpublished) visits made; the backlog:
    open = the age bands, and open = waiting for the citizen + (unpublished) the rest; on the
    all-services page, completed = the services' completed (+ any service not listed).
    """
    values: dict[Hashable, int] = {
        "received": counts["received"],
        "completed": counts["completed"],
        "visits_avoided": counts["visits_avoided"],
        "rating_count": counts["rating_count"],
        "open": backlog.open,
        "waiting": backlog.waiting_citizen,
    }
    bands = tuple(("band", index) for index in range(len(backlog.bands)))
    values.update(zip(bands, backlog.bands, strict=True))
    equations = [
        Equation("completed", ("visits_avoided",), counts["completed"] - counts["visits_avoided"]),
        Equation("open", bands),
        Equation("open", ("waiting",), backlog.open - backlog.waiting_citizen),
    ]
    if services is not None:
        rows = tuple(("service", key) for key in services)
        values.update({("service", key): c["completed"] for key, c in services.items()})
        rest = counts["completed"] - sum(c["completed"] for c in services.values())
        equations.append(Equation("completed", rows, max(rest, 0) or None))
    return values, equations


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


@dataclass(frozen=True)
class PublishedBacklog:
    """The backlog as the page shows it: None for a count left empty."""

    open: int | None
    waiting_citizen: int | None
    bands: tuple[int | None, ...]


@dataclass
class Dashboard:
    """Everything the dashboard page shows for one filter."""

    filters: Filters
    first: date
    last: date
    today: date
    summary: Summary
    backlog: PublishedBacklog
    months: list[Month]
    steps: list[StepRow] = field(default_factory=list)
    services: list[ServiceRow] = field(default_factory=list)
    expected: ExpectedCompletion | None = None
    #: The figures include every case change made before this moment (they are folded in
    #: the background): the oldest change not folded yet, or the time of the request.
    as_of: datetime | None = None


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
    """Read the figures of one filter, small cells and their complements left empty."""
    workdays = settings().workdays
    where = Slice(filters.service, filters.district)
    first, last = period_days(filters.period, today)
    counts = queries.totals(where, first, last)
    backlog = queries.backlog(where, today, workdays)
    services = (
        _service_figures(filters.district, first, last) if filters.service == ALL_SERVICES else None
    )
    values, equations = page_equations(counts, backlog, services[0] if services else None)
    hidden = suppress(values, equations)
    summary = summarize(
        counts,
        queries.histogram(where, "handling", first, last),
        queries.histogram(where, "wait", first, last),
        hidden={name for name in hidden if isinstance(name, str)},
    )
    months = previous_months(jalali_month(today), MONTHS_SHOWN)
    monthly = queries.monthly_totals(where, months)
    spreads = queries.monthly_histograms(where, "handling", months)
    empty = dict.fromkeys(("received", "completed"), 0)
    shown_values = published(values, hidden)
    dashboard = Dashboard(
        filters=filters,
        first=first,
        last=last,
        today=today,
        summary=summary,
        backlog=PublishedBacklog(
            open=shown_values["open"],
            waiting_citizen=shown_values["waiting"],
            bands=tuple(shown_values[("band", i)] for i in range(len(backlog.bands))),
        ),
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
    dashboard.as_of = pending_since() or datetime.now(UTC)
    if services is None:
        dashboard.steps = _steps(where, first, last)
        dashboard.expected = expected_range(filters.service, "total", "", 0, today, workdays)
    else:
        dashboard.services = _services(*services, today, hidden)
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


def _service_figures(
    district: int, first: date, last: date
) -> tuple[dict[str, dict[str, int]], dict[str, Histogram], dict[str, Histogram]]:
    # Every listed service's counts and histograms for the all-services table.
    keys = list(service_names())
    totals = queries.service_totals(keys, district, first, last)
    counts = {key: totals.get(key) or dict.fromkeys(COUNT_FIELDS, 0) for key in keys}
    handling = queries.service_histograms(keys, district, "handling", first, last)
    wait = queries.service_histograms(keys, district, "wait", first, last)
    return counts, handling, wait


def _services(
    counts: dict[str, dict[str, int]],
    handling: dict[str, Histogram],
    wait: dict[str, Histogram],
    today: date,
    hidden: Collection[Hashable],
) -> list[ServiceRow]:
    workdays = settings().workdays
    names = service_names()
    past = queries.service_histograms(list(names), ALL_DISTRICTS, "total", *history_window(today))
    return [
        ServiceRow(
            key=key,
            name=name,
            summary=summarize(
                counts[key],
                handling.get(key, {}),
                wait.get(key, {}),
                hidden=("completed",) if ("service", key) in hidden else (),
            ),
            expected=range_from(past.get(key, {}), 0, today, workdays),
        )
        for key, name in names.items()
    ]
