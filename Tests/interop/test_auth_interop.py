"""Client auth interop: tokens minted by PyJWT (HS256 with jwt.secret; EdDSA, ES256 and RS256
with jwt.public_keys) on WebSocket, SSE and long-poll (PROTOCOL.md, "Common rules": client auth).

The server runs without --dev, so the channels (in an unconfigured, non-public namespace) can
only be read with a credential; events are published with the admin key over the HTTP API.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from websockets.exceptions import ConnectionClosed

from interop_support import (
    HTTP_TIMEOUT,
    Stream,
    assert_canonical_event,
    assert_problem,
    assert_time,
    expect_close,
    make_token,
    ping,
    publish_http,
    recv_json,
    run,
    send_json,
    subscribe,
    unique_channel,
    unsigned_token,
    welcome,
    ws_connect,
)

SECRET = "interop-hs256-secret-0123456789abcdef"  # >= 32 bytes, as RFC 7518 asks for HS256
WRONG_SECRET = "interop-hs256-wrong-secret-fedcba9876543210"
ALGORITHMS = ["HS256", "EdDSA", "ES256", "RS256"]


def _private_keys() -> dict:
    return {
        "EdDSA": ed25519.Ed25519PrivateKey.generate(),
        "ES256": ec.generate_private_key(ec.SECP256R1()),
        "RS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    }


@pytest.fixture(scope="module")
def keys():
    """Signing keys by algorithm (the configured ones) and keys the server does not know."""
    return {"good": {"HS256": SECRET, **_private_keys()},
            "wrong": {"HS256": WRONG_SECRET, **_private_keys()}}


@pytest.fixture(scope="module")
def jwt_server(module_server_factory, tmp_path_factory, keys):
    key_dir = tmp_path_factory.mktemp("jwt-keys")
    paths = []
    for alg in ("EdDSA", "ES256", "RS256"):
        pem = keys["good"][alg].public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        path = key_dir / f"{alg.lower()}-public.pem"
        path.write_bytes(pem)
        paths.append(str(path))
    return module_server_factory(
        dev=False, config={"jwt": {"secret": SECRET, "public_keys": paths}}
    )


def token(keys, alg="HS256", *, which="good", **claims) -> str:
    claims.setdefault("exp", int(time.time()) + 600)
    return make_token(keys[which][alg], alg, **claims)


def namespace() -> str:
    return unique_channel("auth")


def assert_sse_refused(server, channels, tok, status: int, code: str, *, via="query") -> None:
    """Opens /v1/sse as a client (no admin key; the token in `?token=` or `Authorization`)
    and expects a problem+json refusal."""
    params = [("channel", c) for c in channels]
    s = server.client_session(tok if via == "header" else None)
    if via == "query" and tok is not None:
        params.append(("token", tok))
    try:
        # stream=True: a stream wrongly accepted fails at once instead of hanging in a read.
        with s.get(server.url("/v1/sse"), params=params, headers={"Accept": "text/event-stream"},
                   stream=True, timeout=(5, 10)) as r:
            assert_problem(r, status, code)
    finally:
        s.close()


def long_poll(server, channel, tok, *, after=0, wait=None):
    s = server.client_session(tok)
    params = {"after": after}
    if wait is not None:
        params["wait"] = wait
    try:
        return s.get(server.url(f"/v1/channels/{channel}/events"), params=params,
                     timeout=HTTP_TIMEOUT + (wait or 0))
    finally:
        s.close()


def parse_time(text: str) -> float:
    assert_time(text)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# -- accepted tokens --------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_websocket_token_in_query(jwt_server, keys, alg):
    ns = namespace()
    channel = f"{ns}:1"
    sub = f"user-{alg.lower()}"
    tok = token(keys, alg, sub=sub, channels=[f"{ns}:*"], info={"name": sub})

    async def main():
        async with ws_connect(jwt_server, token=tok) as ws:
            hello = await welcome(ws)
            assert hello.get("user") == sub, f"welcome must carry the token's sub: {hello}"
            assert isinstance(hello.get("client"), str) and hello["client"].startswith("cl_"), hello
            await subscribe(ws, channel, ref="s")
            pub = await publish_http(jwt_server, channel, "auth.test", {"alg": alg})
            ev = await recv_json(ws)
            assert ev.get("op") == "event", ev
            assert_canonical_event(ev, extra_keys={"op"}, channel=channel, type="auth.test",
                                   data={"alg": alg}, published=pub)

    run(main())


def test_websocket_token_in_authorization_header(jwt_server, keys):
    ns = namespace()
    tok = token(keys, "EdDSA", sub="header-user", channels=[f"{ns}:*"])

    async def main():
        async with ws_connect(jwt_server, additional_headers={"Authorization": f"Bearer {tok}"}) as ws:
            hello = await welcome(ws)
            assert hello.get("user") == "header-user", hello
            await subscribe(ws, f"{ns}:1")

    run(main())


def test_websocket_auth_frame_after_anonymous_connect(jwt_server, keys):
    ns = namespace()
    channel = f"{ns}:1"
    exp = int(time.time()) + 600
    tok = token(keys, "HS256", sub="frame-user", channels=[f"{ns}:*"], exp=exp)

    async def main():
        async with ws_connect(jwt_server) as ws:
            hello = await welcome(ws)
            assert hello.get("user") is None, f"anonymous connection with a user: {hello}"
            await send_json(ws, {"op": "auth", "token": tok, "ref": "a1"})
            authed = await recv_json(ws)
            assert authed.get("op") == "authed" and authed.get("ref") == "a1", authed
            assert authed.get("user") == "frame-user", authed
            assert abs(parse_time(authed["expires"]) - exp) < 1.0, authed
            await subscribe(ws, channel)
            pub = await publish_http(jwt_server, channel, "t", {"n": 1})
            assert_canonical_event(await recv_json(ws), extra_keys={"op"}, published=pub)

    run(main())


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_sse_token_in_query_streams(jwt_server, keys, alg):
    ns = namespace()
    channel = f"{ns}:1"
    tok = token(keys, alg, sub=f"sse-{alg.lower()}", channels=[f"{ns}:*"])
    with Stream(jwt_server, [channel], token=tok) as stream:
        pub = jwt_server.publish(channel, "sse.test", {"alg": alg})
        ev, cursor, _ = stream.next_event()
        assert_canonical_event(ev, channel=channel, offset=1, type="sse.test", data={"alg": alg},
                               published=pub)
        assert cursor == {channel: 1}


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_long_poll_with_bearer_token(jwt_server, keys, alg):
    ns = namespace()
    channel = f"{ns}:1"
    tok = token(keys, alg, sub=f"lp-{alg.lower()}", channels=[f"{ns}:*"])
    first = jwt_server.publish(channel, "t", {"n": 1})
    r = long_poll(jwt_server, channel, tok)
    assert r.status_code == 200, f"{r.status_code} {r.text[:500]}"
    body = r.json()
    assert len(body["events"]) == 1, body
    assert_canonical_event(body["events"][0], published=first)

    # A held long-poll with the token wakes up for the next event.
    result: dict = {}

    def poll():
        try:
            result["response"] = long_poll(jwt_server, channel, tok, after=1, wait=15)
        except BaseException as e:  # reported by the main thread
            result["error"] = e

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    second = jwt_server.publish(channel, "t", {"n": 2})
    poller.join(timeout=30)
    assert not poller.is_alive(), "long-poll did not return"
    assert "error" not in result, result.get("error")
    r = result["response"]
    assert r.status_code == 200, f"{r.status_code} {r.text[:500]}"
    events = r.json()["events"]
    assert len(events) == 1, events
    assert_canonical_event(events[0], published=second)


# -- refused tokens ---------------------------------------------------------------------------

BAD_TOKENS = ["wrong-secret", "wrong-ed25519-key", "alg-none", "expired", "expired-eddsa",
              "not-yet-valid", "garbage"]


def bad_token(keys, kind: str, ns: str) -> str:
    claims = {"sub": "mallory", "channels": [f"{ns}:*"]}
    now = int(time.time())
    if kind == "wrong-secret":
        return token(keys, "HS256", which="wrong", **claims)
    if kind == "wrong-ed25519-key":
        return token(keys, "EdDSA", which="wrong", **claims)
    if kind == "alg-none":
        return unsigned_token(exp=now + 600, **claims)
    if kind == "expired":
        return token(keys, "HS256", exp=now - 60, **claims)
    if kind == "expired-eddsa":
        return token(keys, "EdDSA", exp=now - 60, **claims)
    if kind == "not-yet-valid":
        return token(keys, "HS256", nbf=now + 3600, **claims)
    if kind == "garbage":
        return "not-a.jwt.at-all"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_websocket_bad_token_is_closed_with_4001(jwt_server, keys, kind):
    ns = namespace()
    tok = bad_token(keys, kind, ns)

    async def main():
        # The upgrade itself succeeds (a browser could not read why it failed) ...
        async with ws_connect(jwt_server, token=tok) as ws:
            # ... and the server then closes with 4001, never admitting the user.
            try:
                await send_json(ws, {"op": "subscribe", "channel": f"{ns}:1", "ref": "s"})
            except ConnectionClosed:
                pass  # already closed: expect_close reads the close code
            frames = await expect_close(ws, 4001)
            for f in frames:
                assert f.get("op") not in ("subscribed", "event"), f"bad token got {f}"
                assert f.get("user") is None, f"bad token admitted as a user: {f}"

    run(main())


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_sse_bad_token_is_401(jwt_server, keys, kind):
    ns = namespace()
    tok = bad_token(keys, kind, ns)
    for via in ("query", "header"):
        assert_sse_refused(jwt_server, [f"{ns}:1"], tok, 401, "unauthorized", via=via)


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_long_poll_bad_token_is_401(jwt_server, keys, kind):
    ns = namespace()
    jwt_server.publish(f"{ns}:1", "t", {})
    assert_problem(long_poll(jwt_server, f"{ns}:1", bad_token(keys, kind, ns)), 401, "unauthorized")


def test_no_credentials_is_401(jwt_server):
    ns = namespace()
    assert_sse_refused(jwt_server, [f"{ns}:1"], None, 401, "unauthorized")
    assert_problem(long_poll(jwt_server, f"{ns}:1", None), 401, "unauthorized")


@pytest.mark.parametrize("alg", ["HS256", "EdDSA"])
def test_channels_not_covered_are_forbidden(jwt_server, keys, alg):
    ns, other = namespace(), namespace()
    tok = token(keys, alg, sub="limited", channels=[f"{ns}:*"])
    denied = f"{other}:1"

    async def main():
        async with ws_connect(jwt_server, token=tok) as ws:
            hello = await welcome(ws)
            assert hello.get("user") == "limited", hello
            await send_json(ws, {"op": "subscribe", "channel": denied, "ref": "deny"})
            msg = await recv_json(ws)
            assert msg.get("op") == "error" and msg.get("code") == "forbidden", msg
            assert msg.get("ref") == "deny", msg
            # Not subscribed: an event there does not arrive; the connection stays usable.
            await publish_http(jwt_server, denied, "t", {})
            await ping(ws, "still-open")
            await subscribe(ws, f"{ns}:1")

    run(main())

    for channels in ([denied], [f"{ns}:1", denied]):
        assert_sse_refused(jwt_server, channels, tok, 403, "forbidden")
    assert_problem(long_poll(jwt_server, denied, tok), 403, "forbidden")


# -- expiry and refresh -----------------------------------------------------------------------


def test_websocket_token_expiry_and_refresh(jwt_server, keys):
    """Two connections with a token that expires ~3 s after connect: the one that sends a fresh
    token in an `auth` frame stays open past the expiry; the other is closed with 4001."""
    ns = namespace()
    channel = f"{ns}:1"
    exp = int(time.time()) + 3
    short = token(keys, "HS256", sub="expiring", channels=[f"{ns}:*"], exp=exp)
    fresh_exp = int(time.time()) + 600
    fresh = token(keys, "HS256", sub="expiring", channels=[f"{ns}:*"], exp=fresh_exp)

    async def main():
        async with ws_connect(jwt_server, token=short) as stale, \
                ws_connect(jwt_server, token=short) as refreshed:
            for ws in (stale, refreshed):
                assert (await welcome(ws)).get("user") == "expiring"
                await subscribe(ws, channel)
            assert time.time() < exp - 0.5, "test setup too slow for a 3 s token"

            await send_json(refreshed, {"op": "auth", "token": fresh, "ref": "refresh"})
            authed = await recv_json(refreshed)
            assert authed.get("op") == "authed" and authed.get("ref") == "refresh", authed
            assert authed.get("user") == "expiring", authed
            assert "expires" in authed, authed
            assert abs(parse_time(authed["expires"]) - fresh_exp) < 1.0, authed

            # The stale connection is closed with 4001 once its token has expired, not before.
            await expect_close(stale, 4001, timeout=max(0.0, exp - time.time()) + 5)
            closed_at = time.time()
            assert closed_at >= exp - 0.5, f"closed {exp - closed_at:.2f}s before the token expired"

            # The refreshed one stays open past the old expiry: answer pings until 1.5 s after it
            # (polling with a deadline), then still receive events.
            n = 0
            while time.time() < exp + 1.5:
                n += 1
                await ping(refreshed, n)
                await asyncio.sleep(0.1)  # polling interval
            pub = await publish_http(jwt_server, channel, "after.expiry", {})
            ev = await recv_json(refreshed)
            assert_canonical_event(ev, extra_keys={"op"}, published=pub)

    run(main())


def test_websocket_refresh_for_another_user_is_refused(jwt_server, keys):
    ns = namespace()
    alice = token(keys, "HS256", sub="alice", channels=[f"{ns}:*"])
    bob = token(keys, "HS256", sub="bob", channels=[f"{ns}:*"])

    async def main():
        async with ws_connect(jwt_server, token=alice) as ws:
            assert (await welcome(ws)).get("user") == "alice"
            await send_json(ws, {"op": "auth", "token": bob, "ref": "swap"})
            msg = await recv_json(ws)
            assert msg.get("op") == "error" and msg.get("ref") == "swap", msg
            assert msg.get("code") == "forbidden", msg
            await ping(ws, "still-alice")

    run(main())


def test_sse_stream_ends_when_token_expires(jwt_server, keys):
    ns = namespace()
    channel = f"{ns}:1"
    exp = int(time.time()) + 3
    tok = token(keys, "HS256", sub="sse-expiring", channels=[f"{ns}:*"], exp=exp)
    with Stream(jwt_server, [channel], token=tok) as stream:
        pub = jwt_server.publish(channel, "t", {})
        ev, _, _ = stream.next_event()
        assert_canonical_event(ev, published=pub)
        # The next thing on the stream: an error control message once the token expired, then
        # the end of the stream (read timeout 10 s: a stream that stays open fails the test).
        msg = stream.next_raw()
        assert time.time() >= exp - 0.5, "stream ended before the token expired"
        assert msg.event == "switchboard", f"expected a control message, got {msg.event}: {msg.data}"
        control = json.loads(msg.data)
        assert control.get("op") == "error" and control.get("code") == "unauthorized", control
        with pytest.raises(AssertionError, match="ended unexpectedly"):
            stream.next_raw()
