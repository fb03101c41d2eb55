#!/usr/bin/env python3
"""Chaos test: hundreds of real-time clients against the real server while it is killed and restarted.

It starts the switchboard binary (SWITCHBOARD_BIN, default .build/debug/switchboard) on a loopback port
with a fresh data dir and, for --duration seconds, runs:

- WebSocket, Server-Sent Events and long-poll subscribers, each following a few channels with its own
  cursor. They reconnect with that cursor after a clean close, after vanishing without one (a TCP reset,
  or a FIN with no WebSocket close frame), after being closed as slow consumers, and after the server
  died. Some of them are slow consumers: they stop reading for a while (with a small receive buffer)
  on a busy "firehose" channel, so the server closes them (4008 / end of the SSE stream);
- publishers over HTTP (single events with an Idempotency-Key, retried with the same key until
  answered; batches to the firehose) and over WebSocket (`publish` ops);
- the server SIGKILLed and restarted --restarts times (default 2), same data dir, same port.

Every subscriber checks what its STREAM delivered: per channel, offsets strictly increasing from its
cursor with no gap and no duplicate; every event identical (id, tag) to every other sighting of that
offset; no `truncated` (retention is off for the test namespace, so a truncation would mean the log
lost events or misread a cursor; it is reported once, and the check then follows the stream from where
the server says it continues). At the end the publishers stop, and every subscriber keeps reading (reconnecting as
needed, for as long as the streams make progress) until its stream reached the last acknowledged offset
of each of its channels, so every
acknowledged publish (a 201/200 answer, or a `published` reply) was seen by every subscriber of its
channel. Then one history read per channel confirms the log holds every acknowledged event, the
server's connection gauges return to zero, and its resident memory returns to within a margin of the
baseline measured after warm-up.

With --database, several nodes share one PostgreSQL database and a node other than the first is
killed each time. A webhook endpoint on loopback takes the ordinary channels' events: every
acknowledged one must arrive, under its event id, also those whose delivery a killed node had leased
(another node sends them once the lease ran out); before each kill, members (client tokens) join a presence channel on the victim while a
watcher on the first node hears their joins; after the SIGKILL each member must leave within the node TTL
(plus a beat and a margin), once: one `leave` frame, gone from the listing, one `presence.leave` in the
journal.

Exit status 0 when nothing was violated; 1 with a report of each violation otherwise.

Usage: python3 bench/chaos.py [--duration 120] [--clients 200] [--rate 40] [--firehose-rate 50] [--seed N]
Needs the `websockets` package (Tests/interop/requirements.txt). Talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import hashlib
import hmac
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from bench_support import free_port

REPO_ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
NAMESPACE = "chaos"
FIREHOSE = f"{NAMESPACE}:firehose"
EVENT_KEYS = frozenset({"id", "channel", "offset", "type", "time", "data"})
PAGE_KEYS = frozenset({"channel", "events", "next", "earliest", "truncated"})

READY_TIMEOUT = 60.0  # a debug build on a busy machine can take a while to open its store
CONNECT_TIMEOUT = 10.0
REQUEST_TIMEOUT = 30.0  # an HTTP publish or read; longer counts as a lost connection
SLOW_RCVBUF = 4096  # receive buffer of a slow consumer, so that the server's side fills quickly
# Server-initiated WebSocket close codes that a correct server never sends in this scenario.
BAD_CLOSE_CODES = {1008, 1009, 1011, 4001, 4003, 4029}

# Memory margin. The baseline is the server's VmRSS after warm-up (every client connected, traffic
# flowing); after the run (every client gone, a short settle) it must be below
# baseline + max(50 % of baseline, 64 MiB). Not tighter, because RSS is not a precise measure of live
# memory: malloc keeps freed memory in per-thread arenas instead of returning it to the system, SQLite's
# page cache grows with the database up to its bound, and NIO keeps pooled buffers. A leak per
# connection or per event goes past it: the run makes thousands of connections and delivers hundreds
# of thousands of events, so even a few KiB lost per connection, or a few hundred bytes per delivered
# event, adds up to more than the margin.
RSS_MARGIN_FRACTION = 0.5
# After the publishers stop, subscribers catch up for as long as they make progress: the run fails when
# none of those still behind received anything for DRAIN_STALL_SECONDS, or after DRAIN_LIMIT_SECONDS
# in all (a bound for CI only; a busy machine catches up slower, and that is not a lost event).
DRAIN_STALL_SECONDS = 60.0
DRAIN_LIMIT_SECONDS = 900.0
RSS_MARGIN_MIN_KIB = 64 * 1024

# Presence across nodes (--database): members joined on the node about to be killed must leave, once.
PRESENCE_NAMESPACE = "room"
PRESENCE_MEMBERS = 5
JWT_SECRET = "chaos-presence-secret-" + "0123456789abcdef"
NODE_TTL_MS = 3000
WEBHOOK_TIMEOUT_SECONDS = 5


# -- results ---------------------------------------------------------------------------------------


class Report:
    """Counters and violations of one run."""

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self.violations: list[tuple[str, str]] = []

    def violation(self, kind: str, message: str) -> None:
        self.violations.append((kind, message))
        if len(self.violations) <= 20:  # the first ones as they happen; all of them at the end
            log(f"VIOLATION [{kind}] {message}")

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] += n


START = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - START:7.1f}s] {message}", flush=True)


class Ledger:
    """What is known about each channel's log: every sighting of an offset (from a publish answer or a
    delivered event) must agree on the event's id and tag, and a tag (one publish) may sit at one
    offset only. Acknowledged publishes are remembered, for the final checks."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.by_offset: dict[str, dict[int, tuple[str, str]]] = collections.defaultdict(dict)
        self.by_tag: dict[str, dict[str, int]] = collections.defaultdict(dict)
        self.acked: dict[str, set[int]] = collections.defaultdict(set)
        self.acked_max: dict[str, int] = collections.defaultdict(int)

    def observe(self, who: str, channel: str, offset: int, event_id: str, tag: str) -> None:
        known = self.by_offset[channel].get(offset)
        if known is None:
            other = self.by_tag[channel].get(tag)
            if other is not None and other != offset:
                self.report.violation(
                    "duplicate-publish",
                    f"channel={channel} client={who}: publish {tag} stored twice, at offsets {other} and {offset}",
                )
            self.by_offset[channel][offset] = (event_id, tag)
            self.by_tag[channel].setdefault(tag, offset)
        elif known != (event_id, tag):
            self.report.violation(
                "conflicting-event",
                f"channel={channel} offset={offset} client={who}: expected id={known[0]} tag={known[1]}, "
                f"got id={event_id} tag={tag}",
            )

    def ack(self, who: str, channel: str, offset: int, event_id: str, tag: str, how: str) -> None:
        self.observe(who, channel, offset, event_id, tag)
        self.acked[channel].add(offset)
        self.acked_max[channel] = max(self.acked_max[channel], offset)
        self.report.count("publishes acknowledged")
        self.report.count(f"publishes acknowledged ({how})")


# -- sockets and HTTP --------------------------------------------------------------------------------


class ServerGone(Exception):
    """The connection ended or could not be made (the server restarting, or closing us)."""


NETWORK_ERRORS = (OSError, EOFError, asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionClosed,
                  InvalidHandshake, ServerGone)


async def connect_socket(port: int, rcvbuf: int | None = None) -> socket.socket:
    """A connected non-blocking TCP socket to the server; `rcvbuf` shrinks its receive buffer (set
    before connecting, so that the TCP window is small from the start)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            await asyncio.get_running_loop().sock_connect(sock, (HOST, port))
    except BaseException:
        sock.close()
        raise
    return sock


def parse_head(raw: bytes) -> tuple[int, dict[str, str]]:
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise ServerGone(f"bad status line {lines[0]!r}")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


class HttpConnection:
    """One HTTP/1.1 keep-alive connection, plain asyncio streams. Any failure drops the connection (the
    next request opens a new one) and raises."""

    def __init__(self, port: int | Callable[[], int]) -> None:
        # A port, or a chooser (a load balancer): each new connection asks it again, so a client whose
        # node died reaches another.
        self.choose_port = port if callable(port) else (lambda: port)
        self.port = self.choose_port()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: object = None, headers: dict | None = None,
                      timeout: float = REQUEST_TIMEOUT) -> tuple[int, dict[str, str], bytes]:
        try:
            async with asyncio.timeout(timeout):
                if self.writer is None:
                    self.port = self.choose_port()
                    sock = await connect_socket(self.port)
                    self.reader, self.writer = await asyncio.open_connection(sock=sock)
                payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
                head = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}"]
                if body is not None:
                    head += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
                head += [f"{k}: {v}" for k, v in (headers or {}).items()]
                self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
                await self.writer.drain()
                status, response_headers = parse_head(await self.reader.readuntil(b"\r\n\r\n"))
                if response_headers.get("transfer-encoding", "").lower() == "chunked":
                    data = bytearray()
                    while True:
                        size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                        if size == 0:
                            while await self.reader.readuntil(b"\r\n") != b"\r\n":
                                pass
                            break
                        data += (await self.reader.readexactly(size + 2))[:-2]
                    data = bytes(data)
                elif "content-length" in response_headers:
                    data = await self.reader.readexactly(int(response_headers["content-length"]))
                else:
                    data = await self.reader.read()
                    self.close()
                if response_headers.get("connection", "").lower() == "close":
                    self.close()
                return status, response_headers, data
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Drops the connection with a TCP reset (a client that vanished)."""
        if self.writer is not None:
            self.writer.transport.abort()
        self.reader = self.writer = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def http_json(port: int, path: str) -> dict:
    conn = HttpConnection(port)
    try:
        status, _, body = await conn.request("GET", path)
    finally:
        conn.close()
    if status != 200:
        raise ServerGone(f"GET {path}: {status} {body[:200]!r}")
    return json.loads(body)


# -- the server process ----------------------------------------------------------------------------


class ServerProcess:
    """The switchboard binary on a fixed loopback port and data dir, so that it restarts in place."""

    def __init__(self, binary: Path, workdir: Path, config: dict, name: str = "server") -> None:
        self.binary = binary
        self.name = name
        workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir = workdir / "data"
        self.log_path = workdir / "server.log"
        self.config_path = workdir / "config.json"
        self.config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    async def start(self) -> None:
        args = [str(self.binary), "serve", "--dev", "--host", HOST, "--port", str(self.port),
                "--data-dir", str(self.data_dir), "--config", str(self.config_path)]
        for _attempt in range(10):  # the port can stay busy for a moment after a kill
            with open(self.log_path, "ab") as out:
                out.write(f"\n=== start: {' '.join(args)}\n".encode())
                out.flush()
                self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out,
                                             stderr=subprocess.STDOUT, cwd=str(self.data_dir.parent))
            if await self._wait_ready():
                return
            if self.proc.poll() is None:
                self.kill()
                raise RuntimeError(f"switchboard not ready within {READY_TIMEOUT:.0f}s\n{self.log_tail()}")
            await asyncio.sleep(1)
        raise RuntimeError(f"switchboard exited before it was ready\n{self.log_tail()}")

    async def _wait_ready(self) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            conn = HttpConnection(self.port)
            try:
                status, _, _ = await conn.request("GET", "/readyz", timeout=2)
                if status == 200:
                    return True
            except NETWORK_ERRORS:
                pass
            finally:
                conn.close()
            await asyncio.sleep(0.1)
        return False

    def kill(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        with open(self.log_path, "ab") as out:
            out.write(b"\n=== killed with SIGKILL\n")

    async def terminate(self, timeout: float = 30) -> int | None:
        """SIGTERM, a graceful shutdown: the exit code, or None when it had to be killed."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if self.proc.poll() is None:
            self.kill()
            return None
        return self.proc.returncode

    def rss_kib(self) -> int:
        with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS in /proc/<pid>/status")

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no server log)"
        return "--- server log (tail) ---\n" + "\n".join(text.splitlines()[-lines:])


# -- shared state of the run -------------------------------------------------------------------------


class Run:
    def __init__(self, args: argparse.Namespace, nodes: list[ServerProcess], report: Report) -> None:
        self.args = args
        self.nodes = nodes
        # The node whose memory is measured, and which is never killed.
        self.server = nodes[0]
        self.balancer = random.Random(args.seed ^ 0x5EED)
        self.report = report
        self.ledger = Ledger(report)
        self.rng = random.Random(args.seed)
        self.run_id = uuid.uuid4().hex[:8]
        self.stop_publishing = asyncio.Event()
        # Set once the publishers are done: then `targets` holds each channel's last acknowledged offset,
        # and the subscribers read until their streams reach it.
        self.draining = asyncio.Event()
        self.targets: dict[str, int] = {}
        # SIGKILLs so far: a connection that ends while this is unchanged was ended by the live server.
        self.kills = 0
        # When PostgreSQL was last restarted (--restart-database): for a while after, `unavailable` is a
        # correct answer to a read, not a violation.
        self.database_restarted_at: float | None = None

    def database_restarting(self) -> bool:
        # The restart itself, then the server's 30 s deadline on a call the database left unanswered
        # (which then fails as `unavailable`), and a margin.
        return self.database_restarted_at is not None and time.monotonic() - self.database_restarted_at < 45

    @property
    def port(self) -> int:
        """A node, as a load balancer without sticky sessions picks it: any of them, each time."""
        return self.balancer.choice(self.nodes).port

    def choose_port(self) -> int:
        return self.port

    async def backoff(self, rng: random.Random) -> None:
        await asyncio.sleep(rng.uniform(0.1, 1.0))


# -- subscribers -----------------------------------------------------------------------------------


class Subscriber:
    """A client with a cursor on some channels. `session()` is one connection; `run()` reconnects
    with the cursor until the run is draining and the stream reached every channel's target."""

    kind = "?"

    def __init__(self, run: Run, name: str, channels: list[str], slow: bool) -> None:
        self.run = run
        self.name = name
        self.channels = channels
        self.slow = slow
        self.rng = random.Random(run.rng.random())
        self.last = {channel: 0 for channel in channels}  # the cursor: last offset delivered, per channel
        # Channels whose stream announced a truncation: it then goes on from the earliest retained event,
        # so the next event starts the sequence again (the truncation itself was reported).
        self.resync: set[str] = set()

    # The check of every delivered event.
    def accept(self, channel: str, offset: object, event_id: object, event_type: object, data: object) -> None:
        report = self.run.report
        if channel not in self.last:
            report.violation("wrong-channel", f"client={self.name} channel={channel}: not subscribed to it")
            return
        if not isinstance(offset, int) or isinstance(offset, bool) or not isinstance(event_id, str) \
                or not isinstance(data, dict) or not isinstance(data.get("tag"), str) \
                or event_type not in ("chaos.tick", "chaos.fire"):
            report.violation("malformed-event", f"client={self.name} channel={channel}: {offset!r} {event_id!r} "
                                                f"{event_type!r} {str(data)[:100]}")
            return
        if channel in self.resync:
            self.resync.discard(channel)
            self.last[channel] = offset - 1
        expected = self.last[channel] + 1
        if offset < expected:
            report.violation("duplicate", f"client={self.name} channel={channel}: expected offset {expected}, "
                                          f"got {offset} again")
            return
        if offset > expected:
            report.violation("gap", f"client={self.name} channel={channel}: expected offset {expected}, "
                                    f"got {offset} (missed {expected}..{offset - 1})")
        self.last[channel] = offset
        self.run.ledger.observe(self.name, channel, offset, event_id, data["tag"])
        report.count("events checked")

    def caught_up(self) -> bool:
        return self.run.draining.is_set() and all(
            self.last[c] >= self.run.targets.get(c, 0) for c in self.channels)

    def lifetime(self) -> float:
        """How long the next connection lives before its client does something to it."""
        return self.rng.uniform(3, 10) if self.slow else self.rng.uniform(5, 40)

    def pause_length(self) -> float:
        # Long enough for the firehose to fill the kernel's buffers (the server's send buffer grows to
        # 4 MiB by default on Linux) and the mailbox; shorter than the server's heartbeat allows (it closes
        # a WebSocket that sent nothing for two 25 s intervals; a `ping` op goes out before each pause).
        return self.rng.uniform(20, 30)

    def ending(self) -> str:
        """What happens when the connection's lifetime is up: a slow consumer stops reading; the
        others close cleanly, or vanish with a TCP reset or with a bare FIN."""
        if self.slow:
            return "pause"
        return self.rng.choices(["close", "reset", "fin"], weights=[4, 3, 3])[0]

    async def run_forever(self) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.run.args.ramp))
        first = True
        while not self.caught_up():
            if not first:
                self.run.report.count("reconnects")
            first = False
            try:
                await self.session()
            except NETWORK_ERRORS as error:
                self.run.report.count(f"{self.kind} connection lost ({type(error).__name__})")
                await self.run.backoff(self.rng)

    async def session(self) -> None:
        raise NotImplementedError


class WebSocketSubscriber(Subscriber):
    kind = "ws"

    async def session(self) -> None:
        run = self.run
        port = run.port
        sock = await connect_socket(port, SLOW_RCVBUF if self.slow else None)
        ws = await ws_connect(
            f"ws://{HOST}:{port}/v1/ws", sock=sock, open_timeout=CONNECT_TIMEOUT, close_timeout=3,
            ping_interval=None,  # the server's heartbeat is what is tested; no client-side timeouts
            max_queue=4 if self.slow else 64,  # a small queue: a paused reader stops reading the socket
            compression="deflate" if self.rng.random() < 0.5 else None, proxy=None,
        )
        paused = False
        ended_by_client = False
        kills = run.kills
        try:
            welcome = await self.recv(ws, CONNECT_TIMEOUT)
            if welcome.get("op") != "welcome":
                run.report.violation("ws-protocol", f"client={self.name}: first frame is not welcome: {welcome}")
            pending = set(self.channels)
            for channel in self.channels:
                await ws.send(json.dumps({"op": "subscribe", "channel": channel, "since": self.last[channel],
                                          "ref": channel}))
            action_at = time.monotonic() + self.lifetime()
            while True:
                if self.caught_up() and not pending:
                    ended_by_client = True
                    await ws.close()
                    return
                if not run.draining.is_set() and time.monotonic() >= action_at:
                    ending = self.ending()
                    if ending == "pause":
                        run.report.count("ws slow-consumer pauses")
                        await ws.send(json.dumps({"op": "ping"}))  # heard just now (see pause_length)
                        await asyncio.sleep(self.pause_length())  # nothing read: the server's side fills up
                        paused = True
                        action_at = time.monotonic() + self.lifetime()
                        continue
                    run.report.count(f"ws ended by client ({ending})")
                    ended_by_client = True
                    if ending == "close":
                        await ws.close()
                    elif ending == "reset":
                        ws.transport.abort()
                    else:
                        ws.transport.close()  # FIN, no close frame
                    return
                try:
                    msg = await self.recv(ws, 1.0)
                except TimeoutError:
                    continue
                self.handle(msg, pending)
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd is not None else None
            cause = "a SIGKILL" if run.kills != kills else "the live server"
            run.report.count(f"ws closed by {cause} ({code or 'no close frame'}{', after a pause' if paused else ''})")
            if code == 4008:
                if paused:
                    run.report.count("ws slow consumers closed with 4008 (after a pause)")
                else:
                    who = "a slow consumer before it paused" if self.slow else "a reader that never pauses"
                    run.report.count(f"ws 4008 on {who}")
            elif code in BAD_CLOSE_CODES:
                run.report.violation("ws-close", f"client={self.name}: closed with {code} {closed.rcvd.reason!r}")
            raise ServerGone from closed
        finally:
            if not ended_by_client:
                ws.transport.abort()

    async def recv(self, ws, timeout: float) -> dict:
        async with asyncio.timeout(timeout):
            raw = await ws.recv()
        try:
            msg = json.loads(raw)
        except (TypeError, ValueError):
            msg = None
        if not isinstance(msg, dict):
            self.run.report.violation("ws-protocol", f"client={self.name}: not a JSON object: {str(raw)[:200]}")
            return {}
        return msg

    def handle(self, msg: dict, pending: set[str]) -> None:
        report = self.run.report
        op = msg.get("op")
        if op == "event":
            channel = msg.get("channel")
            if set(msg) != EVENT_KEYS | {"op"}:
                report.violation("ws-protocol", f"client={self.name}: event fields {sorted(msg)}")
            if channel in pending:
                report.violation("ws-protocol", f"client={self.name} channel={channel}: event before `subscribed`")
            self.accept(channel, msg.get("offset"), msg.get("id"), msg.get("type"), msg.get("data"))
        elif op == "subscribed":
            channel = msg.get("channel")
            pending.discard(channel)
            if msg.get("truncated") is not False or msg.get("recovered") is not True:
                report.violation("truncated", f"client={self.name} channel={channel}: subscribe since "
                                              f"{self.last.get(channel)} answered {msg} (retention is off)")
                self.resync.add(channel)
            head = msg.get("offset")
            if isinstance(head, int) and head < self.last.get(channel, 0):
                report.violation("head-behind", f"client={self.name} channel={channel}: head {head} is behind "
                                                f"offset {self.last[channel]} already delivered")
        elif op == "error":
            if msg.get("code") == "unavailable" and self.run.database_restarting():
                # The store was down when this subscribe read it: subscribe again on a new connection.
                report.count("unavailable while the database restarted")
                raise ServerGone(f"unavailable: {msg}")
            report.violation("ws-error", f"client={self.name}: {msg}")


class SSEParser:
    """Incremental decoding of a chunked text/event-stream body into (event, data, id) messages."""

    def __init__(self) -> None:
        self.raw = bytearray()  # chunked framing not decoded yet
        self.ended = False  # the terminating chunk came
        self.text = bytearray()
        self.fields: dict[str, str] = {}

    def feed(self, data: bytes) -> list[tuple[str, str, str | None]]:
        self.raw += data
        # Chunks are small (one event each), so a chunk is decoded once it is complete.
        while not self.ended:
            end = self.raw.find(b"\r\n")
            if end < 0:
                break
            size = int(bytes(self.raw[:end]).split(b";")[0], 16)
            if size == 0:
                self.ended = True
                break
            if len(self.raw) < end + 2 + size + 2:
                break
            self.text += self.raw[end + 2:end + 2 + size]
            del self.raw[:end + 2 + size + 2]
        return self._messages()

    def _messages(self) -> list[tuple[str, str, str | None]]:
        out = []
        start = 0
        while True:
            end = self.text.find(b"\n", start)
            if end < 0:
                break
            line = self.text[start:end].decode("utf-8").rstrip("\r")
            start = end + 1
            if line == "":
                if "data" in self.fields:
                    out.append((self.fields.get("event", "message"), self.fields["data"], self.fields.get("id")))
                self.fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "data" and "data" in self.fields:
                    self.fields["data"] += "\n" + value
                else:
                    self.fields[name] = value
        del self.text[:start]
        return out


def parse_cursor(text: str) -> dict[str, int]:
    out = {}
    for part in text.split(","):
        name, _, offset = part.rpartition("@")
        out[name] = int(offset)
    return out


class SSESubscriber(Subscriber):
    kind = "sse"

    async def session(self) -> None:
        run = self.run
        port = run.port
        sock = await connect_socket(port, SLOW_RCVBUF if self.slow else None)
        reader, writer = await asyncio.open_connection(sock=sock, limit=16 * 1024 if self.slow else 64 * 1024)
        ended_by_client = False
        paused = False
        kills = run.kills
        try:
            cursor = ",".join(f"{c}@{self.last[c]}" for c in self.channels)
            query = "&".join(f"channel={quote(c, safe='')}" for c in self.channels)
            headers = [f"Host: {HOST}:{port}", "Accept: text/event-stream"]
            # Resume either way the protocol allows: the cursor parameter, or Last-Event-ID.
            if self.rng.random() < 0.5:
                query += f"&cursor={quote(cursor, safe='')}"
            else:
                headers.append(f"Last-Event-ID: {cursor}")
            writer.write((f"GET /v1/sse?{query} HTTP/1.1\r\n" + "\r\n".join(headers) + "\r\n\r\n").encode())
            await writer.drain()
            async with asyncio.timeout(REQUEST_TIMEOUT):
                status, response_headers = parse_head(await reader.readuntil(b"\r\n\r\n"))
            if status != 200:
                # 503: the stream fell behind while recovering (documented; reconnect with the cursor).
                run.report.count(f"sse answered {status}")
                if status != 503:
                    run.report.violation("sse-status", f"client={self.name}: /v1/sse answered {status}")
                raise ServerGone(f"status {status}")
            if response_headers.get("transfer-encoding", "").lower() != "chunked":
                run.report.violation("sse-protocol", f"client={self.name}: stream is not chunked: {response_headers}")
                raise ServerGone("not chunked")
            parser = SSEParser()
            action_at = time.monotonic() + self.lifetime()
            while True:
                if self.caught_up():
                    writer.close()
                    ended_by_client = True
                    return
                if not run.draining.is_set() and time.monotonic() >= action_at:
                    ending = self.ending()
                    if ending == "pause":
                        run.report.count("sse slow-consumer pauses")
                        await asyncio.sleep(self.pause_length())
                        paused = True
                        action_at = time.monotonic() + self.lifetime()
                        continue
                    run.report.count(f"sse ended by client ({'reset' if ending == 'reset' else 'close'})")
                    ended_by_client = True
                    if ending == "reset":
                        writer.transport.abort()
                    else:
                        writer.close()
                    return
                try:
                    async with asyncio.timeout(1.0):
                        data = await reader.read(65536)
                except TimeoutError:
                    continue
                if not data:
                    raise EOFError("connection closed without the terminating chunk")
                for event, payload, event_id in parser.feed(data):
                    self.handle(event, payload, event_id)
                if parser.ended:
                    raise EOFError("stream ended")
        except NETWORK_ERRORS as error:
            if not ended_by_client and isinstance(error, (EOFError, ConnectionResetError)):
                cause = "a SIGKILL" if run.kills != kills else "the live server"
                run.report.count(f"sse streams ended by {cause}{' (after a pause)' if paused else ''}")
            raise
        finally:
            if not ended_by_client:
                writer.transport.abort()

    def handle(self, event: str, payload: str, event_id: str | None) -> None:
        report = self.run.report
        try:
            body = json.loads(payload)
        except ValueError:
            report.violation("sse-protocol", f"client={self.name}: data is not JSON: {payload[:200]}")
            return
        if event == "switchboard":
            if body.get("op") == "truncated" and body.get("channel") in self.last:
                channel = body["channel"]
                report.violation("truncated", f"client={self.name} channel={channel}: stream resumed at "
                                              f"{self.last[channel]} announced {body} (retention is off)")
                self.resync.add(channel)
            elif body.get("code") == "unavailable" and self.run.database_restarting():
                # The stream ends; the client resumes from its cursor, as EventSource does.
                report.count("unavailable while the database restarted")
            else:
                report.violation("sse-control", f"client={self.name}: control message {body}")
            return
        if event != "message" or not isinstance(body, dict):
            report.violation("sse-protocol", f"client={self.name}: unexpected event {event!r}: {payload[:200]}")
            return
        if set(body) != EVENT_KEYS:
            report.violation("sse-protocol", f"client={self.name}: event fields {sorted(body)}")
        self.accept(body.get("channel"), body.get("offset"), body.get("id"), body.get("type"), body.get("data"))
        # The id is the cursor after this event over every channel of the stream: it must be ours.
        try:
            cursor = parse_cursor(event_id or "")
        except ValueError:
            cursor = None
        if cursor != self.last:
            report.violation("sse-cursor", f"client={self.name}: id {event_id!r} after offset {body.get('offset')} "
                                           f"of {body.get('channel')}, expected the cursor {self.last}")


class LongPollSubscriber(Subscriber):
    """Long-polls each of its channels on its own keep-alive connection."""

    kind = "longpoll"

    async def run_forever(self) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.run.args.ramp))
        await asyncio.gather(*(self.poll(channel) for channel in self.channels))

    async def poll(self, channel: str) -> None:
        run = self.run
        conn = HttpConnection(run.choose_port)
        vanish_at = time.monotonic() + self.lifetime()
        while not (run.draining.is_set() and self.last[channel] >= run.targets.get(channel, 0)):
            wait = self.rng.choice([0, 1, 5, 10])
            limit = self.rng.choice([10, 100, 1000])
            path = (f"/v1/channels/{quote(channel, safe=':')}/events"
                    f"?after={self.last[channel]}&limit={limit}&wait={wait}")
            try:
                if not run.draining.is_set() and time.monotonic() >= vanish_at:
                    # Vanish in the middle of a wait: the server must drop the waiter with the socket.
                    vanish_at = time.monotonic() + self.lifetime()
                    request = asyncio.ensure_future(conn.request("GET", path.replace(f"wait={wait}", "wait=10")))
                    await asyncio.sleep(self.rng.uniform(0.05, 1.0))
                    if not request.done():
                        conn.abort()
                        run.report.count("longpoll vanished mid-wait")
                    request.cancel()
                    await asyncio.gather(request, return_exceptions=True)
                    run.report.count("reconnects")
                    continue
                status, _, body = await conn.request("GET", path, timeout=wait + REQUEST_TIMEOUT)
            except NETWORK_ERRORS as error:
                run.report.count(f"longpoll connection lost ({type(error).__name__})")
                run.report.count("reconnects")
                await run.backoff(self.rng)
                continue
            if status != 200:
                run.report.count(f"longpoll answered {status}")
                if status != 503:
                    run.report.violation("longpoll-status",
                                         f"client={self.name} channel={channel}: {status} {body[:200]!r}")
                await run.backoff(self.rng)
                continue
            self.handle(channel, json.loads(body))
            # Think a little between polls, as a real poller does, so that events come in pages.
            await asyncio.sleep(self.rng.uniform(0, 0.5))
        conn.close()

    def handle(self, channel: str, page: dict) -> None:
        report = self.run.report
        if not PAGE_KEYS <= set(page) or page.get("channel") != channel:
            report.violation("longpoll-protocol", f"client={self.name} channel={channel}: page {str(page)[:200]}")
            return
        if page["truncated"] is not False:
            report.violation("truncated", f"client={self.name} channel={channel}: after={self.last[channel]} "
                                          f"answered truncated, earliest {page['earliest']} (retention is off)")
            self.resync.add(channel)
        after = self.last[channel]
        for event in page["events"]:
            if set(event) != EVENT_KEYS or event.get("channel") != channel:
                report.violation("longpoll-protocol", f"client={self.name} channel={channel}: event {str(event)[:200]}")
            self.accept(channel, event.get("offset"), event.get("id"), event.get("type"), event.get("data"))
        expected_next = page["events"][-1]["offset"] if page["events"] else after
        if page["next"] != expected_next:
            report.violation("longpoll-next", f"client={self.name} channel={channel}: next {page['next']}, "
                                              f"expected {expected_next}")


# -- publishers ------------------------------------------------------------------------------------


def payload(tag: str, pad: int, random_pad: bool = False) -> dict:
    """An event's data: its tag (unique per publish) and padding. Random padding does not compress, so
    that permessage-deflate does not shrink what a slow consumer leaves unread."""
    if random_pad:
        return {"tag": tag, "pad": base64.b64encode(os.urandom(pad * 3 // 4 + 1)).decode()[:pad]}
    return {"tag": tag, "pad": "x" * pad}


class HttpPublisher:
    """Publishes single events with an Idempotency-Key; a publish that got no answer (the server died)
    is sent again with the same key until it is answered, so it is stored once."""

    def __init__(self, run: Run, name: str, channels: list[str], interval: float) -> None:
        self.run, self.name, self.channels, self.interval = run, name, channels, interval
        self.rng = random.Random(run.rng.random())

    async def run_forever(self) -> None:
        run = self.run
        conn = HttpConnection(run.choose_port)
        seq = 0
        await asyncio.sleep(self.rng.uniform(0, run.args.ramp))
        while not run.stop_publishing.is_set():
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * self.interval)
            seq += 1
            channel = self.rng.choice(self.channels)
            tag = f"{run.run_id}-{self.name}-{seq}"
            while not run.stop_publishing.is_set():
                try:
                    status, headers, body = await conn.request(
                        "POST", f"/v1/channels/{quote(channel, safe=':')}/events",
                        {"type": "chaos.tick", "data": payload(tag, run.args.payload)},
                        headers={"Idempotency-Key": tag})
                except NETWORK_ERRORS:
                    run.report.count("http publishes retried (no answer)")
                    await run.backoff(self.rng)
                    continue
                if status in (200, 201):
                    reply = json.loads(body)
                    if status == 200:
                        run.report.count("http publishes replayed")
                        if headers.get("idempotent-replayed") != "true":
                            run.report.violation("publish", f"client={self.name}: 200 without Idempotent-Replayed")
                    if reply.get("id") != tag or reply.get("channel") != channel:
                        run.report.violation("publish",
                                             f"client={self.name} channel={channel}: reply {reply} for {tag}")
                    run.ledger.ack(self.name, channel, reply["offset"], reply["id"], tag, "http")
                    break
                run.report.count(f"http publish answered {status}")
                if status not in (429, 503):
                    run.report.violation("publish", f"client={self.name} channel={channel}: {status} {body[:200]!r}")
                    break
                await run.backoff(self.rng)
        conn.close()


class FirehosePublisher:
    """Publishes batches to the firehose channel (POST /v1/events). A batch that got no answer is not
    sent again (batches carry no idempotency key here), so its events may or may not exist; only
    answered batches count as acknowledged."""

    def __init__(self, run: Run, name: str, batch: int, interval: float) -> None:
        self.run, self.name, self.batch, self.interval = run, name, batch, interval
        self.rng = random.Random(run.rng.random())

    async def run_forever(self) -> None:
        run = self.run
        conn = HttpConnection(run.choose_port)
        seq = 0
        next_at = time.monotonic()
        while not run.stop_publishing.is_set():
            next_at = max(next_at + self.interval, time.monotonic())
            await asyncio.sleep(next_at - time.monotonic())
            tags = []
            for _ in range(self.batch):
                seq += 1
                tags.append(f"{run.run_id}-{self.name}-{seq}")
            items = [{"channel": FIREHOSE, "type": "chaos.fire",
                      "data": payload(t, run.args.firehose_payload, random_pad=True)} for t in tags]
            try:
                status, _, body = await conn.request("POST", "/v1/events", {"events": items})
            except NETWORK_ERRORS:
                run.report.count("firehose batches without an answer")
                await run.backoff(self.rng)
                continue
            if status != 201:
                run.report.count(f"firehose batch answered {status}")
                if status not in (429, 503):
                    run.report.violation("publish", f"client={self.name}: batch answered {status} {body[:200]!r}")
                continue
            replies = json.loads(body).get("events", [])
            if len(replies) != len(tags):
                run.report.violation("publish", f"client={self.name}: {len(replies)} replies for {len(tags)} events")
                continue
            previous = None
            for tag, reply in zip(tags, replies):
                if previous is not None and reply["offset"] != previous + 1:
                    run.report.violation("publish", f"client={self.name}: batch offsets not consecutive: "
                                                    f"{[r['offset'] for r in replies]}")
                previous = reply["offset"]
                run.ledger.ack(self.name, FIREHOSE, reply["offset"], reply["id"], tag, "http batch")
        conn.close()


class WebSocketPublisher:
    """Publishes with the WebSocket `publish` op; sometimes vanishes with a publish in flight (its
    outcome is then unknown, and it is not sent again)."""

    def __init__(self, run: Run, name: str, channels: list[str], interval: float) -> None:
        self.run, self.name, self.channels, self.interval = run, name, channels, interval
        self.rng = random.Random(run.rng.random())

    async def run_forever(self) -> None:
        run = self.run
        seq = 0
        await asyncio.sleep(self.rng.uniform(0, run.args.ramp))
        while not run.stop_publishing.is_set():
            try:
                port = run.port
                sock = await connect_socket(port)
                async with ws_connect(f"ws://{HOST}:{port}/v1/ws", sock=sock, open_timeout=CONNECT_TIMEOUT,
                                      close_timeout=3, ping_interval=None, proxy=None) as ws:
                    vanish_at = time.monotonic() + self.rng.uniform(10, 60)
                    while not run.stop_publishing.is_set():
                        await asyncio.sleep(self.rng.uniform(0.5, 1.5) * self.interval)
                        seq += 1
                        channel = self.rng.choice(self.channels)
                        tag = f"{run.run_id}-{self.name}-{seq}"
                        await ws.send(json.dumps({"op": "publish", "channel": channel, "type": "chaos.tick",
                                                  "data": payload(tag, run.args.payload), "ref": seq}))
                        if time.monotonic() >= vanish_at:
                            run.report.count("ws publishers vanished mid-publish")
                            ws.transport.abort()
                            break
                        async with asyncio.timeout(REQUEST_TIMEOUT):
                            while True:
                                reply = json.loads(await ws.recv())
                                if reply.get("ref") == seq:
                                    break
                        if reply.get("op") == "published" and isinstance(reply.get("offset"), int):
                            run.ledger.ack(self.name, channel, reply["offset"], reply["id"], tag, "websocket")
                        elif reply.get("code") == "unavailable" and run.database_restarting():
                            # Not stored (the store was down): an unacknowledged publish, as one that
                            # got no answer; these events carry no key, so it is not sent again.
                            run.report.count("ws publishes refused while the database restarted")
                        else:
                            run.report.violation("publish", f"client={self.name} channel={channel}: reply {reply}")
            except NETWORK_ERRORS:
                run.report.count("ws publishes without an answer")
                run.report.count("reconnects")
                await run.backoff(self.rng)


# -- the run ---------------------------------------------------------------------------------------


def client_token(user: str) -> str:
    """An HS256 client token for `user`, reading the presence namespace, valid for an hour."""
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": user, "exp": int(time.time()) + 3600, "channels": [f"{PRESENCE_NAMESPACE}:*"]}
    body = b64(json.dumps(claims).encode())
    signature = hmac.new(JWT_SECRET.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64(signature)}"


async def presence_member(port: int, user: str, channel: str):
    """A WebSocket of `user`, present in `channel` on the node at `port`."""
    ws = await ws_connect(f"ws://{HOST}:{port}/v1/ws?token={client_token(user)}", open_timeout=CONNECT_TIMEOUT,
                          close_timeout=3, ping_interval=None, proxy=None)
    welcome = json.loads(await asyncio.wait_for(ws.recv(), CONNECT_TIMEOUT))
    if welcome.get("op") != "welcome":
        raise RuntimeError(f"presence member {user}: {welcome}")
    await ws.send(json.dumps({"op": "subscribe", "channel": channel}))
    while True:
        reply = json.loads(await asyncio.wait_for(ws.recv(), CONNECT_TIMEOUT))
        if reply.get("op") == "subscribed":
            return ws
        if reply.get("op") == "error":
            raise RuntimeError(f"presence member {user}: {reply}")


class WebhookReceiver:
    """A webhook endpoint on loopback for the ordinary channels (--database): it answers each delivery
    after a short random delay, so that some are in flight when a node is killed, and records what
    came. At the end every acknowledged event of those channels must have arrived, always under its
    event id as `webhook-id`; a delivery that came twice (an attempt in flight at a kill, sent again
    after its lease ran out) is counted, not a violation."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.seen: dict[tuple[str, int], str] = {}
        self.deliveries = 0
        self.server: asyncio.base_events.Server | None = None
        self.port = 0
        self.progress = asyncio.Event()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self.serve, HOST, 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                _, headers = parse_request_head(await reader.readuntil(b"\r\n\r\n"))
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                await asyncio.sleep(self.run.rng.uniform(0, 0.2))
                self.record(headers.get("webhook-id", ""), json.loads(body))
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    def record(self, webhook_id: str, payload: dict) -> None:
        self.deliveries += 1
        key = (payload.get("channel"), payload.get("offset"))
        earlier = self.seen.get(key)
        if earlier is None:
            self.seen[key] = webhook_id
            self.progress.set()
        elif earlier == webhook_id:
            self.run.report.count("webhook deliveries received twice (in flight at a kill)")
        else:
            self.run.report.violation("webhook", f"{key} delivered under two ids: {earlier}, {webhook_id}")

    def missing(self, targets: dict[str, int]) -> dict[str, int]:
        return {c: sum(1 for o in range(1, n + 1) if (c, o) not in self.seen)
                for c, n in targets.items() if c != FIREHOSE}

    async def verify(self, targets: dict[str, int], stall: float) -> None:
        """Waits while deliveries make progress (a dead node's leases must run out first), then checks."""
        while any(self.missing(targets).values()):
            self.progress.clear()
            try:
                await asyncio.wait_for(self.progress.wait(), stall)
            except (asyncio.TimeoutError, TimeoutError):
                break
        missing = {c: n for c, n in self.missing(targets).items() if n}
        if missing:
            self.run.report.violation("webhook", f"acknowledged events never delivered, per channel: {missing}")
        self.run.report.count("webhook deliveries received", self.deliveries)
        log(f"webhooks: {len(self.seen)} events delivered ({self.deliveries} deliveries)")
        if self.server:
            self.server.close()


def parse_request_head(raw: bytes) -> tuple[str, dict[str, str]]:
    lines = raw.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return lines[0], headers


class PresenceProbe:
    """Members on the node about to be SIGKILLed, heard by a watcher on a node that stays: after the kill
    each must leave within the node TTL (plus a beat and a margin), once, in the frames, the journal and
    the listing."""

    def __init__(self, run: Run, kill: int, victim: ServerProcess, witness: ServerProcess) -> None:
        self.run = run
        self.channel = f"{PRESENCE_NAMESPACE}:kill-{kill}"
        self.users = [f"k{kill}-m{k}" for k in range(PRESENCE_MEMBERS)]
        self.victim = victim
        self.witness = witness
        self.watcher = None
        self.members: list = []
        self.leaves: collections.Counter = collections.Counter()

    async def frames(self, until: Callable[[], bool], seconds: float) -> None:
        """Reads the watcher's frames, counting joins and leaves, until `until()` or `seconds` passed."""
        deadline = time.monotonic() + seconds
        while not until() and time.monotonic() < deadline:
            try:
                frame = json.loads(await asyncio.wait_for(self.watcher.recv(), deadline - time.monotonic()))
            except (asyncio.TimeoutError, TimeoutError):
                return
            user = (frame.get("member") or {}).get("user")
            if frame.get("op") == "join":
                self.joins[user] += 1
            elif frame.get("op") == "leave":
                self.leaves[user] += 1

    async def before_kill(self) -> bool:
        self.joins: collections.Counter = collections.Counter()
        try:
            self.watcher = await presence_member(self.witness.port, f"watcher-{self.channel}", self.channel)
            for user in self.users:
                self.members.append(await presence_member(self.victim.port, user, self.channel))
            await self.frames(lambda: all(self.joins[u] >= 1 for u in self.users), 30)
        except (OSError, RuntimeError, ConnectionClosed, InvalidHandshake, asyncio.TimeoutError) as error:
            self.run.report.violation("presence", f"{self.channel}: could not set up the members: {error!r}")
            return False
        missing = [u for u in self.users if self.joins[u] == 0]
        if missing:
            self.run.report.violation("presence", f"{self.channel}: the watcher on {self.witness.name} heard no "
                                                  f"join of {missing} (on {self.victim.name})")
        return not missing

    async def after_kill(self) -> None:
        try:
            await self.check_after_kill()
        finally:
            await self.close()

    async def close(self) -> None:
        """Closes the watcher and drops the members' sockets (their node is dead)."""
        for ws in [self.watcher] + self.members:
            if ws is not None:
                ws.transport.abort()
        self.members = []

    async def check_after_kill(self) -> None:
        report = self.run.report
        bound = NODE_TTL_MS / 1000 * 4 / 3 + 15
        started = time.monotonic()
        await self.frames(lambda: all(self.leaves[u] >= 1 for u in self.users), bound)
        took = time.monotonic() - started
        missing = [u for u in self.users if self.leaves[u] == 0]
        if missing:
            report.violation("presence", f"{self.channel}: {missing} of the killed {self.victim.name} did not "
                                         f"leave within {bound:.0f}s")
        else:
            report.count("presence members reaped after a SIGKILL", len(self.users))
            log(f"presence: the {len(self.users)} members of {self.victim.name} left {took:.1f}s after the kill")
        await self.frames(lambda: False, 3)  # any second leave would come now
        twice = {u: n for u, n in self.leaves.items() if n > 1 or (n and u not in self.users)}
        if twice:
            report.violation("presence", f"{self.channel}: leaves heard more than once or of others: {twice}")
        try:
            listing = await http_json(self.witness.port, f"/v1/channels/{self.channel}/presence")
            journal = await http_json(self.witness.port, f"/v1/channels/$presence:{self.channel}/events?after=0")
        except (OSError, RuntimeError, ValueError, ServerGone) as error:
            report.violation("presence", f"{self.channel}: could not read the listing or journal: {error!r}")
            return
        listed = sorted(m.get("user") for m in listing.get("members", []))
        if listed != [f"watcher-{self.channel}"]:
            report.violation("presence", f"{self.channel}: {self.witness.name} still lists {listed}")
        entries = collections.Counter((e.get("type"), (e.get("data") or {}).get("user"))
                                      for e in journal.get("events", []))
        for user in self.users:
            if entries[("presence.join", user)] != 1 or entries[("presence.leave", user)] != 1:
                report.violation("presence", f"{self.channel}: the journal holds {entries[('presence.join', user)]} "
                                             f"joins and {entries[('presence.leave', user)]} leaves of {user}")


async def metrics(port: int) -> dict[str, float]:
    conn = HttpConnection(port)
    try:
        status, _, body = await conn.request("GET", "/metrics")
    finally:
        conn.close()
    if status != 200:
        raise ServerGone(f"/metrics answered {status}")
    out = {}
    for line in body.decode().splitlines():
        if line.startswith("switchboard_connections") or line.startswith("switchboard_subscriptions") \
                or line.startswith("switchboard_slow_consumers_closed_total"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


async def verify_history(run: Run) -> None:
    """The log itself, read page by page: contiguous from 1, agreeing with every sighting, and holding
    every acknowledged publish."""
    for channel in sorted(run.ledger.by_offset):
        after, offsets = 0, set()
        while True:
            page = await http_json(run.port, f"/v1/channels/{quote(channel, safe=':')}/events?after={after}&limit=1000")
            if page["truncated"]:
                run.report.violation("truncated", f"channel={channel}: history after={after} is truncated")
            for event in page["events"]:
                if event["offset"] != after + 1:
                    run.report.violation("history-gap", f"channel={channel}: expected offset {after + 1}, "
                                                        f"got {event['offset']}")
                after = event["offset"]
                offsets.add(after)
                run.ledger.observe("history", channel, after, event["id"], event["data"]["tag"])
            if not page["events"]:
                break
        missing = sorted(run.ledger.acked[channel] - offsets)
        if missing:
            run.report.violation("lost-acknowledged", f"channel={channel}: acknowledged offsets {missing[:20]} "
                                                      f"({len(missing)} in all) are not in the log")


def plan(run: Run) -> tuple[list, list]:
    """The clients: (publishers, subscribers), about --clients in all."""
    args = run.args
    rng = run.rng
    n_channels = max(8, args.clients // 12)
    channels = [f"{NAMESPACE}:c{i:03d}" for i in range(n_channels)]
    n_http = max(2, args.clients * 3 // 100)
    n_ws_pub = max(2, args.clients * 2 // 100)
    per_publisher = (n_http + n_ws_pub) / args.rate  # seconds between one publisher's publishes
    publishers: list = [HttpPublisher(run, f"http-pub-{i:03d}", channels, per_publisher) for i in range(n_http)]
    publishers += [WebSocketPublisher(run, f"ws-pub-{i:03d}", channels, per_publisher) for i in range(n_ws_pub)]
    if args.firehose_rate > 0:
        batch = max(1, args.firehose_rate // 10)
        publishers.append(FirehosePublisher(run, "firehose-pub", batch, batch / args.firehose_rate))
    subscribers: list[Subscriber] = []
    remaining = max(3, args.clients - len(publishers))
    # One WebSocket or SSE subscriber in six is a slow consumer on the firehose; one in twenty of the
    # others reads the firehose as well, to check a busy channel for readers that keep up. Both are
    # capped, so that the firehose's traffic into this one Python process does not grow with --clients.
    slow_left, fast_left = 24, 8
    for i in range(remaining):
        kind = (WebSocketSubscriber, SSESubscriber, LongPollSubscriber)[rng.choices([0, 1, 2], [40, 35, 25])[0]]
        streams = kind is not LongPollSubscriber and args.firehose_rate > 0
        slow = streams and slow_left > 0 and rng.random() < 1 / 6
        fast = streams and not slow and fast_left > 0 and rng.random() < 0.05
        slow_left -= slow
        fast_left -= fast
        chosen = rng.sample(channels, rng.randint(1, 2 if kind is LongPollSubscriber else 4))
        if slow or fast:
            chosen.append(FIREHOSE)
        subscribers.append(kind(run, f"{kind.kind}-{'slow-' if slow else ''}{i:04d}", chosen, slow))
    return publishers, subscribers


def postgres_bin(tool: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{tool}"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise RuntimeError(f"no PostgreSQL {tool} (scripts/postgres.sh installs it)")
    return str(found[-1])


def create_database(server_url: str) -> str:
    """Creates a fresh database on the server at `server_url` and returns its URL."""
    base, _, query = server_url.partition("?")
    name = "chaos_" + uuid.uuid4().hex[:12]
    subprocess.run([postgres_bin("psql"), base.split("?")[0], "-q", "-c", f"CREATE DATABASE {name}"],
                   check=True, stdout=subprocess.DEVNULL)
    return base.rsplit("/", 1)[0] + "/" + name + ("?" + query if query else "?sslmode=disable")


def restart_database(directory: str) -> None:
    subprocess.run(["bash", str(REPO_ROOT / "scripts/postgres.sh"), "restart", directory], check=True)


async def sleep_until(t: float) -> None:
    await asyncio.sleep(max(0.0, t - time.monotonic()))


async def chaos(args: argparse.Namespace, workdir: Path, servers: list[ServerProcess]) -> int:
    report = Report()
    config = {
        "namespaces": [NAMESPACE],
        "namespace": {NAMESPACE: {
            # Retention off: every event stays, so any truncation or missing offset is a real loss.
            "retention_count": 0, "retention_seconds": 0,
            "public": True, "client_publish": True,
            # Small mailboxes, so that a paused reader is a slow consumer within seconds.
            "mailbox_bytes": 64 * 1024, "mailbox_events": 2000,
        }},
    }
    if args.database:
        # Several nodes on one fresh PostgreSQL database, each with its own data dir and port.
        config["store"] = {"database_url": create_database(args.database), "cluster_poll_ms": 500,
                           "node_ttl_ms": NODE_TTL_MS}
        config["namespaces"].append(PRESENCE_NAMESPACE)
        config["namespace"][PRESENCE_NAMESPACE] = {"presence": True}
        config["jwt"] = {"secret": JWT_SECRET}
        config["webhooks"] = {"allow_private_targets": True, "timeout_seconds": WEBHOOK_TIMEOUT_SECONDS}
        nodes = [ServerProcess(args.binary, workdir / f"node-{i}", config, f"node {i}") for i in range(args.nodes)]
    else:
        nodes = [ServerProcess(args.binary, workdir, config)]
    servers.extend(nodes)
    run = Run(args, nodes, report)
    server = run.server
    for node in nodes:
        await node.start()
    t0 = time.monotonic()
    for node in nodes:
        log(f"{node.name} pid {node.proc.pid} on {HOST}:{node.port}; data in {node.data_dir}; seed {args.seed}")

    receiver = None
    if len(nodes) > 1:
        receiver = WebhookReceiver(run)
        await receiver.start()
        conn = HttpConnection(nodes[0].port)
        status, _, body = await conn.request("POST", "/v1/endpoints", {
            "url": f"http://{HOST}:{receiver.port}/hook", "channels": [f"{NAMESPACE}:c*"]})
        conn.close()
        if status != 201:
            raise RuntimeError(f"creating the webhook endpoint: {status} {body[:300]!r}")

    publishers, subscribers = plan(run)
    kinds = collections.Counter(s.kind + (" slow" if s.slow else "") for s in subscribers)
    log(f"{len(publishers)} publishers, {len(subscribers)} subscribers {dict(kinds)}, "
        f"{len({c for s in subscribers for c in s.channels})} channels")
    publisher_tasks = [asyncio.create_task(p.run_forever()) for p in publishers]
    subscriber_tasks = {asyncio.create_task(s.run_forever()): s for s in subscribers}

    # Watch for the server dying on its own (not by our SIGKILL): a crash is a violation; restart it so
    # that the run can finish and report everything else.
    class PlannedKill:
        victim: ServerProcess | None = None

    planned_kill = PlannedKill()

    async def watch() -> None:
        while True:
            await asyncio.sleep(0.5)
            for node in nodes:
                if node.proc.poll() is not None and node is not planned_kill.victim:
                    report.violation("crash", f"{node.name} exited with {node.proc.returncode} at "
                                              f"{time.monotonic() - t0:.0f}s\n{node.log_tail()}")
                    report.count("unexpected server exits")
                    await node.start()

    watcher = asyncio.create_task(watch())

    # Warm-up: every client connected and every kind of activity seen at least once, slow consumers'
    # first pauses (20-30 s) and their closes included. The kills come after it.
    warmup = max(min(40.0, args.duration * 0.3), args.ramp + 5)
    await sleep_until(t0 + warmup)
    rss_baseline = server.rss_kib()
    log(f"warm-up done: RSS {rss_baseline / 1024:.1f} MiB, {report.counts['publishes acknowledged']} acknowledged")

    rss_before_kills = []
    for i in range(args.restarts):
        await sleep_until(t0 + warmup + (args.duration - warmup) * (i + 1) / (args.restarts + 1)
                          + run.rng.uniform(-2, 2))
        rss_before_kills.append(server.rss_kib())
        # One node alone is killed and restarted; of several, any but the measured first one (its
        # clients reconnect to the others meanwhile).
        victim = nodes[0] if len(nodes) == 1 else nodes[1 + i % (len(nodes) - 1)]
        probe = PresenceProbe(run, i + 1, victim, nodes[0]) if len(nodes) > 1 else None
        if probe and not await probe.before_kill():
            await probe.close()
            probe = None
        planned_kill.victim = victim
        run.kills += 1
        victim.kill()
        report.count("server restarts (SIGKILL)")
        down = run.rng.uniform(0.5, 3.0) if len(nodes) == 1 else run.rng.uniform(3.0, 8.0)
        log(f"SIGKILL {i + 1}/{args.restarts} of {victim.name} (RSS of {server.name} was "
            f"{rss_before_kills[-1] / 1024:.1f} MiB); down for {down:.1f}s")
        if probe:
            await probe.after_kill()
        await asyncio.sleep(down)
        if args.restart_database and i == 0:
            log("restarting PostgreSQL itself")
            run.database_restarted_at = time.monotonic()
            restart_database(args.restart_database)
            run.database_restarted_at = time.monotonic()
            report.count("database restarts")
        await victim.start()
        planned_kill.victim = None
        log(f"restarted {victim.name}: pid {victim.proc.pid}")

    await sleep_until(t0 + args.duration)
    log("stopping the publishers")
    run.stop_publishing.set()
    _, stuck = await asyncio.wait(publisher_tasks, timeout=REQUEST_TIMEOUT + 10)
    for task in stuck:  # a publish still unanswered: unacknowledged, so it does not count
        task.cancel()
    for task in publisher_tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            report.violation("harness", f"publisher failed: {task.exception()!r}")
    run.targets = dict(run.ledger.acked_max)
    run.draining.set()
    log(f"{report.counts['publishes acknowledged']} publishes acknowledged; subscribers catching up to "
        f"{sum(run.targets.values())} offsets over {len(run.targets)} channels")

    # Catch-up: wait while the streams make progress, not for a fixed time, so that a slow or busy
    # machine is not mistaken for a lost event. A stall (no subscriber still catching up received
    # anything for DRAIN_STALL_SECONDS) fails, and so does DRAIN_LIMIT_SECONDS in all, a bound kept
    # only so that a broken server cannot hold CI forever.
    drain_started = time.monotonic()
    pending = set(subscriber_tasks)
    done: set = set()
    last_progress = time.monotonic()
    position = None
    stalled = False
    while pending:
        finished, pending = await asyncio.wait(pending, timeout=5.0)
        done |= finished
        now_position = sum(sum(subscriber_tasks[task].last.values()) for task in pending)
        if finished or now_position != position:
            position = now_position
            last_progress = time.monotonic()
        if pending and time.monotonic() - last_progress >= DRAIN_STALL_SECONDS:
            stalled = True
            break
        if pending and time.monotonic() - drain_started >= DRAIN_LIMIT_SECONDS:
            break
    drain_seconds = time.monotonic() - drain_started
    for task in done:
        if task.exception() is not None:
            report.violation("harness", f"client={subscriber_tasks[task].name} failed: {task.exception()!r}")
    for task in pending:
        sub = subscriber_tasks[task]
        behind = {c: f"expected {run.targets.get(c, 0)}, got {sub.last[c]}" for c in sub.channels
                  if sub.last[c] < run.targets.get(c, 0)}
        why = (f"no stream caught up further for {DRAIN_STALL_SECONDS:.0f}s" if stalled
               else f"not done after {DRAIN_LIMIT_SECONDS:.0f}s, though still moving")
        report.violation("not-caught-up", f"client={sub.name}: {why}; the stream did not deliver every "
                                          f"acknowledged event: {behind}")
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    log(f"catch-up took {drain_seconds:.1f}s")
    log(f"catch-up done: {len(done)} of {len(subscribers)} subscribers complete")

    await verify_history(run)
    if receiver:
        # A delivery leased by a killed node waits for its lease (twice the timeout plus 30 s).
        await receiver.verify(run.targets, stall=WEBHOOK_TIMEOUT_SECONDS * 2 + 30 + 30)

    # Every client is gone: the server must see it. Its gauges go back to zero (a vanished peer can take
    # up to two heartbeat intervals, 50 s, to be noticed).
    slow_closed = 0.0
    for node in nodes:
        deadline = time.monotonic() + 90
        gauges = {}
        while time.monotonic() < deadline:
            gauges = await metrics(node.port)
            open_now = {k: v for k, v in gauges.items() if not k.startswith("switchboard_slow")}
            if open_now and all(v == 0 for v in open_now.values()):
                break
            await asyncio.sleep(1)
        else:
            report.violation("connections-leak", f"{node.name}: connection gauges after every client left: {gauges}")
        slow_closed += gauges.get("switchboard_slow_consumers_closed_total", 0)

    # Memory after a short settle; poll a while (the allocator trims lazily) before calling it a failure.
    rss_limit = rss_baseline + max(int(rss_baseline * RSS_MARGIN_FRACTION), RSS_MARGIN_MIN_KIB)
    await asyncio.sleep(5)
    deadline = time.monotonic() + 30
    rss_after = server.rss_kib()
    while rss_after > rss_limit and time.monotonic() < deadline:
        await asyncio.sleep(2)
        rss_after = server.rss_kib()
    if rss_after > rss_limit:
        report.violation("memory", f"server RSS {rss_after / 1024:.1f} MiB after the run, limit "
                                   f"{rss_limit / 1024:.1f} MiB (baseline {rss_baseline / 1024:.1f} MiB)")

    watcher.cancel()
    for node in nodes:
        rc = await node.terminate()
        if rc != 0:
            report.violation("shutdown", f"{node.name} exit status {rc} after SIGTERM\n{node.log_tail()}")

    # -- the report ---------------------------------------------------------------------------------
    counts = report.counts
    print()
    print("counts:")
    for name in sorted(counts):
        print(f"  {name}: {counts[name]}")
    print(f"  server slow consumers closed (last process, /metrics): {slow_closed:.0f}")
    print(f"RSS: baseline {rss_baseline / 1024:.1f} MiB after {warmup:.0f}s warm-up; before kills "
          f"{', '.join(f'{r / 1024:.1f}' for r in rss_before_kills) or '-'} MiB; after the run "
          f"{rss_after / 1024:.1f} MiB; limit {rss_limit / 1024:.1f} MiB "
          f"(baseline + max({RSS_MARGIN_FRACTION:.0%}, {RSS_MARGIN_MIN_KIB // 1024} MiB))")
    if report.violations:
        print(f"\n{len(report.violations)} violations:")
        by_kind = collections.Counter(kind for kind, _ in report.violations)
        print("  by kind: " + ", ".join(f"{k} {n}" for k, n in by_kind.most_common()))
        for kind, message in report.violations[:200]:
            print(f"  [{kind}] {message}")
        if len(report.violations) > 200:
            print(f"  ... and {len(report.violations) - 200} more")
    print(f"\nchaos: {'FAIL' if report.violations else 'ok'}: nodes {len(nodes)}, clients {len(publishers) + len(subscribers)} "
          f"({len(publishers)} publishers, {len(subscribers)} subscribers), "
          f"publishes acknowledged {counts['publishes acknowledged']}, events checked {counts['events checked']}, "
          f"reconnects {counts['reconnects']}, restarts {counts['server restarts (SIGKILL)']}, "
          f"RSS before {rss_baseline / 1024:.1f} MiB after {rss_after / 1024:.1f} MiB "
          f"(limit {rss_limit / 1024:.1f}), violations {len(report.violations)}, "
          f"{time.monotonic() - t0:.0f}s")
    return 1 if report.violations else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=120, help="seconds of chaos (default 120); "
                        "the catch-up and the checks after it add up to a few minutes at most")
    parser.add_argument("--clients", type=int, default=200, help="clients in all (default 200)")
    parser.add_argument("--rate", type=float, default=40, help="publishes a second over the ordinary "
                        "channels, HTTP and WebSocket together (default 40)")
    parser.add_argument("--firehose-rate", type=int, default=50, help="events a second on the firehose "
                        "channel, in batches (default 50; 0: no firehose and no slow consumers)")
    parser.add_argument("--payload", type=int, default=200, help="padding bytes of an ordinary event")
    parser.add_argument("--firehose-payload", type=int, default=6000, help="padding bytes of a firehose "
                        "event (random, so incompressible; default 6000: with the rate, about 300 KB/s per reader)")
    parser.add_argument("--restarts", type=int, default=2, help="SIGKILLs and restarts of the server (default 2)")
    parser.add_argument("--ramp", type=float, default=5, help="seconds over which clients connect at the start")
    parser.add_argument("--database", default=None, help="a PostgreSQL server's URL: run --nodes nodes on a "
                        "fresh database there instead of one node on SQLite; the clients pick any node for "
                        "every connection, as a load balancer without sticky sessions would")
    parser.add_argument("--nodes", type=int, default=3, help="nodes with --database (default 3)")
    parser.add_argument("--restart-database", default=None, metavar="DIR", help="with --database: restart "
                        "the PostgreSQL cluster that scripts/postgres.sh started in DIR during the first kill")
    parser.add_argument("--seed", type=int, default=None, help="seed of the random choices (default: random)")
    parser.add_argument("--keep", action="store_true", help="keep the data dir and server log")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.randrange(1 << 32)
    raw = Path(os.environ.get("SWITCHBOARD_BIN", ".build/debug/switchboard"))
    args.binary = raw if raw.is_absolute() else (Path.cwd() / raw if (Path.cwd() / raw).exists() else REPO_ROOT / raw)
    if not os.access(args.binary, os.X_OK):
        print(f"chaos: no server binary at {args.binary} (build it first, or set SWITCHBOARD_BIN)", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="switchboard-chaos-"))
    status = 1
    servers: list[ServerProcess] = []
    try:
        status = asyncio.run(chaos(args, workdir, servers))
    finally:
        for server in servers:  # an error in the harness must not leave the server running
            server.kill()
        if status == 0 and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"chaos: data dir and server log kept in {workdir}")
    return status


if __name__ == "__main__":
    sys.exit(main())
