"""Bench the engine: complete-one-task latency and stored bytes, against raw SpiffWorkflow.

Run: .venv/bin/python bench/engine.py [--samples N]

On SQLite (a temporary file) and on PostgreSQL (a database of its own, created and dropped
on the server of BENCH_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test;
that database itself is never touched), it prepares identical sample-permit cases waiting at
the expert's review, then times completing that review (returned for correction) two ways,
interleaved, in the same process and on the same connection pool:

* ours: app.cases.services.complete_task through the real app: lock and load the case row,
  restore, complete, engine steps, serialize, save with tasks and history, commit;
* baseline: raw SpiffWorkflow (engine.bench_baseline): load the row holding SpiffWorkflow's
  own JSON of the same case, restore, complete the same task, engine steps, serialize,
  write the row, one commit.

It then drives one case through 10 correction rounds and compares its stored state with
SpiffWorkflow's own serialization of the same case. It ends with the headline lines
`engine_complete_ratio_pg: X` and `engine_bytes_ratio_10_rounds: Y`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import (  # noqa: E402 - the repository root must be importable first
    Column,
    Integer,
    MetaData,
    Table,
    Text,
    create_engine,
    make_url,
    select,
    text,
    update,
)

from app import create_app  # noqa: E402
from app.accounts.models import User  # noqa: E402
from app.accounts.services import ensure_citizen, ensure_district, ensure_staff  # noqa: E402
from app.cases import services  # noqa: E402
from app.cases import workflow as bridge  # noqa: E402
from app.cases.models import Case, TaskState  # noqa: E402
from app.db import db  # noqa: E402
from app.processes.services import deploy_all, latest_version  # noqa: E402
from engine.bench_baseline import raw_roundtrip, spiff_json  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PROCESS = "sample_permit"
APPLICATION = {
    "applicant_type": "natural",
    "applicant_name": "علی کریمی",
    "national_code": "1360524185",
    "usage": "residential",
    "area": 240.5,
}
RETURN = {"decision": "return_for_correction", "reason": "سند مالکیت ناخواناست"}
CORRECTION = {"note": "سند جدید بارگذاری شد"}
WARMUP = 5

BASELINE = Table(
    "bench_spiff_cases",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("state", Text, nullable=False),
)


@dataclass(frozen=True)
class People:
    citizen_id: int
    expert_id: int


@dataclass
class Figures:
    ours_ms: list[float]
    baseline_ms: list[float]
    stored: dict[int, tuple[int, int]]  # rounds -> (our stored bytes, SpiffWorkflow's bytes)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """Create a database of the bench's own beside the given one, and drop it afterwards."""
    url = make_url(server_url)
    name = f"parvaneh_bench_{os.getpid()}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="parvaneh-bench-") as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


def make_people() -> People:
    district = ensure_district("09", "منطقه ۹", "District 9")
    citizen = ensure_citizen("09140001001", "علی کریمی", "1360524185")
    expert = ensure_staff("expert", "کارشناس", "bench-password-1404", ["URB_EXPERT"], [district])
    db.session.commit()
    return People(citizen.id, expert.id)


def found(row: Any, what: str) -> Any:
    if row is None:
        raise LookupError(f"bench data missing: {what}")
    return row


def user(user_id: int) -> User:
    return found(db.session.get(User, user_id), f"user {user_id}")  # type: ignore[no-any-return]


def open_task(case: Case, element_id: str) -> tuple[str, int]:
    row = next(t for t in case.tasks if t.state == TaskState.OPEN and t.element_id == element_id)
    return row.engine_task_id, case.version_id


def complete(case_id: int, element_id: str, answers: dict[str, Any], actor: User) -> None:
    """One completion as a route does it: lock the row, complete, commit, end the session."""
    case = found(services.lock_case(case_id), f"case {case_id}")
    task_id, version = open_task(case, element_id)
    services.complete_task(case, task_id, answers, actor=actor, expected_version=version)
    db.session.commit()
    db.session.remove()


def case_at_review(people: People, data: dict[str, Any] | None = None) -> int:
    version = found(latest_version(PROCESS), PROCESS)
    citizen = user(people.citizen_id)
    case = services.start_case(
        version, applicant=citizen, district=None, data=data or {}, actor=citizen
    )
    db.session.commit()
    case_id = case.id
    complete(case_id, "submit_application", APPLICATION, user(people.citizen_id))
    return case_id


def measure(url: str, samples: int) -> Figures:
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "CELERY_BROKER_URL": "", "SECRET_KEY": "bench"}
    )
    with app.app_context():
        db.create_all()
        BASELINE.create(db.engine)
        deploy_all([PROCESS])
        people = make_people()
        case_ids = [case_at_review(people) for _ in range(samples + WARMUP)]
        with db.engine.begin() as connection:
            for case_id in case_ids:
                case = found(db.session.get(Case, case_id), f"case {case_id}")
                state = spiff_json(bridge.load_workflow(case))
                connection.execute(BASELINE.insert().values(id=case_id, state=state))
        db.session.remove()

        ours: list[float] = []
        baseline: list[float] = []
        for index, case_id in enumerate(case_ids):
            expert = user(people.expert_id)  # as Flask-Login loads it, before the route runs
            ours_ms = timed(
                lambda c=case_id, e=expert: complete(c, "review_application", RETURN, e)
            )
            baseline_ms = timed(lambda c=case_id: raw_completion(c))
            if index >= WARMUP:
                ours.append(ours_ms)
                baseline.append(baseline_ms)

        stored = correction_rounds(people)
        BASELINE.drop(db.engine)
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
    return Figures(ours, baseline, stored)


def raw_completion(case_id: int) -> None:
    """The baseline: one row read, a raw SpiffWorkflow round trip, one row written, one commit."""
    with db.engine.connect() as connection:
        state = connection.execute(
            select(BASELINE.c.state).where(BASELINE.c.id == case_id).with_for_update()
        ).scalar_one()
        state = raw_roundtrip(state, "review_application", RETURN)
        connection.execute(update(BASELINE).where(BASELINE.c.id == case_id).values(state=state))
        connection.commit()


def timed(action: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def correction_rounds(people: People) -> dict[int, tuple[int, int]]:
    """Stored bytes of one case after 1 and after 10 correction rounds, ours and SpiffWorkflow's."""
    case_id = case_at_review(people, {"max_correction_rounds": 12})
    sizes: dict[int, tuple[int, int]] = {}
    for round_number in range(1, 11):
        complete(case_id, "review_application", RETURN, user(people.expert_id))
        complete(case_id, "correct_application", CORRECTION, user(people.citizen_id))
        if round_number in (1, 10):
            case = found(db.session.get(Case, case_id), f"case {case_id}")
            own = spiff_json(bridge.load_workflow(case)).encode("utf-8")
            sizes[round_number] = (len(case.workflow_state), len(own))
            db.session.remove()
    return sizes


def report(name: str, figures: Figures) -> float:
    ours50, ours95 = percentile(figures.ours_ms, 0.5), percentile(figures.ours_ms, 0.95)
    base50, base95 = percentile(figures.baseline_ms, 0.5), percentile(figures.baseline_ms, 0.95)
    ratio = ours50 / base50
    print(f"\n{name}: complete one task, {len(figures.ours_ms)} samples (ms)")
    print(f"  {'':28} {'p50':>8} {'p95':>8} {'mean':>8}")
    print(
        f"  {'ours (complete_task)':28} {ours50:8.2f} {ours95:8.2f} "
        f"{statistics.fmean(figures.ours_ms):8.2f}"
    )
    print(
        f"  {'baseline (raw SpiffWorkflow)':28} {base50:8.2f} {base95:8.2f} "
        f"{statistics.fmean(figures.baseline_ms):8.2f}"
    )
    print(f"  ratio p50 {ratio:.2f}, p95 {ours95 / base95:.2f}")
    print(f"{name}: stored bytes per case (ours: compressed, spec once per version)")
    for rounds, (own, spiff) in sorted(figures.stored.items()):
        print(
            f"  after {rounds:2} correction round(s): ours {own:7} B, "
            f"SpiffWorkflow's own {spiff:7} B, ratio {own / spiff:.3f}"
        )
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=150, help="completions timed per database")
    args = parser.parse_args()
    os.environ.pop("CELERY_BROKER_URL", None)  # the bench measures the in-process path

    with sqlite_database() as url:
        sqlite = measure(url, args.samples)
    report("SQLite", sqlite)

    pg_ratio: float | None = None
    server = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    try:
        with postgres_database(server) as url:
            postgres = measure(url, args.samples)
    except Exception as exc:  # a missing server is reported, not hidden behind a traceback
        print(f"\nPostgreSQL: not measured ({type(exc).__name__}: {exc})")
    else:
        pg_ratio = report("PostgreSQL", postgres)

    own, spiff = sqlite.stored[10]
    print()
    print(
        f"engine_complete_ratio_pg: {pg_ratio:.2f}" if pg_ratio else "engine_complete_ratio_pg: n/a"
    )
    print(f"engine_bytes_ratio_10_rounds: {own / spiff:.3f}")
    return 0 if pg_ratio is not None else 1


if __name__ == "__main__":
    sys.exit(main())
