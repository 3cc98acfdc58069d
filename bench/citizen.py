"""Citizen portal throughput: public lookup and case page against a trivial endpoint, same server.

Serves the app with gunicorn (2 workers) on 127.0.0.1 on a free port, on a fresh SQLite
database with one filed case, and drives 32 concurrent clients (threads with http.client)
for a bounded time per endpoint, in interleaved rounds: /healthz (the baseline), the public status lookup (POST
/track, as the page's form sends it) and the citizen's case page (/my/cases/<id>, signed in). Prints
throughput and p95 per endpoint and the ratios, ending with:

    lookup_vs_trivial: X        (target ≥ 0.50)
    case_page_vs_trivial: Y     (target ≥ 0.25)

Run: .venv/bin/python bench/citizen.py   (BENCH_SECONDS=10 BENCH_CLIENTS=32 to change)
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "32"))
WORKERS = 2
ROUNDS = 4
SECRET = "bench-secret-key-not-for-production"  # noqa: S105 - a throwaway key for this run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rate_limit_storage() -> str:
    """Redis on 127.0.0.1 when it answers (as in production), else in-process memory."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return "redis://127.0.0.1:6379/14"
    except OSError:
        pass
    return "memory://"


def environment(workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PARVANEH_ENV": "development",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "DOCUMENT_LOCAL_DIR": str(workdir / "documents"),
        # Limits still count every lookup, in the storage production uses; the memory one
        # starts a timer thread per window and would measure that instead.
        "RATELIMIT_STORAGE_URI": rate_limit_storage(),
        # Every lookup is still counted, but never refused: all clients share one address and
        # one code here. A one-second window keeps the moving window's list as short as the real
        # limits do (10 a minute per address); a minute-long one would grow to thousands.
        "PORTAL_LOOKUP_LIMIT": "1000000/second",
        "PORTAL_LOOKUP_CODE_LIMIT": "1000000/second",
    }


@dataclass
class Fixture:
    tracking_code: str
    national_code: str
    case_id: int
    session_cookie: str


def prepare(env: dict[str, str]) -> Fixture:
    """Create the schema, deploy the sample permit and file one case for a citizen."""
    os.environ.update(env)
    from app import create_app
    from app.accounts.services import ensure_citizen, ensure_district
    from app.cases import services as cases
    from app.cases.models import TaskState
    from app.db import db
    from app.demo import DEMO_APPLICATION
    from app.portal.services import queue_submitted_notice, start_request
    from app.processes.services import deploy_all, latest_version

    app = create_app()
    with app.app_context():
        db.create_all()
        deploy_all(["sample_permit"])
        district = ensure_district("09", "منطقه ۹", "District 9")
        citizen = ensure_citizen("09140001001", "علی کریمی", "1360524185")
        version = latest_version("sample_permit")
        if version is None:
            raise RuntimeError("the sample permit did not deploy")
        case = start_request(version, citizen, district)
        task = next(t for t in case.tasks if t.state == TaskState.OPEN)
        cases.complete_task(
            case,
            task.engine_task_id,
            dict(DEMO_APPLICATION),
            actor=citizen,
            expected_version=case.version_id,
        )
        queue_submitted_notice(case)
        db.session.commit()
        fixture_ids = (case.tracking_code, case.id, citizen.id)
        db.engine.dispose()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(fixture_ids[2])
        session["_fresh"] = True
    cookie = client.get_cookie("session")
    if cookie is None:
        raise RuntimeError("no session cookie was made")
    return Fixture(fixture_ids[0], "1360524185", fixture_ids[1], cookie.value)


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "wsgi:app",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 - fixed arguments
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


class Client:
    """One simulated browser: its own connection and cookies."""

    def __init__(self, port: int, cookie: str = "") -> None:
        self.port = port
        self.cookies = {"session": cookie} if cookie else {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            return 0, ""
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
        return response.status, text


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    @property
    def p95_ms(self) -> float:
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=20)[18] * 1000


def drive(name: str, make_call: object, seconds: float) -> Result:
    """Run CLIENTS threads for `seconds`, each calling its own request function in a loop."""
    latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
    errors = [0] * CLIENTS
    calls = [make_call() for _ in range(CLIENTS)]  # type: ignore[operator]
    start_line = threading.Barrier(CLIENTS + 1)
    stop_at = [0.0]

    def run(index: int) -> None:
        call = calls[index]
        start_line.wait()
        while time.perf_counter() < stop_at[0]:
            began = time.perf_counter()
            ok = call()
            latencies[index].append(time.perf_counter() - began)
            if not ok:
                errors[index] += 1

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    start_line.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    flat = [value for per_client in latencies for value in per_client]
    return Result(name, len(flat), sum(errors), elapsed, flat)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="parvaneh-bench-") as directory:
        workdir = Path(directory)
        env = environment(workdir)
        fixture = prepare(env)
        port = free_port()
        server = serve(env, port)
        try:
            results = run_all(port, fixture)
        finally:
            server.terminate()
            server.wait(timeout=30)
    report(results)


def run_all(port: int, fixture: Fixture) -> dict[str, Result]:
    def trivial() -> object:
        client = Client(port)
        return lambda: client.request("GET", "/healthz")[0] == 200

    def lookup() -> object:
        client = Client(port)
        status, page = client.request("GET", "/track")
        if status != 200:
            raise RuntimeError(f"/track answered {status}")
        fields = {"tracking_code": fixture.tracking_code, "identifier": fixture.national_code}
        # The form as a browser sends it: with its CSRF token, if the page has one.
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        if match is not None:
            fields["csrf_token"] = match.group(1)
        body = urlencode(fields)
        return lambda: client.request("POST", "/track", body)[0] == 200

    def case_page() -> object:
        client = Client(port, fixture.session_cookie)
        return lambda: client.request("GET", f"/my/cases/{fixture.case_id}")[0] == 200

    factories = {"trivial": trivial, "lookup": lookup, "case_page": case_page}
    for name, factory in factories.items():
        drive(name, factory, min(2.0, SECONDS / 4))  # warm up: imports, caches, connections
    # Interleave short rounds so a change in the machine's load hits every endpoint alike.
    totals = {name: Result(name, 0, 0, 0.0, []) for name in factories}
    for _round in range(ROUNDS):
        for name, factory in factories.items():
            part = drive(name, factory, SECONDS / ROUNDS)
            total = totals[name]
            total.requests += part.requests
            total.errors += part.errors
            total.seconds += part.seconds
            total.latencies.extend(part.latencies)
    return totals


def report(results: dict[str, Result]) -> None:
    print(
        f"citizen portal bench: gunicorn {WORKERS} workers, {CLIENTS} clients, {SECONDS:g} s each"
    )
    print(f"{'endpoint':<12} {'requests':>9} {'errors':>7} {'req/s':>9} {'p95 ms':>9}")
    for result in results.values():
        print(
            f"{result.name:<12} {result.requests:>9} {result.errors:>7} "
            f"{result.throughput:>9.1f} {result.p95_ms:>9.1f}"
        )
    trivial = results["trivial"].throughput
    lookup_ratio = results["lookup"].throughput / trivial
    case_ratio = results["case_page"].throughput / trivial
    print("targets: lookup >= 0.50 of trivial, case page >= 0.25 of trivial")
    print(f"lookup_vs_trivial: {lookup_ratio:.2f}")
    print(f"case_page_vs_trivial: {case_ratio:.2f}")


if __name__ == "__main__":
    main()
