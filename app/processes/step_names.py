"""Steps in a language: the service card's `step_names` and `step_documentation`, else the BPMN's.

Analysts write the BPMN in Persian; a card may add each step's name and documentation in
English (or replace the Persian). Pages call these with the page's language, stage messages
with each of their languages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: How several current steps are joined, per language (the engine joins the BPMN names by «، »).
JOINERS = {"fa": "، ", "en": ", "}


def card_text(card_texts: Mapping[str, Any], element_id: str, bpmn_text: str, locale: str) -> str:
    """An element's name (or documentation) from the card's texts, else the BPMN's own."""
    texts = card_texts.get(element_id)
    text = texts.get(locale) if isinstance(texts, Mapping) else None
    return str(text) if text else bpmn_text


def current_steps_text(
    step_names: Mapping[str, Any], ids: Mapping[str, str], current_step: str, locale: str
) -> str:
    """A case's current steps, kept as BPMN names joined by «، », in `locale`.

    Waiting for a payment is a step with no task, so each name is found among the version's
    elements (`ids`: element id by BPMN name) rather than among the open tasks.
    """
    parts = [part.strip() for part in current_step.split("،") if part.strip()]
    if not step_names or not parts:
        return current_step
    texts = [card_text(step_names, ids.get(part, ""), part, locale) for part in parts]
    return JOINERS.get(locale, ", ").join(texts)
