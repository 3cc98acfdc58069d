"""Parvaneh: the Flask application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from app import config as settings
from app.db import db, engine_options
from app.extensions import babel, csrf, limiter, login_manager, migrate
from app.i18n import init_i18n, select_locale
from app.jobs import celery_init_app
from app.notifications.schedule import schedule_delivery
from app.templating import TemplateEnvironment
from app.transparency.schedule import schedule_folding

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the application from the environment, with optional overrides (tests)."""
    app = Flask(__name__, instance_relative_config=True)
    app.jinja_environment = TemplateEnvironment
    app.config.update(settings.from_environment())
    if overrides:
        app.config.update(overrides)
    settings.check_production_safety(app.config)
    _resolve_paths(app)

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    )
    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(PROJECT_ROOT / "app" / "migrations"), render_as_batch=True
    )
    babel.init_app(
        app, locale_selector=select_locale, default_translation_directories=_catalogue_dirs()
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    app.jinja_env.add_extension("jinja2.ext.do")
    init_i18n(app)
    celery = celery_init_app(app)
    schedule_delivery(celery)
    schedule_folding(celery)
    _register_models()
    _register_blueprints(app)
    _register_template_helpers(app)
    _register_commands(app)

    from app.errors import register_error_handlers

    register_error_handlers(app)
    return app


def _catalogue_dirs() -> str:
    # The shared catalogue plus one per domain (app/<domain>/translations), so each domain
    # keeps its own Persian texts beside its code.
    dirs = [PROJECT_ROOT / "app" / "translations", *sorted(PROJECT_ROOT.glob("app/*/translations"))]
    return ";".join(str(d) for d in dirs)


def _resolve_paths(app: Flask) -> None:
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config["PROCESSES_DIR"] = app.config["PROCESSES_DIR"] or str(PROJECT_ROOT / "processes")
    app.config["FORMS_DIR"] = app.config["FORMS_DIR"] or str(PROJECT_ROOT / "forms")


def _register_models() -> None:
    # Import every domain's models so the metadata (and Alembic) sees all tables.
    import app.accounts.models
    import app.agency.models
    import app.audit.models
    import app.calendar.models
    import app.cases.models
    import app.certificates.models
    import app.citizens.models
    import app.documents.models
    import app.fees.models
    import app.forms.models
    import app.inspections.models
    import app.kiosk.models
    import app.notifications.models
    import app.office.models
    import app.payments.models
    import app.portal.models
    import app.processes.models
    import app.properties.models
    import app.sms.models
    import app.transparency.models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    # Every blueprint is listed here, explicitly, so the app's surface is visible in one place.
    from app.accounts.views import bp as accounts_bp
    from app.admin.views import bp as admin_bp
    from app.agency.views import bp as agency_bp
    from app.certificates.views import bp as certificates_bp
    from app.citizens.views import bp as citizens_bp
    from app.fees.views import bp as fees_bp
    from app.forms.views import bp as forms_bp
    from app.inspections.views import bp as inspections_bp
    from app.kiosk.views import bp as kiosk_bp
    from app.notifications.views import bp as notifications_bp
    from app.office.views import bp as office_bp
    from app.payments.simulator import bp as ipg_simulator_bp
    from app.payments.views import bp as payments_bp
    from app.portal.views import bp as portal_bp
    from app.properties.views import bp as properties_bp
    from app.public.views import bp as public_bp
    from app.sms.views import bp as sms_bp
    from app.transparency.views import bp as transparency_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(forms_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(citizens_bp)
    app.register_blueprint(sms_bp)
    app.register_blueprint(kiosk_bp)
    app.register_blueprint(portal_bp)
    app.register_blueprint(office_bp)
    app.register_blueprint(inspections_bp)
    app.register_blueprint(properties_bp)
    app.register_blueprint(fees_bp)
    app.register_blueprint(payments_bp)
    app.register_blueprint(ipg_simulator_bp)
    app.register_blueprint(certificates_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(transparency_bp)
    app.register_blueprint(agency_bp)


def _register_template_helpers(app: Flask) -> None:
    from app.fields import error_summary, text_field
    from app.persian.filters import register_template_filters
    from app.site_header import install_site_header
    from app.templating import install_link_cache

    register_template_filters(app)
    install_link_cache(app)
    install_site_header(app)
    app.jinja_env.globals.update(text_field=text_field, error_summary=error_summary)

    @app.context_processor
    def _municipality() -> dict[str, object]:
        return {
            "municipality_name": {
                "fa": app.config["MUNICIPALITY_NAME_FA"],
                "en": app.config["MUNICIPALITY_NAME_EN"],
            }
        }


def _register_commands(app: Flask) -> None:
    from app.accounts.cli import districts_cli, staff_cli
    from app.audit.cli import audit_cli
    from app.background import jobs_cli
    from app.calendar.cli import calendar_cli
    from app.cases.cli import engine_cli
    from app.demo import demo_cli
    from app.forms.cli import forms_cli
    from app.notifications.cli import notifications_cli
    from app.office.cli import office_cli
    from app.payments.cli import payments_cli
    from app.processes.cli import processes_cli
    from app.properties.cli import properties_cli
    from app.transparency.cli import transparency_cli

    app.cli.add_command(demo_cli)
    app.cli.add_command(forms_cli)
    app.cli.add_command(processes_cli)
    app.cli.add_command(properties_cli)
    app.cli.add_command(engine_cli)
    app.cli.add_command(staff_cli)
    app.cli.add_command(districts_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(calendar_cli)
    app.cli.add_command(office_cli)
    app.cli.add_command(payments_cli)
    app.cli.add_command(notifications_cli)
    app.cli.add_command(transparency_cli)
    app.cli.add_command(jobs_cli)
