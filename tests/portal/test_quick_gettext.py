"""Templates' `_()` takes the catalogue of the locale in force, as Flask-Babel's own does."""

from __future__ import annotations

from flask import Flask, render_template_string
from flask_babel import force_locale, refresh


def test_templates_follow_the_request_locale_and_force_locale(app: Flask) -> None:
    template = "{{ _('Sign in') }}|{{ ngettext('%(num)s day', '%(num)s days', 2) }}"
    with app.test_request_context("/"):
        refresh()  # the suite's app context outlives requests: choose the locale afresh
        assert render_template_string(template) == "ورود|2 روز"
        with force_locale("en"):
            assert render_template_string(template) == "Sign in|2 days"
        assert render_template_string(template) == "ورود|2 روز"
    with app.test_request_context("/?lang=en"):
        refresh()
        assert render_template_string(template) == "Sign in|2 days"


def test_underscore_escapes_its_variables_and_formats_like_jinjas_own(app: Flask) -> None:
    with app.test_request_context("/?lang=en"):
        refresh()
        # A translated text is markup; the values put into it are escaped; "%%" is a percent.
        assert render_template_string("{{ _('%(who)s: 100%%', who='<b>') }}") == "&lt;b&gt;: 100%"
        assert render_template_string("{{ _('Sign in') }}") == "Sign in"
