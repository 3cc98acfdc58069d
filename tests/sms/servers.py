"""Tiny HTTP servers on 127.0.0.1 that misbehave the ways SMS providers do."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _handler(status: int, body: bytes, delay: float) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting, as it should

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def provider(status: int = 200, body: bytes = b'{"id": "42"}', delay: float = 0) -> Iterator[str]:
    """Serve one canned answer on a free port; yields the URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(status, body, delay))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/send"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
