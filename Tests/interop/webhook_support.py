"""Webhook receivers and verification helpers for the webhook interop tests.

A `Receiver` is a small HTTP server (http.server's ThreadingHTTPServer in a thread) on a free
loopback port that records every request it reads completely, before answering, so that a
request counts as seen even when the sender dies before reading the response.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import standardwebhooks
import standardwebhooks.webhooks
import svix
import svix.webhooks

from interop_support import HTTP_TIMEOUT, Server

SECRET_PREFIX = "whsec_"


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased (each name once in a webhook delivery)
    body: bytes
    received: float = field(default_factory=time.monotonic)

    @property
    def webhook_id(self) -> str | None:
        return self.headers.get("webhook-id")

    def json(self) -> Any:
        return json.loads(self.body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as webhook senders pool connections
    server: "_Server"

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self._read_body()
        if body is None:
            self.close_connection = True
            return
        req = ReceivedRequest(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        receiver = self.server.receiver
        status = receiver.record(req)
        if receiver.delay:
            time.sleep(receiver.delay)
        payload = b"ok"
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True  # the sender went away (e.g. it was killed)

    def _read_body(self) -> bytes | None:
        try:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size_line = self.rfile.readline()
                    if not size_line:
                        return None
                    size = int(size_line.split(b";")[0].strip(), 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunk = self.rfile.read(size)
                    if len(chunk) != size:
                        return None
                    chunks.append(chunk)
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            return body if len(body) == length else None
        except (OSError, ValueError):
            return None

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    receiver: "Receiver"


class Receiver:
    """Records webhook deliveries; answers `status` (200 unless changed), after `delay` seconds."""

    def __init__(self, *, status: int = 200, delay: float = 0.0) -> None:
        self.status = status
        self.delay = delay
        self.requests: list[ReceivedRequest] = []
        self._cond = threading.Condition()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.receiver = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="webhook-receiver",
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> "Receiver":
        self._thread.start()
        return self

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> "Receiver":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def record(self, req: ReceivedRequest) -> int:
        with self._cond:
            self.requests.append(req)
            self._cond.notify_all()
            return self.status

    def snapshot(self) -> list[ReceivedRequest]:
        with self._cond:
            return list(self.requests)

    def seen_ids(self) -> set[str]:
        with self._cond:
            return {r.webhook_id for r in self.requests if r.webhook_id}

    def wait_until(self, predicate: Callable[[list[ReceivedRequest]], bool], timeout: float,
                   what: str = "condition") -> list[ReceivedRequest]:
        """Waits until predicate(requests so far) holds; fails with `what` after `timeout` s."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.requests):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"webhook receiver: {what} not reached within {timeout:.0f}s "
                        f"({len(self.requests)} requests received)"
                    )
                self._cond.wait(timeout=min(left, 0.5))
            return list(self.requests)

    def wait_for_ids(self, ids: set[str] | list[str], timeout: float = 30.0) -> dict[str, list[ReceivedRequest]]:
        """Waits until every id in `ids` arrived as a webhook-id; returns each id's requests."""
        wanted = set(ids)

        def done(reqs: list[ReceivedRequest]) -> bool:
            return wanted <= {r.webhook_id for r in reqs}

        try:
            reqs = self.wait_until(done, timeout, f"deliveries of {len(wanted)} events")
        except AssertionError as e:
            missing = wanted - self.seen_ids()
            raise AssertionError(f"{e}; missing {len(missing)}: {sorted(missing)[:10]}") from None
        by_id: dict[str, list[ReceivedRequest]] = {}
        for r in reqs:
            if r.webhook_id in wanted:
                by_id.setdefault(r.webhook_id, []).append(r)
        return by_id


# -- the endpoint API --------------------------------------------------------------------------


def create_endpoint(server: Server, url: str, channels: list[str], **fields: Any) -> dict:
    body = {"url": url, "channels": channels, **fields}
    r = server.session.post(server.url("/v1/endpoints"), json=body, timeout=HTTP_TIMEOUT)
    assert r.status_code == 201, f"create endpoint: {r.status_code} {r.text[:500]}"
    ep = r.json()
    assert isinstance(ep.get("id"), str) and ep["id"].startswith("ep_"), ep
    assert isinstance(ep.get("secret"), str), ep
    return ep


def rotate_secret(server: Server, endpoint_id: str, body: dict | None = None) -> str:
    r = server.session.post(server.url(f"/v1/endpoints/{endpoint_id}/rotate-secret"),
                            json=body, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, f"rotate-secret: {r.status_code} {r.text[:500]}"
    secret = r.json().get("secret")
    assert isinstance(secret, str), r.text[:500]
    return secret


def list_deliveries(server: Server, endpoint_id: str, **params: Any) -> list[dict]:
    """Every delivery of an endpoint (all pages), newest first."""
    out: list[dict] = []
    before = None
    while True:
        query = {"limit": 1000, **params}
        if before:
            query["before"] = before
        r = server.session.get(server.url(f"/v1/endpoints/{endpoint_id}/deliveries"),
                               params=query, timeout=HTTP_TIMEOUT)
        assert r.status_code == 200, f"deliveries: {r.status_code} {r.text[:500]}"
        page = r.json()
        out += page["deliveries"]
        before = page.get("next")
        if not before:
            return out


def wait_deliveries_settled(server: Server, endpoint_id: str, event_ids: set[str],
                            timeout: float = 30.0) -> dict[str, dict]:
    """Waits until the delivery of each event in `event_ids` is no longer pending (the attempt that
    the receiver saw is recorded); returns the deliveries by event id."""
    deadline = time.monotonic() + timeout
    while True:
        by_event = {d["event"]: d for d in list_deliveries(server, endpoint_id) if d["event"] in event_ids}
        if set(by_event) == event_ids and all(d["status"] != "pending" for d in by_event.values()):
            return by_event
        assert time.monotonic() < deadline, (
            f"deliveries not recorded within {timeout:.0f}s: "
            f"{[(e, d['status']) for e, d in by_event.items() if d['status'] == 'pending'][:5]}, "
            f"missing {sorted(event_ids - set(by_event))[:5]}"
        )
        time.sleep(0.1)  # polling interval, not synchronization


# -- signatures ----------------------------------------------------------------------------------


VERIFIERS = {
    "standardwebhooks": lambda secret: standardwebhooks.webhooks.Webhook(secret),
    "svix": lambda secret: svix.webhooks.Webhook(secret),
}
# svix re-exports standardwebhooks' error; name both so that a change in either is noticed.
VERIFICATION_ERRORS = (standardwebhooks.webhooks.WebhookVerificationError,
                       svix.webhooks.WebhookVerificationError)


def svix_headers(headers: dict[str, str]) -> dict[str, str]:
    """The same delivery under Svix's own header names (svix-id, svix-timestamp, svix-signature)."""
    out = {k: v for k, v in headers.items() if not k.startswith("webhook-")}
    for name in ("id", "timestamp", "signature"):
        out[f"svix-{name}"] = headers[f"webhook-{name}"]
    return out


def verify_with_both(secret: str, body: bytes, headers: dict[str, str]) -> None:
    """Verifies one delivery with standardwebhooks and with svix (both header spellings);
    raises the libraries' error on failure."""
    std = standardwebhooks.webhooks.Webhook(secret).verify(body, headers)
    assert std == json.loads(body), "standardwebhooks returned a different payload"
    assert svix.webhooks.Webhook(secret).verify(body, headers) is None
    assert svix.webhooks.Webhook(secret).verify(body, svix_headers(headers)) is None


def sign_v1(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """A Standard Webhooks v1 signature computed here, independently of both libraries."""
    assert secret.startswith(SECRET_PREFIX)
    key = base64.b64decode(secret[len(SECRET_PREFIX):])
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signature_entries(headers: dict[str, str]) -> list[str]:
    return headers["webhook-signature"].split(" ")
