"""Shared helpers for the Switchboard interop tests.

Everything here talks to the real server binary over loopback only.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote

import jwt
import requests
import sseclient
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = ".build/debug/switchboard"

READY_TIMEOUT = 20.0  # seconds to wait for /readyz after start
STOP_TIMEOUT = 15.0  # seconds to wait for exit after SIGTERM
HTTP_TIMEOUT = 10.0  # seconds for ordinary HTTP calls

# The canonical event, identical on every transport (PROTOCOL.md, "Event").
EVENT_KEYS = frozenset({"id", "channel", "offset", "type", "time", "data"})
PUBLISH_REPLY_KEYS = frozenset({"id", "channel", "offset", "time"})
# RFC 3339 UTC with milliseconds: 2026-11-22T23:20:01.123Z
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def unique_channel(prefix: str = "interop") -> str:
    """A channel name no other test uses (names allow A-Z a-z 0-9 _ - . : =)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def binary_path() -> Path:
    """SWITCHBOARD_BIN, or .build/debug/switchboard; relative paths resolve
    against the working directory first, then the repository root."""
    raw = os.environ.get("SWITCHBOARD_BIN", DEFAULT_BIN)
    p = Path(raw)
    if p.is_absolute():
        return p
    cwd_candidate = Path.cwd() / p
    if cwd_candidate.exists():
        return cwd_candidate.absolute()
    return REPO_ROOT / p


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_session(api_key: str | None = None, *, verify: str | None = None) -> requests.Session:
    """A session that never uses an environment proxy; `api_key` (or a client token) goes in
    `Authorization: Bearer`; `verify` is a CA/certificate file to trust for https."""
    s = requests.Session()
    s.trust_env = False  # never route loopback traffic through an environment proxy
    if verify is not None:
        s.verify = verify
    if api_key:
        s.headers["Authorization"] = f"Bearer {api_key}"
    return s


def parse_cursor(cursor: str) -> dict[str, int]:
    """'orders@42,chat:1@7' -> {'orders': 42, 'chat:1': 7}."""
    out: dict[str, int] = {}
    for part in cursor.split(","):
        name, sep, offset = part.rpartition("@")
        assert sep and name, f"malformed cursor element {part!r} in {cursor!r}"
        assert name not in out, f"channel {name!r} twice in cursor {cursor!r}"
        out[name] = int(offset)
    return out


def assert_time(value: Any) -> None:
    assert isinstance(value, str) and TIME_RE.match(value), (
        f"time {value!r} is not RFC 3339 UTC with milliseconds"
    )


def assert_canonical_event(
    ev: dict,
    *,
    extra_keys: Iterable[str] = (),
    channel: str | None = None,
    offset: int | None = None,
    type: str | None = None,
    data: Any = ...,
    published: dict | None = None,
) -> None:
    """Check an event has exactly the canonical fields (plus extra_keys, e.g.
    'op' on WebSocket) and, where given, the expected values. `published` is
    the publish reply ({id, channel, offset, time}) it must match."""
    assert isinstance(ev, dict), f"event is not an object: {ev!r}"
    assert set(ev) == EVENT_KEYS | set(extra_keys), (
        f"event fields {sorted(ev)} != {sorted(EVENT_KEYS | set(extra_keys))}"
    )
    assert isinstance(ev["id"], str) and ev["id"].startswith("evt_"), ev["id"]
    assert isinstance(ev["offset"], int) and not isinstance(ev["offset"], bool)
    assert ev["offset"] >= 1
    assert_time(ev["time"])
    if channel is not None:
        assert ev["channel"] == channel
    if offset is not None:
        assert ev["offset"] == offset
    if type is not None:
        assert ev["type"] == type
    if data is not ...:
        assert ev["data"] == data
    if published is not None:
        for k in ("id", "channel", "offset", "time"):
            assert ev[k] == published[k], f"{k}: event {ev[k]!r} != publish reply {published[k]!r}"


def assert_problem(resp: requests.Response, status: int, code: str) -> dict:
    """RFC 9457 problem+json with Switchboard's code (PROTOCOL.md, HTTP errors)."""
    assert resp.status_code == status, f"{resp.status_code} {resp.text[:500]}"
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip() == "application/problem+json", ctype
    body = resp.json()
    assert body.get("code") == code, body
    assert body.get("status") == status, body
    assert body.get("type") == f"urn:switchboard:error:{code}", body
    assert isinstance(body.get("title"), str) and body["title"], body
    return body


class Server:
    """One switchboard server process on a loopback port."""

    def __init__(
        self,
        binary: Path,
        data_dir: Path,
        log_path: Path,
        *,
        dev: bool = True,
        extra_args: Iterable[str] = (),
        env: dict[str, str] | None = None,
        config: dict | None = None,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.binary = binary
        self.data_dir = data_dir
        self.log_path = log_path
        self.dev = dev
        self.extra_args = list(extra_args)
        # A configuration file's content (nested keys, e.g. {"jwt": {"secret": …}}), written next
        # to the data dir and passed with --config.
        self.config = config
        # (certificate PEM, private key PEM): --tls-cert/--tls-key, so https:// and wss://; the
        # certificate is what this class's sessions and ssl_context() trust.
        self.tls = tls
        # Extra environment variables, e.g. SWITCHBOARD_WEBHOOKS_RETRY_SCHEDULE (configuration keys
        # map to SWITCHBOARD_ + the key upper-cased with dots as underscores).
        self.env = dict(env or {})
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self.api_key: str | None = None
        self.returncode: int | None = None
        self._session: requests.Session | None = None

    # -- lifecycle -----------------------------------------------------------

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}/v1/ws"

    @property
    def verify(self) -> str | None:
        """The certificate file https clients must trust (None without TLS)."""
        return str(self.tls[0]) if self.tls else None

    def ssl_context(self) -> ssl.SSLContext | None:
        """A client TLS context trusting the server's certificate (None without TLS)."""
        if not self.tls:
            return None
        return ssl.create_default_context(cafile=str(self.tls[0]))

    def start(self) -> "Server":
        last_error = ""
        for _attempt in range(3):  # a free port can be taken between probe and bind
            self.port = free_port()
            args = [
                str(self.binary), "serve",
                "--host", "127.0.0.1",
                "--port", str(self.port),
                "--data-dir", str(self.data_dir),
            ]
            if self.dev:
                args.insert(2, "--dev")
            if self.config is not None:
                config_path = self.data_dir.parent / f"{self.data_dir.name}.config.json"
                config_path.write_text(json.dumps(self.config, indent=2), encoding="utf-8")
                args += ["--config", str(config_path)]
            if self.tls:
                args += ["--tls-cert", str(self.tls[0]), "--tls-key", str(self.tls[1])]
            args += self.extra_args
            log = open(self.log_path, "ab")
            log.write(f"\n=== start: {' '.join(args)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=str(self.data_dir.parent),
                env={**os.environ, **self.env} if self.env else None,
            )
            log.close()
            self.returncode = None
            if self._wait_ready():
                break
            if self.proc.poll() is None:
                self._kill()
                raise RuntimeError(
                    f"switchboard not ready within {READY_TIMEOUT:.0f}s\n{self.log_tail()}"
                )
            last_error = f"switchboard exited with {self.proc.returncode} before ready"
        else:
            raise RuntimeError(f"{last_error}\n{self.log_tail()}")
        if not self.dev:
            self.api_key = self.read_admin_key()
        self._session = None
        return self

    def _wait_ready(self) -> bool:
        s = new_session(verify=self.verify)
        deadline = time.monotonic() + READY_TIMEOUT
        try:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    return False
                try:
                    r = s.get(self.base_url + "/readyz", timeout=2)
                    if r.status_code == 200:
                        return True
                except requests.RequestException:
                    pass
                time.sleep(0.1)  # polling interval, not synchronization
            return False
        finally:
            s.close()

    def read_admin_key(self, timeout: float = 5.0) -> str:
        path = self.data_dir / "admin.key"
        deadline = time.monotonic() + timeout
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert path.exists(), f"{path.name} not written in the data dir after start"
        key = path.read_text(encoding="utf-8").strip()
        assert key.startswith("sbk_"), f"admin.key does not hold an sbk_ key: {key[:8]!r}"
        return key

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM and wait; returns the exit code (None if it had to be killed)."""
        if self._session is not None:
            self._session.close()
            self._session = None
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._kill()
            self.returncode = None
        self.proc = None
        return self.returncode

    def stop_and_assert_clean(self) -> None:
        rc = self.stop()
        assert rc is not None, (
            f"switchboard did not exit within {STOP_TIMEOUT:.0f}s of SIGTERM\n{self.log_tail()}"
        )
        assert rc == 0, f"switchboard exited with {rc} after SIGTERM\n{self.log_tail()}"

    def crash(self) -> int:
        """SIGKILL the process (no graceful shutdown) and reap it; the server then counts as
        stopped, so fixture teardown does not expect a clean exit from it. Returns the exit code."""
        assert self.proc is not None, "server is not running"
        if self._session is not None:
            self._session.close()
            self._session = None
        if self.proc.poll() is None:  # the caller may have sent the SIGKILL itself
            os.kill(self.proc.pid, signal.SIGKILL)
        self.returncode = self.proc.wait(timeout=10)
        self.proc = None
        with open(self.log_path, "ab") as log:
            log.write(f"\n=== killed with SIGKILL (exit {self.returncode})\n".encode())
        return self.returncode

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no server log)"
        return "--- server log (tail) ---\n" + "\n".join(text.splitlines()[-lines:])

    # -- HTTP helpers ----------------------------------------------------------

    @property
    def session(self) -> requests.Session:
        """A session for the test's own thread (carries the admin key when not --dev)."""
        if self._session is None:
            self._session = new_session(self.api_key, verify=self.verify)
        return self._session

    def new_session(self) -> requests.Session:
        """A separate session, e.g. for another thread."""
        return new_session(self.api_key, verify=self.verify)

    def client_session(self, token: str | None = None) -> requests.Session:
        """A session without the admin key, as a client has: `token` (a client token), when
        given, goes in `Authorization: Bearer`."""
        return new_session(token, verify=self.verify)

    def url(self, path: str) -> str:
        return self.base_url + path

    def publish(
        self,
        channel: str,
        type: str,
        data: Any,
        *,
        session: requests.Session | None = None,
        headers: dict | None = None,
        expect: int = 201,
    ) -> dict:
        s = session or self.session
        r = s.post(
            self.url(f"/v1/channels/{channel}/events"),
            json={"type": type, "data": data},
            headers=headers,
            timeout=HTTP_TIMEOUT,
        )
        assert r.status_code == expect, f"publish: {r.status_code} {r.text[:500]}"
        body = r.json()
        assert PUBLISH_REPLY_KEYS <= set(body), f"publish reply fields {sorted(body)}"
        assert body["channel"] == channel
        # A publish with an Idempotency-Key gets that key as its id (PROTOCOL.md); otherwise evt_….
        key = (headers or {}).get("Idempotency-Key")
        assert isinstance(body["id"], str) and body["id"] == (key or body["id"]), body
        if key is None:
            assert body["id"].startswith("evt_"), body
        assert_time(body["time"])
        return body

    def history(
        self,
        channel: str,
        *,
        after: int | None = None,
        limit: int | None = None,
        wait: float | None = None,
        session: requests.Session | None = None,
        timeout: float = HTTP_TIMEOUT,
    ) -> dict:
        params = {}
        if after is not None:
            params["after"] = after
        if limit is not None:
            params["limit"] = limit
        if wait is not None:
            params["wait"] = wait
        s = session or self.session
        r = s.get(self.url(f"/v1/channels/{channel}/events"), params=params, timeout=timeout)
        assert r.status_code == 200, f"history: {r.status_code} {r.text[:500]}"
        body = r.json()
        assert {"channel", "events", "next", "earliest", "truncated"} <= set(body), sorted(body)
        assert body["channel"] == channel
        return body


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


# -- client tokens (JWT) -------------------------------------------------------


def make_token(key: Any, algorithm: str = "HS256", **claims: Any) -> str:
    """A client token signed with PyJWT: `key` is the HS256 secret or a private key object
    (cryptography) for EdDSA/ES256/RS256. Claims: sub, exp, nbf, channels, publish, info…"""
    return jwt.encode(claims, key, algorithm=algorithm)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unsigned_token(**claims: Any) -> str:
    """An `alg: none` token built by hand: header.payload. with an empty signature."""
    header = _b64url(dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64url(dumps(claims).encode())
    return f"{header}.{payload}."


# -- WebSocket (the `websockets` asyncio client) -------------------------------

RECV_TIMEOUT = 10.0
TEST_TIMEOUT = 90.0


def run(coro):
    """Runs a test's coroutine with an overall ceiling."""
    return asyncio.run(asyncio.wait_for(coro, TEST_TIMEOUT))


def ws_connect(server: Server, *, token: str | None = None, **kwargs):
    """Connects to the server's /v1/ws (wss:// trusting its certificate when it has TLS);
    `token` goes in `?token=`."""
    url = server.ws_url
    if token is not None:
        url += "?token=" + quote(token, safe="")
    kwargs.setdefault("open_timeout", 10)
    kwargs.setdefault("close_timeout", 5)
    kwargs.setdefault("proxy", None)
    if server.tls:
        kwargs.setdefault("ssl", server.ssl_context())
    return connect(url, **kwargs)


async def recv_json(ws, timeout: float = RECV_TIMEOUT) -> dict:
    raw = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(raw, str), f"expected a text frame, got {type(raw).__name__}"
    msg = json.loads(raw)
    assert isinstance(msg, dict), f"frame is not a JSON object: {raw[:200]}"
    return msg


async def send_json(ws, obj) -> None:
    await ws.send(dumps(obj))


async def welcome(ws) -> dict:
    msg = await recv_json(ws)
    assert msg.get("op") == "welcome", f"first frame is not welcome: {msg}"
    return msg


async def subscribe(ws, channel: str, since: int | None = None, ref=None) -> dict:
    cmd = {"op": "subscribe", "channel": channel}
    if since is not None:
        cmd["since"] = since
    if ref is not None:
        cmd["ref"] = ref
    await send_json(ws, cmd)
    msg = await recv_json(ws)
    assert msg.get("op") == "subscribed", f"expected subscribed, got {msg}"
    assert msg["channel"] == channel
    if ref is not None:
        assert msg.get("ref") == ref, f"ref not echoed: {msg}"
    assert isinstance(msg["offset"], int) and not isinstance(msg["offset"], bool)
    assert isinstance(msg["recovered"], bool) and isinstance(msg["truncated"], bool), msg
    return msg


async def ping(ws, ref) -> None:
    """Round-trip a ping; the very next frame must be its pong (nothing queued before it)."""
    await send_json(ws, {"op": "ping", "ref": ref})
    msg = await recv_json(ws)
    assert msg == {"op": "pong", "ref": ref}, f"expected pong for {ref!r}, got {msg}"


async def publish_http(server, channel, type, data) -> dict:
    return await asyncio.to_thread(server.publish, channel, type, data, session=server.new_session())


async def expect_close(ws, code: int, timeout: float = RECV_TIMEOUT) -> list[dict]:
    """Reads until the server closes the connection, which must happen within `timeout` and
    with close code `code`. Returns the frames read before the close."""
    frames: list[dict] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"not closed within {timeout:.1f}s (expected close code {code}); read {frames}"
                )
            try:
                frames.append(await recv_json(ws, timeout=remaining))
            except asyncio.TimeoutError:
                raise AssertionError(
                    f"not closed within {timeout:.1f}s (expected close code {code}); read {frames}"
                ) from None
    except ConnectionClosed as e:
        rcvd = e.rcvd
        assert rcvd is not None, (
            f"connection ended without a close frame from the server (expected {code}); read {frames}"
        )
        assert rcvd.code == code, (
            f"close code {rcvd.code} ({rcvd.reason!r}), expected {code}; read {frames}"
        )
    return frames


# -- Server-Sent Events (sseclient-py over a `requests` streaming response) ----

READ_TIMEOUT = 10.0  # longest silence tolerated while waiting for an SSE event


class Stream:
    """One SSE connection read with sseclient-py. With `token`, the stream is opened the way
    a client does: `?token=` and no admin key."""

    def __init__(self, server, channels, *, cursor=None, last_event_id=None, token=None):
        params = [("channel", c) for c in channels]
        if cursor is not None:
            params.append(("cursor", cursor))
        if token is not None:
            params.append(("token", token))
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self.session = server.client_session() if token is not None else server.new_session()
        self.response = self.session.get(
            server.url("/v1/sse"), params=params, headers=headers, stream=True,
            timeout=(5, READ_TIMEOUT),
        )
        if self.response.status_code != 200:
            body = self.response.text[:500]
            self.close()
            raise AssertionError(f"/v1/sse answered {self.response.status_code}: {body}")
        ctype = self.response.headers.get("Content-Type", "")
        assert ctype.split(";")[0].strip() == "text/event-stream", ctype
        self.client = sseclient.SSEClient(self.response)
        self._events = self.client.events()

    def next_raw(self):
        try:
            return next(self._events)
        except StopIteration:
            raise AssertionError("SSE stream ended unexpectedly") from None

    def next_event(self):
        """The next data event: (event dict, cursor dict, raw id)."""
        msg = self.next_raw()
        assert msg.event == "message", (
            f"unexpected `event: {msg.event}` with data {msg.data[:200]}"
        )
        assert msg.id, f"event without an id: {msg.data[:200]}"
        return json.loads(msg.data), parse_cursor(msg.id), msg.id

    def close(self):
        self.response.close()
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
