"""The Pusher WebSocket protocol (`/app/{key}`) driven by `pysher`, a stock Pusher client from PyPI,
and by a plain WebSocket client for what pysher cannot express (Switchboard's `since` extension).
Events published natively or through the Pusher HTTP API reach Pusher clients, and the other way
round nothing a Pusher client is refused leaks."""

from __future__ import annotations

import asyncio
import json

import pusher
import pytest
import requests
from websockets.asyncio.client import connect

from interop_support import run, unique_channel
from pusher_support import PysherClient, app_environment

APP_ID = "4343"
KEY = "interop-ws-key"
SECRET = "interop-ws-secret-0123456789abcd"
WAIT = 15


# A second app on the same server, without client events.
QUIET_KEY = "interop-ws-quiet-key"
QUIET_SECRET = "interop-ws-quiet-secret-0123456789"


@pytest.fixture(scope="module")
def pusher_server(module_server_factory):
    return module_server_factory(dev=True, env={
        **app_environment(APP_ID, KEY, SECRET, client_events=True),
        "SWITCHBOARD_PUSHER_APPS": "4444",
        "SWITCHBOARD_PUSHER_APP_4444_KEY": QUIET_KEY,
        "SWITCHBOARD_PUSHER_APP_4444_SECRET": QUIET_SECRET,
    })


@pytest.fixture
def pysher_client(pusher_server):
    clients = []

    def make(**kwargs) -> PysherClient:
        kwargs.setdefault("key", KEY)
        kwargs.setdefault("secret", SECRET)
        made = PysherClient(pusher_server, **kwargs)
        clients.append(made)
        return made

    yield make
    for made in clients:
        made.close()


def http_client(server) -> pusher.Pusher:
    return pusher.Pusher(app_id=APP_ID, key=KEY, secret=SECRET, ssl=False, host="127.0.0.1",
                         port=server.port, timeout=10)


def test_public_channel_receives_native_and_pusher_publishes(pusher_server, pysher_client):
    client = pysher_client()
    assert client.socket_id.count(".") == 1
    channel = unique_channel("pub")
    client.subscribe(channel)
    assert client.next() == ("pusher_internal:subscription_succeeded", channel, "{}")
    pusher_server.publish(channel, "order.created", {"id": 1})
    event, on, data = client.next()
    assert (event, on, json.loads(data)) == ("order.created", channel, {"id": 1})
    http_client(pusher_server).trigger(channel, "note", "just text")
    assert client.next() == ("note", channel, "just text")


def test_private_channel_needs_the_apps_signature(pusher_server, pysher_client):
    channel = "private-" + unique_channel("priv")
    signed = pysher_client()
    signed.subscribe(channel)
    assert signed.next() == ("pusher_internal:subscription_succeeded", channel, "{}")
    forged = pysher_client(secret="someone-elses-secret-0123456789")
    forged.subscribe(channel)
    event, on, data = forged.next()
    assert (event, on) == ("pusher:subscription_error", channel)
    assert json.loads(data)["status"] == 401
    marker = unique_channel("marker")
    forged.subscribe(marker)
    assert forged.next() == ("pusher_internal:subscription_succeeded", marker, "{}")
    p = http_client(pusher_server)
    p.trigger(channel, "secret.thing", {"x": 1})
    p.trigger(marker, "after", {})
    event, on, data = signed.next()
    assert (event, on, json.loads(data)) == ("secret.thing", channel, {"x": 1})
    # The refused client holds no subscription: the next thing it gets is the event committed after
    # the private one, on a channel it does hold (one connection receives in commit order).
    assert forged.next() == ("after", marker, "{}")


def test_presence_channel_members_join_and_leave(pusher_server, pysher_client):
    channel = "presence-" + unique_channel("room")
    ada = pysher_client(user_data={"user_id": "ada", "user_info": {"name": "Ada"}})
    ada.subscribe(channel)
    event, on, data = ada.next()
    assert (event, on) == ("pusher_internal:subscription_succeeded", channel)
    assert json.loads(data) == {"presence": {"ids": ["ada"], "hash": {"ada": {"name": "Ada"}}, "count": 1}}

    bob = pysher_client(user_data={"user_id": 42})
    bob.subscribe(channel)
    event, on, data = bob.next()
    assert (event, on) == ("pusher_internal:subscription_succeeded", channel)
    presence = json.loads(data)["presence"]
    assert sorted(presence["ids"]) == ["42", "ada"] and presence["count"] == 2
    assert ada.next() == ("pusher_internal:member_added", channel, json.dumps(
        {"user_id": "42", "user_info": None}, separators=(",", ":")))

    assert http_client(pusher_server).users_info(channel) == {"users": [{"id": "ada"}, {"id": "42"}]}
    info = http_client(pusher_server).channel_info(channel, ["user_count", "subscription_count"])
    assert info == {"occupied": True, "user_count": 2, "subscription_count": 2}

    bob.close()
    assert ada.next() == ("pusher_internal:member_removed", channel, '{"user_id":"42"}')
    assert http_client(pusher_server).users_info(channel) == {"users": [{"id": "ada"}]}


def test_presence_needs_the_signature_over_the_channel_data(pusher_server, pysher_client):
    channel = "presence-" + unique_channel("guarded")
    forged = pysher_client(secret="someone-elses-secret-0123456789", user_data={"user_id": "mallory"})
    forged.subscribe(channel)
    event, on, data = forged.next()
    assert (event, on, json.loads(data)["status"]) == ("pusher:subscription_error", channel, 401)
    assert http_client(pusher_server).users_info(channel) == {"users": []}


def test_client_events_reach_the_others_not_the_sender(pusher_server, pysher_client):
    channel = "private-" + unique_channel("typing")
    ada, bob = pysher_client(), pysher_client()
    for client in (ada, bob):
        client.subscribe(channel)
        assert client.next() == ("pusher_internal:subscription_succeeded", channel, "{}")
    ada.pusher.channel(channel).trigger("client-typing", {"who": "ada"})
    event, on, data = bob.next()
    assert (event, on, json.loads(data)) == ("client-typing", channel, {"who": "ada"})
    # Not echoed to its sender; and it is an event like any other: durable, in the history.
    bob.pusher.channel(channel).trigger("client-typing", {"who": "bob"})
    # Ada's own event, committed before Bob's, would reach her first (commit order): it does not.
    event, on, data = ada.next()
    assert (event, on, json.loads(data)) == ("client-typing", channel, {"who": "bob"})
    assert [e["data"] for e in pusher_server.history(channel)["events"]] == [{"who": "ada"}, {"who": "bob"}]


def test_a_trigger_with_a_socket_id_leaves_that_connection_out(pusher_server, pysher_client):
    channel = unique_channel("others")
    sender, other = pysher_client(), pysher_client()
    for client in (sender, other):
        client.subscribe(channel)
        assert client.next() == ("pusher_internal:subscription_succeeded", channel, "{}")
    p = http_client(pusher_server)
    p.trigger(channel, "saved", {"n": 1}, socket_id=sender.socket_id)
    p.trigger_batch([{"channel": channel, "name": "saved", "data": json.dumps({"n": 2}),
                      "socket_id": sender.socket_id}])
    p.trigger(channel, "saved", {"n": 3})
    for n in (1, 2, 3):
        event, on, data = other.next()
        assert (event, on, json.loads(data)) == ("saved", channel, {"n": n})
    event, on, data = sender.next()
    assert (event, on, json.loads(data)) == ("saved", channel, {"n": 3})


def test_client_events_are_refused_where_not_allowed(pusher_server, pysher_client):
    public = unique_channel("open")
    client = pysher_client()
    client.subscribe(public)
    assert client.next() == ("pusher_internal:subscription_succeeded", public, "{}")
    client.pusher.connection.send_event("client-x", {"n": 1}, channel_name=public)
    event, _, data = client.next()
    assert event == "pusher:error" and "private or presence" in data["message"]

    quiet = pysher_client(key=QUIET_KEY, secret=QUIET_SECRET)
    channel = "private-" + unique_channel("quiet")
    quiet.subscribe(channel)
    assert quiet.next() == ("pusher_internal:subscription_succeeded", channel, "{}")
    quiet.pusher.channel(channel).trigger("client-x", {"n": 1})
    event, _, data = quiet.next()
    assert event == "pusher:error" and "not enabled" in data["message"]
    assert pusher_server.history(public)["events"] == [] and pusher_server.history(channel)["events"] == []


def test_cache_channels_start_with_their_last_event_or_a_cache_miss(pusher_server, pysher_client):
    empty = "cache-" + unique_channel("empty")
    client = pysher_client()
    client.subscribe(empty)
    assert client.next() == ("pusher_internal:subscription_succeeded", empty, "{}")
    assert client.next() == ("pusher:cache_miss", empty, None)

    cached = "private-cache-" + unique_channel("prices")
    for price in (10, 11, 12):
        pusher_server.publish(cached, "price", {"p": price})
    client.subscribe(cached)
    assert client.next() == ("pusher_internal:subscription_succeeded", cached, "{}")
    event, on, data = client.next()
    assert (event, on, json.loads(data)) == ("price", cached, {"p": 12})
    # Then live, as any channel.
    http_client(pusher_server).trigger(cached, "price", {"p": 13})
    event, on, data = client.next()
    assert (event, on, json.loads(data)) == ("price", cached, {"p": 13})


def test_user_signin_and_terminate_connections(pusher_server):
    p = http_client(pusher_server)

    async def scenario():
        async with connect(f"ws://127.0.0.1:{pusher_server.port}/app/{KEY}?protocol=7", proxy=None) as ws:
            established = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            socket_id = json.loads(established["data"])["socket_id"]
            # The official server library signs the user data, as an application's endpoint would.
            signed = p.authenticate_user(socket_id, {"id": "u-7", "name": "Ada"})
            await ws.send(json.dumps({"event": "pusher:signin", "data": signed}))
            success = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            assert success["event"] == "pusher:signin_success"
            assert json.loads(json.loads(success["data"])["user_data"]) == {"id": "u-7", "name": "Ada"}
            counted = requests.get(pusher_server.url("/v1/users/u-7/connections"), timeout=10).json()
            assert counted["connections"] == 1
            await asyncio.to_thread(p.terminate_user_connections, "u-7")
            await asyncio.wait_for(ws.wait_closed(), WAIT)
            assert ws.close_code == 4009

        async with connect(f"ws://127.0.0.1:{pusher_server.port}/app/{KEY}?protocol=7", proxy=None) as ws:
            established = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            socket_id = json.loads(established["data"])["socket_id"]
            forged = p.authenticate_user("1.2", {"id": "u-8"})   # signed for another socket
            await ws.send(json.dumps({"event": "pusher:signin", "data": forged}))
            await asyncio.wait_for(ws.wait_closed(), WAIT)
            assert ws.close_code == 4009
            assert socket_id != "1.2"

    run(scenario())


@pytest.mark.parametrize("path, code", [
    ("/app/nobody?protocol=7", 4001),        # no app has this key
    (f"/app/{KEY}?protocol=2", 4007),        # a protocol version this server does not speak
    (f"/app/{KEY}", 4007),                   # none at all
])
def test_a_connection_that_cannot_be_served_is_told_why_and_closed(pusher_server, path, code):
    async def scenario():
        async with connect(f"ws://127.0.0.1:{pusher_server.port}{path}", proxy=None) as ws:
            message = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            assert message["event"] == "pusher:error"
            assert message["data"]["code"] == code
            await asyncio.wait_for(ws.wait_closed(), WAIT)
            assert ws.close_code == code

    run(scenario())


def test_ping_pong_bad_messages_and_namespaced_channels(pusher_server):
    async def scenario():
        async with connect(f"ws://127.0.0.1:{pusher_server.port}/app/{KEY}?protocol=7", proxy=None) as ws:
            established = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            assert established["event"] == "pusher:connection_established"
            assert json.loads(established["data"])["activity_timeout"] == 120
            await ws.send(json.dumps({"event": "pusher:ping", "data": {}}))
            assert json.loads(await asyncio.wait_for(ws.recv(), WAIT)) == {"event": "pusher:pong", "data": "{}"}
            await ws.send("not json")
            assert json.loads(await asyncio.wait_for(ws.recv(), WAIT))["event"] == "pusher:error"
            for refused in ("chat:1", "$system", "a@b"):
                await ws.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": refused}}))
                message = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
                assert (message["event"], message["channel"]) == ("pusher:subscription_error", refused)
            # Still connected and serving.
            await ws.send(json.dumps({"event": "pusher:ping", "data": {}}))
            assert json.loads(await asyncio.wait_for(ws.recv(), WAIT))["event"] == "pusher:pong"

    run(scenario())


def test_a_reconnecting_client_resumes_after_its_last_offset(pusher_server):
    channel = unique_channel("resume")
    for n in range(1, 4):
        pusher_server.publish(channel, "step", {"n": n})

    async def scenario():
        async with connect(f"ws://127.0.0.1:{pusher_server.port}/app/{KEY}?protocol=7", proxy=None) as ws:
            await asyncio.wait_for(ws.recv(), WAIT)
            await ws.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": channel, "since": 1}}))
            succeeded = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            assert succeeded["event"] == "pusher_internal:subscription_succeeded"
            missed = [json.loads(await asyncio.wait_for(ws.recv(), WAIT)) for _ in range(2)]
            assert [(m["event"], json.loads(m["data"]), m["offset"]) for m in missed] == [
                ("step", {"n": 2}, 2), ("step", {"n": 3}, 3)]

    run(scenario())


def test_an_unsubscribe_while_a_presence_subscription_is_set_up_drops_it(pusher_server):
    channel = "presence-cache-" + unique_channel("gone")
    p = http_client(pusher_server)

    async def scenario():
        async with connect(f"ws://127.0.0.1:{pusher_server.port}/app/{KEY}?protocol=7", proxy=None) as ws:
            established = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            socket_id = json.loads(established["data"])["socket_id"]
            signed = p.authenticate(channel, socket_id, custom_data={"user_id": "ghost"})
            await ws.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": channel, **signed}}))
            await ws.send(json.dumps({"event": "pusher:unsubscribe", "data": {"channel": channel}}))
            await ws.send(json.dumps({"event": "pusher:ping", "data": {}}))
            assert json.loads(await asyncio.wait_for(ws.recv(), WAIT))["event"] == "pusher:pong"
            # Subscribing again starts afresh: its first answer is the member list. (A setup the
            # unsubscribe left behind would answer a plain success at once, then complete as well.)
            await ws.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": channel, **signed}}))
            first = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            assert first["event"] == "pusher_internal:subscription_succeeded"
            assert json.loads(first["data"])["presence"]["ids"] == ["ghost"]
            assert p.users_info(channel) == {"users": [{"id": "ghost"}]}

    run(scenario())


def test_laravels_default_event_names_arrive_unchanged(pusher_server, pysher_client):
    # Laravel broadcasts an event under its class name unless it defines broadcastAs(), and Echo
    # listens for that name: the backslashes must survive every hop.
    channel = unique_channel("laravel")
    client = pysher_client()
    client.subscribe(channel)
    assert client.next() == ("pusher_internal:subscription_succeeded", channel, "{}")
    name = "App\\Events\\OrderShipped"
    http_client(pusher_server).trigger(channel, name, {"order": 7})
    event, on, data = client.next()
    assert (event, on, json.loads(data)) == (name, channel, {"order": 7})
    assert [e["type"] for e in pusher_server.history(channel)["events"]] == [name]
