"""Pusher-format webhooks, checked by Pusher's own server library: what `pysher` clients do on a
Switchboard (subscribing, joining presence, sending client events, leaving) reaches an endpoint with
`"signing": "pusher"` as `channel_occupied`, `member_added`, `client_event`, `member_removed` and
`channel_vacated`, and every request passes `pusher.Pusher.validate_webhook` (the key, the HMAC of
the body by the app's secret, a `time_ms` within five minutes). Tampered requests do not.

The server runs with --dev, which allows loopback targets, so webhooks reach a receiver on 127.0.0.1.
"""

from __future__ import annotations

import json

import pusher
import pytest

from interop_support import HTTP_TIMEOUT, unique_channel
from pusher_support import PysherClient, app_environment
from webhook_support import Receiver

APP_ID = "5151"
KEY = "interop-hooks-key"
SECRET = "interop-hooks-secret-0123456789ab"
WAIT = 30


@pytest.fixture(scope="module")
def pusher_server(module_server_factory):
    return module_server_factory(dev=True, env=app_environment(APP_ID, KEY, SECRET, client_events=True))


@pytest.fixture
def receiver():
    with Receiver() as made:
        yield made


@pytest.fixture
def clients(pusher_server):
    made: list[PysherClient] = []

    def make(**kwargs) -> PysherClient:
        client = PysherClient(pusher_server, key=KEY, secret=SECRET, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def server_library() -> pusher.Pusher:
    return pusher.Pusher(app_id=APP_ID, key=KEY, secret=SECRET)


def create_pusher_endpoint(server, url: str, **fields) -> dict:
    body = {"url": url, "signing": "pusher", "pusherApp": APP_ID, **fields}
    r = server.session.post(server.url("/v1/endpoints"), json=body, timeout=HTTP_TIMEOUT)
    assert r.status_code == 201, f"create endpoint: {r.status_code} {r.text[:500]}"
    endpoint = r.json()
    assert endpoint["signing"] == "pusher" and endpoint["pusherApp"] == APP_ID, endpoint
    assert "secret" not in endpoint
    return endpoint


def validated(request) -> dict:
    """The body as Pusher's library reads it, after it checked the request."""
    webhook = server_library().validate_webhook(
        key=request.headers.get("x-pusher-key"),
        signature=request.headers.get("x-pusher-signature"),
        body=request.body.decode("utf-8"),
    )
    assert webhook is not None, f"validate_webhook refused {request.headers} {request.body[:300]!r}"
    return webhook


def wait_for_events(receiver: Receiver, wanted: list[tuple[str, str]]) -> list[dict]:
    """Waits until webhooks carrying each `(name, channel)` arrived (in any order: an endpoint that is
    not ordered has several in flight); returns every event received, each validated."""

    def carried(requests) -> list[tuple[str, str]]:
        return [(e["name"], e["channel"]) for r in requests for e in json.loads(r.body)["events"]]

    def done(requests) -> bool:
        seen = carried(requests)
        return all(seen.count(w) >= wanted.count(w) for w in wanted)

    requests = receiver.wait_until(done, WAIT, f"the webhooks {wanted}")
    return [event for request in requests for event in validated(request)["events"]]


def test_pysher_activity_arrives_as_webhooks_pusher_validates(pusher_server, receiver, clients):
    room = "presence-" + unique_channel("hooks")
    create_pusher_endpoint(pusher_server, receiver.url(), channels=[room])

    ada = clients(user_data={"user_id": "ada", "user_info": {"name": "Ada"}})
    ada.subscribe(room)
    assert ada.next()[0] == "pusher_internal:subscription_succeeded"
    wait_for_events(receiver, [("channel_occupied", room), ("member_added", room)])

    bob = clients(user_data={"user_id": "bob"})
    bob.subscribe(room)
    assert bob.next()[0] == "pusher_internal:subscription_succeeded"
    ada.pusher.channel(room).trigger("client-wave", {"to": "bob"})
    events = wait_for_events(receiver, [("member_added", room), ("member_added", room), ("client_event", room)])
    client_event = next(e for e in events if e["name"] == "client_event")
    assert client_event["event"] == "client-wave"
    assert json.loads(client_event["data"]) == {"to": "bob"}
    assert client_event["socket_id"] == ada.socket_id
    assert client_event["user_id"] == "ada"
    assert {e["user_id"] for e in events if e["name"] == "member_added"} == {"ada", "bob"}

    bob.close()
    ada.close()
    events = wait_for_events(receiver, [("member_removed", room), ("member_removed", room),
                                        ("channel_vacated", room)])
    assert {e["user_id"] for e in events if e["name"] == "member_removed"} == {"ada", "bob"}
    # One channel's subscriptions: occupied once, vacated once.
    names = [e["name"] for e in events]
    assert names.count("channel_occupied") == 1 and names.count("channel_vacated") == 1


def test_tampered_or_foreign_webhooks_do_not_validate(pusher_server, receiver, clients):
    channel = unique_channel("tamper")
    create_pusher_endpoint(pusher_server, receiver.url(), channels=[channel])
    client = clients()
    client.subscribe(channel)
    assert client.next()[0] == "pusher_internal:subscription_succeeded"
    wait_for_events(receiver, [("channel_occupied", channel)])
    request = receiver.snapshot()[0]
    body = request.body.decode("utf-8")
    key, signature = request.headers["x-pusher-key"], request.headers["x-pusher-signature"]
    library = server_library()
    assert library.validate_webhook(key=key, signature=signature, body=body) is not None
    assert library.validate_webhook(key=key, signature=signature, body=body.replace(channel, channel + "x")) is None
    assert library.validate_webhook(key="another-key", signature=signature, body=body) is None
    stranger = pusher.Pusher(app_id=APP_ID, key=KEY, secret="someone-elses-secret-0123456789")
    assert stranger.validate_webhook(key=key, signature=signature, body=body) is None


def test_a_pusher_endpoint_needs_a_configured_app(pusher_server, receiver):
    body = {"url": receiver.url(), "signing": "pusher", "pusherApp": "not-configured"}
    r = pusher_server.session.post(pusher_server.url("/v1/endpoints"), json=body, timeout=HTTP_TIMEOUT)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "bad_request"


def test_a_channel_left_occupied_by_a_crash_is_vacated_when_the_server_starts_again(server_factory, receiver):
    env = app_environment(APP_ID, KEY, SECRET)
    first = server_factory(dev=True, env=env)
    channel = unique_channel("crash")
    create_pusher_endpoint(first, receiver.url(), channels=[channel])
    client = PysherClient(first, key=KEY, secret=SECRET)
    try:
        client.subscribe(channel)
        assert client.next()[0] == "pusher_internal:subscription_succeeded"
        wait_for_events(receiver, [("channel_occupied", channel)])
        first.crash()  # no graceful shutdown: nothing said the channel was vacated
    finally:
        client.close()
    second = server_factory(dev=True, env=env, data_dir=first.data_dir)
    # The journal says occupied; no subscriber survived the crash: the channel is vacated at start.
    journal = second.history(f"$occupancy:{channel}", after=1, wait=20, timeout=30)
    assert [e["type"] for e in journal["events"]] == ["channel.vacated"]
    wait_for_events(receiver, [("channel_occupied", channel), ("channel_vacated", channel)])
