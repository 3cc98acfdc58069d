"""Public pages that anyone may open."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from app.db import db

bp = Blueprint("public", __name__, template_folder="templates")


@bp.get("/")
def home() -> ResponseReturnValue:
    today = datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()
    return render_template("public/home.html", today=today)


@bp.get("/healthz")
def health() -> ResponseReturnValue:
    # A load balancer probe: the app answers and the database is reachable.
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}
