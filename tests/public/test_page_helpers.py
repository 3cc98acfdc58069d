"""What every page shares and remembers: the site header, its links, and quick translations."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, g, render_template_string, url_for
from flask.testing import FlaskClient
from flask_babel import force_locale, refresh
from flask_babel import gettext as babel_gettext
from flask_babel import ngettext as babel_ngettext
from lxml import html

from app.accounts.models import User
from app.i18n import gettext, ngettext


def header_of(client: FlaskClient, path: str) -> str:
    page = html.fromstring(client.get(path).get_data(as_text=True))
    return html.tostring(page.xpath("//header[@class='site-header']")[0], encoding="unicode")


def test_a_visitors_header_follows_the_language_page_and_layout(client: FlaskClient) -> None:
    persian = header_of(client, "/track")
    assert header_of(client, "/track") == persian  # the kept header: the same markup
    assert 'href="/track?lang=en"' in persian
    english = header_of(client, "/track?lang=en")
    assert "Track a case" in english
    assert 'href="/track?lang=fa"' in english
    # Another page links its own address; another layout has its own menu.
    staff = header_of(client, "/staff/login?lang=fa")
    assert 'href="/staff/login?lang=en"' in staff
    assert 'href="/services"' in persian
    assert 'href="/services"' not in staff


def test_a_signed_in_users_header_is_theirs_and_never_a_visitors(
    client: FlaskClient, make_staff: Callable[..., User], login_as: Callable[[User], None]
) -> None:
    visitor = header_of(client, "/?lang=fa")
    assert 'data-nav="sign-in"' in visitor
    login_as(make_staff("header-clerk", roles=["URB_EXPERT"]))
    g.pop("_login_user", None)  # the suite's app context outlives requests: load the user afresh
    signed_in = header_of(client, "/?lang=fa")
    assert "کارشناس آزمون" in signed_in  # the name make_staff gives
    assert 'data-nav="sign-out"' in signed_in
    assert 'name="csrf_token"' in signed_in
    client.delete_cookie("session")
    g.pop("_login_user", None)
    assert header_of(client, "/?lang=fa") == visitor


def test_templates_links_are_the_ones_flask_builds(app: Flask) -> None:
    template = (
        "{{ url_for('static', filename='css/app.css') }}|{{ url_for('portal.case', case_id=7) }}"
        "|{{ url_for('.static', filename='portal.css') }}|{{ url_for('portal.lookup', _external=True) }}"
    )
    with app.test_request_context("/track"):
        expected = "|".join(
            [
                url_for("static", filename="css/app.css"),
                url_for("portal.case", case_id=7),
                url_for("portal.static", filename="portal.css"),
                url_for("portal.lookup", _external=True),
            ]
        )
        assert render_template_string(template) == expected
        assert render_template_string(template) == expected  # and again, from what it kept
    # Mounted under a prefix, the same links carry it: kept per mount point.
    with app.test_request_context("/track", base_url="http://localhost/city"):
        links = render_template_string(template).split("|")
        assert links[0] == "/city/static/css/app.css"
        assert links[1] == "/city/my/cases/7"
    # A relative endpoint names the current blueprint's view, whichever that is.
    with app.test_request_context("/staff/login"):
        assert render_template_string("{{ url_for('.static', filename='x.css') }}") == url_for(
            "accounts.static", filename="x.css"
        )


def test_quick_gettext_gives_what_flask_babel_gives(app: Flask) -> None:
    with app.test_request_context("/"):
        refresh()
        for locale in ("fa", "en"):
            with force_locale(locale):
                assert gettext("Sign in") == babel_gettext("Sign in")
                assert gettext("A fee of %(amount)s is payable.", amount="۵") == babel_gettext(
                    "A fee of %(amount)s is payable.", amount="۵"
                )
                for count in (1, 3):
                    assert ngettext("%(num)s day", "%(num)s days", count) == babel_ngettext(
                        "%(num)s day", "%(num)s days", count
                    )
        assert gettext("Sign in") == "ورود"


#: Uses of `_` whose compiled text must equal what the template's `_` gives on each render.
TRANSLATED_TEMPLATES = [
    '{{ _("Track a case") }}',
    '<p title="{{ _("Track a case") }}">{{ _("Tracking code") }}</p>',
    '{{ _("Track a case") ~ " <&>" }}',  # safe text joined to plain text: the plain escaped
    '{{ "" | default(_("Track a case"), true) }}',
    '{% autoescape false %}{{ _("Track a case") ~ " <&>" }}{% endautoescape %}',
    '{{ _("50%% off") }}',  # formatted even without values
    '{{ _("Fees & <b>payments</b>") }}',  # the catalogue's text is trusted, not escaped
    '{{ _("A fee of %(amount)s is payable.", amount="<b>5</b>") }}',  # values: on each render
    '{% set label = _("Status") %}{{ label }}|{{ label|length > 0 }}',
]


def test_constant_texts_are_compiled_in_each_language_as_the_render_would_give_them(
    app: Flask,
) -> None:
    for locale in ("fa", "en"):
        with app.test_request_context(f"/?lang={locale}"):
            refresh()
            compiled = app.jinja_env.for_locale(locale)
            for source in TRANSLATED_TEMPLATES:
                expected = app.jinja_env.from_string(source).render()  # `_` called per render
                assert compiled.from_string(source).render() == expected, (locale, source)
            code = compiled.compile('{{ _("Track a case") }}', raw=True)
            assert ("پیگیری پرونده" if locale == "fa" else "Track a case") in code
            assert "'_'" not in code  # nothing left to look up or call
            dynamic = compiled.compile('{{ _("Due %(day)s", day=1) }}', raw=True)
            assert "'_'" in dynamic


def test_each_language_gets_its_own_compiled_pages(app: Flask) -> None:
    with app.test_request_context("/?lang=fa"):
        refresh()
        persian = app.jinja_env.get_template("portal/lookup.html")
        assert render_template_string("{{ _('Track a case') }}") == "پیگیری پرونده"
        with force_locale("en"):
            english = app.jinja_env.get_template("portal/lookup.html")
    assert persian is not english
    assert (persian.environment.compiled_locale, english.environment.compiled_locale) == (
        "fa",
        "en",
    )
    # Without a request or a forced language the texts are translated on each render.
    with app.app_context():
        unchosen = app.jinja_env.get_template("portal/lookup.html")
    assert unchosen.environment.compiled_locale is None


def render_in_english(app: Flask, template: str) -> str:
    with app.test_request_context("/?lang=en"):
        refresh()
        return render_template_string(template)


def test_a_text_field_ties_its_hint_and_error_to_the_input_and_escapes_every_value(
    app: Flask,
) -> None:
    page = render_in_english(
        app,
        "{{ text_field('code', _('Tracking code'), '<b>12', {'code': 'Wrong & short'},"
        " hint='12 digits', dir='ltr', required=False) }}",
    )
    field = html.fromstring(page)
    assert field.get("class") == "field field--error"
    entry = field.xpath("//input")[0]
    assert entry.get("value") == "<b>12"  # escaped in the markup, the same text when parsed
    assert "&lt;b&gt;12" in page
    assert "Wrong &amp; short" in page
    assert entry.get("aria-describedby") == "hint-code error-code"
    assert entry.get("aria-invalid") == "true"
    assert entry.get("dir") == "ltr"
    assert entry.get("required") is None  # optional, and the label says so
    assert field.xpath("//label[@for='field-code']")[0].text_content() == "Tracking code (optional)"
    assert field.xpath("//*[@id='error-code']")[0].text_content() == "Error: Wrong & short"


def test_an_error_summary_links_each_problem_to_its_field(app: Flask) -> None:
    page = render_in_english(
        app,
        "{{ error_summary({'code': 'Wrong'}, {'code': 'Tracking <code>'}) }}"
        "{{ error_summary({}, {}) }}",
    )
    summary = html.fromstring(page)
    assert summary.get("role") == "alert"
    link = summary.xpath("//a[@href='#field-code']")[0]
    assert link.text_content() == "Tracking <code>: Wrong"
    assert page.count('role="alert"') == 1  # an empty summary writes nothing
