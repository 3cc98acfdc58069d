"""Deliver the outbox: claim a message, hand it to each channel's gateway, record the answer.

At-least-once with gateway-side dedupe: every stage commits before the next, so a worker
killed at any point leaves either an unclaimed row, or a leased one that another worker
takes when the lease ends and hands over again under the same idempotency key, which the
gateway recognises. Nothing is lost, and nobody gets a message twice.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
from dataclasses import dataclass

from celery import shared_task
from flask import current_app

from app.db import db
from app.notifications import services
from app.notifications.gateways import DeliveryError, Sender, senders
from app.notifications.models import DeliveryState, Notification
from app.notifications.services import RetryPolicy, utc_now

logger = logging.getLogger(__name__)

#: Fault injection for the crash test: the worker kills itself (SIGKILL) right after a
#: gateway accepted a message and before it records that. Ignored in production.
FAULT_VARIABLE = "PARVANEH_NOTIFY_FAULT"


@dataclass
class DeliveryReport:
    """What one delivery run did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    in_app: int = 0


def retry_policy() -> RetryPolicy:
    """The retry settings from the configuration."""
    config = current_app.config
    return RetryPolicy(
        max_attempts=config["NOTIFY_MAX_ATTEMPTS"],
        backoff_seconds=config["NOTIFY_BACKOFF_SECONDS"],
        backoff_max_seconds=config["NOTIFY_BACKOFF_MAX_SECONDS"],
        lease_seconds=config["NOTIFY_LEASE_SECONDS"],
    )


def _fault_point(name: str) -> None:
    if (
        os.environ.get(FAULT_VARIABLE) == name
        and current_app.config["PARVANEH_ENV"] != "production"
    ):
        os.kill(os.getpid(), signal.SIGKILL)


def deliver_pending(limit: int = 200) -> DeliveryReport:
    """Deliver due messages one by one (at most `limit`); the edge that commits."""
    policy = retry_policy()
    owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    gateways = senders()
    report = DeliveryReport()
    for _ in range(limit):
        notification = services.claim_next(utc_now(), owner, policy)
        if notification is None:
            db.session.commit()
            break
        db.session.commit()  # the lease holds from here, whatever happens to this worker
        state = _deliver(notification, gateways, policy)
        if state == DeliveryState.SENT:
            report.sent += 1
        elif state == DeliveryState.FAILED:
            report.failed += 1
        elif state == DeliveryState.IN_APP:
            report.in_app += 1
        else:
            report.retrying += 1
    return report


def _deliver(
    notification: Notification, gateways: dict[str, Sender], policy: RetryPolicy
) -> DeliveryState:
    if notification.attempts > policy.max_attempts:
        # Claimed once more than allowed: earlier workers died while holding it.
        services.record_failure(
            notification, None, "worker stopped during delivery", utc_now(), policy
        )
        db.session.commit()
        return notification.state
    if not services.addresses(notification):
        services.keep_in_app(notification)
        db.session.commit()
        return notification.state
    subject = current_app.config["MUNICIPALITY_NAME_FA"]
    for channel, address in services.outstanding(notification):
        attempt = services.start_attempt(notification, channel, address, utc_now())
        db.session.commit()
        text = notification.text_fa
        if channel == "email":
            text = f"{notification.text_fa}\n\n{notification.text_en}"
        try:
            provider_id = gateways[channel].send(
                address, subject, text, services.gateway_key(notification, channel)
            )
            db.session.commit()  # what the development gateway keeps, as a provider would
        except DeliveryError as error:
            db.session.rollback()
            logger.warning("notification %s: %s failed: %s", notification.id, channel, error)
            services.record_failure(notification, attempt, str(error), utc_now(), policy)
            db.session.commit()
            return notification.state
        _fault_point("after_send")
        services.record_sent(attempt, provider_id, utc_now())
        db.session.commit()
    services.finish(notification, utc_now())
    db.session.commit()
    return notification.state


@shared_task(name="notifications.deliver_pending")
def deliver_pending_task() -> int:
    """Celery beat's entry point: deliver what is due; returns how many were sent."""
    return deliver_pending().sent
