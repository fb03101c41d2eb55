"""Plain HTTP API behaviour that every client relies on: errors, auth, idempotency,
durability across a restart."""

from __future__ import annotations

from interop_support import assert_canonical_event, assert_problem, new_session, unique_channel


def test_invalid_channel_is_problem_json(server):
    r = server.session.post(server.url("/v1/channels/bad@name/events"),
                            json={"type": "t", "data": {}}, timeout=10)
    assert_problem(r, 400, "invalid_channel")


def test_invalid_type_is_problem_json(server):
    r = server.session.post(server.url(f"/v1/channels/{unique_channel('http')}/events"),
                            json={"type": "has space", "data": {}}, timeout=10)
    assert_problem(r, 400, "invalid_type")


def test_batch_with_bad_item_stores_nothing(server):
    ch = unique_channel("http-batch")
    items = [{"channel": ch, "type": "ok", "data": 1}, {"channel": ch, "type": "bad type", "data": 2}]
    r = server.session.post(server.url("/v1/events"), json={"events": items}, timeout=10)
    body = assert_problem(r, 400, "invalid_type")
    assert body.get("index") == 1, body
    assert server.history(ch, after=0)["events"] == []


def test_idempotency_key_replay(server):
    ch = unique_channel("http-idem")
    headers = {"Idempotency-Key": "interop-" + ch}
    first = server.publish(ch, "t", {"n": 1}, headers=headers, expect=201)
    r = server.session.post(server.url(f"/v1/channels/{ch}/events"),
                            json={"type": "t", "data": {"n": 1}}, headers=headers, timeout=10)
    assert r.status_code == 200, r.text[:500]
    assert r.headers.get("Idempotent-Replayed") == "true"
    assert r.json() == first
    assert len(server.history(ch, after=0)["events"]) == 1


def test_non_dev_server_requires_the_admin_key(auth_server):
    ch = unique_channel("http-auth")
    anonymous = new_session()
    try:
        r = anonymous.post(auth_server.url(f"/v1/channels/{ch}/events"),
                           json={"type": "t", "data": {}}, timeout=10)
        assert_problem(r, 401, "unauthorized")
        r = anonymous.post(auth_server.url(f"/v1/channels/{ch}/events"),
                           json={"type": "t", "data": {}}, timeout=10,
                           headers={"Authorization": "Bearer sbk_not_a_real_key"})
        assert_problem(r, 401, "unauthorized")
        # Client transports without credentials: 401 as well.
        r = anonymous.get(auth_server.url("/v1/sse"), params={"channel": ch},
                          headers={"Accept": "text/event-stream"}, timeout=10, stream=True)
        try:
            assert_problem(r, 401, "unauthorized")
        finally:
            r.close()
        r = anonymous.get(auth_server.url(f"/v1/channels/{ch}/events"),
                          params={"after": 0, "wait": 0}, timeout=10)
        assert_problem(r, 401, "unauthorized")
        # Probes answer without a key.
        for path in ("/healthz", "/readyz", "/metrics"):
            assert anonymous.get(auth_server.url(path), timeout=10).status_code == 200, path
    finally:
        anonymous.close()
    # With the admin key from DIR/admin.key (auth_server.session sends it).
    pub = auth_server.publish(ch, "t", {"ok": True})
    assert pub["offset"] == 1


def test_events_and_admin_key_survive_restart(server_factory):
    srv = server_factory(dev=False)
    key = srv.api_key
    data_dir = srv.data_dir
    ch = unique_channel("http-restart")
    pubs = [srv.publish(ch, "t", {"n": n}) for n in range(3)]
    srv.stop_and_assert_clean()

    srv2 = server_factory(dev=False, data_dir=data_dir)
    assert srv2.api_key == key, "admin.key must not change across restarts"
    body = srv2.history(ch, after=0)
    assert len(body["events"]) == 3
    for ev, pub in zip(body["events"], pubs):
        assert_canonical_event(ev, type="t", published=pub)
    assert srv2.publish(ch, "t", {"n": 3})["offset"] == 4
