"""Open data: monthly figures per service and district, with no cell about fewer than 5 cases.

Rows are (Jalali month, service, district group). A district whose received or completed
count is between 1 and 4 is merged with others into one group (and, if that group is still
too small, with the next smallest district) until every group's counts are 0 or at least
5; no total row is published beside the groups, so no suppressed figure can be recovered by
subtraction. Inside a row, a statistic resting on fewer than 5 cases is left empty, and
the counts get complementary suppression (app.transparency.suppression): completed = visits
avoided + visits made, so when one side is hidden another cell is hidden too.
No personal data: only counts and statistics, never case or person identifiers.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.accounts.models import District
from app.db import db
from app.transparency.dashboard import service_names, share
from app.transparency.metrics import MIN_CASES, jalali_month, merge, percentile, previous_months
from app.transparency.models import ALL_DISTRICTS, ALL_SERVICES, DailyCounts, MonthlyDurations
from app.transparency.recording import COUNT_FIELDS
from app.transparency.suppression import Equation, published, suppress

#: Months published: the current Jalali month (still counting) and the twelve before it.
MONTHS_PUBLISHED = 13

#: The columns, in order, with what each means (shown on /open-data and in the README).
COLUMNS: list[tuple[str, Any]] = [
    ("month", _l("Jalali month, YYYY-MM; the current month is still counting")),
    ("service", _l("The service's stable key")),
    ("service_name_fa", _l("The service's name in Persian")),
    ("service_name_en", _l("The service's name in English")),
    (
        "districts",
        _l(
            "District codes the row covers, joined by +; several when small districts were merged; 00 for cases with no district"
        ),
    ),
    ("received", _l("Requests received in the month")),
    ("completed", _l("Requests completed in the month")),
    (
        "median_working_days",
        _l("Median working days from receipt to completion, time waiting for the citizen excluded"),
    ),
    ("p90_working_days", _l("90th percentile of the same")),
    (
        "median_citizen_wait_days",
        _l("Median working days the completed requests waited for the citizen"),
    ),
    (
        "within_deadline_percent",
        _l("Percent of completed requests finished within the service's legal deadline"),
    ),
    ("visits_avoided", _l("Completed requests with no in-person (counter) step")),
    ("ratings", _l("Satisfaction ratings given in the month")),
    ("average_rating", _l("Average satisfaction rating, 1 to 5")),
]


@dataclass
class Group:
    """Some districts of one service in one month, with their summed counts and histograms."""

    districts: list[str]
    counts: Counter[str] = field(default_factory=Counter)
    handling: dict[int, int] = field(default_factory=dict)
    wait: dict[int, int] = field(default_factory=dict)

    def absorb(self, other: Group) -> None:
        """Merge another group into this one."""
        self.districts = sorted(self.districts + other.districts)
        self.counts.update(other.counts)
        self.handling = merge([self.handling, other.handling])
        self.wait = merge([self.wait, other.wait])

    @property
    def too_small(self) -> bool:
        """Whether a published count of the group would describe 1 to 4 cases."""
        return any(0 < self.counts[name] < MIN_CASES for name in ("received", "completed"))

    @property
    def size(self) -> int:
        return self.counts["received"] + self.counts["completed"]


def merge_small(groups: list[Group]) -> list[Group]:
    """Merge too-small groups together (then with the smallest others) until none is too small."""
    keep = [g for g in groups if not g.too_small]
    small = [g for g in groups if g.too_small]
    if not small:
        return keep
    merged = Group(districts=[])
    for group in small:
        merged.absorb(group)
    keep.sort(key=lambda g: g.size)
    while merged.too_small and keep:
        merged.absorb(keep.pop(0))
    return [*keep, merged]


def row_equations(counts: Counter[str]) -> tuple[dict[Hashable, int], list[Equation]]:
    """The counts one row publishes, and the sum tying them: completed = visits avoided + rest."""
    values: dict[Hashable, int] = {
        name: counts[name] for name in ("received", "completed", "visits_avoided", "rating_count")
    }
    rest = counts["completed"] - counts["visits_avoided"]
    return values, [Equation("completed", ("visits_avoided",), rest)]


def _cells(month: int, key: str, names: dict[str, str], group: Group) -> dict[str, Any]:
    counts = group.counts
    completed = counts["completed"]
    enough = completed >= MIN_CASES
    values, equations = row_equations(counts)
    hidden = suppress(values, equations)
    row = published(values, hidden)
    return {
        "month": f"{month // 100:04d}-{month % 100:02d}",
        "service": key,
        "service_name_fa": names["fa"],
        "service_name_en": names["en"],
        "districts": "+".join(group.districts),
        "received": row["received"],
        "completed": row["completed"],
        "median_working_days": percentile(group.handling, 50) if enough else None,
        "p90_working_days": percentile(group.handling, 90) if enough else None,
        "median_citizen_wait_days": percentile(group.wait, 50) if enough else None,
        "within_deadline_percent": share(counts["within_deadline"], counts["with_deadline"]),
        "visits_avoided": row["visits_avoided"],
        "ratings": row["rating_count"],
        "average_rating": round(counts["rating_sum"] / counts["rating_count"], 2)
        if counts["rating_count"] >= MIN_CASES
        else None,
    }


def performance_rows(today: date) -> list[dict[str, Any]]:
    """The published rows, oldest month first, then by service and district."""
    months = previous_months(jalali_month(today), MONTHS_PUBLISHED)
    codes = {d.id: d.code for d in db.session.scalars(select(District))}
    groups: dict[tuple[int, str], dict[int, Group]] = defaultdict(dict)

    def group(month: int, key: str, district: int) -> Group:
        found = groups[(month, key)]
        if district not in found:
            found[district] = Group(districts=[codes.get(district, "00")])
        return found[district]

    sums = [func.sum(getattr(DailyCounts, name)) for name in COUNT_FIELDS]
    for month, key, district, *values in db.session.execute(
        select(DailyCounts.month, DailyCounts.process_key, DailyCounts.district_id, *sums)
        .where(DailyCounts.process_key != ALL_SERVICES, DailyCounts.month.in_(months))
        .group_by(DailyCounts.month, DailyCounts.process_key, DailyCounts.district_id)
    ):
        group(month, key, district).counts.update(
            {name: int(v or 0) for name, v in zip(COUNT_FIELDS, values, strict=True)}
        )
    for month, key, district, measure, days, cases in db.session.execute(
        select(
            MonthlyDurations.month,
            MonthlyDurations.process_key,
            MonthlyDurations.district_id,
            MonthlyDurations.measure,
            MonthlyDurations.days,
            func.sum(MonthlyDurations.cases),
        )
        .where(
            MonthlyDurations.process_key != ALL_SERVICES,
            MonthlyDurations.measure.in_(("handling", "wait")),
            MonthlyDurations.step == "",
            MonthlyDurations.month.in_(months),
        )
        .group_by(
            MonthlyDurations.month,
            MonthlyDurations.process_key,
            MonthlyDurations.district_id,
            MonthlyDurations.measure,
            MonthlyDurations.days,
        )
    ):
        histogram = getattr(group(month, key, district), measure)
        histogram[int(days)] = histogram.get(int(days), 0) + int(cases)
    names = service_names()
    rows = []
    for (month, key), by_district in sorted(groups.items()):
        parts = [g for d, g in by_district.items() if d != ALL_DISTRICTS]
        total = by_district.get(ALL_DISTRICTS)
        if total is not None:
            parts.append(_without_district(total, parts))
        parts = [g for g in parts if g.size or g.counts["rating_count"]]
        label = names.get(key, {"fa": key, "en": key})
        for part in sorted(merge_small(parts), key=lambda g: g.districts):
            rows.append(_cells(month, key, label, part))
    return rows


def _without_district(total: Group, parts: list[Group]) -> Group:
    # Cases with no district are only in the all-districts slice: what the districts lack.
    rest = Group(districts=["00"], counts=Counter(total.counts))
    for part in parts:
        rest.counts.subtract(part.counts)
    rest.handling = _minus(total.handling, [p.handling for p in parts])
    rest.wait = _minus(total.wait, [p.wait for p in parts])
    return rest


def _minus(total: dict[int, int], parts: list[dict[int, int]]) -> dict[int, int]:
    summed = merge(parts)
    return {v: n - summed.get(v, 0) for v, n in total.items() if n - summed.get(v, 0) > 0}


def as_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV with a header line; empty cells are suppressed figures."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[name for name, _ in COLUMNS], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue()
