"""History and long-poll interop: plain HTTP (`requests`) against
GET /v1/channels/{channel}/events."""

from __future__ import annotations

import threading
import time

from interop_support import assert_canonical_event, unique_channel


def test_long_poll_returns_when_an_event_is_published(server):
    channel = unique_channel("lp-wake")
    published: dict = {}
    errors: list[BaseException] = []

    def publish_later():
        # Give the GET a head start so that it is usually held by the server. The
        # outcome does not depend on this: a GET that arrives after the publish
        # answers at once with the same event.
        time.sleep(0.5)
        try:
            s = server.new_session()
            published.update(server.publish(channel, "poke", {"hello": "poller"}, session=s))
            s.close()
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    publisher = threading.Thread(target=publish_later, daemon=True)
    started = time.monotonic()
    publisher.start()
    body = server.history(channel, after=0, wait=10, timeout=20)
    elapsed = time.monotonic() - started
    publisher.join(timeout=10)
    assert not errors, errors
    assert published, "publisher thread did not finish"

    assert len(body["events"]) == 1, body
    assert_canonical_event(body["events"][0], channel=channel, offset=1, type="poke",
                           data={"hello": "poller"}, published=published)
    assert body["next"] == 1 and body["truncated"] is False, body
    assert elapsed < 8, f"long-poll held {elapsed:.1f}s although an event was published"


def test_long_poll_times_out_empty(server):
    channel = unique_channel("lp-empty")
    server.publish(channel, "t", {})
    started = time.monotonic()
    body = server.history(channel, after=1, wait=1, timeout=20)
    elapsed = time.monotonic() - started
    assert body["events"] == [], body
    assert body["next"] == 1, body
    assert body["truncated"] is False, body
    assert 0.5 <= elapsed < 8, f"wait=1 answered after {elapsed:.2f}s"


def test_history_pages_with_next(server):
    channel = unique_channel("lp-page")
    pubs = [server.publish(channel, "page", {"n": n}) for n in range(5)]
    seen = []
    after = 0
    for expected_count, expected_next in ((2, 2), (2, 4), (1, 5), (0, 5)):
        body = server.history(channel, after=after, limit=2)
        assert len(body["events"]) == expected_count, body
        assert body["next"] == expected_next, body
        assert body["earliest"] == 1 and body["truncated"] is False, body
        seen += body["events"]
        after = body["next"]
    assert len(seen) == 5
    for ev, pub in zip(seen, pubs):
        assert_canonical_event(ev, channel=channel, type="page", published=pub)


def test_history_after_beyond_head_is_truncated(server):
    """PROTOCOL.md: a cursor beyond the head never silently skips: truncated, and
    the reply starts at the earliest event still retained."""
    channel = unique_channel("lp-beyond")
    pubs = [server.publish(channel, "t", {"n": n}) for n in range(2)]
    body = server.history(channel, after=50)
    assert body["truncated"] is True, body
    assert body["earliest"] == 1, body
    assert [e["id"] for e in body["events"]] == [p["id"] for p in pubs], body
    assert body["next"] == 2, body


def test_batch_publish_then_read(server):
    a, b = unique_channel("lp-batch-a"), unique_channel("lp-batch-b")
    items = [
        {"channel": a, "type": "x", "data": {"i": 0}},
        {"channel": b, "type": "y", "data": [1, 2]},
        {"channel": a, "type": "x", "data": "two"},
    ]
    r = server.session.post(server.url("/v1/events"), json={"events": items}, timeout=10)
    assert r.status_code == 201, r.text[:500]
    replies = r.json()["events"]
    assert [(e["channel"], e["offset"]) for e in replies] == [(a, 1), (b, 1), (a, 2)]
    body = server.history(a, after=0)
    for ev, item, reply in zip(body["events"], (items[0], items[2]), (replies[0], replies[2])):
        assert_canonical_event(ev, type=item["type"], data=item["data"], published=reply)
