"""Reads of the rollups for the dashboard and open data: each reads one slice, never histories."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case as when
from sqlalchemy import func, select

from app.db import db
from app.transparency.metrics import Workdays, jalali_month, jalali_month_days
from app.transparency.models import (
    ALL_DISTRICTS,
    ALL_SERVICES,
    CaseMetrics,
    DailyCounts,
    DurationCounts,
    MonthlyDurations,
)
from app.transparency.recording import COUNT_FIELDS

Histogram = dict[int, int]


@dataclass(frozen=True)
class Slice:
    """Which cases a figure covers: one service or all, one district or all."""

    process_key: str = ALL_SERVICES
    district_id: int = ALL_DISTRICTS


def totals(where: Slice, first: date, last: date) -> dict[str, int]:
    """The count fields summed over the days first..last."""
    columns = [func.coalesce(func.sum(getattr(DailyCounts, name)), 0) for name in COUNT_FIELDS]
    row = db.session.execute(
        select(*columns).where(
            DailyCounts.process_key == where.process_key,
            DailyCounts.district_id == where.district_id,
            DailyCounts.day.between(first, last),
        )
    ).one()
    return {name: int(value) for name, value in zip(COUNT_FIELDS, row, strict=True)}


def split_period(first: date, last: date) -> tuple[list[int], list[tuple[date, date]]]:
    """The whole Jalali months inside first..last, and the day ranges left over at its ends."""
    months = []
    month = jalali_month(first)
    while True:
        start, end = jalali_month_days(month)
        if start > last:
            break
        if start >= first and end <= last:
            months.append(month)
        month = month + 89 if month % 100 == 12 else month + 1  # 140412 -> 140501
    if not months:
        return [], [(first, last)]
    start, _ = jalali_month_days(months[0])
    _, end = jalali_month_days(months[-1])
    ranges = []
    if first < start:
        ranges.append((first, start - timedelta(days=1)))
    if end < last:
        ranges.append((end + timedelta(days=1), last))
    return months, ranges


def _durations(
    group: Sequence[str], where: dict[str, Any], first: date, last: date
) -> Counter[tuple[Any, ...]]:
    """Cases per (group columns..., days) over first..last: whole months, then loose days."""
    months, ranges = split_period(first, last)
    found: Counter[tuple[Any, ...]] = Counter()
    parts: list[tuple[Any, Any]] = []
    if months:
        parts.append((MonthlyDurations, MonthlyDurations.month.in_(months)))
    for start, end in ranges:
        parts.append((DurationCounts, DurationCounts.day.between(start, end)))
    for table, period in parts:
        columns = [getattr(table, name) for name in (*group, "days")]
        conditions = [period]
        for name, value in where.items():
            column = getattr(table, name)
            conditions.append(
                column.in_(list(value)) if isinstance(value, list) else column == value
            )
        rows = db.session.execute(
            select(*columns, func.sum(table.cases)).where(*conditions).group_by(*columns)
        )
        for row in rows:
            found[tuple(row[:-1])] += int(row[-1])
    return found


def histogram(where: Slice, measure: str, first: date, last: date, step: str = "") -> Histogram:
    """How many cases took each number of working days, over the days first..last."""
    found = _durations(
        (),
        {
            "process_key": where.process_key,
            "district_id": where.district_id,
            "measure": measure,
            "step": step,
        },
        first,
        last,
    )
    return {int(key[0]): cases for key, cases in found.items()}


def monthly_totals(where: Slice, months: Sequence[int]) -> dict[int, dict[str, int]]:
    """The count fields of each Jalali month (months without cases are left out)."""
    columns = [func.sum(getattr(DailyCounts, name)) for name in COUNT_FIELDS]
    rows = db.session.execute(
        select(DailyCounts.month, *columns)
        .where(
            DailyCounts.process_key == where.process_key,
            DailyCounts.district_id == where.district_id,
            DailyCounts.month.in_(list(months)),
        )
        .group_by(DailyCounts.month)
    )
    return {
        int(row[0]): {name: int(v or 0) for name, v in zip(COUNT_FIELDS, row[1:], strict=True)}
        for row in rows
    }


def monthly_histograms(where: Slice, measure: str, months: Sequence[int]) -> dict[int, Histogram]:
    """The whole-case histogram of each Jalali month."""
    rows = db.session.execute(
        select(MonthlyDurations.month, MonthlyDurations.days, func.sum(MonthlyDurations.cases))
        .where(
            MonthlyDurations.process_key == where.process_key,
            MonthlyDurations.district_id == where.district_id,
            MonthlyDurations.measure == measure,
            MonthlyDurations.step == "",
            MonthlyDurations.month.in_(list(months)),
        )
        .group_by(MonthlyDurations.month, MonthlyDurations.days)
    )
    found: dict[int, Histogram] = defaultdict(dict)
    for month, days, cases in rows:
        found[int(month)][int(days)] = int(cases)
    return dict(found)


def step_histograms(where: Slice, first: date, last: date) -> dict[str, Histogram]:
    """Each step's own duration histogram, for one service (steps belong to a service)."""
    found = _durations(
        ("step",),
        {"process_key": where.process_key, "district_id": where.district_id, "measure": "step"},
        first,
        last,
    )
    steps: dict[str, Histogram] = defaultdict(dict)
    for (step, days), cases in found.items():
        steps[str(step)][int(days)] = cases
    return dict(steps)


def service_histograms(
    services: Sequence[str], district_id: int, measure: str, first: date, last: date
) -> dict[str, Histogram]:
    """The whole-case histogram of each of the services, in one district slice."""
    found = _durations(
        ("process_key",),
        {
            "process_key": list(services),
            "district_id": district_id,
            "measure": measure,
            "step": "",
        },
        first,
        last,
    )
    by_service: dict[str, Histogram] = defaultdict(dict)
    for (key, days), cases in found.items():
        by_service[str(key)][int(days)] = cases
    return dict(by_service)


def service_totals(
    services: Sequence[str], district_id: int, first: date, last: date
) -> dict[str, dict[str, int]]:
    """The count fields of each of the services, in one district slice."""
    columns = [func.sum(getattr(DailyCounts, name)) for name in COUNT_FIELDS]
    rows = db.session.execute(
        select(DailyCounts.process_key, *columns)
        .where(
            DailyCounts.process_key.in_(list(services)),
            DailyCounts.district_id == district_id,
            DailyCounts.day.between(first, last),
        )
        .group_by(DailyCounts.process_key)
    )
    return {
        str(row[0]): {name: int(v or 0) for name, v in zip(COUNT_FIELDS, row[1:], strict=True)}
        for row in rows
    }


#: Backlog age bands, in working days since the case was received: [0, 5), [5, 15)… [60, ∞).
BACKLOG_EDGES = (5, 15, 30, 60)


def age_threshold(today: date, working_days: int, workdays: Workdays) -> date:
    """The latest receipt day of a case that is at least `working_days` old today."""
    day = today
    while workdays.between(day, today) < working_days:
        day -= timedelta(days=1)
    return day


@dataclass(frozen=True)
class Backlog:
    """Open cases now, by age band, and how many of them wait for the citizen."""

    open: int
    waiting_citizen: int
    bands: tuple[int, ...]  # one count per band: len(BACKLOG_EDGES) + 1


def backlog(where: Slice, today: date, workdays: Workdays) -> Backlog:
    """The open cases of a slice by working-day age (read through the backlog index)."""
    thresholds = [age_threshold(today, edge, workdays) for edge in BACKLOG_EDGES]
    conditions = [CaseMetrics.is_open.is_(True)]
    if where.process_key != ALL_SERVICES:
        conditions.append(CaseMetrics.process_key == where.process_key)
    if where.district_id != ALL_DISTRICTS:
        conditions.append(CaseMetrics.district_id == where.district_id)
    older = [
        func.coalesce(func.sum(when((CaseMetrics.received_day <= t, 1), else_=0)), 0)
        for t in thresholds
    ]
    waiting = func.coalesce(func.sum(when((CaseMetrics.waiting_citizen.is_(True), 1), else_=0)), 0)
    row = db.session.execute(select(func.count(), waiting, *older).where(*conditions)).one()
    total, waiting_count, *at_least = (int(v) for v in row)
    edges = [total, *at_least, 0]
    bands = tuple(edges[i] - edges[i + 1] for i in range(len(edges) - 1))
    return Backlog(open=total, waiting_citizen=waiting_count, bands=bands)
