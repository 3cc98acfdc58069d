"""What the procedures' browser tests share: signing people in and acting on the one case."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import select

from app.cases.models import Case, TaskState
from app.db import db

PASSWORD = "correct horse battery staple"
TO_ASCII = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")
#: The back-office task page's submit button.
DECIDE = "ثبت و ارسال تصمیم"


def sign_in_citizen(context: Any, app: Flask, live_server: str, user_id: int) -> None:
    """Give the browser a session cookie the app signs (the SMS sign-in has its own tests)."""
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    cookie = serializer.dumps({"_user_id": str(user_id), "_fresh": True})
    context.add_cookies([{"name": "session", "value": cookie, "url": live_server}])


def sign_in_staff(context: Any, live_server: str, username: str) -> Any:
    """Sign a staff or agency user in with the password; return the page they land on."""
    page = context.new_page()
    page.goto(f"{live_server}/staff/login")
    page.locator("#field-username").fill(username)
    page.locator("#field-password").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    return page


def the_case() -> Case:
    """The test's only case, fresh from the database."""
    db.session.expire_all()
    return db.session.scalars(select(Case)).one()


def task_id(element_id: str) -> int:
    """The open task row of this BPMN step."""
    case = the_case()
    return next(
        t.id for t in case.tasks if t.state == TaskState.OPEN and t.element_id == element_id
    )


def decide(page: Any, live_server: str, element_id: str, fill: Callable[[Any], None]) -> None:
    """Open the step's back-office task page, fill it in and send the decision."""
    page.goto(f"{live_server}/office/tasks/{task_id(element_id)}")
    fill(page)
    page.get_by_role("button", name=DECIDE).click()
    page.wait_for_load_state()
    assert "انجام شد" in page.locator(".flash-list").inner_text(), element_id
