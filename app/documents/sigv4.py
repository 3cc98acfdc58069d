"""AWS Signature Version 4 for S3-compatible object storage, with the standard library only.

We need three calls (PUT, GET, HEAD an object); signing them is this one module, tested
against AWS's published example, instead of boto3 and botocore's tens of megabytes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import quote

ALGORITHM = "AWS4-HMAC-SHA256"
#: The SHA-256 of an empty body, sent with GET and HEAD.
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """Derive the day's signing key: HMAC chain over date, region, service and aws4_request."""
    key = _hmac(("AWS4" + secret_key).encode("utf-8"), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def canonical_request(
    method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], payload_hash: str
) -> tuple[str, str]:
    """The canonical request text and its signed-headers list."""
    canonical_path = quote(path, safe="/-_.~")
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query.items())
    )
    lowered = {name.lower(): " ".join(str(value).split()) for name, value in headers.items()}
    names = sorted(lowered)
    canonical_headers = "".join(f"{name}:{lowered[name]}\n" for name in names)
    signed = ";".join(names)
    text = "\n".join(
        [method, canonical_path, canonical_query, canonical_headers, signed, payload_hash]
    )
    return text, signed


def authorization(
    method: str,
    path: str,
    headers: Mapping[str, str],
    *,
    payload_hash: str,
    amz_date: str,
    access_key: str,
    secret_key: str,
    region: str,
    service: str = "s3",
    query: Mapping[str, str] | None = None,
) -> str:
    """The Authorization header for a request whose headers include host and x-amz-date."""
    request_text, signed = canonical_request(method, path, query or {}, headers, payload_hash)
    date = amz_date[:8]
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        [ALGORITHM, amz_date, scope, hashlib.sha256(request_text.encode("utf-8")).hexdigest()]
    )
    signature = hmac.new(
        signing_key(secret_key, date, region, service),
        string_to_sign.encode("utf-8"),
        hashlib.sha256,
    ).hexdigest()
    return (
        f"{ALGORITHM} Credential={access_key}/{scope},SignedHeaders={signed},Signature={signature}"
    )
