"""Public transparency pages: the dashboard, open data, and citizens' service ratings."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.access import citizen_required
from app.db import db
from app.i18n import current_locale, localized
from app.persian.jalali import jalali_month_name
from app.persian.text import to_ascii_digits, to_persian_digits
from app.transparency import dashboard as figures
from app.transparency import opendata, services
from app.transparency.charts import Series, bar_chart, hbar_chart
from app.transparency.models import ALL_DISTRICTS, ALL_SERVICES
from app.transparency.recording import settings

bp = Blueprint(
    "transparency",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/transparency",
)


def _today() -> Any:
    return settings().workdays.local_day(datetime.now(UTC))


def _filters(today: Any) -> tuple[figures.Filters, dict[str, str]]:
    """The visitor's choices; an unknown value is reported beside its field, not fatal."""
    errors: dict[str, str] = {}
    service = request.args.get("service", ALL_SERVICES) or ALL_SERVICES
    if service != ALL_SERVICES and service not in figures.service_names():
        errors["service"] = _("Choose a service from the list.")
        service = ALL_SERVICES
    district = ALL_DISTRICTS
    raw_district = to_ascii_digits(request.args.get("district", "")).strip()
    if raw_district:
        known = {d.id for d in figures.districts()}
        if raw_district.isdigit() and (int(raw_district) in known or int(raw_district) == 0):
            district = int(raw_district)
        else:
            errors["district"] = _("Choose a district from the list.")
    period = request.args.get("period", "90") or "90"
    if period not in figures.period_choices(today):
        errors["period"] = _("Choose a period from the list.")
        period = "90"
    return figures.Filters(service, district, period), errors


def _number(value: float) -> str:
    text = f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    # Persian writes the decimal separator as «٫».
    return text if current_locale() == "en" else to_persian_digits(text.replace(".", "٫"))


def _month_label(month: int) -> str:
    return jalali_month_name(month % 100, current_locale())


def _month_axis(month: int) -> str:
    # English month names are long: three letters fit twelve bars on a phone.
    name = _month_label(month)
    return name[:3] if current_locale() == "en" else name


def _charts(data: figures.Dashboard) -> dict[str, Any]:
    """The dashboard's SVG charts, each drawn from the numbers its table shows."""
    rtl = current_locale() == "fa"
    months = [_month_axis(m.month) for m in data.months]
    charts = {
        "monthly": bar_chart(
            "chart-monthly",
            _("Requests received and completed per month"),
            _(
                "Bars per Jalali month for the last twelve months: requests received and requests completed. The table below gives the same numbers."
            ),
            months,
            [
                Series(_("Received"), [m.received for m in data.months], "series-1"),
                Series(_("Completed"), [m.completed for m in data.months], "series-2"),
            ],
            rtl=rtl,
            number=_number,
        ),
        "time": bar_chart(
            "chart-time",
            _("Working days to complete a request, per month"),
            _(
                "Bars per Jalali month: the median and the 90th percentile of working days from receipt to completion, time waiting for the citizen excluded. Months with fewer than 5 completed requests have no bars."
            ),
            months,
            [
                Series(_("Median"), [m.handling.median for m in data.months], "series-1"),
                Series(_("90th percentile"), [m.handling.p90 for m in data.months], "series-3"),
            ],
            rtl=rtl,
            number=_number,
        ),
        "backlog": hbar_chart(
            "chart-backlog",
            _("Open requests by age"),
            _(
                "Horizontal bars: how many requests are open now, by working days since they were received."
            ),
            _band_labels(),
            [Series(_("Open requests"), list(data.backlog.bands), "series-2")],
            rtl=rtl,
            number=_number,
        ),
    }
    if data.steps:
        charts["steps"] = hbar_chart(
            "chart-steps",
            _("Working days per step"),
            _(
                "Horizontal bars per step of the service: the median and the 90th percentile of the working days the step took."
            ),
            [step.name for step in data.steps],
            [
                Series(_("Median"), [s.spread.median for s in data.steps], "series-1"),
                Series(_("90th percentile"), [s.spread.p90 for s in data.steps], "series-3"),
            ],
            rtl=rtl,
            number=_number,
        )
    if data.services:
        charts["services"] = hbar_chart(
            "chart-services",
            _("Working days to complete a request, per service"),
            _(
                "Horizontal bars per service: the median and the 90th percentile of working days from receipt to completion, time waiting for the citizen excluded."
            ),
            [localized(row.name) for row in data.services],
            [
                Series(_("Median"), [r.summary.handling.median for r in data.services], "series-1"),
                Series(
                    _("90th percentile"),
                    [r.summary.handling.p90 for r in data.services],
                    "series-3",
                ),
            ],
            rtl=rtl,
            number=_number,
        )
    return charts


def _band_labels() -> list[str]:
    edges = figures.queries.BACKLOG_EDGES
    labels = [_("under %(high)s working days", high=_number(edges[0]))]
    for low, high in itertools.pairwise(edges):
        labels.append(
            _("%(low)s to %(high)s working days", low=_number(low), high=_number(high - 1))
        )
    labels.append(_("%(low)s working days or more", low=_number(edges[-1])))
    return labels


@bp.get("/transparency")
def dashboard() -> ResponseReturnValue:
    today = _today()
    filters, errors = _filters(today)
    data = figures.build(filters, today)
    page = render_template(
        "transparency/dashboard.html",
        data=data,
        charts=_charts(data),
        band_labels=_band_labels(),
        month_label=_month_label,
        errors=errors,
        service_names=figures.service_names(),
        districts=figures.districts(),
        periods=figures.period_choices(today),
        edges=figures.queries.BACKLOG_EDGES,
    )
    return page, 422 if errors else 200


@bp.get("/open-data")
def open_data() -> ResponseReturnValue:
    return render_template("transparency/open_data.html", columns=opendata.COLUMNS)


def _download(body: str, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["Access-Control-Allow-Origin"] = "*"  # public data, for any site to use
    return response


@bp.get("/open-data/performance.csv")
def performance_csv() -> ResponseReturnValue:
    rows = opendata.performance_rows(_today())
    return _download(opendata.as_csv(rows), "text/csv; charset=utf-8", "performance.csv")


@bp.get("/open-data/performance.json")
def performance_json() -> ResponseReturnValue:
    body = {
        "description": "Parvaneh performance figures per Jalali month, service and district group.",
        "documentation": url_for(".open_data", _external=True),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "minimum_cases_per_cell": figures.MIN_CASES,
        "columns": [{"name": name, "meaning": str(text)} for name, text in opendata.COLUMNS],
        "rows": opendata.performance_rows(_today()),
    }
    text = json.dumps(body, ensure_ascii=False, indent=1)
    return _download(text, "application/json", "performance.json")


@bp.route("/satisfaction/<tracking_code>", methods=["GET", "POST"])
@citizen_required
def rate(tracking_code: str) -> ResponseReturnValue:
    code = to_ascii_digits(tracking_code).strip()
    try:
        case = services.rateable_case(code, current_user)
    except services.NotRateable:
        abort(404)
    existing = services.rating_of(case)
    errors: dict[str, str] = {}
    values = {"rating": "", "comment": ""}
    if request.method == "POST" and existing is None:
        values = {
            "rating": to_ascii_digits(request.form.get("rating", "")).strip(),
            "comment": request.form.get("comment", "").strip(),
        }
        if values["rating"] not in {"1", "2", "3", "4", "5"}:
            errors["rating"] = _("Choose a rating from 1 to 5.")
        if len(values["comment"]) > services.COMMENT_MAX:
            errors["comment"] = _("Write at most %(count)s characters.", count=services.COMMENT_MAX)
        if not errors:
            try:
                services.rate_service(case, current_user, int(values["rating"]), values["comment"])
            except services.AlreadyRated:
                db.session.rollback()
            else:
                db.session.commit()
            flash(
                _("Thank you. Your rating helps the municipality improve this service."), "success"
            )
            return redirect(url_for(".rate", tracking_code=code))
    names = figures.service_names().get(
        case.process_key, {"fa": case.process_key, "en": case.process_key}
    )
    page = render_template(
        "transparency/rate.html",
        case=case,
        service_name=names,
        existing=existing,
        errors=errors,
        values=values,
    )
    return page, 422 if errors else 200


@bp.app_template_global()
def expected_completion_of(case: Any) -> services.ExpectedCompletion | None:
    """For templates (the portal's case pages): the case's expected completion range."""
    try:
        return services.expected_completion(case)
    except Exception:  # a figure must never break the page that shows the case
        current_app.logger.exception("expected completion failed for case %s", case.id)
        return None
