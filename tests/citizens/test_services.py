"""Citizen use cases: codes, owners and who may act for whom."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from freezegun import freeze_time

from app.accounts.services import ensure_citizen
from app.citizens.models import (
    CodePurpose,
    PersonKind,
    RepresentationKind,
    RepresentationStatus,
)
from app.citizens.services import (
    CodeExpired,
    CodeLocked,
    CodePolicy,
    CodeUnknown,
    CodeUsed,
    CodeWrong,
    ResendTooSoon,
    SelfRepresentation,
    check_code,
    decide_representation,
    declare_representation,
    issue_code,
    owner_account,
    represented_owner_ids,
    withdraw_representation,
)

POLICY = CodePolicy(secret="test-secret")
NOW = datetime(2026, 3, 21, 8, 0, tzinfo=UTC)


def test_a_code_works_once(app: Flask) -> None:
    row, code = issue_code("09140001001", CodePurpose.LOGIN, POLICY, now=NOW)
    assert len(code) == 6
    assert code.isdigit()
    assert check_code(row.token, CodePurpose.LOGIN, code, POLICY, now=NOW).used_at == NOW
    with pytest.raises(CodeUsed):
        check_code(row.token, CodePurpose.LOGIN, code, POLICY, now=NOW)


def test_a_code_is_bound_to_its_purpose_and_token(app: Flask) -> None:
    row, code = issue_code("09140001001", CodePurpose.ASSIST, POLICY, now=NOW)
    with pytest.raises(CodeUnknown):
        check_code(row.token, CodePurpose.LOGIN, code, POLICY, now=NOW)
    with pytest.raises(CodeUnknown):
        check_code(None, CodePurpose.ASSIST, code, POLICY, now=NOW)


def test_a_code_expires_after_its_lifetime(app: Flask) -> None:
    row, code = issue_code("09140001001", CodePurpose.LOGIN, POLICY, now=NOW)
    check_later = NOW + timedelta(seconds=120)
    with pytest.raises(CodeExpired):
        check_code(row.token, CodePurpose.LOGIN, code, POLICY, now=check_later)


def test_wrong_tries_are_counted_up_to_the_lock(app: Flask) -> None:
    row, code = issue_code("09140001001", CodePurpose.LOGIN, POLICY, now=NOW)
    bad = "000000" if code != "000000" else "111111"
    left = []
    for _ in range(5):
        with pytest.raises(CodeWrong) as wrong:
            check_code(row.token, CodePurpose.LOGIN, bad, POLICY, now=NOW)
        left.append(wrong.value.tries_left)
    assert left == [4, 3, 2, 1, 0]
    with pytest.raises(CodeLocked):
        check_code(row.token, CodePurpose.LOGIN, code, POLICY, now=NOW)


def test_a_new_code_waits_for_the_cooldown_and_replaces_the_old(app: Flask) -> None:
    first, first_code = issue_code("09140001001", CodePurpose.LOGIN, POLICY, now=NOW)
    with pytest.raises(ResendTooSoon) as too_soon:
        issue_code("09140001001", CodePurpose.LOGIN, POLICY, now=NOW + timedelta(seconds=15))
    assert too_soon.value.seconds_left == 45
    second, _code = issue_code(
        "09140001001", CodePurpose.LOGIN, POLICY, now=NOW + timedelta(seconds=60)
    )
    assert first.replaced_at is not None
    assert second.replaced_at is None
    with pytest.raises(CodeUsed):
        check_code(first.token, CodePurpose.LOGIN, first_code, POLICY, now=NOW)
    # Another number is not held back.
    issue_code("09140001002", CodePurpose.LOGIN, POLICY, now=NOW + timedelta(seconds=1))


def test_only_verified_current_representations_count(app: Flask) -> None:
    agent = ensure_citizen("09140001002", "مریم نیک‌پور", "1382046170")
    clerk = ensure_citizen("09140001099", "کارمند", "1360524185")
    person = owner_account(PersonKind.NATURAL, "1375903381", "حسین رضایی")
    company = owner_account(PersonKind.LEGAL, "10862134507", "شرکت نمونه‌سازان آذر")
    assert owner_account(PersonKind.LEGAL, "10862134507", "") == company  # found again
    for_person = declare_representation(
        agent, kind=RepresentationKind.ATTORNEY, owner=person, reference="۱۲۳", valid_until=None
    )
    for_company = declare_representation(
        agent,
        kind=RepresentationKind.LEGAL_REPRESENTATIVE,
        owner=company,
        reference="معرفی‌نامه ۴۵",
        valid_until=date(2026, 6, 30),
    )
    assert represented_owner_ids(agent) == set()  # declared is not enough
    decide_representation(for_person, approve=True, actor=clerk)
    decide_representation(for_company, approve=True, actor=clerk)
    assert represented_owner_ids(agent, today=date(2026, 6, 30)) == {person.id, company.id}
    assert represented_owner_ids(agent, today=date(2026, 7, 1)) == {person.id}  # it ended
    assert represented_owner_ids(person) == set()  # it does not work backwards
    withdraw_representation(for_person)
    assert for_person.status == RepresentationStatus.REVOKED
    assert represented_owner_ids(agent, today=date(2026, 6, 1)) == {company.id}


def test_a_power_of_attorney_ends_with_tehrans_day_not_the_servers(app: Flask) -> None:
    agent = ensure_citizen("09140001002", "مریم نیک‌پور", "1382046170")
    clerk = ensure_citizen("09140001099", "کارمند", "1360524185")
    person = owner_account(PersonKind.NATURAL, "1375903381", "حسین رضایی")
    representation = declare_representation(
        agent,
        kind=RepresentationKind.ATTORNEY,
        owner=person,
        reference="۱۲۳",
        valid_until=date(2026, 6, 30),
    )
    decide_representation(representation, approve=True, actor=clerk)
    with freeze_time("2026-06-30 20:00:00"):  # 23:30 in Tehran: its last half hour
        assert represented_owner_ids(agent) == {person.id}
    with freeze_time("2026-06-30 21:00:00"):  # still 30 June in UTC, 1 July in Tehran
        assert represented_owner_ids(agent) == set()


def test_a_rejected_representation_gives_no_access(app: Flask) -> None:
    agent = ensure_citizen("09140001002", "مریم نیک‌پور", "1382046170")
    owner = owner_account(PersonKind.NATURAL, "1375903381", "حسین رضایی")
    representation = declare_representation(
        agent, kind=RepresentationKind.ATTORNEY, owner=owner, reference="۱", valid_until=None
    )
    decide_representation(representation, approve=False, actor=agent, note="امضا ندارد")
    assert represented_owner_ids(agent) == set()
    with pytest.raises(ValueError, match="pending"):
        decide_representation(representation, approve=True, actor=agent)


def test_nobody_represents_themselves(app: Flask) -> None:
    agent = ensure_citizen("09140001002", "مریم نیک‌پور", "1382046170")
    assert owner_account(PersonKind.NATURAL, "1382046170", "") == agent
    with pytest.raises(SelfRepresentation):
        declare_representation(
            agent, kind=RepresentationKind.ATTORNEY, owner=agent, reference="۱", valid_until=None
        )
