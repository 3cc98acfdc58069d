"""`flask demo seed`: sample districts and demo accounts, safe to run again."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.accounts.services import ensure_citizen, ensure_district, ensure_staff
from app.db import db

demo_cli = AppGroup("demo", help="Demo data for trying Parvaneh out.")

#: Demo staff: (username, full name, roles). Every demo password is DEMO_PASSWORD.
DEMO_STAFF = [
    ("counter", "زهره اسدی", ["COUNTER", "SECRETARIAT"]),
    ("inspector", "رضا قاسمی", ["INSPECTOR"]),
    ("reviewer", "مریم احمدی", ["URB_EXPERT"]),
    ("head", "علی‌رضا محمدی", ["URB_HEAD", "URB_EXPERT"]),
    ("revenue", "سارا حسینی", ["REVENUE"]),
    ("mayor", "حسن نوری", ["DISTRICT_MAYOR", "DEPUTY"]),
    ("admin", "مدیر سامانه", ["ADMIN"]),
]
DEMO_PASSWORD = "parvaneh-demo-1404"  # noqa: S105 - printed on screen for the demo, on purpose
DEMO_CITIZENS = [("09140001001", "علی کریمی", "1360524185")]


@demo_cli.command("seed")
def seed_command() -> None:
    """Create the demo districts and accounts (existing ones are kept) and print them."""
    district9 = ensure_district("09", "منطقه ۹", "District 9")
    ensure_district("05", "منطقه ۵", "District 5")
    for username, name, roles in DEMO_STAFF:
        ensure_staff(username, name, DEMO_PASSWORD, roles, [district9])
    for mobile, name, national_code in DEMO_CITIZENS:
        ensure_citizen(mobile, name, national_code)
    db.session.commit()
    click.echo("Demo accounts (staff sign-in at /staff/login):")
    for username, name, roles in DEMO_STAFF:
        click.echo(f"  {username:<10} {DEMO_PASSWORD}   {', '.join(roles)}   {name}")
    for mobile, name, _code in DEMO_CITIZENS:
        click.echo(f"  citizen   {mobile}   {name}")
    seed_back_office()
    seed_citizen_sign_in()
    seed_portal_cases()
    seed_payments()
    seed_site_visits()
    seed_transparency()
    seed_procedures()


def seed_back_office() -> None:
    """The working calendar (Thursday closed, official holidays of 1404 and 1405) and sign-in notes."""
    from app.calendar.services import ensure_calendar, seed_official_holidays

    added = seed_official_holidays(ensure_calendar(thursday_closed=True), [1404, 1405])
    db.session.commit()
    click.echo(f"Working calendar: Thursday and Friday closed; {added} holidays added (1404-1405).")
    click.echo("  Administration: /admin (sign in as admin). Roles in STAFF_TOTP_REQUIRED_ROLES")
    click.echo("  (default ADMIN) set up an authenticator app (QR code) at their first sign-in;")
    click.echo("  other demo staff may set one up from /account, and are then asked for a code.")


def seed_citizen_sign_in() -> None:
    """Complete the demo citizens' profiles and say how they sign in (codes at /dev/sms)."""
    from app.citizens.services import profile_of

    for mobile, name, national_code in DEMO_CITIZENS:
        profile = profile_of(ensure_citizen(mobile, name, national_code))
        profile.postal_code = profile.postal_code or "5166614776"
    db.session.commit()
    click.echo("Citizens sign in at /login with their mobile number; in the demo the one-time")
    click.echo(
        "  code is not texted but shown at /dev/sms. Kiosk mode: /kiosk (counter: /kiosk/assist)."
    )


#: The demo citizen's application, as the sample permit form stores it.
DEMO_APPLICATION = {
    "applicant_type": "natural",
    "national_code": "1360524185",
    "applicant_name": "علی کریمی",
    "mobile": "09140001001",
    "postal_code": "5166614776",
    "plate": {"section": "3", "main": "125", "sub": "4217"},
    "renewal_code": "9-2-15-37-1-0-0",
    "usage": "residential",
    "area": 240.5,
    "floors": 3,
    "deed_type": "single_sheet",
    "deed_date": "1398-07-15",
    "owners": [{"name": "علی کریمی", "national_code": "1360524185", "share": 6}],
}
DEMO_DEED = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def seed_portal_cases() -> None:
    """Two requests of the demo citizen: one under review, one returned for correction."""
    from sqlalchemy import select

    from app.accounts.models import User
    from app.cases import services as cases
    from app.cases.models import Case, TaskState
    from app.documents.services import add_version, version_values
    from app.portal.services import queue_submitted_notice, start_request
    from app.processes.services import deploy_all, latest_version

    mobile, name, national_code = DEMO_CITIZENS[0]
    citizen = ensure_citizen(mobile, name, national_code)
    if db.session.scalar(select(Case.id).where(Case.applicant_id == citizen.id).limit(1)):
        click.echo("Demo cases exist already: sign in as 09140001001 and open /my/cases.")
        return
    deploy_all(["sample_permit"])
    version = latest_version("sample_permit")
    district = ensure_district("09", "منطقه ۹", "District 9")
    reviewer = db.session.scalar(select(User).where(User.username == "reviewer"))
    codes = []
    for returned in (False, True):
        case = start_request(version, citizen, district)  # type: ignore[arg-type]
        deed = add_version(
            case,
            slot="form:sample_permit/application:deed_scan",
            title={"fa": "تصویر سند", "en": "Scan of the deed"},
            data=DEMO_DEED,
            file_name="سند-ملک.pdf",
            actor=citizen,
        )
        task = next(t for t in case.tasks if t.state == TaskState.OPEN)
        answers = {**DEMO_APPLICATION, "deed_scan": version_values(deed)}
        cases.complete_task(
            case, task.engine_task_id, answers, actor=citizen, expected_version=case.version_id
        )
        queue_submitted_notice(case)
        if returned and reviewer is not None:
            review = next(t for t in case.tasks if t.state == TaskState.OPEN)
            cases.complete_task(
                case,
                review.engine_task_id,
                {
                    "decision": "return_for_correction",
                    "fix_items": ["area"],
                    "reason": "مساحت واردشده با سند مالکیت نمی‌خواند؛ آن را اصلاح کنید.",
                },
                actor=reviewer,
                expected_version=case.version_id,
            )
        codes.append(case.tracking_code)
    db.session.commit()
    click.echo(f"Demo cases of 09140001001: {codes[0]} (under review), {codes[1]} (to correct).")
    click.echo("  Public status lookup: /track with a tracking code and national code 1360524185.")


def seed_payments() -> None:
    """Two approved permits of the demo citizen: one invoice to pay, one paid with its permit."""
    from datetime import UTC, datetime

    from flask import current_app
    from sqlalchemy import select

    from app.accounts.models import User
    from app.cases import services as cases
    from app.cases.models import TaskState
    from app.fees.models import Invoice
    from app.payments import services as payments
    from app.payments.gateway import gateway_for
    from app.payments.simulator import find_transaction, play
    from app.processes.services import deploy_all, latest_version

    mobile, name, national_code = DEMO_CITIZENS[0]
    citizen = ensure_citizen(mobile, name, national_code)
    if db.session.scalar(select(Invoice.id).where(Invoice.applicant_id == citizen.id).limit(1)):
        click.echo("Demo invoices exist already: sign in as 09140001001 and open /my/cases.")
        return
    deploy_all(["sample_permit"])
    version = latest_version("sample_permit")
    reviewer = db.session.scalar(select(User).where(User.username == "reviewer"))
    if version is None or reviewer is None:
        return
    district = ensure_district("09", "منطقه ۹", "District 9")
    invoices: list[Invoice] = []
    for area in (180, 240.5):
        case = cases.start_case(
            version, applicant=citizen, district=district, data={}, actor=citizen
        )
        for _ in range(4):  # submit, approve; stops at the payment request
            task = next((t for t in case.tasks if t.state == TaskState.OPEN), None)
            if task is None:
                break
            answers, actor = (
                ({**DEMO_APPLICATION, "area": area}, citizen)
                if task.lane == "APPLICANT"
                else ({"decision": "approve"}, reviewer)
            )
            cases.complete_task(
                case, task.engine_task_id, answers, actor=actor, expected_version=case.version_id
            )
        db.session.commit()
        invoice = db.session.scalar(select(Invoice).where(Invoice.case_id == case.id))
        if invoice is not None:
            invoices.append(invoice)
    if len(invoices) < 2:
        click.echo("Demo invoices: the sample process did not reach its payment step.")
        return
    # The second is paid through the built-in gateway simulator, as a payer would.
    gateway, now = gateway_for(current_app), datetime.now(UTC)
    payment, _ = payments.start_payment(
        invoices[1], payer=citizen, gateway=gateway, callback_url="/payments/callback", now=now
    )
    db.session.commit()
    transaction = find_transaction(payment.token)
    if transaction is not None and play(transaction, "pay", now):
        db.session.commit()
        payments.complete_payment(payment.token, gateway=gateway, now=now)
        db.session.commit()
        payments.settle_payment(payment, gateway=gateway, now=now)
        db.session.commit()
    click.echo(
        f"Demo invoices of 09140001001: /invoices/{invoices[0].bill_id} (to pay through the "
        f"simulator), /invoices/{invoices[1].bill_id} (paid; permit issued)."
    )
    click.echo("  Anyone can verify a document at /verify/ (public key: /verify/public-key.pem).")


def seed_site_visits() -> None:
    """A case waiting for its site visit, and the inspector's visit times for the next days."""
    from datetime import UTC, datetime, time, timedelta

    from sqlalchemy import select

    from app.accounts.models import User
    from app.cases import services as cases
    from app.cases.models import CaseTask, TaskState
    from app.inspections.models import InspectionSlot
    from app.inspections.services import open_slot
    from app.persian.jalali import TEHRAN
    from app.processes.services import deploy_all, latest_version

    inspector = db.session.scalar(select(User).where(User.username == "inspector"))
    reviewer = db.session.scalar(select(User).where(User.username == "reviewer"))
    district = ensure_district("09", "منطقه ۹", "District 9")
    if inspector is None or reviewer is None:
        return
    now = datetime.now(UTC)
    if not db.session.scalar(
        select(InspectionSlot.id).where(
            InspectionSlot.inspector_id == inspector.id, InspectionSlot.starts_at > now
        )
    ):
        today = now.astimezone(TEHRAN).date()
        for days in range(1, 4):
            for hour, minute in ((9, 0), (11, 0)):
                local = datetime.combine(today + timedelta(days=days), time(hour, minute), TEHRAN)
                open_slot(district, inspector, local.astimezone(UTC), 60, now=now)
    waiting = db.session.scalar(
        select(CaseTask.id).where(CaseTask.lane == "INSPECTOR", CaseTask.state == TaskState.OPEN)
    )
    if waiting is None:
        deploy_all(["sample_permit"])
        version = latest_version("sample_permit")
        mobile, name, national_code = DEMO_CITIZENS[0]
        citizen = ensure_citizen(mobile, name, national_code)
        if version is not None:
            case = cases.start_case(
                version, applicant=citizen, district=district, data={}, actor=citizen
            )
            steps = [
                ({**DEMO_APPLICATION, "area": 310}, citizen),
                ({"decision": "approve", "site_visit": True}, reviewer),
            ]
            for answers, actor in steps:
                task = next(t for t in case.tasks if t.state == TaskState.OPEN)
                cases.complete_task(
                    case,
                    task.engine_task_id,
                    answers,
                    actor=actor,
                    expected_version=case.version_id,
                )
    db.session.commit()
    click.echo("Site visits: sign in as inspector, open /office/ (the visit task) and")
    click.echo(
        "  /inspections/slots; the citizen picks a time at /inspections/visit/<tracking code>."
    )
    click.echo("  Reminder texts: `flask office remind` (cron), a day before each visit.")


#: Steps of the sample permit in the demo's past cases: (element id, lane, name, days range).
DEMO_HISTORY_STEPS = [
    ("submit_application", "APPLICANT", "ثبت درخواست", (0, 2)),
    ("review_application", "URB_EXPERT", "بررسی مدارک", (1, 7)),
    ("correct_application", "APPLICANT", "اصلاح درخواست", (1, 6)),
    ("inspect_site", "INSPECTOR", "بازدید میدانی", (2, 6)),
]


def seed_transparency() -> None:
    """A year of past sample-permit figures for the dashboard, then deliver the outbox.

    The past cases exist only as figures (no case files), generated once with a fixed seed;
    the cases other demo steps opened are counted by the engine as they move.
    """
    import random
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from app.notifications.jobs import deliver_pending
    from app.processes.services import deploy_all
    from app.transparency.metrics import CaseFacts, Span
    from app.transparency.models import DailyCounts, MetricStep
    from app.transparency.recording import Rollup, apply, settings

    deploy_all(["sample_permit"])
    workdays = settings().workdays
    today = workdays.local_day(datetime.now(UTC))
    seeded = db.session.scalar(
        select(DailyCounts.day).where(
            DailyCounts.process_key == "sample_permit", DailyCounts.day < today - timedelta(days=30)
        )
    )
    if seeded is None:
        districts = [
            ensure_district("09", "منطقه ۹", "District 9"),
            ensure_district("05", "منطقه ۵", "District 5"),
        ]
        chance = random.Random(1404)  # noqa: S311 - demo figures, not security
        rollup = Rollup()
        for back in range(330, 0, -1):
            received = today - timedelta(days=back)
            if not workdays.calendar.is_working_day(received):
                continue
            for _ in range(chance.randint(0, 4)):
                district = chance.choice(districts).id
                rollup.received("sample_permit", district, received)
                spans, day = [], received
                for step, lane, _name, (low, high) in DEMO_HISTORY_STEPS:
                    if step in ("correct_application", "inspect_site") and chance.random() < 0.6:
                        continue
                    end = workdays.add(day, chance.randint(low, high))
                    spans.append(Span(lane, step, day, end, True))
                    day = end
                completed = workdays.add(day, chance.randint(0, 2))
                if completed >= today:
                    continue
                wait = sum(
                    workdays.between(s.start, s.end or s.start)
                    for s in spans
                    if s.lane == "APPLICANT"
                )
                total = workdays.between(received, completed)
                facts = CaseFacts(
                    total, wait, total - wait, total - wait <= 15, chance.random() < 0.12
                )
                for span in spans:
                    rollup.step_done("sample_permit", district, span, workdays)
                rollup.completed("sample_permit", district, completed, facts, spans, workdays)
                if chance.random() < 0.35:
                    rating = chance.choices([1, 2, 3, 4, 5], weights=[1, 1, 2, 4, 4])[0]
                    rollup.rated("sample_permit", district, completed, rating)
        apply(rollup)
        for step, lane, name, _days in DEMO_HISTORY_STEPS:
            if db.session.get(MetricStep, ("sample_permit", step)) is None:
                db.session.add(
                    MetricStep(process_key="sample_permit", step=step, name=name, lane=lane)
                )
        db.session.commit()
    from app.transparency.jobs import fold_pending

    fold_pending()  # the demo cases' steps, into the figures (Celery beat does this later on)
    report = deliver_pending()
    click.echo(
        f"Transparency: the dashboard is at /transparency, open data at /open-data; "
        f"notifications delivered: {report.sent} (staff see them at /staff/notifications)."
    )


def seed_procedures() -> None:
    """Cases of every municipal procedure at various stages (app/demo_procedures/<key>.py)."""
    import importlib
    import pkgutil

    import app.demo_procedures as procedures
    from app.accounts.models import User, UserKind

    for module in pkgutil.iter_modules(procedures.__path__):
        importlib.import_module(f"{procedures.__name__}.{module.name}").seed()
        db.session.commit()
    known = {username for username, _name, _roles in DEMO_STAFF}
    others = db.session.scalars(
        db.select(User).where(User.kind != UserKind.CITIZEN).order_by(User.username)
    )
    extra = [user for user in others if user.username not in known]
    if extra:
        click.echo("Procedure demo accounts (same password; agencies work at /agency/):")
        for user in extra:
            click.echo(
                f"  {user.username:<18} {', '.join(sorted(user.role_codes))}   {user.full_name}"
            )
