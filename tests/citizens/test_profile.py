"""Profile, representations with the power of attorney upload, and the counter's check."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import func, select

from app.accounts.models import User
from app.accounts.services import ensure_citizen
from app.citizens.models import CitizenProfile, Representation, RepresentationStatus
from app.citizens.services import represented_owner_ids
from app.db import db
from app.documents.checks import UploadRefused
from tests.citizens.conftest import field_errors

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
GOOD_PROFILE = {
    "full_name": "علي كريمي",  # Arabic letters: stored as Persian
    "national_code": "۱۳۶۰۵۲۴۱۸۵",
    "postal_code": "5166614776",
    "email": "",
}


@pytest.fixture
def storage_dir(app: Flask, tmp_path: Path) -> Iterator[Path]:
    """Keep uploaded documents in a temporary folder."""
    app.config["DOCUMENT_LOCAL_DIR"] = str(tmp_path)
    app.extensions.pop("parvaneh.document_storage", None)
    yield tmp_path
    app.extensions.pop("parvaneh.document_storage", None)


@pytest.fixture
def citizen(login_as: Callable[[User], None]) -> User:
    user = ensure_citizen("09140001002", "", "")
    login_as(user)
    return user


def declare(client: FlaskClient, document: tuple[bytes, str] | None, **fields: str):  # type: ignore[no-untyped-def]
    data: dict[str, object] = {
        "kind": "attorney",
        "identifier": "1375903381",
        "name": "حسین رضایی",
        "reference": "وکالت‌نامه ۱۲۳۴ دفترخانه ۵ تبریز",
        "valid_until": "",
        **fields,
    }
    if document is not None:
        data["document"] = (io.BytesIO(document[0]), document[1])
    return client.post(
        "/profile/representations/new", data=data, content_type="multipart/form-data"
    )


def test_profile_is_validated_and_stored_normalised(client: FlaskClient, citizen: User) -> None:
    response = client.post("/profile", data={**GOOD_PROFILE, "national_code": "1360524186"})
    assert response.status_code == 422
    assert (
        field_errors(response.text)["national_code"]
        == "کد ملی معتبر نیست؛ رقم‌ها را دوباره بررسی کنید."
    )
    assert "علي كريمي" in response.text  # the typed text is kept
    response = client.post("/profile", data={**GOOD_PROFILE, "email": "not-an-email"})
    assert response.status_code == 422
    assert "email" in field_errors(response.text)
    response = client.post("/profile", data=GOOD_PROFILE)
    assert response.status_code == 302
    assert citizen.full_name == "علی کریمی"
    assert citizen.national_code == "1360524185"
    profile = db.session.get(CitizenProfile, citizen.id)
    assert profile is not None
    assert profile.postal_code == "5166614776"
    assert profile.email is None


def test_every_profile_field_gets_its_own_message(client: FlaskClient, citizen: User) -> None:
    response = client.post(
        "/profile", data={"full_name": "", "national_code": "", "postal_code": "12"}
    )
    errors = field_errors(response.text)
    assert response.status_code == 422
    assert errors == {
        "full_name": "نام و نام خانوادگی را وارد کنید.",
        "national_code": "کد ملی را وارد کنید.",
        "postal_code": "کد پستی باید ۱۰ رقم باشد.",
    }


def test_a_representation_with_its_document_waits_for_the_counter(
    app: Flask,
    client: FlaskClient,
    citizen: User,
    storage_dir: Path,
    make_staff: Callable[..., User],
    switch_to: Callable[[User], None],
) -> None:
    response = declare(client, (PDF, "وکالت نامه.pdf"), valid_until="۱۴۰۹/۰۱/۱۵")
    assert response.status_code == 302, field_errors(response.text)
    representation = db.session.scalars(select(Representation)).one()
    assert representation.status == RepresentationStatus.PENDING
    assert representation.document_sha256 == hashlib.sha256(PDF).hexdigest()
    assert representation.document_type == "application/pdf"
    assert representation.owner.national_code == "1375903381"
    assert represented_owner_ids(citizen) == set()
    download = client.get(f"/profile/representations/{representation.id}/document")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"

    clerk = make_staff("counter", roles=["COUNTER"])
    switch_to(clerk)
    page = client.get("/counter/representations")
    assert page.status_code == 200
    assert "حسین رضایی" in page.text
    assert client.get(f"/counter/representations/{representation.id}/document").data == PDF
    refused = client.post(
        f"/counter/representations/{representation.id}", data={"decision": "reject"}
    )
    assert refused.status_code == 422  # a rejection needs its reason
    assert (
        client.post(
            f"/counter/representations/{representation.id}", data={"decision": "approve"}
        ).status_code
        == 302
    )
    assert represented_owner_ids(citizen) == {representation.owner_id}


@pytest.mark.parametrize(
    ("content", "name", "reason"),
    [
        (b"MZ\x90\x00" + b"\x00" * 60, "scan.pdf", "program"),  # a renamed executable
        (b"<html><script>alert(1)</script></html>", "scan.pdf", "not_allowed"),  # HTML as .pdf
        (b"", "scan.pdf", "empty"),
    ],
)
def test_a_bad_document_is_refused_and_nothing_is_kept(
    app: Flask,
    client: FlaskClient,
    citizen: User,
    storage_dir: Path,
    content: bytes,
    name: str,
    reason: str,
) -> None:
    response = declare(client, (content, name))
    assert response.status_code == 422
    with app.test_request_context("/?lang=fa"):
        expected = UploadRefused(reason, name="scan").message()
    assert field_errors(response.text)["document"] == " ".join(expected.split())
    assert "حسین رضایی" in response.text  # the other answers are kept
    assert db.session.scalar(select(func.count()).select_from(Representation)) == 0
    assert not any(storage_dir.rglob("*.*"))


def test_an_oversized_document_is_refused(
    app: Flask, client: FlaskClient, citizen: User, storage_dir: Path
) -> None:
    app.config["DOCUMENT_MAX_FILE_BYTES"] = 100
    response = declare(client, (PDF + b"0" * 200, "big.pdf"))
    assert response.status_code == 422
    assert "document" in field_errors(response.text)
    assert db.session.scalar(select(func.count()).select_from(Representation)) == 0


def test_a_representation_needs_a_document_and_valid_fields(
    client: FlaskClient, citizen: User, storage_dir: Path
) -> None:
    response = declare(
        client,
        None,
        kind="legal_representative",
        identifier="10862134508",
        reference="",
        valid_until="1400/01/01",
    )
    errors = field_errors(response.text)
    assert response.status_code == 422
    assert errors["identifier"] == "شناسه ملی معتبر نیست؛ رقم‌ها را دوباره بررسی کنید."
    assert errors["reference"] == "شماره سند و دفترخانه را وارد کنید."
    assert errors["valid_until"] == "این تاریخ گذشته است: اعتبار وکالت‌نامه پایان یافته است."
    assert errors["document"] == "پرونده اسکن‌شده وکالت‌نامه را انتخاب کنید (PDF، JPEG یا PNG)."


def test_a_power_of_attorney_ending_today_in_tehran_is_refused_after_its_midnight(
    client: FlaskClient, citizen: User, storage_dir: Path, login_as: Callable[[User], None]
) -> None:
    with freeze_time("2026-06-30 21:00:00"):  # 30 June (۱۴۰۵/۰۴/۰۹) in UTC, 1 July in Tehran
        login_as(citizen)  # a session signed at this moment, not in the test's future
        response = declare(client, None, valid_until="۱۴۰۵/۰۴/۰۹")
    assert field_errors(response.text)["valid_until"] == (
        "این تاریخ گذشته است: اعتبار وکالت‌نامه پایان یافته است."
    )
    assert 'value="۱۴۰۵/۰۴/۰۹"' in response.text  # what they typed is kept


def test_nobody_sees_another_citizens_power_of_attorney(
    app: Flask,
    client: FlaskClient,
    citizen: User,
    storage_dir: Path,
    switch_to: Callable[[User], None],
) -> None:
    assert declare(client, (PDF, "a.pdf")).status_code == 302
    representation = db.session.scalars(select(Representation)).one()
    stranger = ensure_citizen("09140001003", "زهرا رضایی", "1380335124")
    switch_to(stranger)
    assert client.get(f"/profile/representations/{representation.id}/document").status_code == 404
    assert client.post(f"/profile/representations/{representation.id}/withdraw").status_code == 404
    assert client.get(f"/counter/representations/{representation.id}/document").status_code == 403
    assert representation.status == RepresentationStatus.PENDING
