"""Invoices raised by the process: amounts per tariff year, bill and payment IDs, the page."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import func, select

from app.accounts.models import User
from app.db import db
from app.fees import services
from app.fees.models import Invoice, InvoiceStatus
from app.notifications.models import Notification
from app.persian.identifiers import check_bill_payment, make_bill_id, make_payment_id

from .support import case_awaiting_payment, signed_in

# Filing dates: the last day of 1404 and the first of 1405 (Tehran).
LAST_OF_1404 = "2026-03-20 08:00:00+00:00"
FIRST_OF_1405 = "2026-03-21 08:00:00+00:00"


def lines_of(invoice: Invoice) -> list[tuple[str, str, int]]:
    return [(line.code, line.title_fa, line.amount_rials) for line in invoice.lines]


@pytest.mark.parametrize(
    ("filed", "usage", "area", "year", "lines", "total"),
    [
        (
            LAST_OF_1404,
            "residential",
            240.5,
            1404,
            [
                ("permit_fee", "عوارض صدور پروانه", 48_100_000),
                ("renewal_levy", "عوارض نوسازی", 4_810_000),
                ("education_levy", "سهم آموزش و پرورش", 2_405_000),
            ],
            55_315_000,
        ),
        (
            FIRST_OF_1405,
            "residential",
            240.5,
            1405,
            [
                ("permit_fee", "عوارض صدور پروانه", 57_720_000),
                ("renewal_levy", "عوارض نوسازی", 6_012_500),
                ("education_levy", "سهم آموزش و پرورش", 2_886_000),
                ("rounding", "کسر مبلغ کمتر از هزار ریال", -500),
            ],
            66_618_000,
        ),
        (
            FIRST_OF_1405,
            "commercial",
            50,
            1405,
            [
                ("permit_fee", "عوارض صدور پروانه", 30_000_000),
                ("renewal_levy", "عوارض نوسازی", 2_500_000),
                ("education_levy", "سهم آموزش و پرورش", 1_500_000),
            ],
            34_000_000,
        ),
    ],
)
def test_the_process_raises_the_invoice_of_its_tariff_year(
    people: dict[str, Any],
    filed: str,
    usage: str,
    area: float,
    year: int,
    lines: list[tuple[str, str, int]],
    total: int,
) -> None:
    with freeze_time(filed):
        case, invoice = case_awaiting_payment(
            people["citizen"], people["expert"], people["district"], usage=usage, area=area
        )

    assert invoice.tariff_year == year
    assert lines_of(invoice) == lines
    assert invoice.total_rials == total == sum(amount for *_, amount in lines)
    assert invoice.status == InvoiceStatus.OPEN
    assert invoice.applicant_id == people["citizen"].id
    checked = check_bill_payment(invoice.bill_id, invoice.payment_id)
    assert checked.ok, checked.error
    assert checked.amount_rials == total
    assert checked.bill_type == "6"  # municipal fees
    assert invoice.bill_id[-5:-2] == "180"  # the configured company code
    notice = db.session.scalar(
        select(Notification).where(
            Notification.case_id == case.id, Notification.event_key == "payment_requested"
        )
    )
    assert notice is not None
    assert invoice.bill_id in notice.text_en
    assert invoice.payment_id in notice.text_en
    assert notice.recipient_id == people["citizen"].id


def test_the_filing_date_not_the_approval_date_picks_the_book(people: dict[str, Any]) -> None:
    with freeze_time(LAST_OF_1404):
        case, _ = case_awaiting_payment(people["citizen"], people["expert"], people["district"])
    # Same application filed a year later, approved the same day as filed.
    with freeze_time(FIRST_OF_1405):
        _later, later_invoice = case_awaiting_payment(
            people["citizen"], people["expert"], people["district"]
        )
    first_invoice = services.case_invoices(case.id)[0]
    assert (first_invoice.tariff_year, later_invoice.tariff_year) == (1404, 1405)
    assert first_invoice.total_rials < later_invoice.total_rials


def test_a_retried_step_gets_the_same_invoice(people: dict[str, Any]) -> None:
    case, invoice = case_awaiting_payment(people["citizen"], people["expert"], people["district"])
    again = services.create_invoice(
        case,
        {"permit_fee": 1_000},
        tariff_year=1405,
        titles={},
        idempotency_key=invoice.idempotency_key,
        company_code="180",
        now=datetime.now(UTC),
    )
    assert again.id == invoice.id
    assert db.session.scalar(select(func.count(Invoice.id))) == 1


@pytest.mark.parametrize("lines", [{}, {"permit_fee": 0}, {"permit_fee": 900}, {"a": -5}])
def test_nothing_to_pay_or_bad_amounts_are_refused(
    people: dict[str, Any], lines: dict[str, int]
) -> None:
    case, _ = case_awaiting_payment(people["citizen"], people["expert"], people["district"])
    with pytest.raises(services.InvalidInvoice):
        services.create_invoice(
            case,
            lines,
            tariff_year=1405,
            titles={},
            idempotency_key="other",
            company_code="180",
            now=datetime.now(UTC),
        )


def test_bill_and_payment_ids_carry_standard_check_digits() -> None:
    rng = random.Random(8)  # noqa: S311 - reproducible test data
    for _ in range(300):
        bill = make_bill_id(str(rng.randrange(10**7, 10**8)), "180")
        amount = rng.randrange(1, 10**8) * 1000
        payment = make_payment_id(amount, rng.randrange(10), rng.randrange(1, 13), bill)
        checked = check_bill_payment(bill, payment)
        assert checked.ok
        assert checked.amount_rials == amount
        assert checked.bill_type == "6"
        # Any single changed digit is caught by one of the two check digits.
        position = rng.randrange(len(payment))
        digit = str((int(payment[position]) + rng.randrange(1, 10)) % 10)
        assert not check_bill_payment(bill, payment[:position] + digit + payment[position + 1 :]).ok
    # The domain reference's vector.
    assert check_bill_payment("8600372918060", "12540040704").amount_rials == 125_400_000


def test_the_citizen_sees_the_invoice_in_persian(
    people: dict[str, Any], client: FlaskClient, login_as: Callable[[User], None]
) -> None:
    with freeze_time(LAST_OF_1404):
        _, invoice = case_awaiting_payment(people["citizen"], people["expert"], people["district"])
    login_as(people["citizen"])

    response = client.get(f"/invoices/{invoice.bill_id}")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "۵۵٬۳۱۵٬۰۰۰ ریال" in page  # Persian digits and separators
    assert "پنجاه و پنج میلیون و سیصد و پانزده هزار ریال" in page
    assert "عوارض نوسازی" in page
    assert "سهم آموزش و پرورش" in page
    persian_bill = invoice.bill_id.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert persian_bill in page
    assert f'action="/invoices/{invoice.bill_id}/pay"' in page


def test_other_people_cannot_see_the_invoice(
    people: dict[str, Any], app: Flask, make_staff: Callable[..., User]
) -> None:
    _, invoice = case_awaiting_payment(people["citizen"], people["expert"], people["district"])
    url = f"/invoices/{invoice.bill_id}"

    g.pop("_login_user", None)
    assert app.test_client().get(url).status_code == 302  # anonymous: to the sign-in page
    stranger = signed_in(app, people["stranger"])
    assert stranger.get(url).status_code == 404
    assert stranger.post(f"{url}/pay").status_code == 404
    # Staff see invoices in the back office, never here: the same 404 as a stranger's.
    assert signed_in(app, make_staff("revenue", roles=["REVENUE"])).get(url).status_code == 404
    assert signed_in(app, people["citizen"]).get("/invoices/8600372918060").status_code == 404
