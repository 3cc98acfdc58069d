"""Shared fixtures: the app on SQLite or PostgreSQL, per-test rollback, and a real browser.

`TEST_DATABASE_URL` selects the database (SQLite file by default). Each test runs inside a
transaction that is rolled back afterwards, so tests never see each other's rows; tests
marked `requires_commit` (locking, concurrency, live browser) commit for real and clean up.
Under CI=true a test skipped because Chromium or PostgreSQL is missing fails the run.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from werkzeug.serving import make_server

from app import create_app
from app.accounts.models import User
from app.db import db

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

#: Skip reasons that mean "a required service is missing": a failure under CI.
MISSING_SERVICE_PREFIX = "missing service:"


def config_for_tests(database_url: str) -> dict[str, Any]:
    """The configuration every test app shares."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": None,
    }


def _sqlite_savepoints(engine: Any) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; take it over (SQLAlchemy docs recipe).
    @event.listens_for(engine, "connect")
    def _no_pysqlite_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The database the suite runs on: a fresh SQLite file, or a fresh PostgreSQL database.

    On PostgreSQL each run creates its own database next to TEST_DATABASE_URL's and drops it
    afterwards, so concurrent runs (developers, CI) never see each other's tables.
    """
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    base = make_url(TEST_DATABASE_URL)
    name = f"{base.database}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        pytest.skip(f"{MISSING_SERVICE_PREFIX} PostgreSQL at {base.host}: {error}")
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    """One application for the whole session, with a freshly created schema."""
    application = create_app(config_for_tests(database_url))
    with application.app_context():
        if db.engine.dialect.name == "sqlite":
            _sqlite_savepoints(db.engine)
        db.drop_all()
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _rollback(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run each test that uses the app inside a transaction that is rolled back afterwards.

    Pure unit tests (no `app` among their fixtures) get no database at all.
    """
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    if request.node.get_closest_marker("requires_commit"):
        with app.app_context():
            yield
            db.session.remove()
        return
    with app.app_context():
        engine = db.engines[None]
        connection = engine.connect()
        transaction = connection.begin()
        connection.begin_nested()  # the app's commits become savepoint releases
        db.engines[None] = connection  # type: ignore[index]
        try:
            yield
        finally:
            db.session.remove()
            db.engines[None] = engine  # type: ignore[index]
            transaction.rollback()
            connection.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_staff(app: Flask) -> Callable[..., User]:
    """Create a staff user: make_staff("reviewer", roles=["URB_EXPERT"])."""
    from app.accounts.services import ensure_district, ensure_staff

    def make(
        username: str = "reviewer",
        roles: list[str] | None = None,
        password: str = "correct horse battery",
    ) -> User:
        district = ensure_district("09", "منطقه ۹", "District 9")
        return ensure_staff(
            username, "کارشناس آزمون", password, roles or ["URB_EXPERT"], [district]
        )

    return make


@pytest.fixture
def login_as(client: FlaskClient) -> Callable[[User], None]:
    """Sign a user in on the test client without going through the login form."""

    def login(user: User) -> None:
        with client.session_transaction() as session:
            session["_user_id"] = str(user.id)
            session["_fresh"] = True

    return login


# --- CI guard: a missing browser or database must not pass silently -------------------------

_missing_services: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2])
        if MISSING_SERVICE_PREFIX in reason:
            _missing_services.append(f"{report.nodeid}: {reason}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if IN_CI and _missing_services:
        session.exitstatus = 1
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("CI=true: tests were skipped for a missing service:", red=True)
            for line in _missing_services:
                reporter.write_line(f"  {line}", red=True)


# --- A live server and a real browser ---------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Without the networking flags Chromium's background connections fail on a closed network.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def live_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app with its own committed database, for pages a real browser drives."""
    url = database_url
    if url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.db'}"
    config = {**config_for_tests(url), "WTF_CSRF_ENABLED": True}
    application = create_app(config)
    with application.app_context():
        db.create_all()
    yield application
    with application.app_context():
        db.engine.dispose()


def closed_before_sending(app: WSGIApplication) -> WSGIApplication:
    """Read each response whole, and close it, before the server sends a byte.

    Werkzeug's development server closes a response (and so the file a static response holds)
    only after draining the request's socket; when Chromium drops a connection early, that
    drain raises first, the file is left open, and the suite turns the ResourceWarning into an
    error in whichever test is running. No page here streams, so buffering costs nothing.
    """

    def serve(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        response = app(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            close = getattr(response, "close", None)
            if close is not None:
                close()

    return serve


@pytest.fixture(scope="session")
def live_server(live_app: Flask) -> Iterator[str]:
    """Serve the live app on 127.0.0.1 on a free port; yields its base URL."""
    server = make_server("127.0.0.1", 0, closed_before_sending(live_app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def live_db(live_app: Flask) -> Iterator[Flask]:
    """Use the live app's database inside a test, and empty it afterwards."""
    with live_app.app_context():
        yield live_app
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())


@pytest.fixture
def browser_context(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Open headless Chromium contexts with a fresh user-data dir: browser_context(js=True)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{MISSING_SERVICE_PREFIX} no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    opened: list[Any] = []
    with sync_playwright() as playwright:

        def open_context(js: bool = True, locale: str = "fa-IR", **options: Any) -> Any:
            context = playwright.chromium.launch_persistent_context(
                str(tmp_path / f"profile-{len(opened)}"),
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_FLAGS,
                java_script_enabled=js,
                locale=locale,
                **options,
            )
            opened.append(context)
            return context

        yield open_context
        for context in opened:
            context.close()
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.fixture
def page(browser_context: Callable[..., Any], live_server: str) -> Any:
    """A browser page with JavaScript on."""
    context = browser_context()
    return context.pages[0] if context.pages else context.new_page()
