"""Test doubles of outside services for document tests: a tiny clamd and a tiny S3, on 127.0.0.1."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.documents.samples import EICAR


class FakeClamd:
    """Speaks clamd's INSTREAM protocol: EICAR is FOUND, everything else OK (or ERROR on demand)."""

    def __init__(self) -> None:
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.address = f"127.0.0.1:{self.server.getsockname()[1]}"
        self.received: list[bytes] = []
        self.answer_error = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                self._handle(connection)

    @staticmethod
    def _read(connection: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            part = connection.recv(size - len(data))
            if not part:
                break
            data += part
        return data

    def _handle(self, connection: socket.socket) -> None:
        command = self._read(connection, len(b"zINSTREAM\0"))
        if command != b"zINSTREAM\0":
            connection.sendall(b"UNKNOWN COMMAND\0")
            return
        stream = b""
        while True:
            (length,) = struct.unpack(">I", self._read(connection, 4))
            if length == 0:
                break
            stream += self._read(connection, length)
        self.received.append(stream)
        if self.answer_error:
            connection.sendall(b"INSTREAM size limit exceeded. ERROR\0")
        elif EICAR in stream:
            connection.sendall(b"stream: Win.Test.EICAR_HDB-1 FOUND\0")
        else:
            connection.sendall(b"stream: OK\0")

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def fake_clamd() -> Iterator[FakeClamd]:
    clamd = FakeClamd()
    yield clamd
    clamd.close()


class FakeS3(ThreadingHTTPServer):
    """Keeps PUT objects by path and serves them back; records each request's headers."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        super().__init__(("127.0.0.1", 0), _S3Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


class _S3Handler(BaseHTTPRequestHandler):
    server: FakeS3

    def log_message(self, *_args: Any) -> None:  # quiet
        return

    def _record(self) -> None:
        self.server.requests.append((self.command, self.path, dict(self.headers)))

    def do_PUT(self) -> None:
        self._record()
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.objects[self.path] = (body, self.headers.get("Content-Type", ""))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self._record()
        found = self.server.objects.get(self.path)
        self.send_response(200 if found else 404)
        body = found[0] if found else b"<Error><Code>NoSuchKey</Code></Error>"
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self) -> None:
        self._record()
        self.send_response(200 if self.path in self.server.objects else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def fake_s3() -> Iterator[FakeS3]:
    server = FakeS3()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


# --- The app side: a private document directory and a case to attach documents to -------------


@pytest.fixture
def documents_dir(app: Any, tmp_path: Any) -> Iterator[Any]:
    """Keep this test's documents in a temporary directory, not in instance/."""
    saved = app.config["DOCUMENT_LOCAL_DIR"], app.config["DOCUMENT_STORAGE"]
    app.config["DOCUMENT_LOCAL_DIR"] = str(tmp_path / "documents")
    app.config["DOCUMENT_STORAGE"] = "local"
    app.extensions.pop("parvaneh.document_storage", None)
    yield tmp_path / "documents"
    app.config["DOCUMENT_LOCAL_DIR"], app.config["DOCUMENT_STORAGE"] = saved
    app.extensions.pop("parvaneh.document_storage", None)


@pytest.fixture
def citizen(app: Any) -> Any:
    from app.accounts.services import ensure_citizen

    return ensure_citizen("09140001001", "علی کریمی", "1360524185")


@pytest.fixture
def a_case(app: Any, citizen: Any) -> Any:
    """A sample permit case waiting for its application, owned by `citizen`."""
    from app.accounts.services import ensure_district
    from app.cases.services import start_case
    from app.processes.services import deploy_all, latest_version

    deploy_all(["sample_permit"])
    version = latest_version("sample_permit")
    district = ensure_district("09", "منطقه ۹", "District 9")
    return start_case(version, applicant=citizen, district=district, data={}, actor=citizen)


def stored_files(directory: Any) -> list[Any]:
    """Every file the local storage holds."""
    return [p for p in directory.rglob("*") if p.is_file()] if directory.exists() else []
