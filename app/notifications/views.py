"""In-app notification lists: a citizen's own messages, and staff's with delivery state."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.access import citizen_required, staff_required
from app.cases.workflow import citizen_lanes, role_catalogue
from app.db import db
from app.notifications import services
from app.notifications.models import DeliveryState, Notification

bp = Blueprint("notifications", __name__, template_folder="templates")

PAGE_SIZE = 50


@bp.get("/notifications")
@citizen_required
def citizen_list() -> ResponseReturnValue:
    from app.transparency.services import open_cases, rating_prompts

    page = db.paginate(services.for_citizen(current_user), per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "notifications/citizen_list.html",
        page=page,
        open_cases=open_cases(current_user),
        to_rate=rating_prompts(current_user),
    )


def _state_filter() -> DeliveryState | None:
    try:
        return DeliveryState(request.args.get("state", ""))
    except ValueError:
        return None  # an unknown filter shows everything rather than failing


@bp.get("/staff/notifications")
@staff_required()
def staff_list() -> ResponseReturnValue:
    state = _state_filter()
    statement = services.for_staff(current_user, sorted(citizen_lanes()), state)
    page = db.paginate(statement, per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "notifications/staff_list.html",
        page=page,
        state=state,
        states=list(DeliveryState),
        roles=role_catalogue(),
    )


@bp.post("/staff/notifications/<int:notification_id>/resend")
@staff_required()
def resend(notification_id: int) -> ResponseReturnValue:
    notification = db.session.get(Notification, notification_id)
    if notification is None or not services.may_see(
        current_user, notification, sorted(citizen_lanes())
    ):
        abort(404)
    try:
        services.resend(notification)
    except services.NotResendable:
        flash(_("Only a message whose delivery failed can be sent again."), "warning")
    else:
        db.session.commit()
        flash(_("The message will be sent again in a moment."), "success")
    return redirect(url_for(".staff_list", state=request.args.get("state") or None))
