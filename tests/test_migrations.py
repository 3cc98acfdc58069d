"""Alembic migrations build the same schema as the models, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.db import db
from tests.conftest import ON_POSTGRES, config_for_tests


@pytest.fixture
def empty_database_url(database_url: str, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A brand-new, empty database of the same kind as the suite's."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    name = f"parvaneh_migrate_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(database_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.requires_commit
def test_upgrade_on_an_empty_database_matches_the_models(empty_database_url: str) -> None:
    application = create_app(config_for_tests(empty_database_url))
    with application.app_context():
        upgrade()
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        db.engine.dispose()
    assert differences == [], (
        "models changed without a migration: run `flask --app wsgi db migrate`"
    )
