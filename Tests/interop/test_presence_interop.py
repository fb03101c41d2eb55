"""Presence interop (PROTOCOL.md, "WebSocket": `presence`, `join`/`leave`): WebSocket clients
with HS256 tokens minted by PyJWT in a namespace configured with `presence: true`.

One client runs in a separate process that is killed with SIGKILL, so the server sees the TCP
connection drop without a close frame.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from urllib.parse import quote

import pytest

from interop_support import (
    HTTP_TIMEOUT,
    assert_canonical_event,
    make_token,
    ping,
    recv_json,
    run,
    send_json,
    subscribe,
    welcome,
    ws_connect,
)

SECRET = "interop-presence-secret-0123456789abcdef"
NAMESPACE = "room"
LEAVE_DEADLINE = 5.0  # seconds for a killed client's leave to reach the others
MEMBER_KEYS = {"client", "user", "info"}

# Carol: connects with her token, subscribes, prints her client id, then waits to be killed.
CAROL_SCRIPT = r"""
import asyncio, json, sys
from websockets.asyncio.client import connect

async def main(url, channel):
    async with connect(url, proxy=None, open_timeout=10) as ws:
        hello = json.loads(await ws.recv())
        assert hello["op"] == "welcome", hello
        await ws.send(json.dumps({"op": "subscribe", "channel": channel}))
        while True:
            msg = json.loads(await ws.recv())
            if msg.get("op") == "subscribed":
                break
            if msg.get("op") == "error":
                print(json.dumps({"error": msg}), flush=True)
                return
        print(json.dumps({"ready": True, "client": hello["client"], "user": hello["user"]}),
              flush=True)
        await asyncio.sleep(3600)  # until SIGKILL

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


@pytest.fixture(scope="module")
def presence_server(module_server_factory):
    return module_server_factory(
        dev=False,
        config={
            "jwt": {"secret": SECRET},
            "namespaces": [NAMESPACE],
            "namespace": {NAMESPACE: {"presence": True, "client_publish": True}},
        },
    )


def room() -> str:
    return f"{NAMESPACE}:{uuid.uuid4().hex[:12]}"


def user_token(user: str, channels=(f"{NAMESPACE}:*",)) -> str:
    return make_token(SECRET, "HS256", sub=user, exp=int(time.time()) + 600,
                      channels=list(channels), info={"name": user.title()})


def member(client: str, user: str) -> dict:
    return {"client": client, "user": user, "info": {"name": user.title()}}


async def join_as(server, user: str, channel: str):
    """Connects as `user`, subscribes to `channel`; returns (ws, client id). The caller closes."""
    ws = await ws_connect(server, token=user_token(user))
    hello = await welcome(ws)
    assert hello.get("user") == user, hello
    await subscribe(ws, channel)
    return ws, hello["client"]


async def expect_presence_frame(ws, op: str, channel: str, expected_member: dict,
                                timeout: float = 10.0) -> None:
    try:
        msg = await recv_json(ws, timeout=timeout)
    except asyncio.TimeoutError:
        raise AssertionError(
            f"no {op} of {expected_member['user']} ({expected_member['client']}) on {channel} "
            f"within {timeout:.1f}s"
        ) from None
    assert msg.get("op") == op, f"expected {op} of {expected_member['user']}, got {msg}"
    assert msg.get("channel") == channel, msg
    assert set(msg.get("member", {})) == MEMBER_KEYS, msg
    assert msg["member"] == expected_member, msg


async def presence_op(ws, channel: str, ref="p") -> list[dict]:
    await send_json(ws, {"op": "presence", "channel": channel, "ref": ref})
    msg = await recv_json(ws)
    assert msg.get("op") == "presence" and msg.get("ref") == ref, msg
    assert msg.get("channel") == channel, msg
    for m in msg["members"]:
        assert set(m) == MEMBER_KEYS, m
    return msg["members"]


def presence_http(server, channel: str, session=None) -> list[dict]:
    s = session or server.new_session()
    try:
        r = s.get(server.url(f"/v1/channels/{channel}/presence"), timeout=HTTP_TIMEOUT)
    finally:
        if session is None:
            s.close()
    assert r.status_code == 200, f"{r.status_code} {r.text[:500]}"
    body = r.json()
    assert set(body) == {"channel", "members"}, body
    assert body["channel"] == channel, body
    for m in body["members"]:
        assert set(m) == MEMBER_KEYS, m
    return body["members"]


def by_user(members: list[dict]) -> dict:
    users = [m["user"] for m in members]
    assert len(users) == len(set(users)), f"a user listed twice: {members}"
    return {m["user"]: m for m in members}


class Carol:
    """The `carol` client in a subprocess."""

    def __init__(self, server, channel: str) -> None:
        url = f"{server.ws_url}?token={quote(user_token('carol'), safe='')}"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CAROL_SCRIPT, url, channel],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={k: v for k, v in os.environ.items() if "proxy" not in k.lower()},
        )
        self.client: str | None = None

    async def ready(self, timeout: float = 20.0) -> str:
        try:
            line = await asyncio.wait_for(asyncio.to_thread(self.proc.stdout.readline), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"carol not ready within {timeout:.0f}s") from None
        if not line:
            self.proc.wait(timeout=5)
            raise AssertionError(f"carol exited: {self.proc.stderr.read().decode()[-2000:]}")
        msg = json.loads(line)
        assert msg.get("ready") is True, f"carol: {msg}"
        assert msg.get("user") == "carol", msg
        self.client = msg["client"]
        return self.client

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        assert self.proc.returncode == -signal.SIGKILL, self.proc.returncode

    def cleanup(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()


def journal(server, channel: str, count: int, timeout: float = 5.0) -> list[dict]:
    """The $presence:<channel> history once it holds `count` events (polled with a deadline:
    the server journals presence asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        events = server.history(f"$presence:{channel}", after=0)["events"]
        if len(events) >= count or time.monotonic() > deadline:
            return events
        time.sleep(0.1)  # polling interval


# --------------------------------------------------------------------------------------------


def test_join_presence_kill_and_leave(presence_server):
    channel = room()
    carol = Carol(presence_server, channel)

    async def main():
        alice, alice_client = await join_as(presence_server, "alice", channel)
        bob = None
        try:
            bob, bob_client = await join_as(presence_server, "bob", channel)
            # Alice sees bob join; bob is not told about himself.
            await expect_presence_frame(alice, "join", channel, member(bob_client, "bob"))

            carol_client = await carol.ready()
            for ws in (alice, bob):
                await expect_presence_frame(ws, "join", channel, member(carol_client, "carol"))

            expected = [member(alice_client, "alice"), member(bob_client, "bob"),
                        member(carol_client, "carol")]
            for ws in (alice, bob):
                members = await presence_op(ws, channel)
                assert by_user(members) == by_user(expected), members
            members = await asyncio.to_thread(presence_http, presence_server, channel)
            assert by_user(members) == by_user(expected), members

            # Carol's process dies without a close frame: both others get her leave in time.
            carol.kill()
            killed = time.monotonic()
            for ws in (alice, bob):
                remaining = max(0.1, LEAVE_DEADLINE - (time.monotonic() - killed))
                await expect_presence_frame(ws, "leave", channel, member(carol_client, "carol"),
                                            timeout=remaining)
            members = await asyncio.to_thread(presence_http, presence_server, channel)
            assert by_user(members) == by_user(expected[:2]), members
            assert by_user(await presence_op(alice, channel, ref="after")) == by_user(expected[:2])
            await ping(alice, "nothing-else")
            await ping(bob, "nothing-else")
            return alice_client, bob_client, carol_client
        finally:
            await alice.close()
            if bob is not None:
                await bob.close()

    try:
        alice_client, bob_client, carol_client = run(main())
    finally:
        carol.cleanup()

    # The journal: every join and leave, in order, as durable events on $presence:<channel>
    # (alice's and bob's leaves, from the closes above, may follow).
    events = journal(presence_server, channel, 6)
    for ev in events:
        assert_canonical_event(ev, channel=f"$presence:{channel}")
    got = [(ev["type"], ev["data"]) for ev in events]
    assert got[:4] == [
        ("presence.join", member(alice_client, "alice")),
        ("presence.join", member(bob_client, "bob")),
        ("presence.join", member(carol_client, "carol")),
        ("presence.leave", member(carol_client, "carol")),
    ], got
    assert sorted(got[4:], key=lambda e: e[1]["user"]) == [
        ("presence.leave", member(alice_client, "alice")),
        ("presence.leave", member(bob_client, "bob")),
    ], got
    assert [ev["offset"] for ev in events] == list(range(1, len(events) + 1))


def test_presence_is_per_user_not_per_connection(presence_server):
    channel = room()

    async def main():
        alice, alice_client = await join_as(presence_server, "alice", channel)
        bob1, bob_client = await join_as(presence_server, "bob", channel)
        await expect_presence_frame(alice, "join", channel, member(bob_client, "bob"))

        # Bob's second connection: no second join. Dave joining afterwards is the next frame
        # alice gets (a join for bob2 would be queued to alice before bob2's `subscribed`).
        bob2, _bob2_client = await join_as(presence_server, "bob", channel)
        dave, dave_client = await join_as(presence_server, "dave", channel)
        await expect_presence_frame(alice, "join", channel, member(dave_client, "dave"))
        await expect_presence_frame(bob1, "join", channel, member(dave_client, "dave"))
        await expect_presence_frame(bob2, "join", channel, member(dave_client, "dave"))

        members = await presence_op(alice, channel)
        assert [m["user"] for m in members].count("bob") == 1, members
        assert set(by_user(members)) == {"alice", "bob", "dave"}, members
        assert by_user(members)["bob"] == member(bob_client, "bob"), members

        # Closing one of bob's two connections: no leave. Dave leaving afterwards is the next
        # frame alice gets.
        await bob2.close()
        await dave.close()
        await expect_presence_frame(alice, "leave", channel, member(dave_client, "dave"))
        await expect_presence_frame(bob1, "leave", channel, member(dave_client, "dave"))
        members = await asyncio.to_thread(presence_http, presence_server, channel)
        assert by_user(members) == by_user([member(alice_client, "alice"),
                                            member(bob_client, "bob")]), members

        # Bob's last connection: now he leaves, once.
        await bob1.close()
        await expect_presence_frame(alice, "leave", channel, member(bob_client, "bob"))
        await ping(alice, "no-second-leave")
        members = await presence_op(alice, channel, ref="end")
        assert members == [member(alice_client, "alice")], members
        await alice.close()
        return alice_client, bob_client, dave_client

    alice_client, bob_client, dave_client = run(main())
    events = journal(presence_server, channel, 6)
    got = [(ev["type"], ev["data"]["user"]) for ev in events]
    assert got == [
        ("presence.join", "alice"), ("presence.join", "bob"), ("presence.join", "dave"),
        ("presence.leave", "dave"), ("presence.leave", "bob"), ("presence.leave", "alice"),
    ], got


def test_presence_journal_and_list_follow_read_permission(presence_server):
    """$presence:<channel> and GET …/presence are readable by whoever may read <channel>
    (a client token here), and by nobody else; nobody may publish to $presence."""
    channel = room()

    async def main():
        alice, alice_client = await join_as(presence_server, "alice", channel)
        await alice.close()
        return alice_client

    alice_client = run(main())
    events = journal(presence_server, channel, 2)
    assert [(e["type"], e["data"]) for e in events] == [
        ("presence.join", member(alice_client, "alice")),
        ("presence.leave", member(alice_client, "alice")),
    ]

    reader = presence_server.client_session(user_token("reader"))
    outsider = presence_server.client_session(user_token("outsider", channels=["elsewhere:*"]))
    try:
        # The `$` URL-encoded this time.
        path = f"/v1/channels/%24presence:{channel}/events"
        r = reader.get(presence_server.url(path), params={"after": 0}, timeout=HTTP_TIMEOUT)
        assert r.status_code == 200, f"{r.status_code} {r.text[:500]}"
        assert r.json()["events"] == events
        assert presence_http(presence_server, channel, session=reader) == []

        r = outsider.get(presence_server.url(path), params={"after": 0}, timeout=HTTP_TIMEOUT)
        assert r.status_code == 403, f"{r.status_code} {r.text[:500]}"
        r = outsider.get(presence_server.url(f"/v1/channels/{channel}/presence"),
                         timeout=HTTP_TIMEOUT)
        assert r.status_code == 403, f"{r.status_code} {r.text[:500]}"
    finally:
        reader.close()
        outsider.close()

    # Not even the admin key publishes on a server-written channel.
    r = presence_server.session.post(
        presence_server.url(f"/v1/channels/$presence:{channel}/events"),
        json={"type": "presence.join", "data": {}}, timeout=HTTP_TIMEOUT,
    )
    assert r.status_code in (400, 403), f"{r.status_code} {r.text[:500]}"
    assert len(presence_server.history(f"$presence:{channel}", after=0)["events"]) == 2
