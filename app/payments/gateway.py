"""Internet payment gateways (IPG, «درگاه پرداخت اینترنتی»): the interface and its HTTP adapter.

The protocol is the common Iranian token flow:

1. ``POST {api}/token`` ``{terminal_id, amount, order_id, callback_url}`` → ``{status: 0, token}``
2. the payer's browser goes to ``{page}/{token}`` and pays there;
3. the gateway sends the browser back with a form POST to ``callback_url``
   (``token, state, order_id``) — never trusted, only a hint to ask the gateway;
4. ``POST {api}/verify`` ``{terminal_id, token}`` → ``{status: 0, state: "verified", amount,
   order_id, ref_num, card_mask}``; repeating it returns the same answer. An unverified
   payment is reversed by the gateway after its verify window (``state: "expired"``);
5. ``POST {api}/settle`` asks for settlement, ``POST {api}/reverse`` refunds a verified payment,
   ``POST {api}/inquiry`` reports the state without changing it (for reconciliation).

JSON over HTTPS with a bearer key and timeouts. The built-in simulator (payments.simulator)
speaks the same protocol; without a configured URL the adapter reaches it through the app's
own WSGI stack, so the same request and response bodies cross the same code.
"""

from __future__ import annotations

import enum
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.test import Client


class GatewayError(Exception):
    """The gateway could not be reached or answered outside the protocol."""


class GatewayState(enum.StrEnum):
    PENDING = "pending"  # token issued, the payer has not finished
    PAID = "paid"  # paid at the gateway, waiting for our verify
    VERIFIED = "verified"  # verified: the money is ours unless we reverse it
    SETTLED = "settled"
    CANCELLED = "cancelled"  # the payer cancelled
    FAILED = "failed"  # declined (card, balance, PIN)
    EXPIRED = "expired"  # not verified in time: the gateway reversed it itself
    REVERSED = "reversed"  # we reversed it
    UNKNOWN = "unknown"  # the gateway does not know the token


@dataclass(frozen=True)
class GatewayToken:
    """A payment session at the gateway and where to send the payer."""

    token: str
    redirect_url: str


@dataclass(frozen=True)
class GatewayResult:
    """The gateway's word on one payment."""

    state: GatewayState
    amount: int | None = None
    order_id: str | None = None
    #: The gateway's reference (RRN), printed on the payer's bank statement.
    reference: str | None = None
    card_mask: str | None = None
    message: str = ""


class PaymentGateway(Protocol):
    """What the payment use cases need from a gateway."""

    name: str

    def request_token(self, *, amount: int, order_id: str, callback_url: str) -> GatewayToken:
        """Open a payment session for `amount` rials; raises GatewayError."""
        ...

    def verify(self, token: str) -> GatewayResult:
        """Confirm a payment (idempotent); raises GatewayError."""
        ...

    def inquire(self, token: str) -> GatewayResult:
        """Ask the state of a payment without changing it; raises GatewayError."""
        ...

    def settle(self, token: str) -> GatewayResult:
        """Ask for settlement of a verified payment; raises GatewayError."""
        ...

    def reverse(self, token: str) -> GatewayResult:
        """Refund a verified payment; raises GatewayError."""
        ...


class Transport(Protocol):
    """Sends one JSON request and returns the decoded JSON answer."""

    def post_json(self, url: str, payload: dict[str, Any], headers: dict[str, str]) -> Any:
        """POST `payload` as JSON; raises GatewayError on any failure."""
        ...


class UrllibTransport:
    """JSON over HTTP(S) with the standard library, with a timeout on every call."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    def post_json(self, url: str, payload: dict[str, Any], headers: dict[str, str]) -> Any:
        if urlsplit(url).scheme not in ("http", "https"):
            raise GatewayError(f"unsupported gateway URL {url!r}")
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            url,
            data=json.dumps(payload).encode("utf-8"),
            headers={"Content-Type": "application/json", "Accept": "application/json", **headers},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = response.read()
        except urllib.error.HTTPError as error:
            body = error.read()
            if not body:
                raise GatewayError(f"gateway answered HTTP {error.code}") from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise GatewayError(f"gateway unreachable: {error}") from error
        try:
            return json.loads(body)
        except ValueError as error:
            raise GatewayError("gateway answered with something other than JSON") from error


class WsgiTransport:
    """The same JSON requests, handed to an app's WSGI stack instead of a socket.

    Used for the built-in simulator: no second server, no port to configure, and it works
    from CLI commands and single-worker servers alike.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app

    def post_json(self, url: str, payload: dict[str, Any], headers: dict[str, str]) -> Any:
        parts = urlsplit(url)
        # A fresh app context gives the simulator its own database session, as a separate
        # server would have: its commits never touch the caller's transaction.
        with self.app.app_context():
            response = Client(self.app).post(
                parts.path,
                json=payload,
                headers=headers,
                base_url=f"{parts.scheme}://{parts.netloc}",
            )
        try:
            return json.loads(response.get_data())
        except ValueError as error:
            raise GatewayError(f"gateway answered HTTP {response.status_code}") from error


class HttpGateway:
    """The adapter for a token → redirect → callback → verify → settle gateway."""

    def __init__(
        self,
        *,
        name: str,
        api_url: str,
        page_url: str,
        terminal_id: str,
        api_key: str,
        transport: Transport,
    ) -> None:
        self.name = name
        self.api_url = api_url.rstrip("/")
        self.page_url = page_url.rstrip("/")
        self.terminal_id = terminal_id
        self.api_key = api_key
        self.transport = transport

    def _call(self, operation: str, **fields: Any) -> dict[str, Any]:
        answer = self.transport.post_json(
            f"{self.api_url}/{operation}",
            {"terminal_id": self.terminal_id, **fields},
            {"Authorization": f"Bearer {self.api_key}"},
        )
        if not isinstance(answer, dict) or not isinstance(answer.get("status"), int):
            raise GatewayError(f"{operation}: answer outside the protocol")
        if answer["status"] != 0:
            raise GatewayError(f"{operation}: {answer.get('error') or answer['status']}")
        return answer

    def request_token(self, *, amount: int, order_id: str, callback_url: str) -> GatewayToken:
        answer = self._call("token", amount=amount, order_id=order_id, callback_url=callback_url)
        token = answer.get("token")
        if not isinstance(token, str) or not token:
            raise GatewayError("token: no token in the answer")
        return GatewayToken(token=token, redirect_url=f"{self.page_url}/{token}")

    def _result(self, operation: str, token: str) -> GatewayResult:
        answer = self._call(operation, token=token)
        try:
            state = GatewayState(answer.get("state"))
        except ValueError:
            raise GatewayError(f"{operation}: unknown state {answer.get('state')!r}") from None
        amount = answer.get("amount")
        return GatewayResult(
            state=state,
            amount=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
            order_id=_text(answer.get("order_id")),
            reference=_text(answer.get("ref_num")),
            card_mask=_text(answer.get("card_mask")),
            message=str(answer.get("message") or ""),
        )

    def verify(self, token: str) -> GatewayResult:
        return self._result("verify", token)

    def inquire(self, token: str) -> GatewayResult:
        return self._result("inquiry", token)

    def settle(self, token: str) -> GatewayResult:
        return self._result("settle", token)

    def reverse(self, token: str) -> GatewayResult:
        return self._result("reverse", token)


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


#: Where the built-in simulator lives inside the app.
SIMULATOR_PATH = "/simulator/ipg"


def gateway_for(app: Flask) -> HttpGateway:
    """The configured gateway: a real IPG at PAYMENT_GATEWAY_URL, or the built-in simulator."""
    config = app.config
    url = str(config.get("PAYMENT_GATEWAY_URL") or "").rstrip("/")
    if url:
        return HttpGateway(
            name=urlsplit(url).netloc or "ipg",
            api_url=f"{url}/api",
            page_url=str(config.get("PAYMENT_GATEWAY_PAGE_URL") or f"{url}/pay"),
            terminal_id=config["PAYMENT_TERMINAL_ID"],
            api_key=config["PAYMENT_GATEWAY_KEY"],
            transport=UrllibTransport(float(config["PAYMENT_TIMEOUT_SECONDS"])),
        )
    return HttpGateway(
        name="simulator",
        api_url=f"http://localhost{SIMULATOR_PATH}/api",
        # Relative: the payer's browser stays on this site's host.
        page_url=f"{SIMULATOR_PATH}/pay",
        terminal_id=config["PAYMENT_TERMINAL_ID"],
        api_key=config["PAYMENT_GATEWAY_KEY"],
        transport=WsgiTransport(app),
    )
