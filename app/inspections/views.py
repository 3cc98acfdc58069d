"""Inspection pages: inspectors open slots and book visits; applicants pick or confirm one."""

from __future__ import annotations

from datetime import UTC, datetime, time

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.accounts.access import citizen_required, staff_required
from app.accounts.models import District, DistrictMembership, RoleAssignment, User
from app.cases.models import Case
from app.db import db
from app.i18n import current_locale
from app.inspections import services
from app.office.services import is_supervisor, may_see
from app.persian.jalali import TEHRAN, parse_jalali_date, tehran_today, to_jalali
from app.persian.messages import InvalidValue, message
from app.persian.text import to_ascii_digits

bp = Blueprint("inspections", __name__, url_prefix="/inspections", template_folder="templates")

DURATIONS = (30, 45, 60, 90, 120)


def _now() -> datetime:
    return datetime.now(UTC)


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _slot_reasons() -> dict[str, str]:
    return {
        "past": _("That time has already passed; choose a later one."),
        "not_inspector": _("This person is not an inspector in that district."),
        "overlap": _("The inspector already has a visit at that time."),
        "taken": _("Someone else booked that time a moment ago; choose another."),
        "district": _("That time is in another district."),
        "no_visit": _("This case is not waiting for a site visit."),
        "not_booked": _("No visit is booked for this case yet."),
    }


def _parse_slot(form: dict[str, str]) -> tuple[dict[str, str], datetime | None]:
    errors: dict[str, str] = {}
    starts = None
    try:
        day = parse_jalali_date(form.get("year", ""), form.get("month", ""), form.get("day", ""))
    except InvalidValue as error:
        errors["date"] = message(error.key, current_locale())
        day = None
    clock = to_ascii_digits(form.get("time", "")).strip().replace("٫", ":")
    hour, _sep, minute = clock.partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        errors["time"] = _("Enter the time as hours and minutes, like 09:30.")
    elif day is not None:
        local = datetime.combine(day, time(int(hour), int(minute)), tzinfo=TEHRAN)
        starts = local.astimezone(UTC)
    return errors, starts


def _may_schedule(user: User) -> bool:
    return services.INSPECTOR_ROLE in user.role_codes or is_supervisor(user)


@bp.route("/slots", methods=["GET", "POST"])
@staff_required()
def slots() -> ResponseReturnValue:
    user = _user()
    if not _may_schedule(user):
        abort(403)
    districts = list(user.districts)
    inspectors = _inspectors([d.id for d in districts])
    errors: dict[str, str] = {}
    values = dict(request.form.items())
    if request.method == "POST":
        errors, starts = _parse_slot(values)
        district = next((d for d in districts if str(d.id) == values.get("district")), None)
        inspector = next((i for i in inspectors if str(i.id) == values.get("inspector")), None)
        if services.INSPECTOR_ROLE in user.role_codes and inspector is None:
            inspector = user if not values.get("inspector") else None
        minutes = int(values.get("minutes", "0")) if values.get("minutes", "").isdigit() else 0
        if district is None:
            errors["district"] = _("Choose the district.")
        if inspector is None:
            errors["inspector"] = _("Choose the inspector.")
        if minutes not in DURATIONS:
            errors["minutes"] = _("Choose how long the visit takes.")
        if not errors and district is not None and inspector is not None and starts is not None:
            try:
                services.open_slot(district, inspector, starts, minutes, now=_now())
            except services.SlotError as error:
                errors["date"] = _slot_reasons()[error.reason]
            else:
                db.session.commit()
                flash(_("The visit time is open for booking."), "success")
                return redirect(url_for(".slots"))
    today = to_jalali(tehran_today(_now()))
    return render_template(
        "inspections/slots.html",
        slots=services.upcoming_slots([d.id for d in districts], _now()),
        districts=districts,
        inspectors=inspectors,
        durations=DURATIONS,
        errors=errors,
        values=values or {"year": str(today[0]), "month": str(today[1]), "minutes": "60"},
    ), (422 if errors else 200)


def _inspectors(district_ids: list[int]) -> list[User]:
    statement = (
        select(User)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .join(DistrictMembership, DistrictMembership.user_id == User.id)
        .where(
            RoleAssignment.role_code == services.INSPECTOR_ROLE,
            DistrictMembership.district_id.in_(district_ids),
        )
        .order_by(User.full_name)
    )
    return list(db.session.scalars(statement).unique())


@bp.post("/cases/<int:case_id>/book")
@staff_required()
def book(case_id: int) -> ResponseReturnValue:
    case = db.get_or_404(Case, case_id)
    if not may_see(_user(), case):
        abort(404)
    if not _may_schedule(_user()):
        abort(403)
    back = request.form.get("task", "")
    target = (
        url_for("office.task", task_id=int(back)) if back.isdigit() else url_for("office.inbox")
    )
    slot_id = request.form.get("slot", "")
    slot = services.lock_slot(int(slot_id)) if slot_id.isdigit() else None
    if slot is None:
        flash(_("Choose a visit time."), "error")
        return redirect(f"{target}#visit")
    try:
        services.book_slot(case, slot, actor=_user(), now=_now())
    except services.SlotError as error:
        db.session.rollback()
        flash(_slot_reasons()[error.reason], "error")
        return redirect(f"{target}#visit")
    db.session.commit()
    flash(_("Visit booked; the applicant gets a text message."), "success")
    return redirect(f"{target}#visit")


# --- the applicant picks or confirms a time ---------------------------------------------------


def _applicant_case(code: str) -> Case:
    case = db.session.scalar(select(Case).where(Case.tracking_code == to_ascii_digits(code)))
    if case is None or case.applicant_id != _user().id:
        abort(404)
    return case


@bp.route("/visit/<code>", methods=["GET", "POST"])
@citizen_required
def visit(code: str) -> ResponseReturnValue:
    case = _applicant_case(code)
    errors: dict[str, str] = {}
    now = _now()
    if request.method == "POST":
        action = request.form.get("action", "")
        try:
            if action == "confirm":
                services.confirm_booking(case, actor=_user(), now=now)
                flash(_("Thank you: the visit time is confirmed."), "success")
            else:
                slot_id = request.form.get("slot", "")
                slot = services.lock_slot(int(slot_id)) if slot_id.isdigit() else None
                if slot is None:
                    errors["slot"] = _("Choose a visit time.")
                else:
                    services.book_slot(case, slot, actor=_user(), now=now)
                    flash(_("Your visit time is booked."), "success")
        except services.SlotError as error:
            db.session.rollback()
            errors["slot"] = _slot_reasons()[error.reason]
        if not errors:
            db.session.commit()
            return redirect(url_for(".visit", code=case.tracking_code))
    return render_template(
        "inspections/visit.html",
        case=case,
        needed=services.appointment_task(case) is not None,
        booking=services.booking_for(case),
        free=services.free_slots(case.district_id, now),
        errors=errors,
        now=now,
    ), (422 if errors else 200)


def district_name(district: District) -> str:
    """The district's name in the page's language."""
    return district.name(current_locale())


bp.add_app_template_filter(district_name, "district_name")
