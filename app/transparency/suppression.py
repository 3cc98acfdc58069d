"""Small cells: primary and complementary suppression of published counts.

A count of 1 to 4 cases is never published (primary suppression). That alone is not enough:
where a page or file shows a total beside its parts, a single hidden part is the total minus
the shown parts. So every additive relation a publication contains is declared as an
`Equation` (total = parts + an unpublished rest), and `suppress` hides more cells until, in
every equation that has a hidden cell, at least two cells are hidden and at least one of
them is the total or describes 5 or more cases (complementary suppression: the smallest
non-zero part first, the total when no part is left). Then no hidden value can be worked out
from the published ones, neither exactly (one unknown in an equation) nor by bounds (two
hidden cells of 1 to 4 whose sum is known). It repeats until every equation holds, since a
cell hidden for one equation must also be protected in the others it appears in.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

from app.transparency.metrics import MIN_CASES


def sensitive(count: int) -> bool:
    """Whether a count describes so few cases that it is never published (1 to 4)."""
    return 0 < count < MIN_CASES


@dataclass(frozen=True)
class Equation:
    """`total` = sum of `parts` + `rest`, where `rest` (if any) is never published."""

    total: Hashable
    parts: tuple[Hashable, ...]
    #: The unpublished remainder (in-person visits beside visits avoided…), None when the
    #: parts cover the total.
    rest: int | None = None


def suppress(values: Mapping[Hashable, int], equations: Sequence[Equation]) -> set[Hashable]:
    """The cells to leave empty: the small ones, and enough others that none can be recovered."""
    hidden = {key for key, value in values.items() if sensitive(value)}
    changed = True
    while changed:
        changed = False
        for equation in equations:
            while not _protected(equation, values, hidden):
                pick = _complement(equation, values, hidden)
                if pick is None:
                    break  # nothing left to hide (cannot happen for a consistent equation)
                hidden.add(pick)
                changed = True
    return hidden


def _protected(equation: Equation, values: Mapping[Hashable, int], hidden: set[Hashable]) -> bool:
    cells = [key for key in (equation.total, *equation.parts) if key in hidden]
    unknown = [values[key] for key in cells]
    if equation.rest is not None:
        unknown.append(equation.rest)
    if not cells and not (equation.rest is not None and sensitive(equation.rest)):
        return True  # nothing in it needs protecting
    if len(unknown) < 2:
        return False
    return equation.total in hidden or any(value >= MIN_CASES for value in unknown)


def _complement(
    equation: Equation, values: Mapping[Hashable, int], hidden: set[Hashable]
) -> Hashable | None:
    candidates = [key for key in equation.parts if key not in hidden and values[key] > 0]
    if candidates:
        return min(candidates, key=lambda key: (values[key], str(key)))
    if equation.total not in hidden and values[equation.total] > 0:
        return equation.total
    return None


def published(values: Mapping[Hashable, int], hidden: set[Hashable]) -> dict[Hashable, int | None]:
    """The values as published: None for a hidden cell."""
    return {key: None if key in hidden else value for key, value in values.items()}
