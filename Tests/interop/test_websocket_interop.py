"""WebSocket interop: the `websockets` package (asyncio client) against /v1/ws."""

from __future__ import annotations

import asyncio
import signal

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import PerMessageDeflate

from interop_support import (
    assert_canonical_event,
    ping,
    publish_http,
    recv_json,
    run,
    send_json,
    subscribe,
    unique_channel,
    welcome,
    ws_connect,
)

COMPRESSION = pytest.mark.parametrize(
    "compression", ["deflate", None], ids=["permessage-deflate", "no-compression"]
)


def assert_deflate(ws, expected: bool) -> None:
    negotiated = [e for e in ws.protocol.extensions if isinstance(e, PerMessageDeflate)]
    header = ws.response.headers.get("Sec-WebSocket-Extensions", "") or ""
    if expected:
        assert negotiated, f"permessage-deflate not negotiated (response header: {header!r})"
        assert "permessage-deflate" in header
    else:
        assert not negotiated and "permessage-deflate" not in header, (
            f"server answered with an extension the client did not offer: {header!r}"
        )


# --------------------------------------------------------------------------


def test_welcome_frame(server):
    async def main():
        async with ws_connect(server) as ws:
            msg = await welcome(ws)
            assert isinstance(msg.get("client"), str) and msg["client"].startswith("cl_"), msg
            hb = msg.get("heartbeat")
            assert isinstance(hb, int) and not isinstance(hb, bool) and hb > 0, msg
            assert "user" in msg, msg

    run(main())


def test_two_connections_get_distinct_client_ids(server):
    async def main():
        async with ws_connect(server) as a, ws_connect(server) as b:
            wa, wb = await welcome(a), await welcome(b)
            assert wa["client"] != wb["client"]

    run(main())


def test_subprotocol_switchboard_v1(server):
    async def main():
        async with ws_connect(server, subprotocols=["switchboard.v1"]) as ws:
            assert ws.subprotocol == "switchboard.v1"
            await welcome(ws)
            await ping(ws, "sp")

    run(main())


@COMPRESSION
def test_subscribe_then_publish_over_http(server, compression):
    channel = unique_channel("ws-live")
    data = {
        "order": 17,
        "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": 1}],
        "note": "unicode é ü 😀 and a\nnewline",
        "nested": {"ok": True, "nothing": None, "ratio": 0.25},
        # large and compressible, so permessage-deflate actually has work to do
        "blob": "switchboard " * 2000,
    }

    async def main():
        async with ws_connect(server, compression=compression) as ws:
            assert_deflate(ws, compression == "deflate")
            await welcome(ws)
            sub = await subscribe(ws, channel, ref="s1")
            assert sub["offset"] == 0, f"head of a new channel must be 0: {sub}"
            assert sub["truncated"] is False, sub

            pub = await publish_http(server, channel, "order.created", data)
            assert pub["offset"] == 1
            ev = await recv_json(ws)
            assert ev.get("op") == "event", ev
            assert "ref" not in ev, f"an unprompted event carries no ref: {ev}"
            assert_canonical_event(ev, extra_keys={"op"}, channel=channel, offset=1,
                                   type="order.created", data=data, published=pub)

            # The same event, in the same canonical form, from history.
            hist = await asyncio.to_thread(server.history, channel, after=0,
                                           session=server.new_session())
            assert hist["events"] == [{k: v for k, v in ev.items() if k != "op"}]

            # Scalars and other JSON values are valid `data` too.
            for i, value in enumerate(["text", 42, [1, "two", None], None, False], start=2):
                pub = await publish_http(server, channel, "value.kind", value)
                ev = await recv_json(ws)
                assert_canonical_event(ev, extra_keys={"op"}, offset=i, type="value.kind",
                                       data=value, published=pub)
            await ping(ws, "end")

    run(main())


@COMPRESSION
def test_recovery_after_disconnect(server, compression):
    channel = unique_channel("ws-recover")

    async def main():
        pre = [await publish_http(server, channel, "pre", {"n": n}) for n in (1, 2, 3)]
        async with ws_connect(server, compression=compression) as ws:
            await welcome(ws)
            sub = await subscribe(ws, channel, since=0)
            assert sub["offset"] == 3 and sub["recovered"] is True and sub["truncated"] is False, sub
            for p in pre:
                ev = await recv_json(ws)
                assert_canonical_event(ev, extra_keys={"op"}, channel=channel, type="pre",
                                       published=p)
            last = ev["offset"]
        assert last == 3

        # 100 events while nobody is connected.
        s = server.new_session()
        missed = await asyncio.to_thread(
            lambda: [server.publish(channel, "missed", {"n": n}, session=s) for n in range(100)]
        )
        assert [m["offset"] for m in missed] == list(range(4, 104))

        async with ws_connect(server, compression=compression) as ws:
            await welcome(ws)
            sub = await subscribe(ws, channel, since=last, ref="r1")
            assert sub["recovered"] is True, sub
            assert sub["truncated"] is False, sub
            assert sub["offset"] == 103, f"subscribed.offset must be the head: {sub}"
            for n, m in enumerate(missed):
                ev = await recv_json(ws)
                assert ev.get("op") == "event", ev
                assert_canonical_event(ev, extra_keys={"op"}, channel=channel, type="missed",
                                       data={"n": n}, published=m)
            # Exactly those 100: nothing else is queued, and live events continue after them.
            await ping(ws, "after-recovery")
            live = await publish_http(server, channel, "live", {"n": 100})
            ev = await recv_json(ws)
            assert_canonical_event(ev, extra_keys={"op"}, offset=104, type="live", published=live)

    run(main())


def test_subscribe_since_zero_replays_from_beginning(server):
    channel = unique_channel("ws-since0")

    async def main():
        pubs = [await publish_http(server, channel, "t", {"i": i}) for i in range(5)]
        async with ws_connect(server) as ws:
            await welcome(ws)
            sub = await subscribe(ws, channel, since=0)
            assert sub["offset"] == 5, sub
            assert sub["recovered"] is True and sub["truncated"] is False, sub
            for p in pubs:
                assert_canonical_event(await recv_json(ws), extra_keys={"op"}, published=p)
            await ping(ws, 1)

    run(main())


def test_subscribe_since_beyond_head_is_truncated(server):
    """PROTOCOL.md: a cursor beyond the head says so (truncated, not recovered)
    and continues from the earliest event still retained."""
    channel = unique_channel("ws-beyond")

    async def main():
        pubs = [await publish_http(server, channel, "t", {"i": i}) for i in range(2)]
        async with ws_connect(server) as ws:
            await welcome(ws)
            sub = await subscribe(ws, channel, since=50)
            assert sub["truncated"] is True and sub["recovered"] is False, sub
            assert sub["offset"] == 2, sub
            for p in pubs:
                assert_canonical_event(await recv_json(ws), extra_keys={"op"}, published=p)
            await ping(ws, "x")

    run(main())


def test_ping_pong_echoes_ref(server):
    async def main():
        async with ws_connect(server) as ws:
            await welcome(ws)
            await ping(ws, "abc")
            await ping(ws, 42)
            await ping(ws, 1.5)
            await ping(ws, True)
            await send_json(ws, {"op": "ping"})
            msg = await recv_json(ws)
            assert msg.get("op") == "pong" and msg.get("ref") is None, msg

    run(main())


def test_unknown_op_is_an_error_and_connection_stays_open(server):
    async def main():
        async with ws_connect(server) as ws:
            await welcome(ws)
            await send_json(ws, {"op": "frobnicate", "ref": "u1"})
            msg = await recv_json(ws)
            assert msg.get("op") == "error", msg
            assert msg.get("code") == "unknown_op", msg
            assert msg.get("ref") == "u1", msg
            assert isinstance(msg.get("message"), str) and msg["message"], msg
            await ping(ws, "still-open")

    run(main())


@pytest.mark.parametrize("payload", ["{not json", "[1, 2, 3]", '"just a string"'],
                         ids=["malformed", "array", "string"])
def test_bad_json_is_an_error_and_connection_stays_open(server, payload):
    async def main():
        async with ws_connect(server) as ws:
            await welcome(ws)
            await ws.send(payload)
            msg = await recv_json(ws)
            assert msg.get("op") == "error", msg
            assert msg.get("code") == "bad_request", msg
            assert msg.get("ref") is None, msg
            assert isinstance(msg.get("message"), str) and msg["message"], msg
            await ping(ws, "still-open")

    run(main())


def test_unsubscribe_stops_events(server):
    channel = unique_channel("ws-unsub")

    async def main():
        async with ws_connect(server) as ws:
            await welcome(ws)
            await subscribe(ws, channel)
            await send_json(ws, {"op": "unsubscribe", "channel": channel, "ref": "u"})
            msg = await recv_json(ws)
            assert msg == {"op": "unsubscribed", "channel": channel, "ref": "u"}, msg
            await publish_http(server, channel, "t", {})
            await ping(ws, "no-event-before-me")

    run(main())


def test_publish_op_reaches_another_subscriber(server):
    channel = unique_channel("ws-pub")
    data = {"text": "hello from a websocket"}

    async def main():
        async with ws_connect(server) as sub_ws, ws_connect(server) as pub_ws:
            await welcome(sub_ws)
            await welcome(pub_ws)
            await subscribe(sub_ws, channel)
            await send_json(pub_ws, {"op": "publish", "channel": channel, "type": "message",
                                     "data": data, "ref": "p1"})
            reply = await recv_json(pub_ws)
            assert reply.get("op") == "published" and reply.get("ref") == "p1", reply
            assert reply["id"].startswith("evt_") and reply["offset"] == 1, reply
            ev = await recv_json(sub_ws)
            assert_canonical_event(ev, extra_keys={"op"}, channel=channel, offset=1,
                                   type="message", data=data)
            assert ev["id"] == reply["id"]

    run(main())


def test_history_op(server):
    channel = unique_channel("ws-hist")

    async def main():
        pubs = [await publish_http(server, channel, "t", {"i": i}) for i in range(3)]
        async with ws_connect(server) as ws:
            await welcome(ws)
            await send_json(ws, {"op": "history", "channel": channel, "after": 1, "limit": 100,
                                 "ref": "h"})
            msg = await recv_json(ws)
            assert msg.get("op") == "history" and msg.get("ref") == "h", msg
            assert msg["channel"] == channel and msg["next"] == 3 and msg["truncated"] is False
            assert len(msg["events"]) == 2
            for ev, p in zip(msg["events"], pubs[1:]):
                assert_canonical_event(ev, published=p)

    run(main())


def test_graceful_shutdown_closes_websocket(server_factory):
    """SIGTERM: connected clients are told the server is going away, exit code 0."""
    srv = server_factory()
    channel = unique_channel("ws-shutdown")

    async def main():
        async with ws_connect(srv) as ws:
            await welcome(ws)
            await subscribe(ws, channel)
            srv.proc.send_signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed):
                while True:
                    await recv_json(ws, timeout=15)
            assert ws.close_code in (1001, 1012), f"close code {ws.close_code}"

    run(main())
    srv.stop_and_assert_clean()
