"""The page shell: Persian and RTL by default, English and LTR on request, error pages."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, g
from flask.testing import FlaskClient
from lxml import html

from app import create_app
from app.accounts.models import User
from app.accounts.services import ensure_citizen
from tests.conftest import config_for_tests


def test_home_is_persian_and_rtl_by_default(client: FlaskClient) -> None:
    response = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="fa" dir="rtl">' in html
    assert "شهرداری منطقه ۹ تبریز" in html
    assert "خدمات" in html


def test_lang_en_gives_an_ltr_english_page_and_is_remembered(client: FlaskClient) -> None:
    response = client.get("/?lang=en")
    assert '<html lang="en" dir="ltr">' in response.get_data(as_text=True)
    assert "lang=en" in response.headers["Set-Cookie"]
    follow_up = client.get("/")
    assert '<html lang="en" dir="ltr">' in follow_up.get_data(as_text=True)
    back = client.get("/?lang=fa")
    assert '<html lang="fa" dir="rtl">' in back.get_data(as_text=True)


def test_unknown_language_falls_back_to_persian(client: FlaskClient) -> None:
    response = client.get("/?lang=de")
    assert '<html lang="fa" dir="rtl">' in response.get_data(as_text=True)


def test_language_switch_keeps_the_page_and_its_query(client: FlaskClient) -> None:
    html = client.get("/staff/login?next=/account").get_data(as_text=True)
    assert 'href="/staff/login?next=/account&amp;lang=en"' in html


def test_shell_has_skip_link_landmarks_and_self_hosted_assets(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert 'class="skip-link" href="#main"' in html
    assert '<main id="main"' in html
    assert "/static/fonts/Vazirmatn-Variable.woff2" in html
    # No CDN or other external requests: every src/href is local.
    assert "http://" not in html.replace("http://127.0.0.1", "")
    assert "https://" not in html


def test_404_page_is_persian(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "صفحه پیدا نشد" in html
    assert "۴۰۴" in html


def test_404_page_in_english(client: FlaskClient) -> None:
    response = client.get("/no-such-page?lang=en")
    assert "Page not found" in response.get_data(as_text=True)


def test_403_and_500_pages_are_persian(database_url: str) -> None:
    application = create_app(config_for_tests(database_url))

    @application.get("/__forbidden")
    def _forbidden() -> str:
        abort(403)

    @application.get("/__boom")
    def _boom() -> str:
        raise RuntimeError("boom")

    client = application.test_client()
    forbidden = client.get("/__forbidden")
    assert forbidden.status_code == 403
    assert "اجازه دیدن این صفحه را ندارید" in forbidden.get_data(as_text=True)
    boom = client.get("/__boom")
    assert boom.status_code == 500
    assert "خطایی در سمت ما رخ داد" in boom.get_data(as_text=True)


def test_json_errors_for_api_clients(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json is not None
    assert response.json["error"]["status"] == 404


def test_health_check(client: FlaskClient) -> None:
    assert client.get("/healthz").json == {"status": "ok"}


def test_the_stylesheet_uses_logical_properties_only() -> None:
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "app/static/css/app.css").read_text()
    for physical in (
        "margin-left",
        "margin-right",
        "padding-left",
        "padding-right",
        "text-align: left",
        "text-align: right",
        "float: left",
        "float: right",
        " left:",
        " right:",
    ):
        assert physical not in css, physical


def _home_cards(client: FlaskClient) -> tuple[dict[str, list[str]], list[str]]:
    """The home page's cards (title: links) and the header menu's links."""
    root = html.fromstring(client.get("/").get_data(as_text=True))
    cards = {
        card.xpath("string(h2)").strip(): card.xpath("h2/a/@href")
        for card in root.xpath("//ul[@class='card-grid']/li")
    }
    return cards, root.xpath("//nav[contains(@class, 'site-nav')]//a/@href")


def test_the_home_page_leads_to_every_service_it_names(
    client: FlaskClient, login_as: Callable[[User], None]
) -> None:
    cards, menu = _home_cards(client)
    assert cards["ثبت درخواست"] == ["/services"]
    assert cards["پیگیری پرونده"] == ["/track"]
    assert cards["استعلام درباره ملک"] == ["/agency/inquiries/"]
    assert cards["در دفتر منطقه"] == []  # information, not a page of its own
    assert "/services" in menu
    assert "/track" in menu

    g.pop("_login_user", None)  # the suite's app context outlives requests
    login_as(ensure_citizen("09140001001", "علی کریمی", "1360524185"))
    cards, _menu = _home_cards(client)
    assert cards["پیگیری پرونده"] == ["/my/cases"]
    assert cards["استعلام درباره ملک"] == []  # the agencies' pages would refuse a citizen
