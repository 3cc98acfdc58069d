"""Fixtures for the property register: people in two districts, cases, connector calls."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from app.accounts.models import District, User
from app.accounts.services import ensure_citizen, ensure_district
from app.cases import services as cases
from app.cases import workflow as bridge
from app.cases.models import Case
from app.certificates import services as certificates
from app.certificates.models import IssuedDocument
from app.db import db
from app.fees.models import Invoice, InvoiceStatus
from app.persian.identifiers import make_bill_id
from app.processes.services import deploy_all, latest_version
from engine import ConnectorContext

PLATE = {"section": "3", "main": "125", "sub": "4217"}
PLATE_KEY = "3/125/4217"


@pytest.fixture
def people(app: Flask, make_staff: Callable[..., User]) -> dict[str, Any]:
    deploy_all(["sample_permit"])
    district = ensure_district("09", "منطقه ۹", "District 9")
    elsewhere = make_staff("elsewhere", roles=["URB_EXPERT"])
    elsewhere.districts.clear()
    elsewhere.districts.append(ensure_district("05", "منطقه ۵", "District 5"))
    return {
        "citizen": ensure_citizen("09140001001", "علی کریمی", "1360524185"),
        "expert": make_staff("expert", roles=["URB_EXPERT"]),
        "elsewhere": elsewhere,
        "district": district,
    }


@pytest.fixture
def new_case(people: dict[str, Any]) -> Callable[..., Case]:
    """A freshly filed sample-permit case in district 9 (or the district given)."""

    def make(district: District | None = None) -> Case:
        version = latest_version("sample_permit")
        assert version is not None
        case = cases.start_case(
            version,
            applicant=people["citizen"],
            district=district or people["district"],
            data={},
            actor=people["citizen"],
        )
        db.session.flush()
        return case

    return make


def call(name: str, inputs: dict[str, Any], case: Case, key: str = "step-1") -> dict[str, Any]:
    """Call a registered connector for the case as the engine does (inputs and outputs checked)."""
    context = ConnectorContext(
        connector=name,
        process_key=case.process_key,
        element_id="service_task",
        task_id="task-1",
        idempotency_key=key,
    )
    with bridge.running_for(case):
        return bridge.runtime().connectors.call(name, inputs, context)


def issue(case: Case, document_type: str, *, valid_days: int | None = None) -> IssuedDocument:
    """Issue a document on the case directly (as the issuing step would)."""
    return certificates.issue_document(
        document_type=document_type,
        facts={"tracking_code": case.tracking_code},
        idempotency_key=f"test:{case.id}:{document_type}:{datetime.now(UTC).timestamp()}",
        case=case,
        now=datetime.now(UTC),
        valid_days=valid_days,
    )


_bills = iter(range(100_000, 999_999))


def invoice(case: Case, rials: int, status: InvoiceStatus = InvoiceStatus.OPEN) -> Invoice:
    """An invoice on the case (the fees domain's own rules are tested there)."""
    number = next(_bills)
    row = Invoice(
        bill_id=make_bill_id(f"{number:06d}", "123"),
        payment_id=f"{number}",
        idempotency_key=f"test-invoice:{number}",
        case_id=case.id,
        tariff_year=1405,
        total_rials=rials,
        status=status,
        created_at=datetime.now(UTC),
    )
    db.session.add(row)
    db.session.flush()
    return row
