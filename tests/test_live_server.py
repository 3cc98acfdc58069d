"""The browser tests' live server closes what a response holds when the browser hangs up early.

Chromium drops connections it no longer needs (a stylesheet it already has, a page it left).
Werkzeug's development server then left a static file open, and the ResourceWarning failed
whichever browser test happened to be running.
"""

from __future__ import annotations

import gc
import socket
import struct
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.requires_commit


def _hang_up_at_once(host: str, port: int, path: str) -> None:
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        time.sleep(0.002)  # long enough for the server to start answering
        # Linger 0: close with a reset, as a browser abandoning the connection does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_a_dropped_connection_leaves_no_file_open(
    live_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    address = urlsplit(live_server)
    assert address.hostname is not None
    assert address.port is not None
    for _ in range(20):
        _hang_up_at_once(address.hostname, address.port, "/static/css/forms.css")
    time.sleep(0.5)  # let the server's threads finish with the dropped connections
    gc.collect()
    assert [str(hook.exc_value) for hook in unraisable] == []
