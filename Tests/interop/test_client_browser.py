"""The browser client (`/v1/client.js`, typed by client.d.ts) in a real Chromium.

Each test opens `<base>/healthz` (so that the page has the server's origin), imports the client
with a dynamic `import()` and drives it through `window.T` (below): every event a handler receives
is kept in `T.events[<key>]`, every state change in `T.states[<client>]`. Most tests reach the
server through `BlockingProxy` (blocking_proxy.py), which can refuse WebSocket and SSE, cut every
connection, pretend the server is down, and follow a server restarted on another port; it counts
each request per kind, so the tests can tell which transport the client used.

With BROWSER_TEST_WEB_DIR set, the servers read the web files from that directory (the files
being worked on) instead of the copies built into the binary.

Tests wait for conditions (`wait_until`, `wait_for_js`). The only fixed waits are the windows in
which a stopped client must make no further connection attempt: absence can only be observed over
a period.
"""

from __future__ import annotations

import os
import time

import pytest

from blocking_proxy import BlockingProxy
from browser_support import browser, console_log, wait_for_js, wait_until, web_env  # noqa: F401 - fixture
from interop_support import EVENT_KEYS, assert_canonical_event, make_token, unique_channel

JWT_SECRET = "browser-client-hs256-secret-0123456789abcdef"  # >= 32 bytes
WRONG_SECRET = "browser-client-wrong-secret-fedcba9876543210"
NO_RETRY_WINDOW_MS = 3000  # a client still retrying (at most every 200 ms here) would try again many times in it

# The page's test harness: `T.connect(name, options)` makes a client, `T.subscribe(key, client,
# channel, options)` a subscription whose events land in `T.events[key]` (its refusals in
# `T.refusals[key]`, its gaps in `T.gaps[key]`). Options are JSON, so a `getToken` is described
# instead: {"getToken": "window"} returns `T.token`, {"getToken": "queue"} hands out `T.tokens` in
# turn (keeping the last), {"getToken": "reject"} rejects until `T.rejecting` is false, then returns
# `T.token`; each counts its calls in `T.tokenCalls`.
HARNESS = r"""
const [base, done] = arguments;
import(base + "/v1/client.js").then((module) => {
  const Switchboard = module.default;
  window.T = {
    base, clients: {}, states: {}, errors: {}, events: {}, subs: {}, refusals: {}, gaps: {}, token: null, tokenCalls: 0,
    connect(name, options) {
      const opts = { ...options };
      if (opts.getToken === "window") opts.getToken = () => { T.tokenCalls += 1; return T.token; };
      else if (opts.getToken === "queue") opts.getToken = () => {
        T.tokenCalls += 1;
        return T.tokens.length > 1 ? T.tokens.shift() : T.tokens[0];
      };
      else if (opts.getToken === "reject") opts.getToken = () => {
        T.tokenCalls += 1;
        return T.rejecting === false ? T.token : Promise.reject(new Error("no session"));
      };
      const client = new Switchboard(base, opts);
      T.clients[name] = client;
      T.states[name] = [];
      T.errors[name] = [];
      client.on("state", (c) => T.states[name].push({ state: c.state, transport: c.transport,
        reason: c.reason ? c.reason.code : null, delay: c.delay === undefined ? null : c.delay }));
      client.on("error", (e) => T.errors[name].push({ code: e.code, message: e.message, channel: e.channel || null }));
      return true;
    },
    subscribe(key, name, channel, options) {
      T.events[key] = [];
      T.refusals[key] = [];
      T.gaps[key] = [];
      T.subs[key] = T.clients[name].subscribe(channel, (event) => T.events[key].push(event),
        { ...options, onError: (e) => T.refusals[key].push(e.code), onGap: (gap) => T.gaps[key].push(gap) });
      return true;
    },
  };
  done(null);
}, (error) => done(String(error)));
"""


class ClientPage:
    """A page of `base`'s origin with the client loaded and the harness installed."""

    def __init__(self, driver, base: str) -> None:
        self.driver = driver
        self.base = base

    def load(self) -> "ClientPage":
        self.driver.get(self.base + "/healthz")
        error = self.driver.execute_async_script(HARNESS, self.base)
        assert error is None, f"importing {self.base}/v1/client.js failed: {error}\n{console_log(self.driver)}"
        return self

    def js(self, expression: str, *args):
        return self.driver.execute_script(f"return ({expression});", *args)

    def connect(self, name: str = "main", **options) -> "ClientPage":
        self.driver.execute_script("T.connect(arguments[0], arguments[1]);", name, options)
        return self

    def subscribe(self, key: str, channel: str, client: str = "main", **options) -> "ClientPage":
        self.driver.execute_script("T.subscribe(arguments[0], arguments[1], arguments[2], arguments[3]);",
                                   key, client, channel, options)
        return self

    def wait_open(self, client: str = "main", timeout: float = 30) -> str:
        """Waits for the client to be open; returns its transport."""
        wait_for_js(self.driver, f"T.clients[{client!r}].state === 'open'", timeout)
        return self.js(f"T.clients[{client!r}].transport")

    def wait_active(self, key: str, timeout: float = 30) -> None:
        wait_for_js(self.driver, f"T.subs[{key!r}].active", timeout)

    def events(self, key: str) -> list[dict]:
        return self.js(f"T.events[{key!r}]")

    def wait_events(self, key: str, count: int, timeout: float = 30) -> list[dict]:
        """Waits for at least `count` events under `key` and returns them all."""
        try:
            wait_until(self.driver, lambda d: len(self.events(key)) >= count, timeout, f"{count} events under {key!r}")
        except AssertionError as error:
            offsets = [e["offset"] for e in self.events(key)]
            raise AssertionError(f"{error}\noffsets received under {key!r}: {offsets}") from None
        return self.events(key)

    def states(self, client: str = "main") -> list[dict]:
        return self.js(f"T.states[{client!r}]")

    def pause(self, milliseconds: int) -> None:
        """An observation window in the page (see the module's docstring)."""
        self.driver.execute_async_script("setTimeout(arguments[1], arguments[0]);", milliseconds)


def assert_delivered(events: list[dict], published: list[dict]) -> None:
    """`events` are exactly the `published` ones (publish replies), in order, none twice."""
    ids = [e["id"] for e in events]
    assert len(set(ids)) == len(ids), f"an event was delivered twice: offsets {[e['offset'] for e in events]}"
    assert [e["offset"] for e in events] == [p["offset"] for p in published], (
        f"offsets {[e['offset'] for e in events]} != published {[p['offset'] for p in published]}")
    for event, reply in zip(events, published):
        assert_canonical_event(event, published=reply)


@pytest.fixture
def proxies():
    """proxies(server) starts a BlockingProxy in front of `server`; all are stopped at the end."""
    started: list[BlockingProxy] = []

    def make(server) -> BlockingProxy:
        proxy = BlockingProxy(server.port).start()
        started.append(proxy)
        return proxy

    yield make
    for proxy in started:
        proxy.stop()


@pytest.fixture(scope="module")
def dev_server(module_server_factory):
    """A --dev server shared by this module's tests (each uses channels of its own)."""
    return module_server_factory(dev=True, env=web_env())


@pytest.fixture(scope="module")
def short_retention_server(module_server_factory):
    """--dev, where channels of the namespace `short` keep their last 3 events (retention runs every second)."""
    return module_server_factory(dev=True, env=web_env({
        "SWITCHBOARD_NAMESPACES": "short",
        "SWITCHBOARD_NAMESPACE_SHORT_RETENTION_COUNT": "3",
        "SWITCHBOARD_RETENTION_INTERVAL_SECONDS": "1",
    }))


@pytest.fixture(scope="module")
def jwt_server(module_server_factory):
    """A server without --dev that takes HS256 client tokens; channels need a token's `channels`."""
    return module_server_factory(dev=False, env=web_env({"SWITCHBOARD_JWT_SECRET": JWT_SECRET}))


# -- receiving, and reconnecting after a restart -----------------------------------------------


def test_receives_events_and_catches_up_after_a_server_restart(server_factory, proxies, browser):
    srv = server_factory(dev=True, env=web_env())
    proxy = proxies(srv)
    channel = unique_channel("restart")
    page = ClientPage(browser, proxy.base_url).load()
    page.connect(minReconnectDelay=100, maxReconnectDelay=1000).subscribe("s", channel)
    assert page.wait_open() == "websocket"
    page.wait_active("s")

    published = [srv.publish(channel, "tick", {"n": n}) for n in (1, 2, 3)]
    assert_delivered(page.wait_events("s", 3), published)

    data_dir = srv.data_dir
    assert srv.stop() == 0, srv.log_tail()
    wait_until(browser, lambda d: page.js("T.clients.main.state") != "open", 30, "the client noticing the stop")
    # Keep the client away from the restarted server until events have been published in it.
    proxy.offline = True
    srv = server_factory(dev=True, data_dir=data_dir, env=web_env())
    proxy.retarget(srv.port)
    published += [srv.publish(channel, "tick", {"n": n}) for n in (4, 5, 6)]
    refused = proxy.refused()
    wait_until(browser, lambda d: proxy.refused() > refused, 30, "a reconnection attempt while offline")
    assert len(page.events("s")) == 3, "events arrived while the proxy let nothing through"

    # Let it through, and publish at once: these race the reconnection (caught up or live, either way).
    proxy.offline = False
    published += [srv.publish(channel, "tick", {"n": n}) for n in (7, 8)]
    assert_delivered(page.wait_events("s", 8), published)
    page.wait_open()
    published += [srv.publish(channel, "tick", {"n": n}) for n in (9, 10)]
    events = page.wait_events("s", 10)
    assert_delivered(events, published)
    assert [e["data"]["n"] for e in events] == list(range(1, 11))
    states = [c["state"] for c in page.states()]
    assert "reconnecting" in states and states[-1] == "open", states


# -- falling back when transports are blocked --------------------------------------------------


@pytest.mark.parametrize("blocked, expected", [
    (("websocket",), "sse"),
    (("websocket", "sse"), "longpoll"),
], ids=["websocket-blocked", "websocket-and-sse-blocked"])
def test_falls_back_when_transports_are_blocked(dev_server, proxies, browser, blocked, expected):
    proxy = proxies(dev_server)
    proxy.block_websocket = "websocket" in blocked
    proxy.block_sse = "sse" in blocked
    channel = unique_channel("fallback")
    page = ClientPage(browser, proxy.base_url).load()
    page.connect(longPollWait=5).subscribe("s", channel)
    # The subscription may reach the client after a transport opened without it (SSE answers with no
    # channel to stream): wait for the one that carries it.
    wait_until(browser, lambda d: page.js("T.subs.s.active") and page.js("T.clients.main.transport") == expected,
               30, f"the subscription active over {expected}: {proxy.counts()}")

    published = [dev_server.publish(channel, "order.created", {"n": n}) for n in (1, 2, 3)]
    assert_delivered(page.wait_events("s", 3), published)
    published.append(dev_server.publish(channel, "order.paid", {"n": 4}))
    assert_delivered(page.wait_events("s", 4), published)

    assert page.js("T.clients.main.transport") == expected
    counts = proxy.counts()
    assert counts["refused"]["websocket"] >= 1 and counts["forwarded"]["websocket"] == 0, counts
    if expected == "sse":
        assert counts["forwarded"]["sse"] >= 1, counts
        # A live subscription's head is read once before the stream opens; that is not long-polling.
        polls = [r.target for r in proxy.requests()
                 if r.kind == "longpoll" and r.outcome == "forwarded" and not r.target.endswith("limit=1")]
        assert polls == [], polls
    else:
        assert counts["refused"]["sse"] >= 1 and counts["forwarded"]["sse"] == 0, counts
        assert counts["forwarded"]["longpoll"] >= 1, counts


def test_a_stream_refused_after_an_open_without_channels_falls_back_at_once(dev_server, proxies, browser):
    """Open with no subscription only proves the server answers; when the first stream is then refused
    (a proxy that blocks SSE), the client moves to long-polling at once instead of retrying SSE."""
    proxy = proxies(dev_server)
    page = ClientPage(browser, proxy.base_url).load()
    page.connect(transports=["sse", "longpoll"], minReconnectDelay=60000, maxReconnectDelay=60000)
    assert page.wait_open() == "sse"
    proxy.block_sse = True
    channel = unique_channel("late")
    page.subscribe("s", channel)
    wait_for_js(browser, "T.clients.main.transport === 'longpoll'", 30)
    page.wait_active("s")
    published = [dev_server.publish(channel, "tick", {"n": 1})]
    assert_delivered(page.wait_events("s", 1), published)
    waits = [c["delay"] for c in page.states() if c["state"] in ("connecting", "reconnecting")]
    assert waits and all(delay == 0 for delay in waits), page.states()


@pytest.mark.parametrize("transport", ["sse", "longpoll"])
def test_a_live_subscription_misses_nothing_when_its_connection_is_made_again(dev_server, proxies, browser,
                                                                                transport):
    """Live only (no `since`), nothing delivered yet: when the stream or the polls start again (another
    channel subscribed, a refused reconnect), the subscription resumes from the head it started at,
    so an event published in between arrives."""
    proxy = proxies(dev_server)
    first, second = unique_channel("live-a"), unique_channel("live-b")
    dev_server.publish(first, "before", {"n": 0})  # before the subscription: not delivered
    page = ClientPage(browser, proxy.base_url).load()
    page.connect(transports=[transport], minReconnectDelay=50, maxReconnectDelay=200).subscribe("a", first)
    assert page.wait_open() == transport
    page.wait_active("a")
    proxy.block_sse = proxy.block_longpoll = True
    refused = proxy.counts()["refused"]
    page.subscribe("b", second)
    if transport == "longpoll":
        proxy.drop_connections()
    wait_until(browser, lambda d: proxy.counts()["refused"] != refused, 30, "a refused reconnection")
    published = [dev_server.publish(first, "between", {"n": 1})]
    proxy.block_sse = proxy.block_longpoll = False
    assert_delivered(page.wait_events("a", 1), published)
    published.append(dev_server.publish(first, "after", {"n": 2}))
    assert_delivered(page.wait_events("a", 2), published)


@pytest.mark.parametrize("transport", ["websocket", "sse", "longpoll"])
def test_resumes_from_its_cursor_after_a_dropped_connection(dev_server, proxies, browser, transport):
    proxy = proxies(dev_server)
    channel = unique_channel("drop")
    page = ClientPage(browser, proxy.base_url).load()
    page.connect(transports=[transport], minReconnectDelay=100, maxReconnectDelay=1000, longPollWait=5)
    page.subscribe("s", channel)
    assert page.wait_open() == transport
    page.wait_active("s")
    published = [dev_server.publish(channel, "tick", {"n": n}) for n in (1, 2)]
    assert_delivered(page.wait_events("s", 2), published)

    proxy.offline = True
    proxy.drop_connections()
    wait_until(browser, lambda d: page.js("T.clients.main.state") != "open", 30, "the client noticing the drop")
    published += [dev_server.publish(channel, "tick", {"n": n}) for n in (3, 4, 5)]
    refused = proxy.refused()
    wait_until(browser, lambda d: proxy.refused() > refused, 30, "a reconnection attempt while offline")
    proxy.offline = False
    assert page.wait_open() == transport
    assert_delivered(page.wait_events("s", 5), published)
    published.append(dev_server.publish(channel, "tick", {"n": 6}))
    assert_delivered(page.wait_events("s", 6), published)


def test_moves_back_to_websocket_once_it_is_let_through(dev_server, proxies, browser):
    proxy = proxies(dev_server)
    proxy.block_websocket = True
    channel = unique_channel("upgrade")
    page = ClientPage(browser, proxy.base_url).load()
    page.connect(upgradeRetryDelay=1000).subscribe("s", channel)
    assert page.wait_open() == "sse"
    page.wait_active("s")
    published = [dev_server.publish(channel, "tick", {"n": n}) for n in (1, 2)]
    assert_delivered(page.wait_events("s", 2), published)
    refused = proxy.refused("websocket")
    wait_until(browser, lambda d: proxy.refused("websocket") > refused, 30, "a WebSocket attempt while on SSE")

    proxy.block_websocket = False
    wait_for_js(browser, "T.clients.main.transport === 'websocket'")
    assert proxy.forwarded("websocket") >= 1
    published += [dev_server.publish(channel, "tick", {"n": n}) for n in (3, 4, 5)]
    assert_delivered(page.wait_events("s", 5), published)
    assert page.js("T.clients.main.state") == "open"


@pytest.mark.parametrize("transport", ["websocket", "sse", "longpoll"])
@pytest.mark.parametrize("since", [None, 0, 2], ids=["live", "since-0", "since-2"])
def test_subscribe_starts_where_asked_on_every_transport(dev_server, browser, transport, since):
    """Without `since` a subscription is live only (d.ts: "Default: live only"); with it, it
    resumes after that offset; on each transport alike."""
    channel = unique_channel("since")
    before = [dev_server.publish(channel, "old", {"n": n}) for n in (1, 2, 3)]
    page = ClientPage(browser, dev_server.base_url).load()
    page.connect(transports=[transport], longPollWait=5)
    options = {} if since is None else {"since": since}
    page.subscribe("s", channel, **options)
    assert page.wait_open() == transport
    page.wait_active("s")
    expected = [] if since is None else before[since:]
    after = [dev_server.publish(channel, "new", {"n": n}) for n in (4, 5)]
    events = page.wait_events("s", len(expected) + 2)
    assert_delivered(events, expected + after)


# -- a cursor older than retention ---------------------------------------------------------------


@pytest.mark.parametrize("transport", ["websocket", "sse", "longpoll"])
def test_a_cursor_older_than_retention_is_reported_and_delivery_goes_on(
        short_retention_server, browser, transport):
    """PROTOCOL.md: a cursor never silently skips. The subscription's `onGap` hears of the loss
    (d.ts `Gap`: the cursor it had, the earliest offset retained) and delivery continues from the
    earliest retained event, in order, none twice."""
    srv = short_retention_server
    channel = f"short:{unique_channel('gap')}"
    published = [srv.publish(channel, "tick", {"n": n}) for n in range(1, 11)]
    wait_until(browser, lambda d: srv.history(channel, after=0)["earliest"] == 8, 30, "retention keeping 8..10")
    page = ClientPage(browser, srv.base_url).load()
    page.connect(transports=[transport], longPollWait=5)
    page.subscribe("s", channel, since=1)
    assert page.wait_open() == transport
    retained = published[7:]
    later = [srv.publish(channel, "tick", {"n": 11})]
    assert_delivered(page.wait_events("s", 4), retained + later)
    gaps = page.js("T.gaps.s")
    assert gaps == [{"channel": channel, "cursor": 1, "earliest": 8}], gaps


# -- a reload resumes from the stored cursor -----------------------------------------------------


def test_reload_resumes_from_the_stored_cursor(dev_server, proxies, browser):
    proxy = proxies(dev_server)
    channel = unique_channel("reload")
    page = ClientPage(browser, proxy.base_url).load()
    page.connect(persistCursors=True).subscribe("s", channel)
    page.wait_open()
    page.wait_active("s")
    first = [dev_server.publish(channel, "tick", {"n": n}) for n in (1, 2)]
    assert_delivered(page.wait_events("s", 2), first)

    browser.get("about:blank")  # the page is gone
    away = [dev_server.publish(channel, "tick", {"n": n}) for n in (3, 4)]

    page.load()
    stored = page.js("Object.keys(localStorage).filter((k) => k.startsWith('switchboard:'))")
    assert stored, "persistCursors: true stored nothing under the prefix switchboard:"
    page.connect(persistCursors=True).subscribe("s", channel)
    assert_delivered(page.wait_events("s", 2), away)
    later = [dev_server.publish(channel, "tick", {"n": 5})]
    assert_delivered(page.wait_events("s", 3), away + later)

    # Reloading at once, before any fixed delay could pass: the cursor must still be kept.
    browser.refresh()
    more = [dev_server.publish(channel, "tick", {"n": 6})]
    page.load()
    page.connect(persistCursors=True).subscribe("s", channel)
    assert_delivered(page.wait_events("s", 1), more)


# -- two subscriptions to one channel ------------------------------------------------------------


@pytest.mark.parametrize("transport", ["websocket", "sse", "longpoll"])
def test_two_subscriptions_to_one_channel_then_unsubscribe_one(dev_server, browser, transport):
    channel = unique_channel("twice")
    page = ClientPage(browser, dev_server.base_url).load()
    page.connect(transports=[transport], longPollWait=5)
    page.subscribe("a", channel).subscribe("b", channel)
    page.wait_open()
    page.wait_active("a")
    page.wait_active("b")
    first = [dev_server.publish(channel, "tick", {"n": 1})]
    assert_delivered(page.wait_events("a", 1), first)
    assert_delivered(page.wait_events("b", 1), first)

    error = page.js("(() => { try { T.subs.a.unsubscribe(); T.subs.a.unsubscribe(); return null; }"
                    " catch (e) { return String(e); } })()")
    assert error is None, f"unsubscribe threw: {error}"
    rest = [dev_server.publish(channel, "tick", {"n": n}) for n in (2, 3)]
    assert_delivered(page.wait_events("b", 3), first + rest)
    assert_delivered(page.events("a"), first)
    assert page.js("T.subs.b.active") is True
    assert page.js("T.subs.b.cursor") == rest[-1]["offset"]
    assert page.js("T.clients.main.state") == "open"
    assert [e for e in page.js("T.errors.main") if e["code"] != "transport"] == []

    # A third handle on the same channel, while the server subscription exists, gets what follows.
    page.subscribe("c", channel)
    page.wait_active("c")
    last = [dev_server.publish(channel, "tick", {"n": 4})]
    assert_delivered(page.wait_events("b", 4), first + rest + last)
    assert_delivered(page.wait_events("c", 1), last)
    assert len(page.events("a")) == 1


# -- tokens from getToken ------------------------------------------------------------------------


def client_token(secret: str, channel: str, **claims) -> str:
    claims.setdefault("exp", int(time.time()) + 600)
    return make_token(secret, sub="browser-user", channels=[channel], **claims)


def test_get_token_supplies_the_credential(jwt_server, proxies, browser):
    proxy = proxies(jwt_server)
    channel = unique_channel("token")
    page = ClientPage(browser, proxy.base_url).load()
    page.js("(T.token = arguments[0], true)", client_token(JWT_SECRET, channel))
    page.connect(getToken="window").subscribe("s", channel)
    assert page.wait_open() == "websocket"
    page.wait_active("s")
    published = [jwt_server.publish(channel, "tick", {"n": n}) for n in (1, 2)]
    assert_delivered(page.wait_events("s", 2), published)
    assert page.js("T.tokenCalls") >= 1
    assert page.js("T.refusals.s") == []


def test_get_token_is_asked_again_before_the_token_expires(jwt_server, proxies, browser):
    """getToken hands out a token that expires in a few seconds, then a long-lived one: the client
    must ask for the second before the first expires, so that the server never closes it (4001)."""
    proxy = proxies(jwt_server)
    channel = unique_channel("refresh")
    expires = int(time.time()) + 8
    page = ClientPage(browser, proxy.base_url).load()
    page.js("(T.tokens = arguments[0], true)", [client_token(JWT_SECRET, channel, exp=expires),
                                                  client_token(JWT_SECRET, channel)])
    page.connect(getToken="queue").subscribe("s", channel)
    assert page.wait_open() == "websocket"
    page.wait_active("s")
    wait_for_js(browser, "T.tokenCalls >= 2", 30)
    wait_until(browser, lambda d: time.time() > expires + 2, 30, "the first token's expiry")
    published = [jwt_server.publish(channel, "tick", {"n": n}) for n in (1, 2)]
    assert_delivered(page.wait_events("s", 2), published)
    assert [c["state"] for c in page.states()] == ["open"], page.states()
    assert proxy.attempts("websocket", "sse", "longpoll") == 1, proxy.requests()


def test_a_token_the_server_refuses_closes_the_client(jwt_server, proxies, browser):
    proxy = proxies(jwt_server)
    channel = unique_channel("refused")
    page = ClientPage(browser, proxy.base_url).load()
    page.js("(T.token = arguments[0], true)", client_token(WRONG_SECRET, channel))
    page.connect(getToken="window", minReconnectDelay=50, maxReconnectDelay=200).subscribe("s", channel)
    wait_for_js(browser, "T.clients.main.state === 'closed'")
    last = page.states()[-1]
    assert last["state"] == "closed" and last["reason"] == "unauthorized", page.states()
    attempts = proxy.attempts("websocket", "sse", "longpoll")
    assert 1 <= attempts <= 4, proxy.requests()
    calls = page.js("T.tokenCalls")
    assert 1 <= calls <= 3, calls

    page.pause(NO_RETRY_WINDOW_MS)
    assert page.js("T.clients.main.state") == "closed"
    assert proxy.attempts("websocket", "sse", "longpoll") == attempts, proxy.requests()
    assert page.js("T.tokenCalls") == calls
    assert page.events("s") == []


def test_a_failing_get_token_is_retried_with_backoff_until_it_works(jwt_server, proxies, browser):
    """The application's token source failing (its server down, the network not back after a sleep)
    is a failed attempt, retried with backoff; no connection is attempted without a token."""
    proxy = proxies(jwt_server)
    channel = unique_channel("rejected")
    page = ClientPage(browser, proxy.base_url).load()
    page.js("(T.token = arguments[0], true)", client_token(JWT_SECRET, channel))
    page.connect(getToken="reject", minReconnectDelay=50, maxReconnectDelay=200).subscribe("s", channel)
    wait_for_js(browser, "T.tokenCalls >= 3")
    assert page.js("T.clients.main.state") == "connecting", page.states()
    assert any(e["code"] == "token" for e in page.js("T.errors.main")), page.js("T.errors.main")
    assert proxy.attempts("websocket", "sse", "longpoll") == 0, proxy.requests()

    page.js("(T.rejecting = false, true)")
    assert page.wait_open() == "websocket"
    page.wait_active("s")
    published = [jwt_server.publish(channel, "tick", {"n": 1})]
    assert_delivered(page.wait_events("s", 1), published)


def test_close_from_an_error_listener_stops_for_good(dev_server, proxies, browser):
    """An application that closes the client from its error listener (say, on the first failure) is
    obeyed: no reconnect follows."""
    proxy = proxies(dev_server)
    page = ClientPage(browser, proxy.base_url).load()
    proxy.offline = True
    page.connect(minReconnectDelay=50, maxReconnectDelay=200).subscribe("s", unique_channel("listener"))
    browser.execute_script("T.clients.main.on('error', () => T.clients.main.close());")
    wait_for_js(browser, "T.clients.main.state === 'closed'")
    attempts = proxy.attempts("websocket", "sse", "longpoll")
    page.pause(NO_RETRY_WINDOW_MS)
    assert page.js("T.clients.main.state") == "closed", page.states()
    assert proxy.attempts("websocket", "sse", "longpoll") == attempts, proxy.requests()


def test_a_name_that_is_no_channel_is_refused_at_once_and_breaks_nothing(dev_server, browser):
    page = ClientPage(browser, dev_server.base_url).load()
    page.connect(transports=["sse"]).subscribe("ok", channel := unique_channel("named"))
    for bad in ["", "a@b", "a,b", "a b", "x" * 201, "<img>"]:
        message = browser.execute_script("try { T.clients.main.subscribe(arguments[0], () => {}); return null; } "
                                         "catch (e) { return e.name + ': ' + e.message; }", bad)
        assert message and message.startswith("TypeError"), (bad, message)
    assert page.wait_open() == "sse"
    page.wait_active("ok")
    published = [dev_server.publish(channel, "tick", {"n": 1})]
    assert_delivered(page.wait_events("ok", 1), published)


def test_close_stops_for_good(dev_server, proxies, browser):
    proxy = proxies(dev_server)
    channel = unique_channel("close")
    page = ClientPage(browser, proxy.base_url).load()
    page.connect(minReconnectDelay=50, maxReconnectDelay=200).subscribe("s", channel)
    page.wait_open()
    page.wait_active("s")
    first = [dev_server.publish(channel, "tick", {"n": 1})]
    assert_delivered(page.wait_events("s", 1), first)
    page.js("(T.clients.main.close(), T.clients.main.close(), true)")
    assert page.js("T.clients.main.state") == "closed"
    assert page.states()[-1]["state"] == "closed"
    attempts = proxy.attempts("websocket", "sse", "longpoll")
    dev_server.publish(channel, "tick", {"n": 2})
    page.pause(NO_RETRY_WINDOW_MS)
    assert proxy.attempts("websocket", "sse", "longpoll") == attempts, proxy.requests()
    assert_delivered(page.events("s"), first)
    assert page.js("T.subs.s.active") is False


def test_canonical_event_fields(dev_server, browser):
    """Sanity check of the harness: what a handler gets is the canonical event, nothing more."""
    channel = unique_channel("canonical")
    page = ClientPage(browser, dev_server.base_url).load()
    page.connect().subscribe("s", channel)
    page.wait_open()
    page.wait_active("s")
    reply = dev_server.publish(channel, "order.created", {"id": "A-1", "total": 12.5, "tags": ["x"]})
    (event,) = page.wait_events("s", 1)
    assert set(event) == EVENT_KEYS
    assert_canonical_event(event, published=reply, type="order.created",
                           data={"id": "A-1", "total": 12.5, "tags": ["x"]})
