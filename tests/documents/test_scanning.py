"""The clamd INSTREAM client against a tiny clamd double on 127.0.0.1."""

from __future__ import annotations

import pytest

from app.documents.scanning import ClamdClient, ScannerUnavailable, parse_reply
from tests.documents.conftest import FakeClamd
from tests.documents.samples import EICAR, pdf


def test_a_clean_file_is_streamed_whole_and_reported_clean(fake_clamd: FakeClamd) -> None:
    data = pdf() * 5000  # several 64 KB chunks
    verdict = ClamdClient(fake_clamd.address).instream(data)
    assert verdict.clean
    assert fake_clamd.received == [data]


def test_the_eicar_test_file_is_found(fake_clamd: FakeClamd) -> None:
    verdict = ClamdClient(fake_clamd.address).instream(b"prefix " + EICAR)
    assert not verdict.clean
    assert verdict.signature == "Win.Test.EICAR_HDB-1"


def test_errors_and_unreachable_scanners_raise(fake_clamd: FakeClamd) -> None:
    fake_clamd.answer_error = True
    with pytest.raises(ScannerUnavailable, match="ERROR"):
        ClamdClient(fake_clamd.address).instream(b"x")
    with pytest.raises(ScannerUnavailable, match="cannot reach"):
        ClamdClient("127.0.0.1:9", timeout=2).instream(b"x")
    with pytest.raises(ScannerUnavailable, match="host:port"):
        ClamdClient("clamd").instream(b"x")


def test_replies_are_read_strictly() -> None:
    assert parse_reply("stream: OK").clean
    assert parse_reply("stream: Eicar FOUND").signature == "Eicar"
    with pytest.raises(ScannerUnavailable):
        parse_reply("")
