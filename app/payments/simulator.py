"""The built-in gateway simulator: the IPG protocol (payments.gateway) and its payer pages.

For the demo and the tests. It keeps its own transactions, checks the terminal and key like
a bank would, reverses payments nobody verified in time, and lets the payer pay, cancel,
fail or lose the connection on the way back (the callback never arrives).
Disabled in production unless PAYMENT_SIMULATOR_ENABLED says otherwise.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from app.db import db
from app.extensions import csrf
from app.payments.models import SimulatedTransaction, SimulatorState

bp = Blueprint(
    "ipg_simulator",
    __name__,
    url_prefix="/simulator/ipg",
    template_folder="templates",
    static_folder="static",
)

#: The simulator's state → the protocol's state for verify (inquiry reports PAID as "paid").
_REPORTED = {
    SimulatorState.CREATED: "pending",
    SimulatorState.PAID: "paid",
    SimulatorState.CANCELLED: "cancelled",
    SimulatorState.FAILED: "failed",
    SimulatorState.VERIFIED: "verified",
    SimulatorState.SETTLED: "settled",
    SimulatorState.REVERSED: "reversed",
    SimulatorState.EXPIRED: "expired",
}


@bp.before_request
def _only_when_enabled() -> None:
    if not current_app.config["PAYMENT_SIMULATOR_ENABLED"]:
        abort(404)


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _expire(tx: SimulatedTransaction, now: datetime) -> None:
    # Like a bank: an unfinished session times out; a payment not verified in time is reversed.
    config = current_app.config
    if (
        tx.state == SimulatorState.CREATED
        and now - _utc(tx.created_at) > timedelta(seconds=config["PAYMENT_SIMULATOR_TOKEN_SECONDS"])
    ) or (
        tx.state == SimulatorState.PAID
        and tx.paid_at is not None
        and now - _utc(tx.paid_at) > timedelta(seconds=config["PAYMENT_SIMULATOR_VERIFY_SECONDS"])
    ):
        tx.state = SimulatorState.EXPIRED


def _error(status: int, message: str, http: int = 400) -> ResponseReturnValue:
    return {"status": status, "error": message}, http


def _authorised(payload: dict[str, Any]) -> bool:
    config = current_app.config
    expected = f"Bearer {config['PAYMENT_GATEWAY_KEY']}"
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), expected.encode()) and payload.get(
        "terminal_id"
    ) == str(config["PAYMENT_TERMINAL_ID"])


def _payload() -> dict[str, Any] | None:
    payload = request.get_json(silent=True)
    return payload if isinstance(payload, dict) else None


def _transaction(payload: dict[str, Any]) -> SimulatedTransaction | None:
    token = payload.get("token")
    if not isinstance(token, str):
        return None
    return db.session.scalar(
        select(SimulatedTransaction).where(SimulatedTransaction.token == token).with_for_update()
    )


def _report(tx: SimulatedTransaction, state: str | None = None) -> dict[str, Any]:
    return {
        "status": 0,
        "state": state or _REPORTED[tx.state],
        "amount": tx.amount,
        "order_id": tx.order_id,
        "ref_num": tx.ref_num,
        "card_mask": tx.card_mask,
    }


@bp.post("/api/token")
@csrf.exempt
def api_token() -> ResponseReturnValue:
    """Open a payment session: amount in rials, the merchant's order ID and callback URL."""
    payload = _payload()
    if payload is None or not _authorised(payload):
        return _error(401, "unauthorised", 401)
    amount, order_id, callback = (
        payload.get("amount"),
        payload.get("order_id"),
        payload.get("callback_url"),
    )
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1000:
        return _error(11, "invalid amount")
    if not isinstance(order_id, str) or not order_id or len(order_id) > 40:
        return _error(12, "invalid order_id")
    if not isinstance(callback, str) or not callback.startswith(("http://", "https://", "/")):
        return _error(13, "invalid callback_url")
    taken = db.session.scalar(
        select(SimulatedTransaction.id).where(SimulatedTransaction.order_id == order_id)
    )
    if taken:
        return _error(14, "duplicate order_id")
    tx = SimulatedTransaction(
        token=secrets.token_urlsafe(24),
        terminal_id=str(payload["terminal_id"]),
        order_id=order_id,
        amount=amount,
        callback_url=callback,
        state=SimulatorState.CREATED,
        created_at=_now(),
    )
    db.session.add(tx)
    db.session.commit()
    return {"status": 0, "token": tx.token}


def _api(operation: str) -> ResponseReturnValue:
    payload = _payload()
    if payload is None or not _authorised(payload):
        return _error(401, "unauthorised", 401)
    tx = _transaction(payload)
    if tx is None:
        return {"status": 0, "state": "unknown"}
    _expire(tx, _now())
    answer: ResponseReturnValue
    if operation == "verify":
        if tx.state == SimulatorState.PAID:
            tx.state = SimulatorState.VERIFIED
        answer = _report(tx)
    elif operation == "inquiry":
        answer = _report(tx)
    elif operation == "settle":
        if tx.state == SimulatorState.VERIFIED:
            tx.state = SimulatorState.SETTLED
        answer = _report(tx) if tx.state == SimulatorState.SETTLED else _error(21, "not verified")
    else:  # reverse
        if tx.state in (SimulatorState.PAID, SimulatorState.VERIFIED, SimulatorState.SETTLED):
            tx.state = SimulatorState.REVERSED
        answer = (
            _report(tx) if tx.state == SimulatorState.REVERSED else _error(22, "not reversible")
        )
    db.session.commit()
    return answer


@bp.post("/api/verify")
@csrf.exempt
def api_verify() -> ResponseReturnValue:
    """Verify a paid session (idempotent): the merchant now owns the money."""
    return _api("verify")


@bp.post("/api/inquiry")
@csrf.exempt
def api_inquiry() -> ResponseReturnValue:
    """Report a session's state without changing it."""
    return _api("inquiry")


@bp.post("/api/settle")
@csrf.exempt
def api_settle() -> ResponseReturnValue:
    """Settle a verified payment."""
    return _api("settle")


@bp.post("/api/reverse")
@csrf.exempt
def api_reverse() -> ResponseReturnValue:
    """Refund a paid or verified payment."""
    return _api("reverse")


def _session(token: str) -> SimulatedTransaction:
    tx = db.session.scalar(select(SimulatedTransaction).where(SimulatedTransaction.token == token))
    if tx is None:
        abort(404)
    return tx


@bp.get("/pay/<token>")
def pay_page(token: str) -> ResponseReturnValue:
    """The payer's page: the amount, and the outcomes the simulator can play."""
    tx = _session(token)
    _expire(tx, _now())
    db.session.commit()
    return render_template(
        "payments/simulator_pay.html", tx=tx, open=tx.state == SimulatorState.CREATED
    )


def play(tx: SimulatedTransaction, action: str, now: datetime) -> bool:
    """Play the payer's choice on an open session (pay, cancel, fail, timeout); False if closed."""
    _expire(tx, now)
    if tx.state != SimulatorState.CREATED or action not in ("pay", "cancel", "fail", "timeout"):
        return False
    if action in ("pay", "timeout"):
        tx.state = SimulatorState.PAID
        tx.paid_at = now
        tx.ref_num = f"{secrets.randbelow(9 * 10**11) + 10**11}"
        tx.card_mask = "603799******" + f"{secrets.randbelow(10**4):04d}"
    elif action == "cancel":
        tx.state = SimulatorState.CANCELLED
    else:
        tx.state = SimulatorState.FAILED
    return True


@bp.post("/pay/<token>")
def pay_action(token: str) -> ResponseReturnValue:
    """Play an outcome; every outcome but a time-out sends the payer back to the merchant."""
    tx = _session(token)
    action = request.form.get("action", "")
    played = play(tx, action, _now())
    db.session.commit()
    if not played:
        return render_template("payments/simulator_pay.html", tx=tx, open=False), 409
    if action == "timeout":
        return render_template("payments/simulator_lost.html", tx=tx)
    state = {"pay": "OK", "cancel": "CANCELED", "fail": "FAILED"}[action]
    return render_template("payments/simulator_return.html", tx=tx, state=state)


def find_transaction(token: str) -> SimulatedTransaction | None:
    """The simulator's session for a token (the demo seed plays the payer with it)."""
    return db.session.scalar(
        select(SimulatedTransaction).where(SimulatedTransaction.token == token)
    )
