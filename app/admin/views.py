"""Administrator pages (role ADMIN). Each form re-renders with messages and typed input on 422."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.accounts import services as accounts
from app.accounts.access import staff_required
from app.accounts.models import ADMIN_ROLE, District, User, UserKind
from app.accounts.passwords import local_number
from app.accounts.services import AccountProblem
from app.audit.models import AuditEntry
from app.audit.services import verify_chain
from app.calendar import services as calendar_services
from app.calendar.models import DayKind
from app.calendar.services import CalendarProblem
from app.db import db
from app.i18n import current_locale
from app.persian.jalali import (
    WEEKDAYS_EN,
    WEEKDAYS_FA,
    parse_jalali_date,
    tehran_today,
    to_jalali,
)
from app.persian.messages import InvalidValue, message
from app.persian.text import to_ascii_digits

bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

#: Weekdays in the order an Iranian week runs (Python numbers: Monday is 0).
WEEK_ORDER = (5, 6, 0, 1, 2, 3, 4)


@bp.before_request
@staff_required(ADMIN_ROLE)
def _admins_only() -> None:
    """Every page here needs the ADMIN role (and a finished TOTP enrolment)."""
    return None


def _no_store(html: str, status: int = 200) -> ResponseReturnValue:
    return html, status, {"Cache-Control": "no-store"}


# --- Index ------------------------------------------------------------------------------------


@bp.get("/")
def index() -> ResponseReturnValue:
    return render_template("admin/index.html")


# --- Staff ------------------------------------------------------------------------------------


@bp.get("/staff")
def staff_list() -> ResponseReturnValue:
    return _no_store(render_template("admin/staff_list.html", staff=accounts.all_staff()))


def _staff_form_context(
    form: dict[str, object], errors: dict[str, str], user: User | None
) -> dict[str, object]:
    return {
        "form": form,
        "errors": errors,
        "user": user,
        "roles": accounts.grantable_roles(),
        "districts": accounts.all_districts(),
        "kinds": [UserKind.STAFF, UserKind.AGENCY],
    }


@bp.route("/staff/new", methods=["GET", "POST"])
def staff_new() -> ResponseReturnValue:
    form: dict[str, object] = {
        "username": "",
        "full_name": "",
        "roles": [],
        "districts": [],
        "kind": "staff",
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {
            "username": request.form.get("username", ""),
            "full_name": request.form.get("full_name", ""),
            "roles": request.form.getlist("roles"),
            "districts": request.form.getlist("districts"),
            "kind": request.form.get("kind", "staff"),
        }
        kind = UserKind.AGENCY if form["kind"] == "agency" else UserKind.STAFF
        try:
            user = accounts.create_staff(
                str(form["username"]),
                str(form["full_name"]),
                request.form.get("password", ""),
                form["roles"],  # type: ignore[arg-type]
                form["districts"],  # type: ignore[arg-type]
                actor=current_user,
                kind=kind,
            )
        except AccountProblem as problem:
            errors = problem.errors
        else:
            db.session.commit()
            flash(_("The account %(username)s was created.", username=user.username), "success")
            return redirect(url_for(".staff_edit", user_id=user.id))
    html = render_template("admin/staff_new.html", **_staff_form_context(form, errors, None))
    return _no_store(html, 422 if errors else 200)


def _staff_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.kind == UserKind.CITIZEN:
        abort(404)
    return user


@bp.route("/staff/<int:user_id>", methods=["GET", "POST"])
def staff_edit(user_id: int) -> ResponseReturnValue:
    user = _staff_or_404(user_id)
    form: dict[str, object] = {
        "full_name": user.full_name,
        "roles": sorted(user.role_codes),
        "districts": [d.code for d in user.districts],
        "active": user.is_active_account,
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {
            "full_name": request.form.get("full_name", ""),
            "roles": request.form.getlist("roles"),
            "districts": request.form.getlist("districts"),
            "active": request.form.get("active") == "1",
        }
        try:
            accounts.update_staff(
                user,
                full_name=str(form["full_name"]),
                roles=form["roles"],  # type: ignore[arg-type]
                district_codes=form["districts"],  # type: ignore[arg-type]
                active=bool(form["active"]),
                actor=current_user,
            )
        except AccountProblem as problem:
            errors = problem.errors
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for(".staff_edit", user_id=user.id))
    html = render_template("admin/staff_edit.html", **_staff_form_context(form, errors, user))
    return _no_store(html, 422 if errors else 200)


@bp.post("/staff/<int:user_id>/reset-password")
def staff_reset_password(user_id: int) -> ResponseReturnValue:
    user = _staff_or_404(user_id)
    password = accounts.reset_password(user, actor=current_user)
    db.session.commit()
    # Shown once on this page, never flashed: the session cookie is signed, not encrypted.
    return _no_store(render_template("admin/staff_password.html", user=user, password=password))


@bp.post("/staff/<int:user_id>/reset-totp")
def staff_reset_totp(user_id: int) -> ResponseReturnValue:
    user = _staff_or_404(user_id)
    accounts.reset_totp(user, actor=current_user)
    db.session.commit()
    flash(
        _("The authenticator was removed. The user sets up a new one at the next sign-in."),
        "success",
    )
    return redirect(url_for(".staff_edit", user_id=user.id))


@bp.post("/staff/<int:user_id>/unlock")
def staff_unlock(user_id: int) -> ResponseReturnValue:
    user = _staff_or_404(user_id)
    accounts.unlock(user, actor=current_user)
    db.session.commit()
    flash(_("The account is unlocked."), "success")
    return redirect(url_for(".staff_edit", user_id=user.id))


# --- Districts --------------------------------------------------------------------------------


@bp.route("/districts", methods=["GET", "POST"])
def districts() -> ResponseReturnValue:
    form = {"code": "", "name_fa": "", "name_en": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {key: request.form.get(key, "") for key in form}
        code = to_ascii_digits(form["code"]).strip()
        try:
            accounts.save_district(None, code, form["name_fa"], form["name_en"], actor=current_user)
        except AccountProblem as problem:
            errors = problem.errors
        else:
            db.session.commit()
            flash(_("The district was added."), "success")
            return redirect(url_for(".districts"))
    html = render_template(
        "admin/districts.html", districts=accounts.all_districts(), form=form, errors=errors
    )
    return html, 422 if errors else 200


@bp.route("/districts/<int:district_id>", methods=["GET", "POST"])
def district_edit(district_id: int) -> ResponseReturnValue:
    district = db.get_or_404(District, district_id)
    form = {"name_fa": district.name_fa, "name_en": district.name_en}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {key: request.form.get(key, "") for key in form}
        try:
            accounts.save_district(
                district, district.code, form["name_fa"], form["name_en"], actor=current_user
            )
        except AccountProblem as problem:
            errors = problem.errors
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for(".districts"))
    html = render_template("admin/district_edit.html", district=district, form=form, errors=errors)
    return html, 422 if errors else 200


# --- Working calendar -------------------------------------------------------------------------


def _parse_date(
    text: str, field: str, errors: dict[str, str], required: bool = True
) -> date | None:
    cleaned = to_ascii_digits(text).strip().replace("-", "/")
    if not cleaned:
        if required:
            errors[field] = _("Enter a date like 1404/07/15.")
        return None
    parts = cleaned.split("/")
    if len(parts) != 3:
        errors[field] = _("Enter a date like 1404/07/15.")
        return None
    try:
        return parse_jalali_date(*parts)
    except InvalidValue as problem:
        errors[field] = message(problem.key, current_locale())
        return None


def _calendar_year() -> int:
    raw = to_ascii_digits(request.args.get("year", "")).strip()
    if raw.isdigit() and 1300 <= int(raw) <= 1500:
        return int(raw)
    return to_jalali(tehran_today())[0]


def _render_calendar(
    year: int,
    day_form: dict[str, str] | None = None,
    rule_form: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    which: str = "",
) -> ResponseReturnValue:
    calendar = calendar_services.default_calendar()
    html = render_template(
        "admin/calendar.html",
        calendar=calendar,
        year=year,
        days=calendar_services.days_in_year(calendar, year) if calendar else [],
        day_form=day_form or {"day": "", "kind": "holiday", "name_fa": "", "name_en": ""},
        rule_form=rule_form or {"starts_on": "", "ends_on": "", "closed": [4], "note": ""},
        errors=errors or {},
        which=which,
        week_order=WEEK_ORDER,
        weekday_names=WEEKDAYS_EN if current_locale() == "en" else WEEKDAYS_FA,
        kinds=list(DayKind),
    )
    return html, 422 if errors else 200


@bp.get("/calendar")
def calendar() -> ResponseReturnValue:
    return _render_calendar(_calendar_year())


def _calendar_or_create() -> calendar_services.MunicipalCalendar:
    return calendar_services.ensure_calendar(actor=current_user)


@bp.post("/calendar/seed")
def calendar_seed() -> ResponseReturnValue:
    year = _calendar_year()
    added = calendar_services.seed_official_holidays(
        _calendar_or_create(), [year], actor=current_user
    )
    db.session.commit()
    flash(_("%(count)s official holidays were added.", count=local_number(added)), "success")
    return redirect(url_for(".calendar", year=year))


@bp.post("/calendar/days")
def calendar_day_save() -> ResponseReturnValue:
    year = _calendar_year()
    form = {key: request.form.get(key, "") for key in ("day", "kind", "name_fa", "name_en")}
    errors: dict[str, str] = {}
    day = _parse_date(form["day"], "day", errors)
    if form["kind"] not in {k.value for k in DayKind}:
        errors["kind"] = _("Choose what kind of day this is.")
    if not errors and day is not None:
        try:
            calendar_services.save_day(
                _calendar_or_create(),
                day,
                form["kind"],
                form["name_fa"],
                form["name_en"],
                actor=current_user,
            )
        except CalendarProblem as problem:
            errors = problem.errors
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for(".calendar", year=to_jalali(day)[0]))
    return _render_calendar(year, day_form=form, errors=errors, which="day")


@bp.post("/calendar/days/<day>/delete")
def calendar_day_delete(day: str) -> ResponseReturnValue:
    calendar = calendar_services.default_calendar()
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        abort(404)
    if calendar is None or not calendar_services.delete_day(calendar, parsed, actor=current_user):
        abort(404)
    db.session.commit()
    flash(_("The day was removed; its weekday rule applies again."), "success")
    return redirect(url_for(".calendar", year=to_jalali(parsed)[0]))


@bp.post("/calendar/rules")
def calendar_rule_add() -> ResponseReturnValue:
    year = _calendar_year()
    form: dict[str, object] = {
        "starts_on": request.form.get("starts_on", ""),
        "ends_on": request.form.get("ends_on", ""),
        "closed": [int(d) for d in request.form.getlist("closed") if d.isdigit()],
        "note": request.form.get("note", ""),
    }
    errors: dict[str, str] = {}
    starts_on = _parse_date(str(form["starts_on"]), "starts_on", errors)
    ends_on = _parse_date(str(form["ends_on"]), "ends_on", errors, required=False)
    if not errors and starts_on is not None:
        try:
            calendar_services.add_week_rule(
                _calendar_or_create(),
                starts_on,
                ends_on,
                form["closed"],
                str(form["note"]),
                actor=current_user,  # type: ignore[arg-type]
            )
        except CalendarProblem as problem:
            errors = problem.errors
        else:
            db.session.commit()
            flash(_("The weekly rule was added."), "success")
            return redirect(url_for(".calendar", year=year))
    return _render_calendar(year, rule_form=form, errors=errors, which="rule")


@bp.post("/calendar/rules/<int:rule_id>/delete")
def calendar_rule_delete(rule_id: int) -> ResponseReturnValue:
    calendar = calendar_services.default_calendar()
    if calendar is None or not calendar_services.delete_week_rule(
        calendar, rule_id, actor=current_user
    ):
        abort(404)
    db.session.commit()
    flash(_("The weekly rule was removed."), "success")
    return redirect(url_for(".calendar", year=_calendar_year()))


# --- Audit trail ------------------------------------------------------------------------------


@bp.get("/audit")
def audit() -> ResponseReturnValue:
    statement = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(200)
    case_id = to_ascii_digits(request.args.get("case", "")).strip()
    if case_id.isdigit():
        statement = statement.where(AuditEntry.case_id == int(case_id))
    check = verify_chain() if request.args.get("verify") else None
    entries = list(db.session.scalars(statement))
    return _no_store(
        render_template("admin/audit.html", entries=entries, case_id=case_id, check=check)
    )
