"""Administrator pages: who may open them, forms that keep input on 422, and what they change."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.services import ensure_district, find_staff
from app.audit.models import AuditEntry
from app.calendar import services as calendar_services
from app.db import db
from app.persian.jalali import parse_jalali_date


@pytest.fixture
def admin(make_staff: Callable[..., User], login_as: Callable[[User], None]) -> User:
    user = make_staff("admin", roles=["ADMIN"])
    user.totp_secret, user.totp_enabled_at = "JBSWY3DPEHPK3PXP", datetime.now(UTC)
    db.session.commit()
    login_as(user)
    return user


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def test_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    assert client.get("/admin/staff").headers["Location"].startswith("/staff/login")


def test_only_administrators_get_in(
    client: FlaskClient, make_staff: Callable[..., User], login_as: Callable[[User], None]
) -> None:
    login_as(make_staff("reviewer"))
    assert client.get("/admin/staff").status_code == 403
    assert client.post("/admin/districts", data={"code": "07"}).status_code == 403


def test_create_an_account_with_errors_then_fixed(client: FlaskClient, admin: User) -> None:
    form = {
        "username": "M Ahmadi",
        "full_name": "مریم احمدی",
        "password": "qwertyuiop123",
        "roles": ["URB_EXPERT", "NOT_A_ROLE"],
        "districts": ["09"],
        "kind": "staff",
    }
    response = client.post("/admin/staff/new", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert response.headers["Cache-Control"] == "no-store"
    assert 'href="#field-username"' in html
    assert 'href="#field-password"' in html
    assert "نقش ناشناخته: NOT_A_ROLE" in html
    assert 'value="M Ahmadi"' in html
    assert 'value="مریم احمدی"' in html
    assert re.search(r'value="URB_EXPERT"[^>]*checked', html)
    assert 'name="password" type="password" value=""' in html  # never echoed back

    form.update(username="m.ahmadi", password="باغ ارم در بهار", roles=["URB_EXPERT", "INSPECTOR"])
    created = client.post("/admin/staff/new", data=form)
    assert created.status_code == 302
    user = find_staff("m.ahmadi")
    assert user is not None
    assert user.role_codes == {"URB_EXPERT", "INSPECTOR"}
    assert [d.code for d in user.districts] == ["09"]
    assert user.check_password("باغ ارم در بهار")
    assert "staff.created" in actions()


def test_edit_roles_districts_and_disable(
    client: FlaskClient, admin: User, make_staff: Callable[..., User]
) -> None:
    user = make_staff("reviewer")
    ensure_district("05", "منطقه ۵", "District 5")
    response = client.post(
        f"/admin/staff/{user.id}",
        data={"full_name": "مریم احمدی", "roles": ["URB_HEAD"], "districts": ["05"]},
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.role_codes == {"URB_HEAD"}
    assert [d.code for d in user.districts] == ["05"]
    assert not user.is_active_account  # the box was left unticked
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "staff.updated"))
    assert entry is not None
    assert entry.before["roles"] == ["URB_EXPERT"]
    assert entry.after["roles"] == ["URB_HEAD"]


def test_an_admin_cannot_lock_themselves_out(client: FlaskClient, admin: User) -> None:
    response = client.post(
        f"/admin/staff/{admin.id}",
        data={"full_name": "مدیر", "roles": ["URB_EXPERT"], "districts": ["09"], "active": "1"},
    )
    assert response.status_code == 422
    assert "نمی‌توانید نقش مدیر سامانه" in response.get_data(as_text=True)


def test_reset_password_shows_it_once_and_unlocks(
    client: FlaskClient, admin: User, make_staff: Callable[..., User]
) -> None:
    user = make_staff("reviewer")
    user.locked_at, user.failed_logins = datetime.now(UTC), 30
    db.session.commit()
    response = client.post(f"/admin/staff/{user.id}/reset-password")
    html = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    password = re.search(r'id="one-time-password">([a-z0-9-]+)<', html)
    assert password is not None
    db.session.refresh(user)
    assert user.check_password(password.group(1))
    assert user.must_change_password
    assert user.locked_at is None
    assert user.failed_logins == 0
    assert password.group(1) not in str(db.session.scalars(select(AuditEntry.after)).all())


def test_reset_totp_and_unlock_buttons(
    client: FlaskClient, admin: User, make_staff: Callable[..., User]
) -> None:
    user = make_staff("reviewer")
    user.totp_secret, user.totp_enabled_at = "JBSWY3DPEHPK3PXP", datetime.now(UTC)
    user.locked_at = datetime.now(UTC)
    db.session.commit()
    page = client.get(f"/admin/staff/{user.id}").get_data(as_text=True)
    assert "بازنشانی احراز هویت دومرحله‌ای" in page
    assert "باز کردن قفل" in page
    assert client.post(f"/admin/staff/{user.id}/reset-totp").status_code == 302
    assert client.post(f"/admin/staff/{user.id}/unlock").status_code == 302
    db.session.refresh(user)
    assert not user.totp_enrolled
    assert user.locked_at is None
    assert {"staff.totp_reset", "staff.unlocked"} <= set(actions())


def test_districts_add_with_persian_digits_and_errors(client: FlaskClient, admin: User) -> None:
    bad = client.post(
        "/admin/districts", data={"code": "۹", "name_fa": "", "name_en": "District 7"}
    )
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "کد دورقمی منطقه" in html
    assert "نام فارسی را وارد کنید" in html
    assert 'value="District 7"' in html
    taken = client.post(
        "/admin/districts", data={"code": "۰۹", "name_fa": "منطقه ۹", "name_en": "x"}
    )
    assert "از پیش وجود دارد" in taken.get_data(as_text=True)
    assert (
        client.post(
            "/admin/districts", data={"code": "۰۷", "name_fa": "منطقه ۷", "name_en": "District 7"}
        ).status_code
        == 302
    )
    page = client.get("/admin/districts").get_data(as_text=True)
    assert "منطقه ۷" in page


def test_calendar_page_seeds_adds_and_removes_days(
    app: Flask, client: FlaskClient, admin: User
) -> None:
    seeded = client.post("/admin/calendar/seed?year=1404")
    assert seeded.status_code == 302
    page = client.get("/admin/calendar?year=1404").get_data(as_text=True)
    assert "عاشورای حسینی" in page
    assert "نوروز" in page

    bad = client.post(
        "/admin/calendar/days?year=1404",
        data={"day": "1404/12/30", "kind": "closure", "name_fa": "", "name_en": ""},
    )
    assert bad.status_code == 422
    assert "این سال کبیسه نیست" in bad.get_data(as_text=True)
    assert 'value="1404/12/30"' in bad.get_data(as_text=True)

    no_name = client.post(
        "/admin/calendar/days?year=1404",
        data={"day": "۱۴۰۴/۰۵/۰۶", "kind": "closure", "name_fa": "", "name_en": ""},
    )
    assert no_name.status_code == 422
    assert "نام فارسی مناسبت" in no_name.get_data(as_text=True)

    heat = parse_jalali_date(1404, 5, 6)
    saved = client.post(
        "/admin/calendar/days?year=1404",
        data={
            "day": "۱۴۰۴/۰۵/۰۶",
            "kind": "closure",
            "name_fa": "تعطیلی به علت گرما",
            "name_en": "Heat",
        },
    )
    assert saved.status_code == 302
    snapshot = calendar_services.calendar_snapshot()
    assert snapshot is not None
    assert not snapshot.is_working_day(heat)
    assert client.post(f"/admin/calendar/days/{heat.isoformat()}/delete").status_code == 302
    snapshot = calendar_services.calendar_snapshot()
    assert snapshot is not None
    assert snapshot.is_working_day(heat)
    assert {"calendar.seeded", "calendar.day_saved", "calendar.day_deleted"} <= set(actions())


def test_calendar_rules_open_thursdays_for_a_period(client: FlaskClient, admin: User) -> None:
    client.post("/admin/calendar/seed?year=1404")
    bad = client.post(
        "/admin/calendar/rules?year=1404",
        data={"starts_on": "1404/10/01", "ends_on": "1404/09/01", "closed": ["4"], "note": "مصوبه"},
    )
    assert bad.status_code == 422
    assert "تاریخ پایان" in bad.get_data(as_text=True)
    assert 'value="مصوبه"' in bad.get_data(as_text=True)
    good = client.post(
        "/admin/calendar/rules?year=1404",
        data={"starts_on": "1404/10/01", "ends_on": "", "closed": ["4"], "note": "مصوبه"},
    )
    assert good.status_code == 302
    snapshot = calendar_services.calendar_snapshot()
    assert snapshot is not None
    assert snapshot.is_working_day(parse_jalali_date(1404, 10, 4))  # a Thursday
    calendar = calendar_services.default_calendar()
    assert calendar is not None
    assert len(calendar.rules) == 2
    rule = calendar.rules[-1]
    assert client.post(f"/admin/calendar/rules/{rule.id}/delete").status_code == 302
    snapshot = calendar_services.calendar_snapshot()
    assert snapshot is not None
    assert not snapshot.is_working_day(parse_jalali_date(1404, 10, 4))


def test_audit_page_lists_and_verifies(client: FlaskClient, admin: User) -> None:
    client.post(
        "/admin/districts", data={"code": "07", "name_fa": "منطقه ۷", "name_en": "District 7"}
    )
    page = client.get("/admin/audit?verify=1").get_data(as_text=True)
    assert "district.saved" in page
    assert "زنجیره ممیزی سالم است" in page
