"""No small cell can be worked out from what the same page or file publishes.

For random figures, the counts a dashboard page (and an open-data row) publishes are
suppressed, then an attacker's view is rebuilt: every published number is known, every
hidden cell and unpublished remainder is an unknown, and every sum the page contains is an
equation. Linear algebra says which unknowns the equations pin down; none describing 1 to 4
cases may be among them, and no group of hidden cells may be pinned by being all ones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from app.transparency.dashboard import page_equations, summarize
from app.transparency.opendata import row_equations
from app.transparency.queries import BACKLOG_EDGES, Backlog
from app.transparency.suppression import Equation, sensitive, suppress

Unknown = tuple[str, Hashable]


def _rank(rows: list[list[Fraction]]) -> int:
    rows = [row[:] for row in rows]
    rank, columns = 0, len(rows[0]) if rows else 0
    for column in range(columns):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][column] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for r in range(len(rows)):
            if r != rank and rows[r][column] != 0:
                factor = rows[r][column] / rows[rank][column]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[rank], strict=True)]
        rank += 1
    return rank


def recoverable(
    values: Mapping[Hashable, int], equations: Sequence[Equation], hidden: set[Hashable]
) -> dict[Unknown, int]:
    """The unknowns (hidden cells, remainders) the published numbers determine, with values."""
    unknowns: list[Unknown] = [("cell", key) for key in sorted(hidden, key=str)]
    unknowns += [("rest", i) for i, eq in enumerate(equations) if eq.rest is not None]
    index = {u: i for i, u in enumerate(unknowns)}
    matrix = []
    for i, eq in enumerate(equations):
        row = [Fraction(0)] * len(unknowns)
        for key, sign in [(eq.total, 1), *((part, -1) for part in eq.parts)]:
            if key in hidden:
                row[index[("cell", key)]] += sign
        if eq.rest is not None:
            row[index[("rest", i)]] -= 1
        if any(row):
            matrix.append(row)
    if not matrix:
        return {}
    base = _rank(matrix)
    found = {}
    for unknown, column in index.items():
        unit = [Fraction(int(c == column)) for c in range(len(unknowns))]
        if _rank([*matrix, unit]) == base:
            key = unknown[1]
            found[unknown] = values[key] if unknown[0] == "cell" else equations[key].rest  # type: ignore[index]
    return found


def assert_safe(
    values: Mapping[Hashable, int], equations: Sequence[Equation], hidden: set[Hashable]
) -> None:
    assert {k for k, v in values.items() if sensitive(v)} <= hidden
    for unknown, value in recoverable(values, equations, hidden).items():
        assert not sensitive(value), f"{unknown} = {value} can be worked out"
    for eq in equations:
        cells = [key for key in (eq.total, *eq.parts) if key in hidden]
        if eq.total in hidden or not cells:
            continue
        # The hidden parts (each at least 1) and the rest (at least 0) add up to a known sum:
        # all ones would pin every one of them.
        known = values[eq.total] - sum(values[p] for p in eq.parts if p not in hidden)
        assert known != len(cells) or (eq.rest or 0) > 0 or len(cells) == 0


def _check(values: Mapping[Hashable, int], equations: Sequence[Equation]) -> set[Hashable]:
    hidden = suppress(values, equations)
    assert_safe(values, equations, hidden)
    return hidden


small = st.integers(0, 12)


@st.composite
def pages(draw: st.DrawFn) -> tuple[dict[str, int], Backlog, dict[str, dict[str, int]] | None]:
    services = None
    if draw(st.booleans()):
        services = {f"svc_{i}": {"completed": draw(small)} for i in range(draw(st.integers(1, 5)))}
        completed = sum(s["completed"] for s in services.values()) + draw(
            st.sampled_from([0, 0, 2])
        )
    else:
        completed = draw(st.integers(0, 30))
    counts = {
        "received": draw(st.integers(0, 40)),
        "completed": completed,
        "visits_avoided": draw(st.integers(0, completed)),
        "rating_count": draw(small),
    }
    bands = tuple(draw(small) for _ in range(len(BACKLOG_EDGES) + 1))
    backlog = Backlog(
        open=sum(bands), waiting_citizen=draw(st.integers(0, sum(bands))), bands=bands
    )
    return counts, backlog, services


@settings(max_examples=400, deadline=None)
@given(page=pages())
def test_no_hidden_count_on_a_dashboard_page_can_be_worked_out(
    page: tuple[dict[str, int], Backlog, dict[str, dict[str, int]] | None],
) -> None:
    counts, backlog, services = page
    values, equations = page_equations(counts, backlog, services)
    hidden = _check(values, equations)
    # What the page prints follows the same decision.
    summary = summarize(
        {**counts, "with_deadline": 0, "within_deadline": 0, "rating_sum": 0},
        {},
        {},
        hidden={k for k in hidden if isinstance(k, str)},
    )
    assert (summary.completed is None) == ("completed" in hidden)
    assert (summary.visits_avoided is None) == ("visits_avoided" in hidden)
    if summary.visits_avoided_share is not None:
        assert summary.completed is not None
        assert summary.visits_avoided is not None


@settings(max_examples=300, deadline=None)
@given(completed=st.integers(0, 30), avoided=st.integers(0, 30), received=st.integers(0, 30))
def test_no_hidden_count_in_an_open_data_row_can_be_worked_out(
    completed: int, avoided: int, received: int
) -> None:
    counts = Counter(received=received, completed=completed, visits_avoided=min(avoided, completed))
    values, equations = row_equations(counts)
    _check(values, equations)


def test_one_small_service_beside_the_total_hides_the_next_smallest_too() -> None:
    counts = {"received": 40, "completed": 23, "visits_avoided": 0, "rating_count": 0}
    backlog = Backlog(open=0, waiting_citizen=0, bands=(0,) * (len(BACKLOG_EDGES) + 1))
    services = {"a": {"completed": 3}, "b": {"completed": 8}, "c": {"completed": 12}}
    values, equations = page_equations(counts, backlog, services)
    hidden = suppress(values, equations)
    assert ("service", "a") in hidden  # 3: too few
    assert ("service", "b") in hidden  # else 23 − 12 − … = 3 gives it away
    assert ("service", "c") not in hidden
    assert "completed" not in hidden


def test_the_checker_catches_a_recoverable_cell() -> None:
    # Without complementary suppression the lone small part is total minus the others.
    values = {"t": 20, "a": 3, "b": 17}
    equations = [Equation("t", ("a", "b"))]
    assert recoverable(values, equations, {"a"}) == {("cell", "a"): 3}
    assert recoverable(values, equations, {"a", "b"}) == {}


# --- The page itself ------------------------------------------------------------------------------


def test_the_dashboard_hides_visits_avoided_when_the_visits_made_are_few(
    client: FlaskClient, people: dict[str, Any]
) -> None:
    from datetime import UTC, datetime

    from app.transparency.metrics import CaseFacts
    from app.transparency.recording import Rollup, apply
    from app.transparency.recording import settings as figure_settings

    today = datetime.now(UTC).date()
    rollup, workdays = Rollup(), figure_settings().workdays
    for in_person in [False] * 10 + [True] * 2:  # 12 completed, 2 of them with a counter visit
        rollup.received("sample_permit", people["district"].id, today)
        facts = CaseFacts(4, 1, 3, True, in_person)
        rollup.completed("sample_permit", people["district"].id, today, facts, [], workdays)
    apply(rollup)
    page = client.get("/transparency?lang=en&service=sample_permit&period=30")
    text = page.get_data(as_text=True)
    assert "<dd>12</dd>" in text  # completed is shown…
    assert "<dd>10</dd>" not in text  # …but not the 10 avoided visits: 12 − 10 = 2 visits made
    assert "not shown" in text
