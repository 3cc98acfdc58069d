"""The inbox runs the same number of SQL statements whatever the number of rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import event

from app.accounts.models import User
from app.cases.models import Case
from app.db import db

from .conftest import open_task


@contextmanager
def counted() -> Iterator[list[str]]:
    """Record every SQL statement run inside the block."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_queries_per_inbox_page_do_not_grow_with_the_rows(
    people: dict[str, Any],
    filed: Callable[..., Case],
    client: FlaskClient,
    sign_in: Callable[[User], None],
) -> None:
    sign_in(people["head"])
    filed()
    client.get("/office/")  # warm the step cache and the user's session

    with counted() as few:
        assert client.get("/office/?tab=unassigned").status_code == 200
    for _ in range(12):
        case = filed()
        open_task(case, "review_application").claimed_by_id = people["head"].id
        filed()
    db.session.flush()
    with counted() as many:
        response = client.get("/office/?tab=mine")
        assert client.get("/office/?tab=unassigned").status_code == 200

    assert response.status_code == 200
    assert response.get_data(as_text=True).count("<tr class=") == 12
    assert len(many) == 2 * len(few), (few, many)
    assert len(few) <= 8
