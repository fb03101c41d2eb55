"""Server-Sent Events interop: `sseclient-py` over a `requests` streaming response."""

from __future__ import annotations

import json
import signal

import requests

from interop_support import Stream, assert_canonical_event, parse_cursor, unique_channel


def check_stream(stream, channels, expected_by_channel, start_offsets):
    """Read sum(len(v)) events. Per channel they must be exactly the expected
    publish replies, in order; each id must be a cursor naming every channel at
    the last offset the stream has passed (its start offset before any event).
    Cross-channel order is not specified by the protocol and is not checked.
    Returns the last raw id."""
    pending = {c: list(v) for c, v in expected_by_channel.items()}
    position = dict(start_offsets)
    last_id = None
    for _ in range(sum(len(v) for v in expected_by_channel.values())):
        ev, cursor, last_id = stream.next_event()
        ch = ev.get("channel")
        assert ch in pending and pending[ch], f"unexpected event {ev}"
        assert_canonical_event(ev, published=pending[ch].pop(0))
        position[ch] = ev["offset"]
        assert set(cursor) == set(channels), f"cursor {last_id!r} must name {channels}"
        assert cursor == position, f"cursor {last_id!r} != stream position {position}"
    return last_id


# --------------------------------------------------------------------------


def test_live_events_in_order_across_two_channels(server):
    a = unique_channel("interop:sse-a")  # a namespaced name: ':' inside a cursor
    b = unique_channel("sse-b")
    data_a = {"text": "unicode é 😀 and a\nnewline", "list": [1, 2, 3]}
    pre = [server.publish(a, "pre", {"i": i}) for i in range(2)]  # head of a: 2, of b: 0
    assert pre[-1]["offset"] == 2

    with Stream(server, [a, b]) as stream:
        # The stream is live once its headers arrived: publish now.
        plan = [(a, "a.3"), (b, "b.1"), (a, "a.4"), (b, "b.2"), (b, "b.3"), (a, "a.5")]
        expected = {a: [], b: []}
        for ch, t in plan:
            expected[ch].append(server.publish(ch, t, data_a if ch == a else t))
        check_stream(stream, [a, b], expected, {a: 2, b: 0})


def test_event_payload_is_the_canonical_event(server):
    ch = unique_channel("sse-canon")
    data = {"n": 1, "s": "x" * 1000, "nested": {"deep": [None, True, 1.5]}}
    with Stream(server, [ch]) as stream:
        pub = server.publish(ch, "order.created", data)
        ev, cursor, raw_id = stream.next_event()
        assert_canonical_event(ev, channel=ch, offset=1, type="order.created", data=data,
                               published=pub)
        assert raw_id == f"{ch}@1"
        hist = server.history(ch, after=0)
        assert hist["events"] == [ev], "SSE and history must carry the identical event"


def test_resume_with_last_event_id(server):
    a = unique_channel("interop:sse-resume-a")
    b = unique_channel("sse-resume-b")

    with Stream(server, [a, b]) as stream:
        first = {a: [server.publish(a, "t", {"n": 1})], b: [server.publish(b, "t", {"n": 1})]}
        last_id = check_stream(stream, [a, b], first, {a: 0, b: 0})
    assert parse_cursor(last_id) == {a: 1, b: 1}

    missed = {
        a: [server.publish(a, "t", {"n": 2}), server.publish(a, "t", {"n": 3})],
        b: [server.publish(b, "t", {"n": 2})],
    }
    with Stream(server, [a, b], last_event_id=last_id) as stream:
        check_stream(stream, [a, b], missed, {a: 1, b: 1})
        # Exactly the missed ones: the next events are live ones published now.
        live = {a: [server.publish(a, "live", {"n": 4})], b: [server.publish(b, "live", {"n": 3})]}
        last = check_stream(stream, [a, b], live, {a: 3, b: 2})
        assert parse_cursor(last) == {a: 4, b: 3}


def test_resume_with_cursor_query_parameter(server):
    a = unique_channel("interop:sse-cursor-a")
    b = unique_channel("sse-cursor-b")
    pa = [server.publish(a, "t", {"n": n}) for n in range(1, 4)]  # a: 1..3
    pb = [server.publish(b, "t", {"n": n}) for n in range(1, 3)]  # b: 1..2

    with Stream(server, [a, b], cursor=f"{a}@1,{b}@0") as stream:
        check_stream(stream, [a, b], {a: pa[1:], b: pb}, {a: 1, b: 0})
        live = {a: [server.publish(a, "live", {})], b: []}
        last = check_stream(stream, [a, b], live, {a: 3, b: 2})
        assert parse_cursor(last) == {a: 4, b: 2}


def test_cursor_offset_zero_means_from_the_beginning(server):
    ch = unique_channel("sse-zero")
    pubs = [server.publish(ch, "t", {"n": n}) for n in range(3)]
    with Stream(server, [ch], cursor=f"{ch}@0") as stream:
        check_stream(stream, [ch], {ch: pubs}, {ch: 0})


def test_cursor_beyond_head_is_reported_as_truncated(server):
    """PROTOCOL.md: a cursor beyond the head never silently skips: the stream says
    so (`event: switchboard`, op `truncated`) and continues from the earliest event."""
    ch = unique_channel("sse-beyond")
    pubs = [server.publish(ch, "t", {"n": n}) for n in range(2)]
    with Stream(server, [ch], cursor=f"{ch}@50") as stream:
        msg = stream.next_raw()
        assert msg.event == "switchboard", f"expected a truncated notice, got {msg}: {msg.data}"
        control = json.loads(msg.data)
        assert control.get("op") == "truncated", control
        if "channel" in control:
            assert control["channel"] == ch, control
        check_stream(stream, [ch], {ch: pubs}, {ch: 0})


def test_graceful_shutdown_ends_sse_stream(server_factory):
    srv = server_factory()
    ch = unique_channel("sse-shutdown")
    stream = Stream(srv, [ch])
    try:
        srv.proc.send_signal(signal.SIGTERM)
        # The stream must end: not hang until the read timeout (which would raise
        # requests' ConnectionError and fail the test).
        try:
            for _ in stream.client.events():
                pass  # a last control message, if any, is fine
        except requests.exceptions.ChunkedEncodingError:
            pass  # closed without the final empty chunk: ended all the same
    finally:
        stream.close()
    srv.stop_and_assert_clean()
