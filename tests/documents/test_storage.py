"""Both storage backends keep and return bytes; S3 requests are signed and path-style."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from app.documents import sigv4
from app.documents.storage import LocalStorage, S3Storage, StorageError, key_for
from tests.documents.conftest import FakeS3

DATA = b"%PDF-1.4 content"
KEY = key_for(hashlib.sha256(DATA).hexdigest())


def test_local_storage_keeps_bytes_under_the_content_key(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    assert not storage.exists(KEY)
    storage.put(KEY, DATA, "application/pdf")
    storage.put(KEY, DATA, "application/pdf")  # the same content again is harmless
    assert storage.exists(KEY)
    assert storage.get(KEY) == DATA
    assert [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()] == [KEY]
    assert (tmp_path / KEY).stat().st_mode & 0o777 == 0o640


def test_local_storage_refuses_keys_that_leave_its_directory(tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        LocalStorage(tmp_path / "docs").put("../escape", DATA, "application/pdf")
    with pytest.raises(StorageError):
        LocalStorage(tmp_path).get("sha256/00/missing")


def test_s3_storage_puts_gets_and_signs_each_request(fake_s3: FakeS3) -> None:
    storage = S3Storage(
        fake_s3.url, "parvaneh", region="ir-thr-1", access_key="AKID", secret_key="SECRET"
    )
    assert not storage.exists(KEY)
    storage.put(KEY, DATA, "application/pdf")
    assert storage.exists(KEY)
    assert storage.get(KEY) == DATA
    assert fake_s3.objects[f"/parvaneh/{KEY}"] == (DATA, "application/pdf")
    method, path, headers = next(r for r in fake_s3.requests if r[0] == "PUT")
    assert path == f"/parvaneh/{KEY}"
    assert headers["x-amz-content-sha256"] == hashlib.sha256(DATA).hexdigest()
    expected = sigv4.authorization(
        method,
        path,
        {
            "Host": headers["Host"],
            "x-amz-content-sha256": headers["x-amz-content-sha256"],
            "x-amz-date": headers["x-amz-date"],
            "Content-Type": "application/pdf",
        },
        payload_hash=headers["x-amz-content-sha256"],
        amz_date=headers["x-amz-date"],
        access_key="AKID",
        secret_key="SECRET",
        region="ir-thr-1",
    )
    assert headers["Authorization"] == expected
    assert "/ir-thr-1/s3/aws4_request" in expected


def test_s3_storage_reports_missing_objects_and_unreachable_servers(fake_s3: FakeS3) -> None:
    storage = S3Storage(fake_s3.url, "b", region="r", access_key="a", secret_key="s")
    with pytest.raises(StorageError):
        storage.get("sha256/00/missing")
    closed = S3Storage("http://127.0.0.1:9", "b", region="r", access_key="a", secret_key="s")
    with pytest.raises(StorageError):
        closed.put(KEY, DATA, "application/pdf")
    with pytest.raises(ValueError, match="http"):
        S3Storage("s3.example", "b", region="r", access_key="a", secret_key="s")
