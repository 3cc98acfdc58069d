"""Where document bytes live: a local directory (the default) or S3-compatible object storage.

Keys are derived from the content's SHA-256, so the same file is stored once, a retried
upload overwrites nothing, and bytes left behind by a rolled-back request are harmless.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from flask import Flask, current_app

from app.documents import sigv4


class StorageError(Exception):
    """The storage could not keep or hand back a document."""


class DocumentStorage(Protocol):
    """Keeps document bytes by key."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store bytes under a key (storing the same key again is harmless)."""

    def get(self, key: str) -> bytes:
        """The bytes stored under a key.

        :raises StorageError: when they cannot be read.
        """

    def exists(self, key: str) -> bool:
        """Whether something is stored under a key."""


def key_for(sha256: str) -> str:
    """The storage key of content with this SHA-256."""
    return f"sha256/{sha256[:2]}/{sha256}"


class LocalStorage:
    """Documents as files under one directory (by default instance/documents)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise StorageError(f"key {key!r} leaves the storage directory")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
        # Write aside and rename, so a reader never sees half a file.
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.chmod(temporary, 0o640)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except OSError as error:
            raise StorageError(str(error)) from error

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class S3Storage:
    """Documents as objects in an S3-compatible bucket (path-style URLs, SigV4-signed)."""

    def __init__(
        self,
        endpoint: str,
        bucket: str,
        *,
        region: str,
        access_key: str,
        secret_key: str,
        timeout: float = 30.0,
    ) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"DOCUMENT_S3_ENDPOINT must be an http(s) URL, not {endpoint!r}")
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.netloc = parts.netloc
        self.prefix = parts.path.rstrip("/")
        self.bucket, self.region = bucket, region
        self.access_key, self.secret_key, self.timeout = access_key, secret_key, timeout

    def _request(
        self, method: str, key: str, body: bytes = b"", content_type: str | None = None
    ) -> tuple[int, bytes]:
        path = f"{self.prefix}/{self.bucket}/{key}"
        payload_hash = hashlib.sha256(body).hexdigest() if body else sigv4.EMPTY_SHA256
        amz_date = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        headers = {
            "Host": self.netloc,
            "x-amz-content-sha256": payload_hash,
            "x-amz-date": amz_date,
        }
        if content_type:
            headers["Content-Type"] = content_type
        headers["Authorization"] = sigv4.authorization(
            method,
            path,
            headers,
            payload_hash=payload_hash,
            amz_date=amz_date,
            access_key=self.access_key,
            secret_key=self.secret_key,
            region=self.region,
        )
        connection_class: Any = (
            http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_class(self.host, self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        except OSError as error:
            raise StorageError(f"{method} {path}: {error}") from error
        finally:
            connection.close()

    def put(self, key: str, data: bytes, content_type: str) -> None:
        status, body = self._request("PUT", key, data, content_type)
        if status not in (200, 201, 204):
            raise StorageError(f"PUT {key}: HTTP {status} {body[:200]!r}")

    def get(self, key: str) -> bytes:
        status, body = self._request("GET", key)
        if status != 200:
            raise StorageError(f"GET {key}: HTTP {status}")
        return body

    def exists(self, key: str) -> bool:
        status, _body = self._request("HEAD", key)
        return status == 200


def storage_from_config(app: Flask) -> DocumentStorage:
    """The storage the configuration names (DOCUMENT_STORAGE=local|s3)."""
    config = app.config
    if config["DOCUMENT_STORAGE"] == "s3":
        return S3Storage(
            config["DOCUMENT_S3_ENDPOINT"],
            config["DOCUMENT_S3_BUCKET"],
            region=config["DOCUMENT_S3_REGION"],
            access_key=config["DOCUMENT_S3_ACCESS_KEY"],
            secret_key=config["DOCUMENT_S3_SECRET_KEY"],
        )
    if config["DOCUMENT_STORAGE"] != "local":
        raise ValueError("DOCUMENT_STORAGE must be local or s3")
    return LocalStorage(config["DOCUMENT_LOCAL_DIR"] or Path(app.instance_path) / "documents")


def document_storage() -> DocumentStorage:
    """The app's document storage, built once from its configuration."""
    storage = current_app.extensions.get("parvaneh.document_storage")
    if storage is None:
        storage = storage_from_config(current_app)
        current_app.extensions["parvaneh.document_storage"] = storage
    return storage  # type: ignore[no-any-return]
