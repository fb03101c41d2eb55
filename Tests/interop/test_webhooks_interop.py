"""Webhooks out (PROTOCOL.md, "Webhooks out"), checked with third-party receivers' libraries:
every delivery must verify with `standardwebhooks` and with `svix`, through a secret rotation
too, and both must refuse tampered or stale deliveries.

The `server` fixture runs with --dev, which allows loopback targets (webhooks.allow_private_targets),
so deliveries reach a receiver on 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time

import pytest

from interop_support import assert_time, unique_channel
from webhook_support import (
    VERIFICATION_ERRORS,
    VERIFIERS,
    Receiver,
    create_endpoint,
    list_deliveries,
    rotate_secret,
    sign_v1,
    signature_entries,
    svix_headers,
    verify_with_both,
    wait_deliveries_settled,
)

PAYLOAD_KEYS = {"type", "timestamp", "channel", "offset", "data"}
SIGNATURE_RE = re.compile(r"^v1,[A-Za-z0-9+/]{43}=$")  # base64 of a 32-byte HMAC-SHA256
TOLERANCE = 300  # both libraries accept timestamps within 5 minutes of now

# Different kinds of data: unicode in several scripts and planes, JSON escapes, nesting, arrays,
# scalars. Each must arrive unchanged and be signed over the exact bytes sent.
EVENT_DATA = [
    {"n": 1, "text": "plain ascii"},
    {
        "greeting": "Grüße, 世界! 🚀",
        "rtl": "مرحبا بالعالم",
        "combining": "e\u0301 vs \u00e9",
        "escapes": 'quote " backslash \\ slash / tab \t newline \n',
        "separators": "\u2028\u2029",
        "control": "\u0000\u001f",
        "astral": "𝄞 𐍈",
    },
    {
        "order": {
            "id": "o-1",
            "lines": [
                {"sku": "a", "qty": 2, "price": 9.99},
                {"sku": "b", "qty": 1, "tags": ["x", {"deep": {"deeper": [1, [2, [3, None]]]}}]},
            ],
            "paid": True,
            "note": None,
            "empty": {},
            "none": [],
        }
    },
    [1, "two", 3.5, False, None, {"k": []}, -0.25, 1e21],
    "just a string with emoji 🎉",
    42,
    None,
    {},
]


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def assert_secret_text(secret: str) -> None:
    assert secret.startswith("whsec_"), secret[:8]
    key = base64.b64decode(secret[len("whsec_"):], validate=True)
    assert 24 <= len(key) <= 64, len(key)


def assert_delivery_headers(headers: dict[str, str], *, event_id: str, signatures: int) -> None:
    assert headers.get("webhook-id") == event_id, headers
    assert headers.get("content-type", "").split(";")[0].strip() == "application/json", headers
    assert headers.get("user-agent", "").startswith("Switchboard/"), headers
    ts = headers.get("webhook-timestamp", "")
    assert ts.isdigit(), ts
    assert abs(int(ts) - time.time()) <= TOLERANCE, f"webhook-timestamp {ts} is not about now"
    entries = signature_entries(headers)
    assert len(entries) == signatures, headers["webhook-signature"]
    for entry in entries:
        assert SIGNATURE_RE.match(entry), entry


def test_every_delivery_verifies_with_standardwebhooks_and_svix(server, receiver):
    ch = unique_channel("wh-verify")
    ep = create_endpoint(server, receiver.url("/hooks/orders?src=interop"), [ch],
                         types=["interop.*"], ordered=True, headers={"X-Interop": "yes"})
    secret = ep["secret"]
    assert_secret_text(secret)
    assert ep["signing"] == "hmac-sha256" and ep["ordered"] is True, ep

    # A type the endpoint does not want: no delivery is made for it at all.
    skipped = server.publish(ch, "other.kind", {"skip": True})
    pubs = [server.publish(ch, f"interop.kind{i}", data) for i, data in enumerate(EVENT_DATA)]
    by_id = receiver.wait_for_ids({p["id"] for p in pubs}, timeout=30)

    for i, (pub, data) in enumerate(zip(pubs, EVENT_DATA)):
        reqs = by_id[pub["id"]]
        req = reqs[0]
        assert req.method == "POST" and req.path == "/hooks/orders?src=interop", (req.method, req.path)
        assert req.headers.get("x-interop") == "yes", req.headers
        assert_delivery_headers(req.headers, event_id=pub["id"], signatures=1)
        body = req.json()
        assert set(body) == PAYLOAD_KEYS, sorted(body)
        assert body["type"] == f"interop.kind{i}"
        assert body["channel"] == ch
        assert body["offset"] == pub["offset"]
        assert body["timestamp"] == pub["time"]
        assert_time(body["timestamp"])
        assert body["data"] == data, f"data changed in delivery: {body['data']!r} != {data!r}"
        for r in reqs:  # a retried delivery must verify too
            verify_with_both(secret, r.body, r.headers)
        # The signature is exactly Standard Webhooks v1 over "{id}.{timestamp}.{body}".
        assert req.headers["webhook-signature"] == sign_v1(
            secret, pub["id"], int(req.headers["webhook-timestamp"]), req.body)

    # An ordered endpoint receives a channel's events in offset order.
    first_seen = []
    for r in receiver.snapshot():
        if r.webhook_id not in first_seen:
            first_seen.append(r.webhook_id)
    assert first_seen == [p["id"] for p in pubs], "ordered endpoint: deliveries out of offset order"
    assert skipped["id"] not in receiver.seen_ids()

    deliveries = wait_deliveries_settled(server, ep["id"], {p["id"] for p in pubs})
    for pub in pubs:
        d = deliveries[pub["id"]]
        assert d["status"] == "succeeded", d
        assert d["endpoint"] == ep["id"] and d["channel"] == ch and d["offset"] == pub["offset"], d
        assert d["attempts"] and d["attempts"][-1]["status"] == 200, d
    assert all(d["event"] != skipped["id"] for d in list_deliveries(server, ep["id"]))


def test_a_laravel_class_name_type_is_filtered_sent_and_signed_unchanged(server, receiver):
    ch = unique_channel("wh-laravel")
    ep = create_endpoint(server, receiver.url(), [ch], types=["App\\Events\\*"])
    assert ep["types"] == ["App\\Events\\*"]
    server.publish(ch, "order.shipped", {"n": 0})
    pub = server.publish(ch, "App\\Events\\OrderShipped", {"n": 1})
    # Deliveries are made with the commit: only the type the pattern matches has one.
    assert [d["event"] for d in list_deliveries(server, ep["id"])] == [pub["id"]]
    req = receiver.wait_for_ids({pub["id"]}, timeout=30)[pub["id"]][0]
    verify_with_both(ep["secret"], req.body, req.headers)
    assert req.json()["type"] == "App\\Events\\OrderShipped"


def test_rotation_signs_with_old_and_new_secret(server, receiver):
    ch = unique_channel("wh-rotate")
    ep = create_endpoint(server, receiver.url(), [ch])
    old = ep["secret"]

    before = server.publish(ch, "interop.before", {"phase": "before rotation"})
    req = receiver.wait_for_ids({before["id"]})[before["id"]][0]
    assert_delivery_headers(req.headers, event_id=before["id"], signatures=1)
    verify_with_both(old, req.body, req.headers)

    new = rotate_secret(server, ep["id"])
    assert_secret_text(new)
    assert new != old

    pubs = [server.publish(ch, "interop.during", {"n": n, "text": "überall ✓"}) for n in range(4)]
    by_id = receiver.wait_for_ids({p["id"] for p in pubs})
    for pub in pubs:
        for r in by_id[pub["id"]]:
            assert_delivery_headers(r.headers, event_id=pub["id"], signatures=2)
            # Each library accepts the delivery with the old secret and with the new one.
            for name, make in VERIFIERS.items():
                for label, secret in (("old", old), ("new", new)):
                    try:
                        make(secret).verify(r.body, r.headers)
                    except VERIFICATION_ERRORS as e:
                        pytest.fail(f"{name} refused a delivery during rotation with the {label} secret: {e}")
                    if name == "svix":  # svix also reads its own header names
                        make(secret).verify(r.body, svix_headers(r.headers))
            ts = int(r.headers["webhook-timestamp"])
            entries = signature_entries(r.headers)
            assert sign_v1(new, pub["id"], ts, r.body) in entries, "no signature with the new secret"
            assert sign_v1(old, pub["id"], ts, r.body) in entries, "no signature with the old secret"

    # Rotating to a secret of one's own: it signs, alongside the one it replaced.
    chosen = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    assert rotate_secret(server, ep["id"], {"secret": chosen}) == chosen
    after = server.publish(ch, "interop.after", {"phase": "own secret"})
    for r in receiver.wait_for_ids({after["id"]})[after["id"]]:
        assert_delivery_headers(r.headers, event_id=after["id"], signatures=2)
        verify_with_both(chosen, r.body, r.headers)
        verify_with_both(new, r.body, r.headers)


def _assert_refused(secret: str, body: bytes, headers: dict[str, str], why: str,
                    message: str | None = None) -> None:
    for name, make in VERIFIERS.items():
        for spelling, hdrs in (("webhook-*", headers), ("svix-*", svix_headers(headers))):
            if name == "standardwebhooks" and spelling == "svix-*":
                continue  # standardwebhooks reads only webhook-* headers
            with pytest.raises(VERIFICATION_ERRORS) as info:
                make(secret).verify(body, hdrs)
            if message is not None:
                assert message in str(info.value), f"{name} ({why}): {info.value}"


def test_tampered_and_stale_deliveries_are_refused(server, receiver):
    ch = unique_channel("wh-tamper")
    ep = create_endpoint(server, receiver.url(), [ch])
    secret = ep["secret"]
    pub = server.publish(ch, "interop.payment", {"amount": 100, "currency": "EUR", "note": "héllo"})
    req = receiver.wait_for_ids({pub["id"]})[pub["id"]][0]
    body, headers = req.body, req.headers
    verify_with_both(secret, body, headers)  # the genuine delivery verifies

    # One altered byte in the body ("100" -> "900"; ASCII, so it stays valid UTF-8).
    at = body.index(b'"amount":100') + len(b'"amount":')
    tampered = body[:at] + b"9" + body[at + 1:]
    assert len(tampered) == len(body) and sum(a != b for a, b in zip(tampered, body)) == 1
    _assert_refused(secret, tampered, headers, "tampered body", "No matching signature")

    # Other headers than those signed: another event id, a wrong secret.
    _assert_refused(secret, body, {**headers, "webhook-id": "evt_not_this_one"}, "other id",
                    "No matching signature")
    other_secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    _assert_refused(other_secret, body, headers, "wrong secret", "No matching signature")

    # The captured delivery replayed with an old timestamp (its signature then mismatches too).
    now = int(time.time())
    _assert_refused(secret, body, {**headers, "webhook-timestamp": str(now - 3600)}, "replayed old",
                    "too old")

    # Correctly signed, but an hour old or an hour ahead: refused for the timestamp alone.
    # Control first: the same independently computed signature at the current time verifies,
    # so the refusals below are the libraries' 5-minute tolerance and nothing else.
    fresh = {**headers, "webhook-timestamp": str(now),
             "webhook-signature": sign_v1(secret, pub["id"], now, body)}
    verify_with_both(secret, body, fresh)
    old = {**headers, "webhook-timestamp": str(now - 3600),
           "webhook-signature": sign_v1(secret, pub["id"], now - 3600, body)}
    _assert_refused(secret, body, old, "correctly signed, old", "too old")
    ahead = {**headers, "webhook-timestamp": str(now + 3600),
             "webhook-signature": sign_v1(secret, pub["id"], now + 3600, body)}
    _assert_refused(secret, body, ahead, "correctly signed, future", "too new")


def test_ed25519_endpoint_signs_v1a(server, receiver):
    """`"signing":"ed25519"`: a `v1a` signature the `whpk_` public key verifies (the libraries
    under test only know `v1`, so they must not accept it as one)."""
    ed = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ed25519")
    ch = unique_channel("wh-ed25519")
    ep = create_endpoint(server, receiver.url(), [ch], signing="ed25519")
    assert ep["signing"] == "ed25519" and ep["secret"] == ep["publicKey"], ep
    assert ep["publicKey"].startswith("whpk_"), ep
    raw = base64.b64decode(ep["publicKey"][len("whpk_"):], validate=True)
    key = ed.Ed25519PublicKey.from_public_bytes(raw)
    pub = server.publish(ch, "interop.signed", {"scheme": "ed25519", "text": "ünïcode"})
    req = receiver.wait_for_ids({pub["id"]})[pub["id"]][0]
    entries = signature_entries(req.headers)
    assert len(entries) == 1 and entries[0].startswith("v1a,"), entries
    content = f"{pub['id']}.{req.headers['webhook-timestamp']}.".encode() + req.body
    key.verify(base64.b64decode(entries[0][len("v1a,"):]), content)  # raises if invalid
    with pytest.raises(Exception):
        key.verify(base64.b64decode(entries[0][len("v1a,"):]), content + b" ")
    assert json.loads(req.body)["data"] == {"scheme": "ed25519", "text": "ünïcode"}


def test_loopback_target_refused_without_dev(auth_server, receiver):
    """Without --dev (and without webhooks.allow_private_targets) a loopback target is never
    contacted: the attempt is recorded as refused and the receiver sees nothing."""
    ch = unique_channel("wh-private")
    ep = create_endpoint(auth_server, receiver.url(), [ch])
    pub = auth_server.publish(ch, "interop.private", {"n": 1})
    deadline = time.monotonic() + 30
    while True:
        deliveries = [d for d in list_deliveries(auth_server, ep["id"]) if d["event"] == pub["id"]]
        if deliveries and deliveries[0]["attempts"]:
            break
        assert time.monotonic() < deadline, f"no attempt recorded: {deliveries}"
        time.sleep(0.1)  # polling interval, not synchronization
    d = deliveries[0]
    assert d["status"] in ("failed", "dead"), d
    attempt = d["attempts"][0]
    assert attempt["status"] is None and "refused" in (attempt["error"] or ""), attempt
    # The refusal names the configuration key that allows such targets, as it is spelled.
    assert "webhooks.allow_private_targets" in attempt["error"], attempt
    assert receiver.snapshot() == [], "a loopback target was contacted without --dev"


def test_private_targets_allowed_by_configuration(server_factory, receiver):
    """webhooks.allow_private_targets (SWITCHBOARD_WEBHOOKS_ALLOW_PRIVATE_TARGETS) allows a
    loopback target without --dev."""
    srv = server_factory(dev=False, env={"SWITCHBOARD_WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true"})
    ch = unique_channel("wh-allowed")
    ep = create_endpoint(srv, receiver.url(), [ch])
    pub = srv.publish(ch, "interop.allowed", {"n": 1})
    req = receiver.wait_for_ids({pub["id"]})[pub["id"]][0]
    verify_with_both(ep["secret"], req.body, req.headers)
