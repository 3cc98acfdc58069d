"""The database: declarative base with named constraints, and the embedded SQLite tuning."""

from __future__ import annotations

import json
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic diffs stable and SQLite batch migrations possible.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def dumps_json(value: Any) -> str:
    """Serialise JSON columns with Persian kept readable (not \\u-escaped)."""
    return json.dumps(value, ensure_ascii=False)


def engine_options(uri: str, configured: dict[str, Any]) -> dict[str, Any]:
    """Engine options per backend: a busy timeout for SQLite, pre-ping for servers."""
    options: dict[str, Any] = {"json_serializer": dumps_json, **configured}
    if uri.startswith("sqlite"):
        # Without a timeout, concurrent writers fail at once with "database is locked".
        options.setdefault("connect_args", {}).setdefault("timeout", 15)
    else:
        options.setdefault("pool_pre_ping", True)
    return options


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers work while one request writes; foreign keys are off by default in SQLite.
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


event.listen(Engine, "connect", _tune_sqlite)
