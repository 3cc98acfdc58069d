"""Bench the public dashboard at 10,000, 100,000 and 1,000,000 cases on PostgreSQL.

Run: .venv/bin/python bench/dashboard.py [--requests N] [--sizes 10000,100000,1000000]

It creates a database of its own on the server of BENCH_POSTGRES_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test; that database itself is never touched),
and grows it in three steps to 10k, 100k and 1M cases of five services in ten districts,
received over the last three years. Every case gets its `cases` row and its `case_metrics`
row, and its figures go into the rollups through the very functions the engine's save
calls (`case_facts`, `Rollup`), bulk-loaded with COPY instead of one transaction per step.
After each step it times full dashboard requests (routing, the rollup reads, the expected
completion dates, the SVG charts and the template) through the Flask app for a mix of
filters, and prints the p95 of each size side by side. It ends with
`dashboard_p95_ms_1m: X` (the goal is at most 200 ms, and growth far below the 100x in cases).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402 - the repository root must be importable first
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from app.accounts.services import ensure_district  # noqa: E402
from app.db import db  # noqa: E402
from app.processes.models import ProcessVersion  # noqa: E402
from app.processes.services import deploy_all, latest_version  # noqa: E402
from app.transparency.metrics import Span, case_facts, deadline_of, jalali_month  # noqa: E402
from app.transparency.models import MetricStep  # noqa: E402
from app.transparency.recording import COUNT_FIELDS, Rollup, settings  # noqa: E402

SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SERVICES = [
    "sample_permit",
    "bench_renewal",
    "bench_completion",
    "bench_no_violation",
    "bench_inquiry",
]
STEPS = [  # (element id, lane, name, working days low..high, probability)
    ("submit_application", "APPLICANT", "ثبت درخواست", (0, 2), 1.0),
    ("counter_intake", "COUNTER", "تشکیل پرونده در پیشخوان", (0, 1), 0.15),
    ("review_application", "URB_EXPERT", "بررسی مدارک", (1, 7), 1.0),
    ("correct_application", "APPLICANT", "اصلاح درخواست", (1, 6), 0.3),
    ("inspect_site", "INSPECTOR", "بازدید میدانی", (2, 6), 0.4),
    ("approve", "URB_HEAD", "تأیید رئیس اداره", (0, 3), 1.0),
]
HISTORY_DAYS = 3 * 365
OPEN_SHARE = 0.03
#: Filters the timed requests cycle through: the common views of the dashboard.
FILTERS = [
    "",
    "?period=30",
    "?period=365",
    "?service=sample_permit",
    "?service=sample_permit&period=365&district={district}",
    "?district={district}&period=90",
    "?service=bench_renewal&period={month}",
    "?lang=en&service=bench_inquiry&period=30",
]


@contextmanager
def bench_database() -> Iterator[str]:
    """A database of its own, dropped afterwards."""
    base = make_url(SERVER)
    name = f"parvaneh_bench_dashboard_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prepare() -> tuple[dict[str, int], list[int]]:
    """Deploy the sample permit, four more services on the same files, ten districts."""
    deploy_all(["sample_permit"])
    sample = latest_version("sample_permit")
    if sample is None:
        raise SystemExit("sample_permit did not deploy")
    versions = {"sample_permit": sample.id}
    for n, key in enumerate(SERVICES[1:], start=1):
        card = {**sample.card, "name": {"fa": f"خدمت آزمایشی {n}", "en": f"Bench service {n}"}}
        card["legal_deadline"] = {"value": 10 + 5 * n, "unit": "working_days"}
        version = ProcessVersion(
            process_key=key,
            number=1,
            content_hash=f"{n:064d}",
            files=sample.files,
            forms=sample.forms,
            card=card,
        )
        db.session.add(version)
        db.session.flush()
        versions[key] = version.id
    districts = [
        ensure_district(f"{n:02d}", f"منطقه {n}", f"District {n}").id for n in range(1, 11)
    ]
    for key in SERVICES:
        for step, lane, name, _days, _p in STEPS:
            db.session.add(MetricStep(process_key=key, step=step, name=name, lane=lane))
    db.session.commit()
    return versions, districts


def generate(
    count: int,
    first_id: int,
    versions: dict[str, int],
    districts: list[int],
    chance: random.Random,
    rollup: Rollup,
) -> None:
    """Add `count` cases (rows and metrics rows), and their figures to `rollup`, as saves would."""
    config = settings()
    workdays = config.workdays
    cards = {key: db.session.get(ProcessVersion, vid).card for key, vid in versions.items()}  # type: ignore[union-attr]
    deadlines = {key: deadline_of(card) for key, card in cards.items()}
    today = workdays.local_day(datetime.now(UTC))
    case_rows: list[tuple[Any, ...]] = []
    metric_rows: list[tuple[Any, ...]] = []
    for n in range(count):
        case_id = first_id + n
        key = chance.choice(SERVICES)
        district = chance.choice(districts)
        received = today - timedelta(days=chance.randint(0, HISTORY_DAYS))
        spans, day = [], received
        for step, lane, _name, (low, high), probability in STEPS:
            if chance.random() > probability:
                continue
            end = workdays.add(day, chance.randint(low, high))
            spans.append(Span(lane, step, day, end, True))
            day = end
        completed: date | None = workdays.add(day, chance.randint(0, 2))
        if completed >= today or chance.random() < OPEN_SHARE:  # type: ignore[operator]
            completed = None
            spans = [s for s in spans if s.end is not None and s.end < today][
                :-1
            ]  # last: still open
        rollup.received(key, district, received)
        for span in spans:
            rollup.step_done(key, district, span, workdays)
        at = datetime.combine(received, clock(6, 0), tzinfo=UTC)
        metric: tuple[Any, ...]
        if completed is None:
            waiting = spans[-1].lane == "APPLICANT" if spans else False
            metric = (
                case_id,
                key,
                district,
                at,
                received,
                None,
                True,
                waiting,
                None,
                None,
                None,
                None,
                None,
                "[]",
            )
            done_at = None
        else:
            facts = case_facts(
                received,
                completed,
                spans,
                citizen_lanes=config.citizen_lanes,
                in_person_lanes=config.in_person_lanes,
                deadline=deadlines[key],
                workdays=workdays,
            )
            rollup.completed(key, district, completed, facts, spans, workdays)
            if chance.random() < 0.3:
                rollup.rated(
                    key, district, completed, chance.choices([1, 2, 3, 4, 5], [1, 1, 2, 4, 4])[0]
                )
            metric = (
                case_id, key, district, at, received, completed, False, False, facts.total_days,
                facts.wait_days, facts.handling_days, facts.within_deadline, facts.in_person, "[]",
            )  # fmt: skip
            done_at = datetime.combine(completed, clock(9, 0), tzinfo=UTC)
        status = "completed" if completed is not None else "active"
        case_rows.append(
            (
                case_id,
                f"{case_id:012d}",
                key,
                versions[key],
                status,
                district,
                "",
                b"",
                "",
                at,
                at,
                done_at,
                1,
            )
        )
        metric_rows.append(metric)
    _copy(
        "cases",
        ["id", "tracking_code", "process_key", "process_version_id", "status", "district_id", "current_step",
         "workflow_state", "serializer_version", "created_at", "updated_at", "completed_at", "version_id"],
        case_rows,
    )  # fmt: skip
    _copy(
        "case_metrics",
        ["case_id", "process_key", "district_id", "received_at", "received_day", "completed_day", "is_open",
         "waiting_citizen", "total_days", "wait_days", "handling_days", "within_deadline", "in_person", "counted_tasks"],
        metric_rows,
    )  # fmt: skip


def _copy(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    raw = db.session.connection().connection.driver_connection
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):  # type: ignore[union-attr]
        for row in rows:
            copy.write_row(row)


def _merge_rollups(rollup: Rollup) -> None:
    """COPY the increments into temporary tables and add them to the rollups in one statement each."""
    months: dict[date, int] = {}

    def month(day: date) -> int:
        if day not in months:
            months[day] = jalali_month(day)
        return months[day]

    session = db.session
    session.execute(
        text(
            "CREATE TEMP TABLE IF NOT EXISTS inc_counts (LIKE metric_daily_counts) ON COMMIT DELETE ROWS"
        )
    )
    session.execute(
        text(
            "CREATE TEMP TABLE IF NOT EXISTS inc_durations (LIKE metric_durations) ON COMMIT DELETE ROWS"
        )
    )
    _copy(
        "inc_counts",
        ["process_key", "district_id", "day", "month", *COUNT_FIELDS],
        [
            (s, d, day, month(day), *(fields.get(f, 0) for f in COUNT_FIELDS))
            for (s, d, day), fields in rollup.counts.items()
        ],
    )
    _copy(
        "inc_durations",
        ["process_key", "district_id", "measure", "step", "day", "days", "month", "cases"],
        [
            (s, d, m, st, day, n, month(day), c)
            for (s, d, m, st, day, n), c in rollup.durations.items()
        ],
    )
    session.execute(
        text(
            "CREATE TEMP TABLE IF NOT EXISTS inc_monthly (LIKE metric_durations_monthly) ON COMMIT DELETE ROWS"
        )
    )
    monthly = rollup.monthly_rows()
    _copy(
        "inc_monthly",
        ["process_key", "district_id", "measure", "step", "month", "days", "cases"],
        [
            tuple(
                row[c]
                for c in ("process_key", "district_id", "measure", "step", "month", "days", "cases")
            )
            for row in monthly
        ],
    )
    session.execute(
        text(
            "INSERT INTO metric_durations_monthly SELECT * FROM inc_monthly "
            "ORDER BY process_key, district_id, measure, step, month, days "
            "ON CONFLICT (process_key, district_id, measure, step, month, days) "
            "DO UPDATE SET cases = metric_durations_monthly.cases + excluded.cases"
        )
    )
    added = ", ".join(f"{f} = metric_daily_counts.{f} + excluded.{f}" for f in COUNT_FIELDS)
    session.execute(
        text(
            "INSERT INTO metric_daily_counts SELECT * FROM inc_counts "  # noqa: S608 - our own column names
            f"ON CONFLICT (process_key, district_id, day) DO UPDATE SET {added}"
        )
    )
    # Bulk-load practice: index after, and feed the primary key in its own order.
    session.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    session.execute(text("DROP INDEX IF EXISTS ix_metric_durations_slice"))
    session.execute(
        text(
            "INSERT INTO metric_durations SELECT * FROM inc_durations "
            "ORDER BY process_key, district_id, measure, step, day, days "
            "ON CONFLICT (process_key, district_id, measure, step, day, days) "
            "DO UPDATE SET cases = metric_durations.cases + excluded.cases"
        )
    )
    session.execute(
        text(
            "CREATE INDEX ix_metric_durations_slice ON metric_durations "
            "(process_key, district_id, measure, step, day) INCLUDE (days, cases, month)"
        )
    )
    session.commit()


def vacuum() -> None:
    """What autovacuum does after bulk loads: statistics, and the visibility map that lets
    the covering indexes answer without reading the table."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def time_dashboard(client: Any, districts: list[int], requests: int) -> list[float]:
    """Milliseconds per dashboard request, cycling through the common filters."""
    month = f"m{jalali_month(date.today() - timedelta(days=40))}"
    timings = []
    for n in range(requests + len(FILTERS)):
        query = FILTERS[n % len(FILTERS)].format(
            district=districts[n % len(districts)], month=month
        )
        started = time.perf_counter()
        response = client.get(f"/transparency{query}")
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"/transparency{query} answered {response.status_code}")
        if n >= len(FILTERS):  # the first round warms caches and connections
            timings.append(elapsed)
    return timings


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=200, help="timed requests per size")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="case counts, ascending")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    results: list[tuple[int, float, float, int, int, float]] = []
    with bench_database() as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False, "SECRET_KEY": "bench"})
        with app.app_context():
            db.create_all()
            versions, districts = prepare()
            chance = random.Random(1404)
            have = 0
            client = app.test_client()
            for size in sizes:
                started = time.perf_counter()
                # Sums in memory for the whole step, merged into the tables once: the rollups
                # get one upsert per row, as a day of real traffic would give them many.
                rollup = Rollup()
                while have < size:
                    batch = min(100_000, size - have)
                    generate(batch, have + 1, versions, districts, chance, rollup)
                    have += batch
                _merge_rollups(rollup)
                del rollup
                db.session.commit()
                vacuum()
                load_s = time.perf_counter() - started
                rows = db.session.execute(
                    text("SELECT count(*) FROM metric_durations")
                ).scalar_one()
                timings = time_dashboard(client, districts, args.requests)
                db.session.remove()
                results.append(
                    (size, p95(timings), statistics.median(timings), rows, args.requests, load_s)
                )
                print(
                    f"  {size:>9,} cases loaded in {load_s:6.1f} s; p95 {results[-1][1]:7.1f} ms",
                    flush=True,
                )
            db.session.remove()
            db.engine.dispose()
    print()
    print(f"{'cases':>10} {'p95 ms':>9} {'median ms':>10} {'rollup rows':>12} {'requests':>9}")
    for size, high, middle, rows, count, _load in results:
        print(f"{size:>10,} {high:>9.1f} {middle:>10.1f} {rows:>12,} {count:>9}")
    if len(results) > 1:
        growth_cases = results[-1][0] / results[0][0]
        growth_time = results[-1][1] / results[0][1]
        print(f"cases x{growth_cases:.0f}, dashboard p95 x{growth_time:.2f}")
    million = next((r for r in results if r[0] == 1_000_000), results[-1])
    print(f"dashboard_p95_ms_1m: {million[1]:.1f}")


if __name__ == "__main__":
    main()
