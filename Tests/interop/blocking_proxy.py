"""A reverse proxy for the browser tests that can refuse transports, as corporate proxies do.

`BlockingProxy` listens on a loopback port of its own and forwards every connection to the
server's current port. Tests point the browser at `proxy.base_url`, so that:

- `block_websocket` answers WebSocket upgrades `403` and closes (the page sees the upgrade fail);
- `block_sse` answers `GET /v1/sse…` with `502` and closes;
- `block_longpoll` does the same for `GET /v1/channels/{channel}/events` (history and long-poll);
- `offline` closes every new connection once its request head is read, without a byte of
  answer, as a server that is down;
- `retarget(port)` sends new connections to a server restarted on another port, at the same URL;
- `drop_connections()` cuts every connection in progress (a network drop).

To see every request, each connection carries exactly one: the request's `Connection` header is
rewritten to `close` (and so is the response's), except for WebSocket upgrades, which are piped
both ways untouched once the upgrade is let through. When the upstream cannot be reached, the
client's connection is closed.

What went through is counted per kind (`websocket`, `sse`, `longpoll`, `other`): `forwarded`
(passed to the server), `refused` (blocked, or closed while `offline`) and `unreachable` (the
server could not be reached), so that tests can assert which transport a client used.

The proxy runs its own asyncio event loop in a background thread, because the browser tests are
synchronous (Selenium): `start()` returns once it listens, `stop()` closes everything and joins
the thread. It is also a context manager.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import Counter
from dataclasses import dataclass

KINDS = ("websocket", "sse", "longpoll", "other")

_HEAD_END = b"\r\n\r\n"
_HEAD_LIMIT = 64 * 1024
_HEAD_TIMEOUT = 30.0  # seconds a client has to send its request head
_CONNECT_TIMEOUT = 5.0  # seconds to reach the upstream
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection"}
_LONGPOLL_PATH = re.compile(r"^/v1/channels/[^/]+/events$")

_REASONS = {403: "Forbidden", 502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass(frozen=True)
class Request:
    """One request the proxy saw: what it was and what became of it."""

    method: str
    target: str
    kind: str
    outcome: str  # "forwarded", "refused" or "unreachable"


def classify(method: str, target: str, headers: dict[str, str]) -> str:
    """The kind of a request: `websocket` (an upgrade), `sse`, `longpoll` (history reads
    included) or `other`."""
    if "websocket" in headers.get("upgrade", "").lower():
        return "websocket"
    path = target.split("?", 1)[0]
    if method == "GET" and (path == "/v1/sse" or path.startswith("/v1/sse/")):
        return "sse"
    if method == "GET" and _LONGPOLL_PATH.match(path):
        return "longpoll"
    return "other"


def _parse_head(head: bytes) -> tuple[str, str, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) < 2:
        raise ValueError(f"malformed request line {lines[0]!r}")
    fields = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"malformed header line {line!r}")
        fields.append((name.strip(), value.strip()))
    return parts[0].upper(), parts[1], fields


def _with_connection_close(first_line: str, fields: list[tuple[str, str]]) -> bytes:
    kept = [(n, v) for n, v in fields if n.lower() not in _HOP_BY_HOP]
    kept.append(("Connection", "close"))
    text = first_line + "\r\n" + "".join(f"{n}: {v}\r\n" for n, v in kept) + "\r\n"
    return text.encode("latin-1")


def _rewrite_response_head(head: bytes) -> bytes:
    lines = head.decode("latin-1").split("\r\n")
    fields = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            fields.append((name.strip(), value.strip()))
    return _with_connection_close(lines[0], fields)


class BlockingProxy:
    """A loopback TCP reverse proxy in front of one server port (see the module's docstring)."""

    def __init__(self, upstream_port: int, *, upstream_host: str = "127.0.0.1",
                 host: str = "127.0.0.1") -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.host = host
        self.port: int | None = None
        self.block_websocket = False
        self.block_sse = False
        self.block_longpoll = False
        self.offline = False
        self.websocket_status = 403
        self.sse_status = 502
        self.longpoll_status = 502
        self._lock = threading.Lock()
        self._forwarded: Counter[str] = Counter()
        self._refused: Counter[str] = Counter()
        self._unreachable: Counter[str] = Counter()
        self._requests: list[Request] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> "BlockingProxy":
        assert self._thread is None, "already started"
        ready = threading.Event()
        failure: list[BaseException] = []
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            loop = self._loop
            asyncio.set_event_loop(loop)
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._handle, self.host, 0, limit=_HEAD_LIMIT))
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as error:  # noqa: BLE001 - handed to the starting thread
                failure.append(error)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name="blocking-proxy", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            self._thread.join(5)
            self._thread = None
            raise RuntimeError("the proxy could not listen") from failure[0]
        assert self.port is not None, "the proxy did not start within 10 s"
        return self

    def stop(self) -> None:
        """Stops listening, cuts every connection and ends the thread. Idempotent."""
        if self._thread is None:
            return
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(15)
            finally:
                loop.call_soon_threadsafe(loop.stop)
        self._thread.join(15)
        self._thread = None

    def __enter__(self) -> "BlockingProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            try:
                await asyncio.wait_for(self._server.wait_closed(), 5)
            except asyncio.TimeoutError:
                pass

    # -- controls ----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self.port is not None, "the proxy is not started"
        return f"http://{self.host}:{self.port}"

    def retarget(self, port: int) -> None:
        """New connections go to `port` from now on (connections in progress keep theirs)."""
        self.upstream_port = port

    def drop_connections(self) -> None:
        """Cuts every connection in progress at once (new ones are accepted as usual)."""
        loop = self._loop
        assert loop is not None, "the proxy is not started"

        async def cut() -> None:
            for writer in list(self._writers):
                writer.transport.abort()

        asyncio.run_coroutine_threadsafe(cut(), loop).result(10)

    # -- what went through -------------------------------------------------------

    def forwarded(self, kind: str | None = None) -> int:
        """Requests of `kind` (all kinds when None) passed to the server."""
        with self._lock:
            return self._forwarded[kind] if kind else sum(self._forwarded.values())

    def refused(self, kind: str | None = None) -> int:
        """Requests of `kind` (all kinds when None) blocked, or closed while offline."""
        with self._lock:
            return self._refused[kind] if kind else sum(self._refused.values())

    def unreachable(self, kind: str | None = None) -> int:
        """Requests of `kind` (all kinds when None) closed because the server could not be reached."""
        with self._lock:
            return self._unreachable[kind] if kind else sum(self._unreachable.values())

    def attempts(self, *kinds: str) -> int:
        """Requests of these kinds (all kinds when none given) whatever became of them."""
        with self._lock:
            return sum(1 for r in self._requests if not kinds or r.kind in kinds)

    def counts(self) -> dict[str, dict[str, int]]:
        """{"forwarded": {kind: n}, "refused": {…}, "unreachable": {…}} for failure messages."""
        with self._lock:
            return {
                "forwarded": {k: self._forwarded[k] for k in KINDS},
                "refused": {k: self._refused[k] for k in KINDS},
                "unreachable": {k: self._unreachable[k] for k in KINDS},
            }

    def requests(self) -> list[Request]:
        """Every request seen so far, in order."""
        with self._lock:
            return list(self._requests)

    def reset_counts(self) -> None:
        with self._lock:
            self._forwarded.clear()
            self._refused.clear()
            self._unreachable.clear()
            self._requests.clear()

    def _record(self, method: str, target: str, kind: str, outcome: str) -> None:
        with self._lock:
            {"forwarded": self._forwarded, "refused": self._refused,
             "unreachable": self._unreachable}[outcome][kind] += 1
            self._requests.append(Request(method, target, kind, outcome))

    # -- one connection ----------------------------------------------------------

    def _blocked_status(self, kind: str) -> int | None:
        if kind == "websocket" and self.block_websocket:
            return self.websocket_status
        if kind == "sse" and self.block_sse:
            return self.sse_status
        if kind == "longpoll" and self.block_longpoll:
            return self.longpoll_status
        return None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        self._writers.add(writer)
        upstream_writer: asyncio.StreamWriter | None = None
        try:
            try:
                head = await asyncio.wait_for(reader.readuntil(_HEAD_END), _HEAD_TIMEOUT)
                method, target, fields = _parse_head(head[:-len(_HEAD_END)])
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                    ConnectionError, ValueError, UnicodeDecodeError):
                return
            headers = {name.lower(): value for name, value in fields}
            kind = classify(method, target, headers)
            if self.offline:
                self._record(method, target, kind, "refused")
                return
            status = self._blocked_status(kind)
            if status is not None:
                self._record(method, target, kind, "refused")
                await self._refuse(writer, status)
                return
            try:
                upstream_reader, upstream_writer = await asyncio.wait_for(
                    asyncio.open_connection(self.upstream_host, self.upstream_port, limit=_HEAD_LIMIT),
                    _CONNECT_TIMEOUT)
            except (OSError, asyncio.TimeoutError):
                self._record(method, target, kind, "unreachable")
                return
            self._writers.add(upstream_writer)
            self._record(method, target, kind, "forwarded")
            first_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            if kind == "websocket":
                upstream_writer.write(head)
                await self._pipe_both(reader, writer, upstream_reader, upstream_writer, rewrite=False)
            else:
                upstream_writer.write(_with_connection_close(first_line, fields))
                await self._pipe_both(reader, writer, upstream_reader, upstream_writer, rewrite=True)
        except asyncio.CancelledError:
            pass
        finally:
            for w in (writer, upstream_writer):
                if w is not None:
                    self._writers.discard(w)
                    w.close()
            self._tasks.discard(task)

    async def _refuse(self, writer: asyncio.StreamWriter, status: int) -> None:
        body = f"{status} {_REASONS.get(status, 'Refused')}: blocked by the test proxy\n".encode()
        writer.write(
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Refused')}\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n".encode() + body)
        try:
            await asyncio.wait_for(writer.drain(), 5)
        except (ConnectionError, asyncio.TimeoutError):
            pass

    async def _pipe_both(self, reader, writer, upstream_reader, upstream_writer, *, rewrite: bool) -> None:
        """Copies both ways until either side ends, then ends both."""

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while True:
                    data = await src.read(65536)
                    if not data:
                        return
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                return

        async def downstream() -> None:
            if rewrite:
                try:
                    head = await upstream_reader.readuntil(_HEAD_END)
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError) as error:
                    partial = getattr(error, "partial", b"")
                    if partial:
                        writer.write(partial)
                    return
                writer.write(_rewrite_response_head(head[:-len(_HEAD_END)]))
            await copy(upstream_reader, writer)
            try:
                await writer.drain()
            except (ConnectionError, OSError):
                pass

        tasks = [asyncio.ensure_future(copy(reader, upstream_writer)), asyncio.ensure_future(downstream())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
