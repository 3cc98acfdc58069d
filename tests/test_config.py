"""Configuration: environment variables, production safety and the embedded SQLite tuning."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app import create_app
from app.db import db
from tests.conftest import ON_POSTGRES


def test_production_refuses_the_default_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARVANEH_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


def test_production_starts_with_a_real_secret_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PARVANEH_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.db'}")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUNICIPALITY_NAME_FA", "شهرداری آزمون")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///elsewhere.db")
    app = create_app()
    assert app.config["MUNICIPALITY_NAME_FA"] == "شهرداری آزمون"
    # A relative SQLite path lands in the instance folder, never the working directory.
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///elsewhere.db"
    with app.app_context():
        assert str(db.engine.url.database).startswith(app.instance_path)


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite tuning only")
def test_embedded_sqlite_uses_wal_foreign_keys_and_a_busy_timeout(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    with app.app_context():
        with db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["timeout"] == 15
        db.engine.dispose()
