"""A loopback HTTP server that answers like Mercado Pago's Checkout Pro preferences API.

The real ``mercadopago`` SDK talks to it (only the base URL changes, through the adapter's
``RebasedHttpClient``), so tests cover the SDK's own request building and error handling:

    with FakeMercadoPagoServer() as fake:
        settings = Settings(mercadopago_api_base_url=fake.url, ...)
        ...
        assert fake.preferences()[0].body["external_reference"] == link_id

Like the API, a create repeated with the same ``X-Idempotency-Key`` returns the preference
made the first time. Scripted routes (``script``, as in ``provider_server``) win over that.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from tests.fakes.provider_server import FakeProviderServer, RecordedRequest, ScriptedResponse

PREFERENCES_PATH = "/checkout/preferences"
COLLECTOR_ID = 1234567890


def mercadopago_error(status: int, message: str, error: str = "bad_request") -> dict[str, Any]:
    """Mercado Pago's error body: the SDK reads ``message``, ``error`` and ``cause``."""
    return {"message": message, "error": error, "status": status, "cause": []}


class FakeMercadoPagoServer(FakeProviderServer):
    def __init__(self) -> None:
        super().__init__()
        self._by_idempotency_key: dict[str, dict[str, Any]] = {}

    def preferences(self) -> list[RecordedRequest]:
        """The preference creates received, oldest first."""
        return [r for r in self.requests if r.method == "POST" and r.path == PREFERENCES_PATH]

    def checkout_url(self, preference_id: str) -> str:
        return f"{self.url}/checkout/v1/redirect?pref_id={preference_id}"

    def _answer(self, request: RecordedRequest) -> tuple[ScriptedResponse, float]:
        # The SDK sends "Content-type: application/json", a spelling the shared handler's
        # header lookup misses: parse the JSON here.
        if isinstance(request.body, str) and request.raw.lstrip().startswith((b"{", b"[")):
            request = replace(request, body=json.loads(request.raw))
        with self._lock:
            self._requests.append(request)
            for route in reversed(self._routes):
                if route.method == request.method and route.pattern.fullmatch(request.path):
                    return route.next_response(), route.delay
            return self._default(request), 0.0

    def _default(self, request: RecordedRequest) -> ScriptedResponse:
        if request.method != "POST" or request.path != PREFERENCES_PATH:
            return 404, mercadopago_error(404, f"{request.path} not found", "not_found"), {}
        if not (request.header("Authorization") or "").startswith("Bearer "):
            return 401, mercadopago_error(401, "invalid access token", "unauthorized"), {}
        body = request.body if isinstance(request.body, dict) else {}
        if not body.get("items"):
            return 400, mercadopago_error(400, "items needed", "invalid_items"), {}
        key = request.header("X-Idempotency-Key") or uuid.uuid4().hex
        if key not in self._by_idempotency_key:
            self._by_idempotency_key[key] = self._preference(body)
        return 201, self._by_idempotency_key[key], {}

    def _preference(self, body: dict[str, Any]) -> dict[str, Any]:
        preference_id = f"{COLLECTOR_ID}-{uuid.uuid4()}"
        return {
            "id": preference_id,
            "collector_id": COLLECTOR_ID,
            "client_id": "6295877106812064",
            "date_created": datetime.now(UTC).isoformat(),
            "items": body.get("items", []),
            "payer": body.get("payer", {}),
            "back_urls": body.get("back_urls", {}),
            "auto_return": body.get("auto_return", ""),
            "external_reference": body.get("external_reference", ""),
            "metadata": body.get("metadata", {}),
            "operation_type": "regular_payment",
            "init_point": self.checkout_url(preference_id),
            "sandbox_init_point": self.checkout_url(preference_id) + "&sandbox=1",
        }


def mercadopago_server() -> Iterator[FakeMercadoPagoServer]:
    """For a pytest fixture: ``yield from mercadopago_server()``."""
    server = FakeMercadoPagoServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
