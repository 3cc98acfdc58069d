"""The service card («شناسنامه خدمت») read from a package's service.json."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from engine.errors import PackageError

DeadlineUnit = Literal["working_days", "calendar_days", "months"]
DEADLINE_UNITS: frozenset[str] = frozenset({"working_days", "calendar_days", "months"})

_TEXT_FIELDS = ("name", "description", "who_may_apply", "fee_description")
_KNOWN_FIELDS = frozenset(
    {
        *_TEXT_FIELDS,
        "required_documents",
        "legal_deadline",
        "typical_duration",
        "service_id",
        "notifications",
    }
)


@dataclass(frozen=True)
class LocalizedText:
    """A text in Persian and English."""

    fa: str
    en: str


@dataclass(frozen=True)
class Duration:
    """A deadline or duration with its unit (domain.md §7.4: always store the unit)."""

    value: int
    unit: DeadlineUnit


@dataclass(frozen=True)
class ServiceCard:
    """Public description of a service, published with the process."""

    name: LocalizedText
    description: LocalizedText
    who_may_apply: LocalizedText
    required_documents: tuple[LocalizedText, ...]
    legal_deadline: Duration
    typical_duration: Duration
    service_id: str
    fee_description: LocalizedText
    notifications: Mapping[str, LocalizedText]
    # Any further card fields (governing laws, service hours, channels...) as given.
    extra: Mapping[str, Any] = field(default_factory=dict)


class ServiceCardError(PackageError):
    """service.json is missing fields or malformed; ``problems`` lists every one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def parse_service_card(data: bytes) -> ServiceCard:
    """Parse service.json bytes.

    :raises ServiceCardError: listing every problem found, not just the first.
    """
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ServiceCardError([f"not valid UTF-8 JSON: {exc}"]) from None
    if not isinstance(raw, dict):
        raise ServiceCardError(["top level must be an object"])
    problems: list[str] = []
    texts = {name: _text(raw.get(name), name, problems) for name in _TEXT_FIELDS}
    documents = raw.get("required_documents")
    if not isinstance(documents, list):
        problems.append("required_documents: must be a list of {fa, en} texts")
        documents = []
    required = tuple(
        _text(item, f"required_documents[{i}]", problems) for i, item in enumerate(documents)
    )
    notifications_raw = raw.get("notifications")
    if not isinstance(notifications_raw, dict):
        problems.append("notifications: must be an object of event key -> {fa, en}")
        notifications_raw = {}
    notifications = {
        str(key): _text(value, f"notifications.{key}", problems)
        for key, value in notifications_raw.items()
    }
    service_id = raw.get("service_id")
    if not isinstance(service_id, str) or not service_id.strip():
        problems.append("service_id: must be a non-empty string (national service ID)")
        service_id = ""
    legal = _duration(raw.get("legal_deadline"), "legal_deadline", problems)
    typical = _duration(raw.get("typical_duration"), "typical_duration", problems)
    if problems:
        raise ServiceCardError(problems)
    return ServiceCard(
        name=texts["name"],
        description=texts["description"],
        who_may_apply=texts["who_may_apply"],
        required_documents=required,
        legal_deadline=legal,
        typical_duration=typical,
        service_id=service_id,
        fee_description=texts["fee_description"],
        notifications=notifications,
        extra={key: value for key, value in raw.items() if key not in _KNOWN_FIELDS},
    )


def _text(value: Any, path: str, problems: list[str]) -> LocalizedText:
    if isinstance(value, dict) and all(
        isinstance(value.get(lang), str) and value[lang].strip() for lang in ("fa", "en")
    ):
        return LocalizedText(fa=value["fa"], en=value["en"])
    problems.append(f'{path}: must be {{"fa": ..., "en": ...}} with both texts non-empty')
    return LocalizedText(fa="", en="")


def _duration(value: Any, path: str, problems: list[str]) -> Duration:
    if isinstance(value, dict):
        amount, unit = value.get("value"), value.get("unit")
        if (
            isinstance(amount, int)
            and not isinstance(amount, bool)
            and amount > 0
            and unit in DEADLINE_UNITS
        ):
            return Duration(value=amount, unit=cast(DeadlineUnit, unit))
    problems.append(
        f'{path}: must be {{"value": positive int, "unit": one of {sorted(DEADLINE_UNITS)}}}'
    )
    return Duration(value=0, unit="working_days")
