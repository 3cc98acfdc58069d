"""Pre-aggregated performance figures and citizens' ratings.

The dashboard reads only these tables, never case histories: `case_metrics` holds one row
per case, and the two rollups hold per-day sums and per-day histograms of working days.
A case change only marks the case (`cases.figures_changed_at`, in the same UPDATE as the
step); a background fold adds the marked cases' news to the rollups in batches. Every rollup row exists for four slices:
(service, district), (service, all districts), (all services, district), (all, all), so
any filter reads one slice and never sums across districts or services at query time.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import db

#: The process_key of the "all services" slice.
ALL_SERVICES = "*"
#: The district_id of the "all districts" slice (real district ids start at 1).
ALL_DISTRICTS = 0


class CaseMetrics(db.Model):
    """One case's contribution to the figures, brought up to date at each of its steps."""

    __tablename__ = "case_metrics"
    __table_args__ = (
        Index("ix_case_metrics_backlog", "is_open", "process_key", "district_id", "received_day"),
    )

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    process_key: Mapped[str] = mapped_column(String(80))
    district_id: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: Local (Tehran) dates: the figures count working days between them.
    received_day: Mapped[date] = mapped_column(Date)
    completed_day: Mapped[date | None] = mapped_column(Date)
    is_open: Mapped[bool] = mapped_column(default=True)
    waiting_citizen: Mapped[bool] = mapped_column(default=False)
    total_days: Mapped[int | None] = mapped_column(Integer)
    wait_days: Mapped[int | None] = mapped_column(Integer)
    handling_days: Mapped[int | None] = mapped_column(Integer)
    within_deadline: Mapped[bool | None] = mapped_column()
    in_person: Mapped[bool | None] = mapped_column()
    #: CaseTask ids already counted in the step histograms (a case has a handful).
    counted_tasks: Mapped[list[int]] = mapped_column(JSON, default=list)


class DailyCounts(db.Model):
    """Per local day and slice: cases received and completed, deadlines kept, ratings."""

    __tablename__ = "metric_daily_counts"
    __table_args__ = (Index("ix_metric_daily_counts_month", "process_key", "district_id", "month"),)

    process_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    district_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    #: The Jalali month of `day` as 140407, so monthly series group without date arithmetic.
    month: Mapped[int] = mapped_column(Integer)
    received: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)
    #: Completed cases of services that state a legal deadline, and those that kept it.
    with_deadline: Mapped[int] = mapped_column(Integer, default=0)
    within_deadline: Mapped[int] = mapped_column(Integer, default=0)
    #: Completed cases with no in-person (counter) step.
    visits_avoided: Mapped[int] = mapped_column(Integer, default=0)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)


class DurationCounts(db.Model):
    """Per local day and slice: how many cases (or steps) took exactly `days` working days.

    Measures: handling (whole case, citizen waits excluded), wait (citizen waits), total
    (receipt to completion), step (one step's own duration), remaining (from a step's start
    to the case's completion, for expected completion dates). `step` is the BPMN element
    the step came from, or "" for whole-case measures.
    """

    __tablename__ = "metric_durations"
    __table_args__ = (
        # Covering on PostgreSQL: every dashboard read is an index-only range scan of one slice.
        Index(
            "ix_metric_durations_slice",
            "process_key",
            "district_id",
            "measure",
            "step",
            "day",
            postgresql_include=["days", "cases", "month"],
        ),
    )

    process_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    district_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    measure: Mapped[str] = mapped_column(String(12), primary_key=True)
    step: Mapped[str] = mapped_column(String(120), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[int] = mapped_column(Integer)
    cases: Mapped[int] = mapped_column(Integer, default=0)


class MonthlyDurations(db.Model):
    """The same histograms per Jalali month, so long periods read 12 rows per value, not 365.

    A period is read as its whole months from here and its remaining days from
    metric_durations; both are kept in the same upsert as every case change.
    """

    __tablename__ = "metric_durations_monthly"
    __table_args__ = (
        Index(
            "ix_metric_durations_monthly_slice",
            "process_key",
            "district_id",
            "measure",
            "step",
            "month",
            postgresql_include=["days", "cases"],
        ),
    )

    process_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    district_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    measure: Mapped[str] = mapped_column(String(12), primary_key=True)
    step: Mapped[str] = mapped_column(String(120), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)


class MetricStep(db.Model):
    """The name and lane shown for a step of a service in the per-step figures."""

    __tablename__ = "metric_steps"

    process_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    step: Mapped[str] = mapped_column(String(120), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str] = mapped_column(String(40))


class ServiceRating(db.Model):
    """A citizen's rating of a completed case's service: 1 to 5 and an optional comment."""

    __tablename__ = "service_ratings"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), unique=True, index=True
    )
    process_key: Mapped[str] = mapped_column(String(80), index=True)
    rating: Mapped[int] = mapped_column(Integer)
    #: Kept for the municipality; never published (it may name people).
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
