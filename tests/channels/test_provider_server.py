"""The fake itself: scripting, recording, defaults and concurrency."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.fakes.provider_server import TWILIO_CALLS_PATH, FakeProviderServer, provider_server


@pytest.fixture
def fake() -> Iterator[FakeProviderServer]:
    yield from provider_server()


def post_json(url: str, body: object) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_scripted_responses_play_in_order_and_the_last_repeats(fake: FakeProviderServer) -> None:
    fake.script("POST", r"/things/\d+", [(500, {"n": 1}, {}), (200, {"n": 2}, {})])

    statuses = [post_json(f"{fake.url}/things/{i}", {"i": i})[0] for i in range(4)]

    assert statuses == [500, 200, 200, 200]
    assert [r.body for r in fake.requests] == [{"i": i} for i in range(4)]


def test_rescripting_a_route_replaces_it_and_reset_clears_everything(
    fake: FakeProviderServer,
) -> None:
    fake.script("POST", "/x", [(500, None, {})])
    fake.script("POST", "/x", [(204, None, {})])
    assert post_json(f"{fake.url}/x", {})[0] == 204

    fake.reset()

    assert fake.requests == []
    assert post_json(f"{fake.url}/x", {})[0] == 404


def test_unknown_route_answers_like_a_twilio_404(fake: FakeProviderServer) -> None:
    status, body = post_json(f"{fake.url}/nowhere", {})

    assert status == 404
    assert json.loads(body)["code"] == 20404


def test_concurrent_requests_are_all_recorded(fake: FakeProviderServer) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda i: post_json(f"{fake.url}/v3/mail/send", {"i": i}), range(40))
        )

    assert {status for status, _ in results} == {202}
    assert sorted(r.body["i"] for r in fake.requests) == list(range(40))


def test_a_twilio_call_is_queued_by_default_and_scriptable(fake: FakeProviderServer) -> None:
    url = f"{fake.url}/2010-04-01/Accounts/AC{'0' * 32}/Calls.json"
    form = urllib.parse.urlencode({"To": "+56912345678", "From": "+15005550006"}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    with urllib.request.urlopen(urllib.request.Request(url, form, headers), timeout=5) as answer:
        status, call = answer.status, json.loads(answer.read())

    assert status == 201
    assert call["sid"].startswith("CA") and len(call["sid"]) == 34
    assert (call["status"], call["to"], call["from"]) == ("queued", "+56912345678", "+15005550006")
    assert fake.requests[0].body == {"To": "+56912345678", "From": "+15005550006"}

    fake.script("POST", TWILIO_CALLS_PATH, [(400, {"code": 13224, "message": "x"}, {})])
    assert post_json(url, {})[0] == 400
