"""The one-time-code steps shared by citizens' sign-in and the kiosk's assisted filing.

Each step returns the message to show beside the field and the HTTP status, so every failure
(wrong number, too soon, too many, expired, reused, wrong) reads differently to the citizen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, session
from flask_babel import gettext as _

from app.citizens import limits
from app.citizens.models import CodePurpose, OneTimeCode
from app.citizens.services import (
    CodeExpired,
    CodeLocked,
    CodePolicy,
    CodeUnknown,
    CodeUsed,
    CodeWrong,
    ResendTooSoon,
    check_code,
    issue_code,
    seconds_until_resend,
    send_code,
)
from app.db import db
from app.i18n import current_locale
from app.persian import check_mobile, message, normalize_identifier, to_persian_digits
from app.sms.gateway import SmsError, sms_gateway


@dataclass(frozen=True)
class Outcome:
    """What a step did: an error for the field (None when it worked) and the HTTP status."""

    error: str | None = None
    status: int = 200
    code_row: OneTimeCode | None = None


def policy() -> CodePolicy:
    """The code policy from the configuration."""
    config = current_app.config
    return CodePolicy(
        secret=str(config["SECRET_KEY"]),
        ttl=timedelta(seconds=config["OTP_TTL_SECONDS"]),
        max_tries=config["OTP_MAX_TRIES"],
        resend_after=timedelta(seconds=config["OTP_RESEND_SECONDS"]),
    )


def number(value: int) -> str:
    """A count in the reader's digits."""
    return to_persian_digits(str(value)) if current_locale() == "fa" else str(value)


def _minutes(seconds: int) -> str:
    return number(max(1, (seconds + 59) // 60))


def _session_key(purpose: CodePurpose) -> str:
    return f"otp_{purpose.value}"


def pending_mobile(purpose: CodePurpose) -> str | None:
    """The number the current code was sent to in this browser session."""
    pending = session.get(_session_key(purpose))
    return pending.get("mobile") if isinstance(pending, dict) else None


def forget(purpose: CodePurpose) -> None:
    """Drop the pending code from the session."""
    session.pop(_session_key(purpose), None)


def sms_text(purpose: CodePurpose, code: str) -> str:
    """The text that carries the code (ASCII digits, so phones can offer to paste it)."""
    minutes = number(max(1, current_app.config["OTP_TTL_SECONDS"] // 60))
    if purpose == CodePurpose.ASSIST:
        return _(
            "Parvaneh: your code is %(code)s. Give it to the counter clerk only if you want them to file a request for you. Valid for %(minutes)s minutes.",
            code=code,
            minutes=minutes,
        )
    return _(
        "Parvaneh: your sign-in code is %(code)s. It is valid for %(minutes)s minutes. Do not give it to anyone.",
        code=code,
        minutes=minutes,
    )


def request_code(raw_mobile: str, purpose: CodePurpose) -> tuple[str, Outcome]:
    """Validate the number, apply the limits, send a code and remember it in the session.

    Returns the canonical number (or the typed text when invalid) and the outcome.
    """
    check = check_mobile(raw_mobile)
    if not check.ok:
        return raw_mobile, Outcome(message(check.error or "mobile.empty", current_locale()), 422)
    mobile = check.value
    if wait := limits.wait_before_code_for_address():
        return mobile, Outcome(
            _(
                "Too many codes were asked for from this device. Try again in %(minutes)s minutes.",
                minutes=_minutes(wait),
            ),
            429,
        )
    code_policy = policy()
    try:
        if wait := seconds_until_resend(mobile, purpose, code_policy):
            raise ResendTooSoon(wait)
        if wait := limits.wait_before_code_for_mobile(mobile):
            return mobile, Outcome(
                _(
                    "Too many codes were sent to this number. Try again in %(minutes)s minutes.",
                    minutes=_minutes(wait),
                ),
                429,
            )
        row, code = issue_code(mobile, purpose, code_policy)
    except ResendTooSoon as too_soon:
        return mobile, Outcome(
            _(
                "A code was sent to this number moments ago. You can ask for a new one in %(seconds)s seconds.",
                seconds=number(too_soon.seconds_left),
            ),
            429,
        )
    try:
        send_code(sms_gateway(), mobile, sms_text(purpose, code))
    except SmsError:
        current_app.logger.exception("sign-in code not sent")
        db.session.rollback()  # no code row without its message: the citizen may retry at once
        return mobile, Outcome(
            _("The text message could not be sent just now. Please try again in a minute."), 503
        )
    session[_session_key(purpose)] = {"token": row.token, "mobile": mobile}
    return mobile, Outcome(code_row=row)


def confirm_code(raw_code: str, purpose: CodePurpose) -> Outcome:
    """Check the typed code against the one sent in this session; each failure has its message."""
    code = normalize_identifier(raw_code)
    if not code:
        return Outcome(_("Enter the 6-digit code from the text message."), 422)
    if not code.isascii() or not code.isdigit() or len(code) != 6:
        return Outcome(_("The code has 6 digits; check the text message and type it again."), 422)
    if wait := limits.wait_before_check_for_address():
        return Outcome(
            _(
                "Too many codes were tried from this device. Try again in %(minutes)s minutes.",
                minutes=_minutes(wait),
            ),
            429,
        )
    pending = session.get(_session_key(purpose))
    token = pending.get("token") if isinstance(pending, dict) else None
    try:
        row = check_code(token, purpose, code, policy())
    except CodeUnknown:
        return Outcome(_("No code was sent in this session. Ask for a code first."), 422)
    except CodeUsed:
        return Outcome(
            _("This code was already used or replaced by a newer one. Ask for a new code."), 422
        )
    except CodeExpired:
        return Outcome(
            _(
                "This code has expired: a code works for %(minutes)s minutes. Ask for a new code.",
                minutes=number(max(1, current_app.config["OTP_TTL_SECONDS"] // 60)),
            ),
            422,
        )
    except CodeLocked:
        return Outcome(
            _(
                "This code was typed wrongly too many times and no longer works. Ask for a new code."
            ),
            422,
        )
    except CodeWrong as wrong:
        if wrong.tries_left <= 0:
            return Outcome(
                _("The code is not correct, and it was tried too many times. Ask for a new code."),
                422,
            )
        return Outcome(
            _(
                "The code is not correct. You can try %(count)s more times.",
                count=number(wrong.tries_left),
            ),
            422,
        )
    forget(purpose)
    return Outcome(code_row=row)


def resend_code(purpose: CodePurpose) -> Outcome:
    """Send a new code to the number of the pending one (after the cooldown)."""
    mobile = pending_mobile(purpose)
    if mobile is None:
        return Outcome(_("No code was sent in this session. Ask for a code first."), 422)
    _mobile, outcome = request_code(mobile, purpose)
    return outcome
