"""Uploads are judged by content: hostile or broken files are refused in Persian, nothing stored."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.db import db
from app.documents.checks import ImageLimits, UploadRefused, inspect, sanitise_name
from app.documents.models import Document, DocumentVersion
from app.documents.services import add_version, read_version
from tests.documents.conftest import FakeClamd, stored_files
from tests.documents.samples import EICAR, EXECUTABLE, HTML, POLYGLOT, jpeg, pdf, png

TITLE = {"fa": "سند مالکیت", "en": "Title deed"}
LIMITS = ImageLimits(min_side=200, max_pixels=50_000_000)


@pytest.fixture
def persian(app: Flask) -> Any:
    with app.test_request_context("/?lang=fa"):
        yield


def add(case: Any, data: bytes, name: str = "deed.pdf", **options: Any) -> DocumentVersion:
    return add_version(
        case, slot="card:0", title=TITLE, data=data, file_name=name, actor=None, **options
    )


def versions() -> int:
    return db.session.scalar(select(func.count()).select_from(DocumentVersion)) or 0


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (EXECUTABLE, "setup.pdf", "برنامه یا فایل فشرده است"),
        (HTML, "deed.pdf", "نه PDF است، نه JPEG و نه PNG"),
        (b"", "deed.pdf", "خالی است"),
        (POLYGLOT, "photo.png", "محتوای پنهان"),
        (png(120, 90), "tiny.png", "دست‌کم ۲۰۰ پیکسل"),
        (pdf()[:-8], "cut.pdf", "آسیب دیده"),
        (
            pdf().replace(b"/Type/Catalog", b"/Type/Catalog/OpenAction<</S/JavaScript/JS(x)>>"),
            "js.pdf",
            "محتوای پنهان",
        ),
        (png(text=b"<script>alert(1)</script>"), "text.png", "محتوای پنهان"),
    ],
    ids=[
        "renamed-executable",
        "html-named-pdf",
        "empty",
        "polyglot",
        "too-small",
        "truncated-pdf",
        "pdf-with-javascript",
        "png-with-script",
    ],
)
def test_hostile_and_broken_files_are_refused_in_persian_and_nothing_is_stored(
    a_case: Any, documents_dir: Path, persian: None, data: bytes, name: str, expected: str
) -> None:
    with pytest.raises(UploadRefused) as refused:
        add(a_case, data, name)
    assert expected in refused.value.message()
    assert versions() == 0
    assert stored_files(documents_dir) == []


def test_an_oversized_file_is_refused_with_both_sizes(
    app: Flask, a_case: Any, documents_dir: Path, persian: None
) -> None:
    app.config["DOCUMENT_MAX_FILE_BYTES"], saved = 50_000, app.config["DOCUMENT_MAX_FILE_BYTES"]
    try:
        with pytest.raises(UploadRefused) as refused:
            add(a_case, png(1000, 1000) + b"\x00" * 60_000, "big.png")
    finally:
        app.config["DOCUMENT_MAX_FILE_BYTES"] = saved
    message = refused.value.message()
    assert "حداکثر ۴۹ کیلوبایت" in message, message
    assert versions() == 0
    assert stored_files(documents_dir) == []


def test_a_question_may_narrow_types_and_size(
    a_case: Any, documents_dir: Path, persian: None
) -> None:
    with pytest.raises(UploadRefused) as refused:
        add(a_case, jpeg(), "photo.jpg", accept=["application/pdf"])
    assert "JPEG" in refused.value.message()
    assert "PDF" in refused.value.message()
    with pytest.raises(UploadRefused):
        add(a_case, pdf(), max_size=100)
    assert versions() == 0


def test_the_case_limit_counts_every_version(
    app: Flask, a_case: Any, documents_dir: Path, persian: None
) -> None:
    first = add(a_case, png(400, 400))
    app.config["DOCUMENT_MAX_CASE_BYTES"], saved = (
        first.size + 100,
        app.config["DOCUMENT_MAX_CASE_BYTES"],
    )
    try:
        with pytest.raises(UploadRefused) as refused:
            add(a_case, png(401, 401))
    finally:
        app.config["DOCUMENT_MAX_CASE_BYTES"] = saved
    assert "پرونده" in refused.value.message()
    assert versions() == 1


def test_a_valid_file_is_stored_once_with_its_sha256(a_case: Any, documents_dir: Path) -> None:
    data = jpeg(640, 480)
    version = add(a_case, data, "../../etc/سند <ملک>.PDF")
    assert version.sha256 == hashlib.sha256(data).hexdigest()
    assert version.content_type == "image/jpeg"
    assert (version.width, version.height) == (640, 480)
    assert version.file_name == "سند ملک.jpg"
    assert version.scan_status == "not_configured"
    assert [p.name for p in stored_files(documents_dir)] == [version.sha256]
    assert read_version(version) == data
    # The same bytes for another document are stored once.
    again = add_version(
        a_case, slot="card:1", title=TITLE, data=data, file_name="x.jpg", actor=None
    )
    assert again.storage_key == version.storage_key
    assert len(stored_files(documents_dir)) == 1


def test_replacing_a_document_keeps_earlier_versions(a_case: Any, documents_dir: Path) -> None:
    first = add(a_case, pdf("one"))
    second = add(a_case, pdf("two"))
    document = db.session.scalars(select(Document)).one()
    assert [v.number for v in document.versions] == [1, 2]
    assert document.current.id == second.id
    assert read_version(first) == pdf("one")
    assert read_version(second) == pdf("two")


def test_the_virus_scanner_is_used_when_configured(
    app: Flask, a_case: Any, documents_dir: Path, fake_clamd: FakeClamd, persian: None
) -> None:
    app.config["CLAMD_ADDRESS"] = fake_clamd.address
    try:
        clean = add(a_case, pdf())
        assert clean.scan_status == "clean"
        assert fake_clamd.received == [pdf()]
        infected = pdf().replace(b"Parvaneh", EICAR.replace(b"(", b"").replace(b")", b""))
        with pytest.raises(UploadRefused) as refused:
            add(a_case, infected.replace(b"EICAR", b"EICAR") + b"\n" + EICAR + b"\n%%EOF\n")
        assert "ویروس" in refused.value.message()
        fake_clamd.answer_error = True
        with pytest.raises(UploadRefused) as failed:
            add(a_case, pdf("other"))
        assert "چند دقیقه" in failed.value.message()
    finally:
        app.config["CLAMD_ADDRESS"] = ""
    assert versions() == 1


def test_names_are_sanitised_and_follow_the_content() -> None:
    assert sanitise_name("C:\\Users\\ali\\scan 01.png", "application/pdf") == "scan 01.pdf"
    assert sanitise_name("\u202eexe.pdf", "image/png") == "exe.png"
    assert sanitise_name("..", "image/jpeg") == "document.jpg"
    assert sanitise_name("خانه‌ها.jpeg", "image/jpeg") == "خانه‌ها.jpg"


def test_jpegs_from_phones_with_a_second_picture_are_accepted(app: Flask) -> None:
    with app.test_request_context():
        inspection = inspect(jpeg(400, 300) + jpeg(200, 200), "phone.jpg", LIMITS)
    assert (inspection.width, inspection.height) == (400, 300)
