"""The Pusher HTTP API driven by Pusher's official Python server library (`pusher` on PyPI): it
triggers events and batches and queries channels against Switchboard exactly as it would against
Pusher, and what it publishes reaches native WebSocket subscribers and the history."""

from __future__ import annotations

import json

import pusher
import pusher.errors
import pytest
import requests

from interop_support import (
    recv_json, run, subscribe, unique_channel, welcome, ws_connect,
)
from pusher_support import app_environment

APP_ID = "4242"
KEY = "interop-pusher-key"
SECRET = "interop-pusher-secret-0123456789"


@pytest.fixture(scope="module")
def pusher_server(module_server_factory):
    """A development server (native clients need no credential) with one Pusher app from the
    environment: the Pusher API checks its signatures all the same."""
    return module_server_factory(dev=True, env=app_environment(APP_ID, KEY, SECRET))


def client(server, *, secret: str = SECRET, key: str = KEY, app_id: str = APP_ID) -> pusher.Pusher:
    return pusher.Pusher(app_id=app_id, key=key, secret=secret, ssl=False, host="127.0.0.1",
                         port=server.port, timeout=10)


def history(server, channel: str) -> list[dict]:
    return server.history(channel)["events"]


def test_trigger_reaches_a_native_subscriber_with_the_data_as_json(pusher_server):
    channel = unique_channel("orders")

    async def scenario():
        async with ws_connect(pusher_server) as ws:
            await welcome(ws)
            await subscribe(ws, channel)
            assert client(pusher_server).trigger(channel, "order.created", {"id": 7, "total": 12.5}) == {}
            event = await recv_json(ws)
            assert event["op"] == "event"
            assert event["channel"] == channel and event["type"] == "order.created"
            # The library sends data as JSON text; native clients see the value it encodes.
            assert event["data"] == {"id": 7, "total": 12.5}

    run(scenario())


def test_trigger_to_several_channels_and_a_batch_are_stored_in_order(pusher_server):
    first, second = unique_channel("p1"), unique_channel("p2")
    p = client(pusher_server)
    p.trigger([first, second], "note", "plain text, not JSON")
    p.trigger_batch([
        {"channel": first, "name": "step", "data": json.dumps({"n": 1})},
        {"channel": first, "name": "step", "data": json.dumps({"n": 2})},
        {"channel": second, "name": "step", "data": json.dumps({"n": 3})},
    ])
    events = history(pusher_server, first)
    assert [(e["type"], e["data"]) for e in events] == [
        ("note", "plain text, not JSON"), ("step", {"n": 1}), ("step", {"n": 2})]
    assert [(e["type"], e["data"]) for e in history(pusher_server, second)] == [
        ("note", "plain text, not JSON"), ("step", {"n": 3})]


def test_a_wrong_secret_or_key_is_refused_and_stores_nothing(pusher_server):
    channel = unique_channel("forged")
    with pytest.raises(pusher.errors.PusherBadAuth):
        client(pusher_server, secret="not-the-secret-of-this-app").trigger(channel, "x", "{}")
    with pytest.raises(pusher.errors.PusherBadAuth):
        client(pusher_server, key="someone-else").trigger(channel, "x", "{}")
    with pytest.raises(pusher.errors.PusherBadStatus):
        client(pusher_server, app_id="999").trigger(channel, "x", "{}")
    assert history(pusher_server, channel) == []


def signed(server, body: dict):
    """A POST to /apps/{id}/events signed by the library itself, and its URL: to send what the
    library would refuse to, or to send it changed."""
    request = pusher.http.Request(client(server)._pusher_client, pusher.http.POST,
                                  f"/apps/{APP_ID}/events", body)
    return request, f"http://127.0.0.1:{server.port}{request.signed_path}"


def test_a_replayed_request_with_a_changed_body_is_refused(pusher_server):
    channel = unique_channel("tamper")
    request, url = signed(pusher_server, {"name": "x", "channels": [channel], "data": "{}"})
    tampered = request.body.replace(b'"x"', b'"y"')
    resp = requests.post(url, data=tampered, headers={"Content-Type": "application/json"}, timeout=10)
    assert resp.status_code == 401
    assert resp.headers["content-type"] == "application/problem+json"
    assert "body_md5" in resp.json()["detail"]
    assert requests.post(url, data=request.body, headers={"Content-Type": "application/json"},
                         timeout=10).status_code == 200
    assert [e["type"] for e in history(pusher_server, channel)] == ["x"]


def test_bad_events_are_refused_as_pusher_bad_requests_and_store_nothing(pusher_server):
    channel = unique_channel("bad")
    p = client(pusher_server)
    with pytest.raises(pusher.errors.PusherBadRequest):
        p.trigger_batch([{"channel": channel, "name": "ok", "data": "{}"},
                         {"channel": "room@1", "name": "forged", "data": "{}"}])
    with pytest.raises(pusher.errors.PusherBadRequest):
        p.trigger_batch([{"channel": channel, "name": "ok", "data": "{}"},
                         {"channel": channel, "name": "bad name!", "data": "{}"}])
    request, url = signed(pusher_server, {"name": "huge", "channel": channel, "data": "x" * 70_000})
    resp = requests.post(url, data=request.body, headers={"Content-Type": "application/json"}, timeout=10)
    assert resp.status_code == 413 and resp.json()["code"] == "too_large"
    request, url = signed(pusher_server, {"name": "both", "channel": channel, "channels": [channel],
                                          "data": "{}"})
    resp = requests.post(url, data=request.body, headers={"Content-Type": "application/json"}, timeout=10)
    assert resp.status_code == 400 and resp.json()["code"] == "bad_request"
    assert history(pusher_server, channel) == []


def test_channel_queries_see_subscribers(pusher_server):
    channel = unique_channel("occupied")
    p = client(pusher_server)

    async def scenario():
        assert p.channel_info(channel, ["subscription_count"]) == {
            "occupied": False, "subscription_count": 0}
        async with ws_connect(pusher_server) as ws:
            await welcome(ws)
            await subscribe(ws, channel)
            assert p.channel_info(channel, ["subscription_count"]) == {
                "occupied": True, "subscription_count": 1}
            listed = p.channels_info(prefix_filter=channel)
            assert listed == {"channels": {channel: {}}}

    run(scenario())
    with pytest.raises(pusher.errors.PusherBadRequest):
        p.users_info(channel)


def test_pusher_endpoints_are_off_without_an_app(server):
    resp = requests.post(server.url("/apps/1/events"), json={}, timeout=10)
    assert resp.status_code == 404
