"""TOTP second factor (RFC 6238): secrets, provisioning QR codes and single-use verification."""

from __future__ import annotations

from datetime import datetime

import pyotp
import qrcode
import qrcode.image.svg
from markupsafe import Markup

from app.persian.text import to_ascii_digits

#: One step either side absorbs a phone clock that is up to 30 seconds off.
VALID_WINDOW = 1
STEP_SECONDS = 30


def new_secret() -> str:
    """A fresh 160-bit base32 secret (RFC 4226 recommends 160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    """The otpauth:// address authenticator apps read from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def qr_svg(uri: str) -> Markup:
    """The address as an inline SVG QR code (no Pillow, no external image)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=4)
    svg: str = image.to_string(encoding="unicode")
    # Safe: qrcode builds the SVG from path data only; the URI itself is not in the markup.
    return Markup(svg)  # noqa: S704


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code matches (any digits accepted), or None."""
    digits = to_ascii_digits(code).replace(" ", "").strip()
    if len(digits) != 6 or not digits.isascii() or not digits.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), digits):
            return step
    return None
