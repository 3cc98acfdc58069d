"""The SigV4 signer against AWS's published example (S3 GET Object with a Range header)."""

from __future__ import annotations

from app.documents import sigv4

# From the Amazon S3 API reference, "Signature Calculations for the Authorization Header:
# Transferring Payload in a Single Chunk", example "GET Object".
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EXPECTED_SIGNATURE = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"


def test_the_published_get_object_example_signs_to_the_published_signature() -> None:
    headers = {
        "Host": "examplebucket.s3.amazonaws.com",
        "Range": "bytes=0-9",
        "x-amz-content-sha256": sigv4.EMPTY_SHA256,
        "x-amz-date": "20130524T000000Z",
    }
    header = sigv4.authorization(
        "GET",
        "/test.txt",
        headers,
        payload_hash=sigv4.EMPTY_SHA256,
        amz_date="20130524T000000Z",
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        region="us-east-1",
    )
    assert header == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        f"Signature={EXPECTED_SIGNATURE}"
    )


def test_the_canonical_request_sorts_headers_and_trims_their_values() -> None:
    text, signed = sigv4.canonical_request(
        "PUT",
        "/bucket/sha256/ab/file name",
        {"b": "2", "a": "1 1"},
        {"X-Amz-Date": " 20130524T000000Z ", "Host": "s3.local:9000"},
        "abc",
    )
    assert signed == "host;x-amz-date"
    assert text.splitlines() == [
        "PUT",
        "/bucket/sha256/ab/file%20name",
        "a=1%201&b=2",
        "host:s3.local:9000",
        "x-amz-date:20130524T000000Z",
        "",
        "host;x-amz-date",
        "abc",
    ]
