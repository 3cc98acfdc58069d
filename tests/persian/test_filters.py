"""Jinja filters, on a tiny app of their own (no database, no project factory)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import Flask, render_template_string, request
from flask_babel import Babel  # type: ignore[import-untyped, unused-ignore]
from markupsafe import Markup

from app.persian.filters import babel_locale, persian_digits, register_template_filters
from app.persian.property import RegistryPlate

MEHR_1 = date(2025, 9, 23)


def make_app(locale: str | None) -> Flask:
    """An app whose filters get the locale from a callable, or from Flask-Babel when None."""
    app = Flask(__name__)
    if locale is None:
        Babel(app, locale_selector=lambda: request.args.get("lang", "fa"))
        register_template_filters(app)
    else:
        register_template_filters(app, locale=lambda: locale)
    return app


def render(app: Flask, source: str, path: str = "/", **context: object) -> str:
    with app.test_request_context(path):
        return render_template_string(source, **context)


@pytest.fixture
def fa() -> Flask:
    return make_app("fa")


@pytest.fixture
def en() -> Flask:
    return make_app("en")


def test_persian_digits_only_in_persian(fa: Flask, en: Flask) -> None:
    assert render(fa, "{{ 404|persian_digits }}") == "۴۰۴"
    assert render(en, "{{ 404|persian_digits }}") == "404"
    assert render(fa, "{{ none|persian_digits }}", none=None) == ""


def test_locale_comes_from_flask_babel_by_default() -> None:
    app = make_app(None)
    template = "{{ 12|persian_digits }} {{ d|jalali }}"
    assert render(app, template, d=MEHR_1) == "۱۲ ۱۴۰۴/۰۷/۰۱"
    assert render(app, template, "/?lang=en", d=MEHR_1) == "12 1404/07/01"


def test_locale_defaults_to_persian_without_babel_or_request() -> None:
    assert babel_locale() == "fa"  # outside any request
    bare = Flask(__name__)  # no Flask-Babel extension at all
    with bare.app_context():
        assert babel_locale() == "fa"
    register_template_filters(bare)
    assert render(bare, "{{ 7|persian_digits }}") == "۷"


def test_persian_digits_leave_markup_syntax_alone() -> None:
    link = Markup('<a href="/cases/12">پرونده 12</a> &#39;3&#39;')
    assert persian_digits(link) == '<a href="/cases/12">پرونده ۱۲</a> &#39;۳&#39;'
    assert isinstance(persian_digits(link), Markup)


def test_date_filters(fa: Flask, en: Flask) -> None:
    moment = datetime(2025, 9, 23, 7, 12, tzinfo=UTC)
    source = "{{ d|jalali }}|{{ d|jalali_long }}|{{ m|jalali_datetime }}"
    assert render(fa, source, d=MEHR_1, m=moment) == (
        "۱۴۰۴/۰۷/۰۱|سه‌شنبه ۱ مهر ۱۴۰۴|۱۴۰۴/۰۷/۰۱ ۱۰:۴۲"
    )
    assert render(en, source, d=MEHR_1, m=moment) == (
        "1404/07/01|Tuesday 1 Mehr 1404|1404/07/01 10:42"
    )
    assert render(fa, "{{ d|jalali }}{{ d|jalali_long }}{{ d|jalali_datetime }}", d=None) == ""


def test_money_filters(fa: Flask, en: Flask) -> None:
    source = "{{ a|rial }}|{{ a|rial_words }}"
    assert render(fa, source, a=125_400_000) == (
        "۱۲۵٬۴۰۰٬۰۰۰ ریال|یکصد و بیست و پنج میلیون و چهارصد هزار ریال"
    )
    assert render(en, source, a=48_500_000) == (
        "48,500,000 rials|forty-eight million five hundred thousand rials"
    )
    assert render(fa, source, a=None) == "|"


def test_plate_filter_takes_a_plate_or_stored_form_data(fa: Flask, en: Flask) -> None:
    plate = RegistryPlate(section=3, main=(72,), sub=(1617,), unit="تبریز")
    assert render(fa, "{{ p|plate }}", p=plate) == "پلاک ۱۶۱۷ فرعی از ۷۲ اصلی، بخش ۳ تبریز"
    data = {"section": "۳", "main": "125", "sub": "4217"}
    assert render(en, "{{ p|plate }}", p=data) == (
        "Sub-plate 4217 of main plate 125, registration section 3"
    )


def test_mask_and_ltr(fa: Flask) -> None:
    assert render(fa, "{{ c|mask_national_code }}", c="1360524185") == "136****185"
    assert render(fa, "{{ c|mask_national_code }}", c="۱۳۶۰۵۲۴۱۸۵") == "136****185"
    assert render(fa, "{{ c|ltr }}", c="IR380170000000110234567001") == (
        '<bdi dir="ltr">IR380170000000110234567001</bdi>'
    )
    assert render(fa, "{{ c|mask_national_code|persian_digits|ltr }}", c="1360524185") == (
        '<bdi dir="ltr">۱۳۶****۱۸۵</bdi>'
    )


def test_values_are_escaped_not_executed(fa: Flask) -> None:
    evil = '<script>alert("x")</script>'
    out = render(fa, "{{ v|ltr }} {{ v|persian_digits }}", v=evil)
    assert "<script>" not in out
    assert out == (
        '<bdi dir="ltr">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</bdi> '
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
    )
