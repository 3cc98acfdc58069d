"""The virus-scanning hook: clamd's INSTREAM command when CLAMD_ADDRESS is set.

Without a scanner a document is recorded as "not configured", never as clean. When the
scanner is configured but cannot answer, the upload is refused (fail closed).
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

CLEAN = "clean"
NOT_CONFIGURED = "not_configured"
_CHUNK = 64 * 1024


class ScannerUnavailable(Exception):
    """clamd did not give a usable answer."""


@dataclass(frozen=True)
class Verdict:
    """clamd's answer for one stream."""

    clean: bool
    signature: str | None = None


class ClamdClient:
    """Talks to clamd over TCP ("host:port") or a Unix socket ("/run/clamav/clamd.ctl")."""

    def __init__(self, address: str, timeout: float = 30.0) -> None:
        self.address = address.removeprefix("unix:")
        self.timeout = timeout

    def _connect(self) -> socket.socket:
        if self.address.startswith("/"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            target: object = self.address
        else:
            host, _, port = self.address.rpartition(":")
            if not host or not port.isdigit():
                raise ScannerUnavailable(f"CLAMD_ADDRESS {self.address!r} is not host:port")
            sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
            target = (host.strip("[]"), int(port))
        sock.settimeout(self.timeout)
        try:
            sock.connect(target)
        except OSError as error:
            sock.close()
            raise ScannerUnavailable(f"cannot reach clamd at {self.address}: {error}") from error
        return sock

    def instream(self, data: bytes) -> Verdict:
        """Send the bytes in length-prefixed chunks and read the verdict.

        :raises ScannerUnavailable: when clamd cannot be reached or answers with an error.
        """
        with self._connect() as sock:
            try:
                sock.sendall(b"zINSTREAM\0")
                for start in range(0, len(data), _CHUNK):
                    chunk = data[start : start + _CHUNK]
                    sock.sendall(struct.pack(">I", len(chunk)) + chunk)
                sock.sendall(struct.pack(">I", 0))
                reply = b""
                while not reply.endswith(b"\0"):
                    part = sock.recv(4096)
                    if not part:
                        break
                    reply += part
            except OSError as error:
                raise ScannerUnavailable(f"clamd at {self.address}: {error}") from error
        return parse_reply(reply.rstrip(b"\0").decode("utf-8", "replace"))


def parse_reply(reply: str) -> Verdict:
    """Read "stream: OK" or "stream: <signature> FOUND"; anything else is an error.

    :raises ScannerUnavailable: for ERROR replies (size limit exceeded…) and unknown text.
    """
    text = reply.strip()
    if text.endswith(" OK"):
        return Verdict(clean=True)
    if text.endswith(" FOUND"):
        signature = text.removesuffix(" FOUND").split(":", 1)[-1].strip()
        return Verdict(clean=False, signature=signature)
    raise ScannerUnavailable(f"clamd answered {text!r}")
