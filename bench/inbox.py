"""Inbox speed on 100,000 open tasks (PostgreSQL): server-side p95 and throughput vs a trivial page.

Creates its own database next to BENCH_DATABASE_URL (default: TEST_DATABASE_URL, else the local
postgres), bulk-inserts cases and mirrored tasks (never through the engine), then serves the
inbox and `/healthz` (one `SELECT 1`) from the same app in the same process, one after the
other (inbox, trivial, inbox, ...) so a busy neighbour on a shared machine slows both alike.
Server side means the time inside the WSGI app, measured by a middleware; no network or
browser is involved. Throughput is requests per second of time spent serving that kind.

    .venv/bin/python bench/inbox.py [--tasks 100000] [--requests 400]

Ends with `inbox_p95_ms_100k: X` and `inbox_vs_trivial: Y` (inbox throughput as a fraction of
the trivial endpoint's). Targets: p95 <= 50 ms, ratio >= 0.15, constant statements per page.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LANES = [("URB_EXPERT", 0.5), ("INSPECTOR", 0.15), ("URB_HEAD", 0.1), ("APPLICANT", 0.25)]
STEPS = {
    "URB_EXPERT": ("review_application", "بررسی مدارک", "sample_permit/review"),
    "INSPECTOR": ("inspect_site", "بازدید میدانی", "sample_permit/inspection"),
    "URB_HEAD": ("escalate_review", "پیگیری تأخیر بررسی", "sample_permit/escalation"),
    "APPLICANT": ("correct_application", "اصلاح درخواست", "sample_permit/correction"),
}


class Timer:
    """WSGI middleware that records how long the app spends on each request."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.samples: list[float] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        started = time.perf_counter()
        body = list(self.app(environ, start_response))
        self.samples.append(time.perf_counter() - started)
        return body


def seed(app: Any, tasks: int) -> tuple[int, list[str]]:
    """Insert users, districts, cases and open tasks in bulk; returns the reviewer's id and codes."""
    from app.accounts.services import ensure_district, ensure_staff
    from app.cases.models import Case, CaseStatus, CaseTask, TaskState
    from app.db import db
    from app.processes.services import deploy_all, latest_version

    rng = random.Random(1404)
    with app.app_context():
        deploy_all(["sample_permit"])
        districts = [
            ensure_district(f"{n:02d}", f"منطقه {n}", f"District {n}") for n in (9, 5, 3, 1)
        ]
        password = "bench-password-1404"  # noqa: S105
        reviewer = ensure_staff("reviewer", "مریم احمدی", password, ["URB_EXPERT"], districts[:2])
        others = [
            ensure_staff(f"expert{n}", f"کارشناس {n}", password, ["URB_EXPERT"], districts[:2])
            for n in range(20)
        ]
        version = latest_version("sample_permit")
        if version is None:
            raise SystemExit("processes/sample_permit did not deploy")
        db.session.commit()
        now = datetime.now(UTC)
        lanes, weights = zip(*LANES, strict=True)
        codes: list[str] = []
        batch = 10_000
        for start in range(0, tasks, batch):
            count = min(batch, tasks - start)
            case_rows = []
            for n in range(start, start + count):
                district = rng.choice(districts)
                code = f"{district.code}{n:09d}0"
                codes.append(code)
                case_rows.append(
                    {
                        "tracking_code": code,
                        "process_key": "sample_permit",
                        "process_version_id": version.id,
                        "status": CaseStatus.ACTIVE,
                        "district_id": district.id,
                        "renewal_code": f"9-2-{n % 97}-{n % 89}-1-0-0",
                        "registry_plate": f"{n % 500}/{n}",
                        "current_step": "بررسی مدارک",
                        "workflow_state": b"",
                        "serializer_version": "bench",
                        "version_id": 1,
                    }
                )
            ids = db.session.scalars(insert(Case).returning(Case.id), case_rows).all()
            task_rows = []
            for case_id, row in zip(ids, case_rows, strict=True):
                lane = rng.choices(lanes, weights)[0]
                element, name, form_key = STEPS[lane]
                roll = rng.random()
                claimed = (
                    reviewer.id if roll < 0.03 else rng.choice(others).id if roll < 0.3 else None
                )
                due = now + timedelta(hours=rng.randint(-240, 480)) if rng.random() < 0.9 else None
                task_rows.append(
                    {
                        "case_id": case_id,
                        "engine_task_id": str(uuid.UUID(int=rng.getrandbits(128))),
                        "element_id": element,
                        "name": name,
                        "lane": lane,
                        "district_id": row["district_id"],
                        "form_key": form_key,
                        "outcomes": [],
                        "properties": {},
                        "state": TaskState.OPEN,
                        "created_at": now - timedelta(days=rng.randint(0, 30)),
                        "due_at": due,
                        "claimed_by_id": claimed,
                    }
                )
            db.session.execute(insert(CaseTask), task_rows)
            db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        return reviewer.id, codes


def check(response: Any, path: str) -> None:
    """Stop the bench when a page fails: a fast error page would flatter the numbers."""
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}")


def measure(
    client: Any, timer: Timer, groups: dict[str, list[str]], rounds: int
) -> dict[str, tuple[list[float], float]]:
    """Serve the groups' paths interleaved, a request of each group in turn; returns per group
    the server-side times (s) and requests per second of the time spent on that group."""
    for paths in groups.values():  # warm caches, connections and compiled statements
        for path in paths:
            check(client.get(path), path)
    server: dict[str, list[float]] = {name: [] for name in groups}
    spent = dict.fromkeys(groups, 0.0)
    for n in range(rounds):
        for name, paths in groups.items():
            path = paths[n % len(paths)]
            started = time.perf_counter()
            check(client.get(path), path)
            spent[name] += time.perf_counter() - started
            server[name].append(timer.samples[-1])
    return {name: (server[name], rounds / spent[name]) for name in groups}


def statements_per_page(app: Any, client: Any, paths: list[str]) -> list[int]:
    """How many SQL statements each page runs."""
    from app.db import db

    counts = []
    with app.app_context():
        engine = db.engine
    for path in paths:
        seen: list[str] = []

        def record(*args: Any, sink: list[str] = seen) -> None:
            sink.append(args[2])

        event.listen(engine, "before_cursor_execute", record)
        client.get(path)
        event.remove(engine, "before_cursor_execute", record)
        counts.append(len(seen))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()

    base = make_url(
        os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_URL
    )
    if not base.drivername.startswith("postgresql"):
        sys.exit(
            "bench/inbox.py measures PostgreSQL: set BENCH_DATABASE_URL=postgresql+psycopg://…"
        )
    name = f"parvaneh_bench_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        run(base.set(database=name).render_as_string(hide_password=False), args)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(url: str, args: argparse.Namespace) -> None:
    from app import create_app
    from app.db import db

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only", "WTF_CSRF_ENABLED": False}
    )
    with app.app_context():
        db.create_all()
    started = time.perf_counter()
    reviewer_id, codes = seed(app, args.tasks)
    print(f"seeded {args.tasks:,} open tasks in {time.perf_counter() - started:.1f} s")

    timer = Timer(app.wsgi_app)
    app.wsgi_app = timer  # type: ignore[method-assign]
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(reviewer_id)
        session["_fresh"] = True
    rng = random.Random(9)
    inbox = [
        "/office/?tab=unassigned",
        "/office/?tab=mine",
        "/office/?tab=unassigned&page=40",
        "/office/?tab=unassigned&due=overdue",
        "/office/?tab=unassigned&step=review_application",
        "/office/?tab=unassigned&service=sample_permit&due=week",
        f"/office/?tab=unassigned&q={rng.choice(codes)}",
        "/office/?tab=unassigned&q=9-2-15-37-1-0-0",
    ]
    measured = measure(client, timer, {"inbox": inbox, "trivial": ["/healthz"]}, args.requests)
    inbox_times, inbox_rps = measured["inbox"]
    trivial_times, trivial_rps = measured["trivial"]
    per_page = statements_per_page(app, client, inbox)

    p95 = statistics.quantiles(inbox_times, n=20)[18] * 1000
    print(f"statements per inbox page: {per_page}  (constant: {len(set(per_page)) == 1})")
    print(
        f"inbox:   p50 {statistics.median(inbox_times) * 1000:.1f} ms, p95 {p95:.1f} ms, "
        f"{inbox_rps:.0f} req/s"
    )
    trivial_p95 = statistics.quantiles(trivial_times, n=20)[18] * 1000
    print(f"trivial: p95 {trivial_p95:.1f} ms, {trivial_rps:.0f} req/s (/healthz: SELECT 1)")
    print(f"inbox_p95_ms_100k: {p95:.1f}")
    print(f"inbox_vs_trivial: {inbox_rps / trivial_rps:.2f}")


if __name__ == "__main__":
    main()
