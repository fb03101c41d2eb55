"""Shared helpers for the Switchboard interop tests.

Everything here talks to the real server binary over loopback only.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Iterable

import requests

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


def new_session(api_key: str | None = None) -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # never route loopback traffic through an environment proxy
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
    ) -> None:
        self.binary = binary
        self.data_dir = data_dir
        self.log_path = log_path
        self.dev = dev
        self.extra_args = list(extra_args)
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
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/ws"

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
        s = new_session()
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
            self._session = new_session(self.api_key)
        return self._session

    def new_session(self) -> requests.Session:
        """A separate session, e.g. for another thread."""
        return new_session(self.api_key)

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
