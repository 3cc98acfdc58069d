"""`flask payments reconcile`: finish payments whose callback never came, settle and deliver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from app.db import db
from app.payments import services
from app.payments.gateway import gateway_for
from app.payments.models import Payment

payments_cli = AppGroup("payments", help="Online payments.")


@payments_cli.command("reconcile")
@click.option(
    "--older-than",
    type=int,
    default=None,
    help="Seconds a payment must have been pending (default PAYMENT_RECONCILE_AFTER_SECONDS).",
)
def reconcile_command(older_than: int | None) -> None:
    """Ask the gateway about payments left pending (callback lost) and complete them."""
    gateway = gateway_for(current_app)
    now = datetime.now(UTC)
    seconds = (
        older_than
        if older_than is not None
        else current_app.config["PAYMENT_RECONCILE_AFTER_SECONDS"]
    )
    report = services.ReconcileReport([], [], [], [], [])
    for payment_id in services.payments_to_reconcile(now, timedelta(seconds=seconds)):
        # One transaction per payment: one gateway's hiccup never undoes another's result.
        try:
            services.reconcile_payment(payment_id, gateway=gateway, now=now, report=report)
            db.session.commit()
        except Exception as error:
            db.session.rollback()
            report.errors.append(f"{payment_id}: {type(error).__name__}: {error}")
            continue
        payment = db.session.get(Payment, payment_id)
        if (
            payment is not None
            and payment.settled_at is None
            and services.settle_payment(payment, gateway=gateway, now=now)
        ):
            db.session.commit()
            report.settled.append(payment.reference)
    click.echo(
        f"completed: {len(report.completed)}  still pending: {len(report.still_pending)}  "
        f"delivered: {len(report.delivered)}  settled: {len(report.settled)}  "
        f"errors: {len(report.errors)}"
    )
    for line in report.errors:
        click.echo(f"  error {line}", err=True)
