"""Citizens' test helpers: fresh rate-limit counters, and the codes the dev SMS inbox received."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask, g
from sqlalchemy import select

from app.accounts.models import User
from app.db import db
from app.extensions import limiter
from app.sms.models import DevSmsMessage

CODE = re.compile(r"\b([0-9]{6})\b")
FIELD_ERROR = re.compile(
    r'<div class="field__error" id="error-(\w+)">.*?</span>\s*(.*?)</div>', re.S
)


@pytest.fixture(autouse=True)
def _fresh_limits(app: Flask) -> Iterator[None]:
    """Every test starts with empty rate-limit counters and the default limits."""
    saved = dict(app.config)
    limiter.reset()
    yield
    limiter.reset()
    app.config.update(saved)


@pytest.fixture
def last_code() -> Callable[[str], str]:
    """The code in the newest text message sent to a number."""

    def read(mobile: str) -> str:
        text = db.session.scalars(
            select(DevSmsMessage.text)
            .where(DevSmsMessage.mobile == mobile)
            .order_by(DevSmsMessage.id.desc())
            .limit(1)
        ).first()
        assert text is not None, f"no SMS to {mobile}"
        match = CODE.search(text)
        assert match is not None, text
        return match.group(1)

    return read


@pytest.fixture
def switch_to(login_as: Callable[[User], None]) -> Callable[[User], None]:
    """Sign another user in on the test client (the app context's cached user is dropped)."""

    def switch(user: User) -> None:
        login_as(user)
        g.pop("_login_user", None)  # requests share the test's app context, and its `g`

    return switch


def field_errors(html: str) -> dict[str, str]:
    """The messages shown beside fields: {field name: text}."""
    return {name: " ".join(text.split()) for name, text in FIELD_ERROR.findall(html)}
