"""A loopback HTTP server that answers like Twilio's Messages and Calls APIs and SendGrid's Mail
Send API.

The real SDKs talk to it unmodified (only their base URL changes), so tests cover the SDKs'
own request building and error parsing, not a mock of them.

    with FakeProviderServer() as fake:
        fake.script("POST", r"/v3/mail/send", [(500, {"errors": []}, {}), (202, None, {})])
        ...
        assert fake.requests[0].body["subject"] == "..."

An outage (``fake.outage()`` … ``fake.restore()``) answers every request 503, or drops the
connection unanswered, before any script is consulted: a provider that is down.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ScriptedResponse = tuple[int, Any, Mapping[str, str]]
"""``(status, json_body, headers)``; a ``None`` body sends no content."""

TWILIO_MESSAGES_PATH = r"/2010-04-01/Accounts/(?P<account_sid>AC\w+)/Messages\.json"
TWILIO_CALLS_PATH = r"/2010-04-01/Accounts/(?P<account_sid>AC\w+)/Calls\.json"
SENDGRID_SEND_PATH = r"/v3/mail/send"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    """A dict for a form body (repeated fields become lists), parsed JSON, or the raw text."""
    raw: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


@dataclass(frozen=True)
class _Outage:
    status: int | None
    pattern: re.Pattern[str] | None

    def covers(self, path: str) -> bool:
        return self.pattern is None or self.pattern.fullmatch(path) is not None


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    responses: list[ScriptedResponse]
    delay: float = 0.0
    served: int = field(default=0)

    def next_response(self) -> ScriptedResponse:
        # The last response repeats, so a route scripted with one entry answers it forever.
        response = self.responses[min(self.served, len(self.responses) - 1)]
        self.served += 1
        return response


def twilio_message(
    account_sid: str, to: str, from_: str, body: str, sid: str | None = None
) -> dict[str, Any]:
    """A Message resource shaped like the one Twilio returns from a create."""
    sid = sid or f"SM{uuid.uuid4().hex}"
    now = format_datetime(datetime.now(UTC))
    return {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": body,
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": from_,
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued",
        "subresource_uris": {
            "media": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}/Media.json"
        },
        "to": to,
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
    }


def twilio_call(account_sid: str, to: str, from_: str, sid: str | None = None) -> dict[str, Any]:
    """A Call resource shaped like the one Twilio returns from a create."""
    sid = sid or f"CA{uuid.uuid4().hex}"
    now = format_datetime(datetime.now(UTC))
    return {
        "account_sid": account_sid,
        "annotation": None,
        "answered_by": None,
        "api_version": "2010-04-01",
        "caller_name": None,
        "date_created": now,
        "date_updated": now,
        "direction": "outbound-api",
        "duration": None,
        "end_time": None,
        "forwarded_from": None,
        "from": from_,
        "from_formatted": from_,
        "group_sid": None,
        "parent_call_sid": None,
        "phone_number_sid": None,
        "price": None,
        "price_unit": "USD",
        "queue_time": "0",
        "sid": sid,
        "start_time": None,
        "status": "queued",
        "subresource_uris": {
            "notifications": f"/2010-04-01/Accounts/{account_sid}/Calls/{sid}/Notifications.json",
            "recordings": f"/2010-04-01/Accounts/{account_sid}/Calls/{sid}/Recordings.json",
        },
        "to": to,
        "to_formatted": to,
        "trunk_sid": None,
        "uri": f"/2010-04-01/Accounts/{account_sid}/Calls/{sid}.json",
    }


def twilio_error(code: int, message: str, status: int = 400) -> dict[str, Any]:
    """Twilio's error body; the SDK reads ``code`` and ``message`` into TwilioRestException."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def sendgrid_error(message: str, field: str | None = None) -> dict[str, Any]:
    """SendGrid's v3 error body."""
    return {"errors": [{"message": message, "field": field, "help": None}]}


class FakeProviderServer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: list[_Route] = []
        self._requests: list[RecordedRequest] = []
        self._outage: _Outage | None = None
        self._outage_requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def script(
        self,
        method: str,
        path_regex: str,
        responses: Sequence[ScriptedResponse],
        *,
        delay: float = 0.0,
    ) -> None:
        """Queue responses for requests whose path fully matches ``path_regex``; re-scripting
        the same route replaces it. ``delay`` holds every answer back that many seconds."""
        if not responses:
            raise ValueError("script at least one response")
        route = _Route(method.upper(), re.compile(path_regex), list(responses), delay)
        with self._lock:
            self._routes = [
                r
                for r in self._routes
                if (r.method, r.pattern.pattern) != (route.method, path_regex)
            ]
            self._routes.append(route)

    @property
    def outage_requests(self) -> list[RecordedRequest]:
        """The requests an outage turned away (they are not in ``requests``)."""
        with self._lock:
            return list(self._outage_requests)

    def outage(self, status: int | None = 503, *, path_regex: str | None = None) -> None:
        """Be down until ``restore()``: every request (or each whose path fully matches
        ``path_regex``) is answered ``status`` with no body, as a load balancer with no healthy
        backend answers, or with ``status=None`` its connection is closed unanswered. Such a
        request never reaches the provider: it is not in ``requests``, it consumes no scripted
        response, and ``outage_requests`` keeps it."""
        pattern = re.compile(path_regex) if path_regex is not None else None
        with self._lock:
            self._outage = _Outage(status, pattern)

    def restore(self) -> None:
        """End the outage; what was scripted answers again."""
        with self._lock:
            self._outage = None

    def reset(self) -> None:
        with self._lock:
            self._routes.clear()
            self._requests.clear()
            self._outage = None
            self._outage_requests.clear()

    def start(self) -> FakeProviderServer:
        # A short poll interval bounds how long stop() waits for the loop: the default 0.5 s
        # would add half a second to every test's teardown.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-provider-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        # Release handlers parked in a deliberate delay before waiting for the server loop.
        self._stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> FakeProviderServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _answer(self, request: RecordedRequest) -> tuple[ScriptedResponse | None, float]:
        """The response and its delay; ``None``: close the connection unanswered."""
        with self._lock:
            if self._outage is not None and self._outage.covers(request.path):
                self._outage_requests.append(request)
                status = self._outage.status
                return (None if status is None else (status, None, {})), 0.0
            self._requests.append(request)
            for route in reversed(self._routes):
                if route.method == request.method and route.pattern.fullmatch(request.path):
                    return route.next_response(), route.delay
        return _default_response(request), 0.0


def provider_server() -> Iterator[FakeProviderServer]:
    """For a pytest fixture: ``yield from provider_server()``."""
    with FakeProviderServer() as server:
        yield server


def _default_response(request: RecordedRequest) -> ScriptedResponse:
    twilio = re.fullmatch(TWILIO_MESSAGES_PATH, request.path)
    if request.method == "POST" and twilio:
        form = request.body if isinstance(request.body, dict) else {}
        message = twilio_message(
            twilio["account_sid"], form.get("To", ""), form.get("From", ""), form.get("Body", "")
        )
        return 201, message, {}
    calls = re.fullmatch(TWILIO_CALLS_PATH, request.path)
    if request.method == "POST" and calls:
        form = request.body if isinstance(request.body, dict) else {}
        return 201, twilio_call(calls["account_sid"], form.get("To", ""), form.get("From", "")), {}
    if request.method == "POST" and re.fullmatch(SENDGRID_SEND_PATH, request.path):
        return 202, None, {"X-Message-Id": uuid.uuid4().hex[:22]}
    return 404, twilio_error(20404, f"The requested resource {request.path} was not found", 404), {}


class _Server(ThreadingHTTPServer):
    # Handler threads never outlive the test process's interest in them: a client that timed
    # out has gone away, so nothing should wait for its handler to finish.
    daemon_threads = True
    # The default backlog of 5 makes the kernel drop SYNs under a burst of parallel sends, and
    # the client's retransmit costs a full second.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type, fake: FakeProviderServer) -> None:
        super().__init__(address, handler)
        self.fake = fake

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out closes its socket mid-answer; that is the point of the delay
        # scenario, not a failure worth a traceback.
        return None


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        return None  # keep pytest output clean; `.requests` is the record

    def _handle(self) -> None:
        fake = self.server.fake
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = urlsplit(self.path)
        headers = dict(self.headers.items())
        request = RecordedRequest(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers=headers,
            body=_parse_body(headers.get("Content-Type", ""), raw),
            raw=raw,
        )
        answer, delay = fake._answer(request)
        if answer is None:
            self.close_connection = True
            return
        status, body, extra_headers = answer
        if delay and fake._stopping.wait(delay):
            return
        payload = b"" if body is None else json.dumps(body).encode()
        try:
            self.send_response(status)
            if payload:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in extra_headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting; see _Server.handle_error


def _parse_body(content_type: str, raw: bytes) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8")
    if content_type.startswith("application/json"):
        return json.loads(text)
    if content_type.startswith("application/x-www-form-urlencoded"):
        form = parse_qs(text, keep_blank_values=True)
        return {k: v[0] if len(v) == 1 else v for k, v in form.items()}
    return text
