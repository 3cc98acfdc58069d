"""Bench permit PDFs: how many signed sample permits WeasyPrint renders per second.

Run: .venv/bin/python bench/pdf.py [--count N]

On a temporary SQLite database it deploys processes/sample_permit, opens a case, issues and
signs its permit, then renders the permit PDF N times the way the download route does
(template from the case's process version, QR code, embedded Vazirmatn), after one warm-up.
As a baseline it renders the same page without fonts or QR code. It ends with the headline
line `pdf_per_second: X` (target: at least 5 on the project's 2-core machine).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from weasyprint import HTML  # noqa: E402 - the repository root must be importable first

from app import create_app  # noqa: E402
from app.accounts.services import ensure_citizen, ensure_district  # noqa: E402
from app.cases.services import start_case  # noqa: E402
from app.certificates.pdf import render_html, render_pdf  # noqa: E402
from app.certificates.services import issue_document  # noqa: E402
from app.db import db  # noqa: E402
from app.processes.services import deploy_all, latest_version  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20, help="PDFs to render (default 20)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
                "DOCUMENT_SIGNING_KEY_PATH": "",
                "SECRET_KEY": "bench",
            }
        )
        app.instance_path = folder  # the generated signing key stays in the temporary folder
        with app.app_context(), app.test_request_context("/"):
            db.create_all()
            deploy_all(["sample_permit"])
            district = ensure_district("09", "منطقه ۹", "District 9")
            citizen = ensure_citizen("09140001001", "علی کریمی", "1360524185")
            version = latest_version("sample_permit")
            if version is None:
                raise SystemExit("processes/sample_permit did not deploy")
            case = start_case(version, applicant=citizen, district=district, data={}, actor=None)
            permit = issue_document(
                document_type="sample_permit_certificate",
                facts={
                    "tracking_code": case.tracking_code,
                    "applicant_name": "علی کریمی",
                    "fee_paid": 55_315_000,
                    "payment_reference": "358446969401",
                },
                idempotency_key="bench",
                case=case,
                now=datetime.now(UTC),
            )
            db.session.commit()

            render_pdf(permit)  # warm-up: font loading, template compilation
            plain = render_html(permit).replace('src="data:image/png', 'data-src="')
            started = time.perf_counter()
            for _ in range(args.count):
                HTML(string=plain.split("<style>")[0] + plain.split("</style>")[1]).write_pdf()
            baseline = args.count / (time.perf_counter() - started)

            started, cpu_started = time.perf_counter(), time.process_time()
            sizes = [len(render_pdf(permit)) for _ in range(args.count)]
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            db.session.remove()
    per_second = args.count / elapsed
    print(
        f"permits rendered: {args.count} in {elapsed:.2f} s, {sum(sizes) / len(sizes) / 1024:.0f} KiB each"
    )
    print(f"baseline (same page, no fonts, no QR): {baseline:.1f} per second")
    print(f"ratio to baseline: {per_second / baseline:.2f}")
    # On a shared machine wall time includes waiting for a core; CPU time shows the work itself.
    print(f"cpu seconds per permit: {cpu / args.count:.3f} ({args.count / cpu:.1f} per CPU-second)")
    print(f"pdf_per_second: {per_second:.1f}")


if __name__ == "__main__":
    main()
