// Switchboard's browser client: one dependency-free ES module, served by the server at /v1/client.js.
// Types: /v1/client.d.ts. Guide: docs/browser-client.md.
//
//   import Switchboard from "https://events.example.com/v1/client.js";
//   const sb = new Switchboard("https://events.example.com", { getToken: () => fetchToken() });
//   const sub = sb.subscribe("orders", (event) => console.log(event.offset, event.data));
//
// WebSocket first; Server-Sent Events, then long-polling, when it cannot connect; back to WebSocket later.
// Every subscription resumes from its cursor on every reconnect, and no handler sees an offset twice.

const TRANSPORTS = ["websocket", "sse", "longpoll"];
// PROTOCOL.md's channel names; a leading `$` marks a channel the server writes (readable where permitted).
const CHANNEL_NAME = /^\$?[A-Za-z0-9_\-.:=]{1,200}$/;
// Subscription refusals that a retry cannot change; others (unavailable, rate_limited) are retried.
const FINAL_REFUSALS = new Set(["forbidden", "invalid_channel", "unauthorized"]);
const CONNECT_TIMEOUT = 10000;
const PUBLISH_TIMEOUT = 10000;
const SLEEP_CHECK = 5000;
// The least wait after a rate limit (4029, 429) without a Retry-After.
const RATE_LIMITED_WAIT = 5000;
const WAKE_CHECK = 5000;
// Server-Sent Events: the server's keep-alive comment comes every 15 s by default.
const STREAM_SILENCE = 45000;
// Codes after which retrying cannot help: the client stops.
const FATAL_CODES = new Set(["unauthorized", "forbidden"]);

/** An Error with a PROTOCOL.md `code`. */
function failure(code, message) {
  const error = new Error(message);
  error.code = code;
  return error;
}

/** Calls `fn`, reporting (never propagating) an exception thrown by application code. */
function guarded(fn, args, report) {
  try {
    fn(...args);
  } catch (error) {
    try {
      report(error);
    } catch {
      // The error listener itself threw: nothing more to do.
    }
  }
}

/** The `exp` of a JWT in ms since the epoch, or null (an API key, or no `exp`). */
function tokenExpiry(token) {
  const part = typeof token === "string" ? token.split(".")[1] : null;
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
    const exp = JSON.parse(json).exp;
    return typeof exp === "number" ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/** A problem+json body's code and detail, or null when the response is not one of the server's. */
async function problemOf(response) {
  if (!(response.headers.get("content-type") || "").includes("application/problem+json")) return null;
  try {
    const body = await response.json();
    return { code: body.code || "internal", message: body.detail || body.title || "" };
  } catch {
    return null;
  }
}

/** `reason` with the response's `Retry-After` (seconds), when it has one. */
function withRetryAfter(reason, response) {
  const seconds = Number(response.headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds > 0 ? { ...reason, retryAfter: Math.min(seconds, 3600) } : reason;
}

/** Parses a text/event-stream, calling `onMessage(event, data, id)` per message. */
class EventStreamParser {
  constructor(onMessage) {
    this.onMessage = onMessage;
    this.buffer = "";
    this.event = "";
    this.data = [];
    this.id = null;
  }

  push(text) {
    this.buffer += text;
    let end;
    while ((end = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, end);
      const width = this.buffer[end] === "\r" && this.buffer[end + 1] === "\n" ? 2 : 1;
      if (this.buffer[end] === "\r" && end + 1 === this.buffer.length) break; // a \r\n split across chunks
      this.buffer = this.buffer.slice(end + width);
      this.line(line);
    }
  }

  line(line) {
    if (line === "") {
      if (this.data.length > 0) this.onMessage(this.event || "message", this.data.join("\n"), this.id);
      this.event = "";
      this.data = [];
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id") this.id = value;
  }
}

/** One channel's shared state: its handles, its cursor, whether the server confirmed it. */
class ChannelState {
  constructor(name, cursor) {
    this.name = name;
    this.handles = new Set();
    // The last offset delivered, or null for "live only, nothing seen yet".
    this.cursor = cursor;
    this.active = false;
    this.refused = null;
  }
}

/** The handle `subscribe` returns. */
class SubscriptionHandle {
  constructor(client, state, onEvent, options) {
    this._client = client;
    this._state = state;
    this._onEvent = onEvent;
    this._options = options;
    this._done = false;
  }

  get channel() {
    return this._state.name;
  }

  get cursor() {
    return this._state.cursor ?? 0;
  }

  get active() {
    return !this._done && this._state.active;
  }

  unsubscribe() {
    if (this._done) return;
    this._done = true;
    this._client._release(this);
  }
}

/** WebSocket: one connection for every subscription, publishes and presence. */
class WebSocketTransport {
  constructor(client) {
    this.client = client;
    this.kind = "websocket";
    this.socket = null;
    this.opened = false;
    this.pending = new Map();
    this.nextRef = 1;
    this.heartbeat = 25000;
    this.pingTimer = null;
    this.awaitingPong = false;
    this.received = 0;
    this.wakeCheck = null;
  }

  start(token) {
    const url = this.client._url("/v1/ws").replace(/^http/, "ws");
    let socket;
    try {
      socket = new WebSocket(url, "switchboard.v1");
    } catch (error) {
      return this.client._transportFailed(this, { code: "transport", message: String(error) }, false);
    }
    this.socket = socket;
    this.token = token;
    socket.onmessage = (message) => this.receive(message.data);
    socket.onclose = (close) => this.closed(close);
    socket.onerror = () => {}; // onclose follows with the details a browser gives
  }

  send(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  request(frame) {
    const ref = this.nextRef++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject(failure("unavailable", `no answer to ${frame.op} within ${PUBLISH_TIMEOUT} ms`));
      }, PUBLISH_TIMEOUT);
      this.pending.set(ref, { resolve, reject, timer });
      this.send({ ...frame, ref });
    });
  }

  receive(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    this.awaitingPong = false;
    this.received += 1;
    switch (frame.op) {
      case "welcome":
        this.heartbeat = Math.max(1, frame.heartbeat || 25) * 1000;
        if (this.token) this.send({ op: "auth", token: this.token });
        else this.ready();
        return;
      case "authed":
        if (!this.opened) this.ready();
        return;
      case "event":
        delete frame.op;
        return this.client._deliver(frame);
      case "subscribed":
        return this.client._subscribed(frame.channel, frame);
      case "unsubscribed":
        // Not asked for (ours carry a ref): the server ended the subscription; ask again, and a
        // refusal that is final (a refreshed token that no longer allows it) says so then.
        if (frame.ref === undefined || frame.ref === null) this.client._resubscribeLater(frame.channel);
        return;
      case "join":
      case "leave":
        return this.client._presenceChange(frame.op, frame.channel, frame.member);
      case "error":
        return this.error(frame);
      default:
        if (frame.ref !== undefined && this.pending.has(frame.ref)) {
          const waiter = this.pending.get(frame.ref);
          this.pending.delete(frame.ref);
          clearTimeout(waiter.timer);
          waiter.resolve(frame);
        }
    }
  }

  error(frame) {
    const info = { code: frame.code, message: frame.message || frame.code };
    if (frame.ref !== undefined && this.pending.has(frame.ref)) {
      const waiter = this.pending.get(frame.ref);
      this.pending.delete(frame.ref);
      clearTimeout(waiter.timer);
      return waiter.reject(failure(info.code, info.message));
    }
    if (typeof frame.ref === "string" && frame.ref.startsWith("sub:")) {
      const name = frame.ref.slice(4);
      if (FINAL_REFUSALS.has(info.code)) return this.client._refused(name, info);
      // A passing refusal (the log unavailable just after a restart, a rate limit): try again later.
      this.client._emit("error", { ...info, channel: name });
      return this.client._resubscribeLater(name);
    }
    if (frame.code === "unauthorized" && !this.opened) return; // the close (4001) follows
    this.client._emit("error", info);
  }

  ready() {
    this.opened = true;
    this.pingTimer = setInterval(() => this.heartbeatCheck(), this.heartbeat);
    for (const state of this.client._liveChannels()) this.subscribe(state);
    this.client._transportOpened(this);
  }

  /** A ping the server must answer within one heartbeat: a connection broken by a dead network path
   * is noticed in seconds, not when the operating system gives up on it. */
  heartbeatCheck() {
    if (this.awaitingPong) return this.drop("no answer to a ping");
    this.awaitingPong = true;
    this.send({ op: "ping" });
  }

  /** After a sleep, a network change or the tab coming back: anything from the server within a few
   * seconds proves the connection alive; silence drops it, and the client reconnects at once. */
  checkAlive() {
    if (this.wakeCheck || !this.opened) return;
    const seen = this.received;
    this.send({ op: "ping" });
    this.wakeCheck = setTimeout(() => {
      this.wakeCheck = null;
      if (this.received === seen && this.socket) this.drop("no answer after a wake-up");
    }, WAKE_CHECK);
  }

  subscribe(state) {
    if (!this.opened) return; // ready() subscribes every channel
    const frame = { op: "subscribe", channel: state.name, ref: `sub:${state.name}` };
    if (state.cursor !== null) frame.since = state.cursor;
    this.send(frame);
  }

  unsubscribe(name) {
    this.send({ op: "unsubscribe", channel: name, ref: `unsub:${name}` });
  }

  refreshToken(token) {
    this.token = token;
    this.send({ op: "auth", token });
  }

  async publish(channel, type, data, id) {
    const frame = { op: "publish", channel, type, data };
    if (id !== undefined) frame.id = id;
    const reply = await this.request(frame);
    return { id: reply.id, offset: reply.offset };
  }

  async presence(channel) {
    return (await this.request({ op: "presence", channel })).members || [];
  }

  drop(reason) {
    if (this.socket) this.socket.close(4000, reason.slice(0, 100));
    this.closed({ code: 1006, reason });
  }

  closed(close) {
    if (!this.socket) return;
    this.socket.onmessage = this.socket.onclose = null;
    this.socket = null;
    clearInterval(this.pingTimer);
    clearTimeout(this.wakeCheck);
    for (const waiter of this.pending.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(failure("unavailable", "the connection closed before the server answered"));
    }
    this.pending.clear();
    const code = close.code;
    let reason = { code: "transport", message: close.reason || `closed (${code})` };
    if (code === 4001) reason = { code: "unauthorized", message: close.reason || "unauthorized" };
    else if (code === 4003) reason = { code: "forbidden", message: close.reason || "forbidden" };
    else if (code === 4029) reason = { code: "rate_limited", message: close.reason || "rate limited" };
    else if (code === 4008) reason = { code: "slow_consumer", message: close.reason || "slow consumer" };
    else if (code === 1012) reason = { code: "restarting", message: close.reason || "server restarting" };
    this.client._transportFailed(this, reason, this.opened);
  }

  stop() {
    if (!this.socket) return;
    const socket = this.socket;
    this.socket = null;
    clearInterval(this.pingTimer);
    clearTimeout(this.wakeCheck);
    socket.onmessage = socket.onclose = null;
    socket.close(1000);
    for (const waiter of this.pending.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(failure("unavailable", "the connection closed"));
    }
    this.pending.clear();
  }
}

/** Server-Sent Events over fetch (headers for the credential, status codes for errors): one stream
 * for all subscriptions, reopened with every channel's cursor when the set of channels changes. */
class ServerSentEventsTransport {
  constructor(client) {
    this.client = client;
    this.kind = "sse";
    this.opened = false;
    this.running = false;
    this.abort = null;
    this.reopenQueued = false;
    this.lastData = Date.now();
    this.watchdog = null;
    this.streaming = false;
  }

  start(token) {
    this.token = token;
    this.running = true;
    // The server sends a comment every 15 s (by default): a stream silent for much longer is dead.
    this.watchdog = setInterval(() => this.checkAlive(STREAM_SILENCE), 5000);
    this.open();
  }

  headers(extra = {}) {
    return this.token ? { ...extra, Authorization: `Bearer ${this.token}` } : extra;
  }

  async open() {
    const channels = this.client._liveChannels();
    const abort = new AbortController();
    this.abort = abort;
    this.streaming = false;
    if (channels.length === 0) return this.probe(abort);
    // A live subscription starts at the channel's head, asked first, so that reopening the stream
    // (another channel subscribed, a reconnect) never skips what was published in between.
    const live = channels.filter((state) => state.cursor === null);
    try {
      await Promise.all(live.map((state) => this.resolveHead(state, abort)));
    } catch (error) {
      if (this.abort === abort) this.fail(error.reason || { code: "transport", message: String(error) });
      return;
    }
    if (this.abort !== abort) return;
    if (live.some((state) => state.refused)) return this.reopen();
    const params = new URLSearchParams();
    const cursor = [];
    for (const state of channels) {
      params.append("channel", state.name);
      if (state.cursor !== null) cursor.push(`${state.name}@${state.cursor}`);
    }
    if (cursor.length) params.set("cursor", cursor.join(","));
    let response;
    try {
      const headers = this.headers({ Accept: "text/event-stream" });
      response = await fetch(this.client._url(`/v1/sse?${params}`), { headers, signal: abort.signal, cache: "no-store" });
    } catch (error) {
      if (this.abort === abort) this.fail({ code: "transport", message: String(error) });
      return;
    }
    if (this.abort !== abort) return;
    if (!response.ok || !(response.headers.get("content-type") || "").startsWith("text/event-stream")) {
      const problem = await problemOf(response);
      if (this.abort !== abort) return;
      const refusal = problem && (problem.code === "forbidden" || problem.code === "invalid_channel");
      if (refusal && channels.length > 1) return this.refuseOne(channels, problem);
      if (refusal) {
        this.client._refused(channels[0].name, problem);
        return this.reopen();
      }
      return this.fail(withRetryAfter(problem || { code: "transport", message: `the event stream was refused (${response.status})` }, response));
    }
    for (const state of channels) this.client._subscribed(state.name, {});
    this.streaming = true;
    this.streamed = true;
    this.lastData = Date.now();
    this.markOpen();
    const parser = new EventStreamParser((event, data) => this.message(event, data));
    const decoder = new TextDecoder();
    try {
      const reader = response.body.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (this.abort !== abort) return;
        if (done) break;
        this.lastData = Date.now();
        parser.push(decoder.decode(value, { stream: true }));
      }
    } catch {
      if (this.abort !== abort) return;
    }
    this.fail({ code: "transport", message: "the event stream ended" });
  }

  /** Sets a live subscription's cursor to the channel's head (from a one-event history read). */
  async resolveHead(state, abort) {
    const path = `/v1/channels/${encodeURIComponent(state.name)}/events?after=0&limit=1`;
    const response = await fetch(this.client._url(path), { headers: this.headers(), signal: abort.signal, cache: "no-store" });
    if (!response.ok) {
      const problem = await problemOf(response);
      if (problem && (problem.code === "forbidden" || problem.code === "invalid_channel")) {
        return this.client._refused(state.name, problem);
      }
      const error = new Error("head");
      error.reason = problem || { code: "transport", message: `reading the head was refused (${response.status})` };
      throw error;
    }
    const page = await response.json();
    this.client._startAt(state.name, typeof page.head === "number" ? page.head : page.next);
  }

  /** With no channel to stream, one request tells whether the server is reachable. */
  async probe(abort) {
    try {
      const response = await fetch(this.client._url("/healthz"), { signal: abort.signal, cache: "no-store" });
      if (this.abort !== abort) return;
      if (!response.ok) throw new Error(`the server answered ${response.status}`);
      this.markOpen();
    } catch (error) {
      if (this.abort === abort) this.fail({ code: "transport", message: String(error) });
    }
  }

  markOpen() {
    if (this.opened) return;
    this.opened = true;
    this.client._transportOpened(this);
  }

  /** A 403 for several channels: find the refused ones by asking about each, then go on without them. */
  async refuseOne(channels, problem) {
    const abort = this.abort;
    let found = false;
    for (const state of channels) {
      let response;
      try {
        const path = `/v1/channels/${encodeURIComponent(state.name)}/events?limit=1`;
        response = await fetch(this.client._url(path), { headers: this.headers(), signal: abort.signal });
      } catch (error) {
        // Aborted by a reopen, or the network: never a reason to close the client as forbidden.
        if (this.abort === abort) this.fail({ code: "transport", message: String(error) });
        return;
      }
      if (this.abort !== abort) return;
      if (response.status === 403 || response.status === 400) {
        found = true;
        this.client._refused(state.name, problem);
      }
    }
    if (found) return this.reopen();
    this.fail(problem);
  }

  message(event, data) {
    let body;
    try {
      body = JSON.parse(data);
    } catch {
      return;
    }
    if (event === "message") return this.client._deliver(body);
    if (body.op === "truncated") return this.client._truncated(body.channel);
    if (body.op === "error") {
      const info = { code: body.code, message: body.message || body.code };
      if (FATAL_CODES.has(info.code)) return this.fail(info);
      this.client._emit("error", info);
    }
  }

  reopen() {
    if (this.reopenQueued || !this.running) return;
    this.reopenQueued = true;
    queueMicrotask(() => {
      this.reopenQueued = false;
      if (!this.running) return;
      if (this.abort) this.abort.abort();
      this.open();
    });
  }

  subscribe() {
    this.reopen();
  }

  unsubscribe() {
    this.reopen();
  }

  refreshToken(token) {
    this.token = token;
    this.reopen();
  }

  /** After a sleep or a tab coming back: a stream silent for longer than `limit` ms is dead. */
  checkAlive(limit = STREAM_SILENCE / 2) {
    // Only a stream can go silent: with no channel there is none, between reopenings neither.
    if (this.streaming && Date.now() - this.lastData > limit) {
      this.fail({ code: "transport", message: "the event stream went silent" });
    }
  }

  fail(reason) {
    if (!this.running) return;
    this.stop();
    // Open without a channel proved only that the server answers: a first stream refused after that
    // is a transport that cannot connect here, and the next one is tried at once.
    this.client._transportFailed(this, reason, this.streamed === true);
  }

  stop() {
    this.running = false;
    clearInterval(this.watchdog);
    if (this.abort) this.abort.abort();
    this.abort = null;
  }
}

/** Long-polling: one `GET /v1/channels/{c}/events?after=…&wait=…` loop per channel. */
class LongPollTransport {
  constructor(client) {
    this.client = client;
    this.kind = "longpoll";
    this.opened = false;
    this.loops = new Map();
    this.stopped = false;
  }

  start(token) {
    this.token = token;
    const channels = this.client._liveChannels();
    if (channels.length === 0) return this.probe();
    for (const state of channels) this.subscribe(state);
  }

  /** With nothing to poll, one request tells whether the server is reachable at all. */
  async probe() {
    try {
      const response = await fetch(this.client._url("/healthz"), { cache: "no-store" });
      if (this.stopped) return;
      if (!response.ok) throw new Error(`healthz ${response.status}`);
      this.markOpen();
    } catch (error) {
      if (!this.stopped) this.fail({ code: "transport", message: String(error) });
    }
  }

  markOpen() {
    if (this.opened || this.stopped) return;
    this.opened = true;
    this.client._transportOpened(this);
  }

  subscribe(state) {
    if (this.loops.has(state.name) || this.stopped) return;
    const loop = { abort: new AbortController() };
    this.loops.set(state.name, loop);
    this.poll(state, loop);
  }

  async poll(state, loop) {
    let first = true;
    while (!this.stopped && this.loops.get(state.name) === loop) {
      const live = state.cursor === null;
      const after = live ? 0 : state.cursor;
      // The first request answers at once, so that the connection counts as open without waiting.
      const wait = live || first ? 0 : this.client._options.longPollWait;
      const headers = this.token ? { Authorization: `Bearer ${this.token}` } : {};
      const path = `/v1/channels/${encodeURIComponent(state.name)}/events?after=${after}&wait=${wait}${live ? "&limit=1" : ""}`;
      let response;
      // A request held far longer than its wait went to a dead connection (a sleep, a lost network).
      const deadline = setTimeout(() => loop.abort.abort(), (wait + 15) * 1000);
      try {
        response = await fetch(this.client._url(path), { headers, signal: loop.abort.signal, cache: "no-store" });
      } catch (error) {
        clearTimeout(deadline);
        if (this.stopped || this.loops.get(state.name) !== loop) return;
        return this.fail({ code: "transport", message: String(error) });
      } finally {
        clearTimeout(deadline);
      }
      const current = () => !this.stopped && this.loops.get(state.name) === loop;
      if (!current()) return;
      if (!response.ok) {
        const problem = await problemOf(response);
        if (!current()) return;
        if (problem && (problem.code === "forbidden" || problem.code === "invalid_channel")) {
          this.loops.delete(state.name);
          return this.client._refused(state.name, problem);
        }
        return this.fail(withRetryAfter(problem || { code: "transport", message: `long-poll refused (${response.status})` }, response));
      }
      let page;
      try {
        page = await response.json();
      } catch (error) {
        if (!current()) return;
        return this.fail({ code: "transport", message: "an unreadable long-poll answer" });
      }
      if (!current()) return;
      if (first) {
        first = false;
        this.polled = true;
        this.client._subscribed(state.name, {});
        this.markOpen();
      }
      if (live) {
        // Live only: start after the head, as a WebSocket subscribe without `since` does.
        this.client._startAt(state.name, typeof page.head === "number" ? page.head : page.next);
        continue;
      }
      if (page.truncated) this.client._truncated(state.name);
      for (const event of page.events || []) this.client._deliver(event);
    }
  }

  unsubscribe(name) {
    const loop = this.loops.get(name);
    if (loop) loop.abort.abort();
    this.loops.delete(name);
  }

  refreshToken(token) {
    this.token = token;
  }

  checkAlive() {
    // Each request has its own deadline.
  }

  fail(reason) {
    if (this.stopped) return;
    this.stop();
    // As for SSE: open without a channel, then a first poll refused, is a transport that cannot connect.
    this.client._transportFailed(this, reason, this.polled === true);
  }

  stop() {
    this.stopped = true;
    for (const loop of this.loops.values()) loop.abort.abort();
    this.loops.clear();
  }
}

const FACTORIES = { websocket: WebSocketTransport, sse: ServerSentEventsTransport, longpoll: LongPollTransport };

/** The client: one logical connection over the best transport that works, with subscriptions that
 * survive every reconnect. */
export default class Switchboard {
  constructor(baseURL, options = {}) {
    if (typeof baseURL !== "string" || !/^https?:\/\//.test(baseURL)) {
      throw new TypeError("Switchboard: baseURL must be an http(s) URL, such as https://events.example.com");
    }
    this._base = baseURL.replace(/\/+$/, "");
    const transports = (options.transports || TRANSPORTS).filter((name) => FACTORIES[name]);
    this._options = {
      token: options.token || null,
      getToken: typeof options.getToken === "function" ? options.getToken : null,
      transports: transports.length ? transports : TRANSPORTS,
      minDelay: Math.max(0, options.minReconnectDelay ?? 500),
      maxDelay: Math.max(1, options.maxReconnectDelay ?? 20000),
      upgradeDelay: Math.max(1000, options.upgradeRetryDelay ?? 60000),
      prefix: options.persistCursors === true ? "switchboard:" : options.persistCursors || null,
      longPollWait: Math.min(60, Math.max(1, options.longPollWait ?? 25)),
      random: typeof options.random === "function" ? options.random : Math.random,
    };
    this._listeners = { state: new Set(), error: new Set() };
    this._channels = new Map();
    this._state = "connecting";
    this._transport = null;
    this._transportIndex = 0;
    this._attempt = 0;
    this._timer = null;
    this._upgradeTimer = null;
    this._tokenPromise = null;
    this._token = this._options.token;
    this._tokenIsFresh = false;
    this._refreshTimer = null;
    this._openWaiters = [];
    this._dirtyCursors = false;
    this._watchEnvironment();
    queueMicrotask(() => this._connect());
  }

  get state() {
    return this._state;
  }

  get transport() {
    return this._state === "open" && this._transport ? this._transport.kind : null;
  }

  // ---- public API ----

  subscribe(channel, onEvent, options = {}) {
    if (typeof channel !== "string" || !CHANNEL_NAME.test(channel)) {
      throw new TypeError(`Switchboard: ${JSON.stringify(channel)} is not a channel name (1–200 of A–Z a–z 0–9 _ - . : =)`);
    }
    let state = this._channels.get(channel);
    const isNew = !state;
    if (isNew) {
      const stored = this._storedCursor(channel);
      const since = Number.isInteger(options.since) && options.since >= 0 ? options.since : null;
      state = new ChannelState(channel, since ?? stored);
      this._channels.set(channel, state);
    }
    const handle = new SubscriptionHandle(this, state, typeof onEvent === "function" ? onEvent : () => {}, options);
    state.handles.add(handle);
    if (isNew && this._transport) this._transport.subscribe(state);
    if (state.refused && options.onError) queueMicrotask(() => this._call(options.onError, state.refused));
    return handle;
  }

  async publish(channel, type, data, options = {}) {
    const transport = await this._openTransport();
    if (transport.kind === "websocket") return transport.publish(channel, type, data, options.id);
    const headers = { "Content-Type": "application/json" };
    if (this._token) headers.Authorization = `Bearer ${this._token}`;
    if (options.id !== undefined) headers["Idempotency-Key"] = options.id;
    const response = await fetch(this._url(`/v1/channels/${encodeURIComponent(channel)}/events`), {
      method: "POST",
      headers,
      body: JSON.stringify({ type, data }),
    });
    if (!response.ok) {
      const problem = (await problemOf(response)) || { code: "unavailable", message: `publish failed (${response.status})` };
      throw failure(problem.code, problem.message);
    }
    const receipt = await response.json();
    return { id: receipt.id, offset: receipt.offset };
  }

  async presence(channel) {
    const transport = await this._openTransport();
    if (transport.kind === "websocket") return transport.presence(channel);
    const headers = this._token ? { Authorization: `Bearer ${this._token}` } : {};
    const response = await fetch(this._url(`/v1/channels/${encodeURIComponent(channel)}/presence`), { headers });
    if (!response.ok) {
      const problem = (await problemOf(response)) || { code: "unavailable", message: `presence failed (${response.status})` };
      throw failure(problem.code, problem.message);
    }
    return (await response.json()).members || [];
  }

  on(name, listener) {
    const set = this._listeners[name];
    if (!set || typeof listener !== "function") throw new TypeError(`Switchboard: no "${name}" events (use "state" or "error")`);
    set.add(listener);
    return () => set.delete(listener);
  }

  reconnect() {
    if (this._state === "closed") return;
    if (this._state === "open") {
      if (this._transport) this._transport.checkAlive();
      return;
    }
    if (this._timer !== null || this._offline) {
      clearTimeout(this._timer);
      this._timer = null;
      this._attempt = 0;
      this._transportIndex = 0;
      this._connect();
    }
  }

  close() {
    if (this._state === "closed") return;
    this._stop({ code: "closed", message: "closed by the application" });
  }

  // ---- connecting ----

  _url(path) {
    return this._base + path;
  }

  async _connect() {
    if (this._state === "closed") return;
    this._timer = null;
    if (typeof navigator !== "undefined" && navigator.onLine === false) {
      // No network: no attempt is spent until the browser says it is back ("online").
      this._offline = true;
      return this._setState(this._state === "connecting" ? "connecting" : "reconnecting", {
        reason: { code: "offline", message: "the browser is offline" },
      });
    }
    this._offline = false;
    let token;
    try {
      token = await this._currentToken(false);
    } catch (error) {
      if (this._state === "closed") return;
      // The application's token source failed (its server down, the network not back after a
      // sleep): an attempt that failed, retried with backoff. Only the server's refusal stops.
      const reason = { code: "token", message: `getToken failed: ${error && error.message ? error.message : error}` };
      this._emit("error", reason);
      return this._backOff(reason);
    }
    if (this._state === "closed") return;
    const kind = this._options.transports[this._transportIndex];
    const transport = new FACTORIES[kind](this);
    this._transport = transport;
    transport.connectTimer = setTimeout(() => {
      if (this._transport === transport && !transport.opened) {
        transport.stop();
        this._transportFailed(transport, { code: "transport", message: `${kind} did not connect within ${CONNECT_TIMEOUT} ms` }, false);
      }
    }, CONNECT_TIMEOUT);
    transport.start(token);
  }

  _transportOpened(transport) {
    if (transport === this._probe) {
      // WebSocket works again: move over; events both carried are deduplicated by offset.
      this._probe = null;
      const old = this._transport;
      this._transport = transport;
      this._transportIndex = 0;
      if (old) old.stop();
    } else if (this._transport !== transport) {
      return;
    }
    clearTimeout(transport.connectTimer);
    clearTimeout(this._timer);
    this._timer = null;
    this._attempt = 0;
    this._tokenIsFresh = false;
    this._setState("open");
    if (this._state === "closed") return; // a state listener closed the client
    for (const waiter of this._openWaiters.splice(0)) waiter.resolve(transport);
    this._scheduleRefresh();
    if (transport.kind !== this._options.transports[0]) this._scheduleUpgrade();
  }

  _transportFailed(transport, reason, wasOpen) {
    if (this._transport !== transport && this._probe !== transport) return;
    clearTimeout(transport.connectTimer);
    if (this._probe === transport) {
      this._probe = null;
      return this._scheduleUpgrade();
    }
    transport.stop();
    this._transport = null;
    if (this._probe) {
      // The WebSocket probe must not outlive the transport it was to replace.
      clearTimeout(this._probe.connectTimer);
      this._probe.stop();
      this._probe = null;
    }
    for (const state of this._channels.values()) state.active = false;
    if (reason.code === "unauthorized" && this._options.getToken && !this._tokenIsFresh) {
      // Perhaps only the token expired: one more try with a new one; a second refusal stops.
      this._tokenIsFresh = true;
      this._token = null;
      return this._retry(reason, 0);
    }
    if (FATAL_CODES.has(reason.code)) return this._stop(reason);
    this._emit("error", reason);
    if (this._state === "closed") return; // a listener closed the client
    if (!wasOpen && reason.code === "transport" && this._transportIndex + 1 < this._options.transports.length) {
      // This transport cannot connect here: the next one at once.
      this._transportIndex += 1;
      return this._retry(reason, 0);
    }
    if (!wasOpen) this._transportIndex = 0;
    this._backOff(reason);
  }

  /** The next attempt after a random wait below the doubling ceiling (full jitter); the server's
   * Retry-After, and a few seconds after a rate limit, are the least it waits. */
  _backOff(reason) {
    const ceiling = Math.min(this._options.maxDelay, this._options.minDelay * 2 ** Math.min(this._attempt, 30));
    let floor = reason.retryAfter ? reason.retryAfter * 1000 : 0;
    if (reason.code === "rate_limited") floor = Math.max(floor, RATE_LIMITED_WAIT, ceiling / 2);
    this._attempt += 1;
    this._retry(reason, Math.max(floor, this._options.random() * ceiling));
  }

  _retry(reason, delay) {
    if (this._state === "closed") return;
    clearTimeout(this._upgradeTimer);
    clearTimeout(this._timer);
    this._setState(this._state === "connecting" ? "connecting" : "reconnecting", { delay: Math.round(delay), reason });
    this._timer = setTimeout(() => this._connect(), delay);
  }

  /** On a fallback transport: try WebSocket again later, and move over to it when it opens. */
  _scheduleUpgrade() {
    clearTimeout(this._upgradeTimer);
    this._upgradeTimer = setTimeout(() => this._tryUpgrade(), this._options.upgradeDelay);
  }

  _tryUpgrade() {
    if (this._state !== "open" || !this._transport || this._transport.kind === this._options.transports[0]) return;
    const kind = this._options.transports[0];
    const probe = new FACTORIES[kind](this);
    this._probe = probe;
    probe.connectTimer = setTimeout(() => {
      if (this._probe === probe) {
        probe.stop();
        this._probe = null;
        this._scheduleUpgrade();
      }
    }, CONNECT_TIMEOUT);
    probe.start(this._token);
  }

  _stop(reason) {
    clearTimeout(this._timer);
    clearTimeout(this._upgradeTimer);
    clearTimeout(this._refreshTimer);
    this._timer = null;
    if (this._transport) this._transport.stop();
    if (this._probe) this._probe.stop();
    this._transport = this._probe = null;
    for (const state of this._channels.values()) state.active = false;
    this._flushCursors();
    for (const waiter of this._openWaiters.splice(0)) waiter.reject(failure(reason.code, reason.message));
    this._unwatchEnvironment();
    this._setState("closed", { reason });
  }

  _openTransport() {
    if (this._state === "open" && this._transport) return Promise.resolve(this._transport);
    if (this._state === "closed") return Promise.reject(failure("unavailable", "the client is closed"));
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      this._openWaiters.push(waiter);
      setTimeout(() => {
        const index = this._openWaiters.indexOf(waiter);
        if (index >= 0) {
          this._openWaiters.splice(index, 1);
          reject(failure("unavailable", `not connected within ${PUBLISH_TIMEOUT} ms`));
        }
      }, PUBLISH_TIMEOUT);
    });
  }

  // ---- tokens ----

  /** The token to connect with; asks `getToken` (one call at a time) when there is none yet. */
  _currentToken(force) {
    if (!this._options.getToken) return Promise.resolve(this._token);
    if (this._token && !force) return Promise.resolve(this._token);
    if (!this._tokenPromise) {
      let timer;
      const deadline = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no token within ${CONNECT_TIMEOUT} ms`)), CONNECT_TIMEOUT);
      });
      this._tokenPromise = Promise.race([Promise.resolve().then(() => this._options.getToken()), deadline])
        .then((token) => {
          if (typeof token !== "string" || token.length === 0) throw new Error("getToken returned no token");
          this._token = token;
          return token;
        })
        .finally(() => {
          clearTimeout(timer);
          this._tokenPromise = null;
        });
    }
    return this._tokenPromise;
  }

  /** Asks for a new token before the current one expires, and hands it to the open transport. */
  _scheduleRefresh() {
    clearTimeout(this._refreshTimer);
    const expiry = tokenExpiry(this._token);
    if (!this._options.getToken || expiry === null) return;
    const lifetime = expiry - Date.now();
    const delay = Math.max(1000, lifetime - Math.min(60000, Math.max(5000, lifetime / 5)));
    this._refreshTimer = setTimeout(() => this._refresh(expiry), Math.min(delay, 2 ** 31 - 1));
  }

  /** One refresh; a failed one is tried again (every 5 s at most, half the time left at least) until
   * the token expires, when the server closes the connection and connecting asks for a token anew. */
  async _refresh(expiry) {
    let token;
    try {
      token = await this._currentToken(true);
    } catch (error) {
      if (this._state === "closed") return;
      this._emit("error", { code: "token", message: `getToken failed: ${error && error.message ? error.message : error}` });
      const left = expiry - Date.now();
      if (left > 1000) this._refreshTimer = setTimeout(() => this._refresh(expiry), Math.min(5000, left / 2));
      return;
    }
    if (this._state === "closed") return;
    if (this._transport && this._state === "open") this._transport.refreshToken(token);
    this._scheduleRefresh();
  }

  // ---- events from the transports ----

  _liveChannels() {
    return [...this._channels.values()].filter((state) => !state.refused);
  }

  _subscribed(name, reply) {
    const state = this._channels.get(name);
    if (!state) return;
    state.active = true;
    state.retries = 0;
    if (reply.truncated) this._truncated(name);
    else if (typeof reply.offset === "number") this._startAt(name, reply.offset);
  }

  /** Subscribes `name` again after a backoff of its own, if it is still wanted then. */
  _resubscribeLater(name) {
    const state = this._channels.get(name);
    if (!state || state.refused) return;
    state.active = false;
    state.retries = (state.retries || 0) + 1;
    const ceiling = Math.min(this._options.maxDelay, this._options.minDelay * 2 ** Math.min(state.retries, 30));
    clearTimeout(state.retryTimer);
    state.retryTimer = setTimeout(() => {
      if (this._channels.get(name) === state && this._state === "open" && this._transport) this._transport.subscribe(state);
    }, Math.max(this._options.minDelay, this._options.random() * ceiling));
  }

  _startAt(name, offset) {
    const state = this._channels.get(name);
    if (state && state.cursor === null) state.cursor = offset;
  }

  _deliver(event) {
    const state = this._channels.get(event.channel);
    if (!state || typeof event.offset !== "number") return;
    if (state.cursor !== null && event.offset <= state.cursor) return; // seen already
    if (state.gap) {
      const gap = { ...state.gap, earliest: event.offset };
      state.gap = null;
      for (const handle of [...state.handles]) {
        if (!handle._done && handle._options.onGap) this._call(handle._options.onGap, gap);
      }
    }
    state.cursor = event.offset;
    this._cursorChanged();
    for (const handle of [...state.handles]) {
      if (!handle._done) this._call(handle._onEvent, event);
    }
  }

  _truncated(name) {
    const state = this._channels.get(name);
    if (!state) return;
    // Handlers hear of the gap with the next event, the earliest retained one. The cursor goes back
    // to 0 ("from the earliest retained"): a log that was replaced starts below the old cursor, and
    // a reconnect before the next event must not become a live-only subscription.
    if (!state.gap) state.gap = { channel: name, cursor: state.cursor ?? 0 };
    state.cursor = 0;
    this._emit("error", { code: "truncated", message: `events before the retained ones on ${name} were lost`, channel: name });
  }

  _refused(name, info) {
    const state = this._channels.get(name);
    if (!state) return;
    state.refused = { ...info, channel: name };
    state.active = false;
    for (const handle of [...state.handles]) {
      if (!handle._done && handle._options.onError) this._call(handle._options.onError, state.refused);
    }
    this._emit("error", state.refused);
  }

  _presenceChange(kind, name, member) {
    const state = this._channels.get(name);
    if (!state) return;
    const key = kind === "join" ? "onJoin" : "onLeave";
    for (const handle of [...state.handles]) {
      if (!handle._done && handle._options[key]) this._call(handle._options[key], member);
    }
  }

  _release(handle) {
    const state = handle._state;
    state.handles.delete(handle);
    if (state.handles.size > 0 || this._channels.get(state.name) !== state) return;
    clearTimeout(state.retryTimer);
    this._channels.delete(state.name);
    if (this._transport) this._transport.unsubscribe(state.name);
  }

  // ---- cursors kept across page loads ----

  _storedCursor(channel) {
    if (!this._options.prefix) return null;
    try {
      const value = localStorage.getItem(this._options.prefix + channel);
      const offset = value === null ? NaN : Number(value);
      return Number.isInteger(offset) && offset >= 0 ? offset : null;
    } catch {
      return null;
    }
  }

  _cursorChanged() {
    if (!this._options.prefix || this._dirtyCursors) return;
    this._dirtyCursors = true;
    setTimeout(() => this._flushCursors(), 200);
  }

  _flushCursors() {
    if (!this._options.prefix || !this._dirtyCursors) return;
    this._dirtyCursors = false;
    try {
      for (const state of this._channels.values()) {
        if (state.cursor !== null) localStorage.setItem(this._options.prefix + state.name, String(state.cursor));
      }
    } catch {
      // Storage full or refused (private mode): cursors stay in memory.
    }
  }

  // ---- the page's environment: network, visibility, sleep ----

  _watchEnvironment() {
    if (typeof window === "undefined") return;
    this._onOnline = () => this.reconnect();
    this._onOffline = () => {
      // The open connection may be gone without a close: check it now.
      if (this._state === "open" && this._transport) this._transport.checkAlive();
    };
    this._onVisible = () => {
      if (document.visibilityState === "visible") this.reconnect();
      else this._flushCursors();
    };
    this._onPageHide = () => this._flushCursors();
    window.addEventListener("online", this._onOnline);
    window.addEventListener("offline", this._onOffline);
    window.addEventListener("pagehide", this._onPageHide);
    document.addEventListener("visibilitychange", this._onVisible);
    // A timer that fires far later than asked means the machine slept: check the connection at once.
    let last = Date.now();
    this._sleepTimer = setInterval(() => {
      const now = Date.now();
      // Hidden tabs have their timers slowed down by the browser: only a visible page can tell a sleep.
      if (now - last > SLEEP_CHECK * 3 && document.visibilityState === "visible") this.reconnect();
      last = now;
    }, SLEEP_CHECK);
  }

  _unwatchEnvironment() {
    if (typeof window === "undefined" || !this._onOnline) return;
    window.removeEventListener("online", this._onOnline);
    window.removeEventListener("offline", this._onOffline);
    window.removeEventListener("pagehide", this._onPageHide);
    document.removeEventListener("visibilitychange", this._onVisible);
    clearInterval(this._sleepTimer);
  }

  // ---- listeners ----

  _setState(state, detail = {}) {
    if (this._state === "closed" && state !== "closed") return;
    const transport = state === "open" && this._transport ? this._transport.kind : null;
    const changed = state !== this._state || transport !== this._announcedTransport;
    this._state = state;
    this._announcedTransport = transport;
    if (!changed && state !== "reconnecting" && state !== "connecting") return;
    const change = { state, transport: this.transport, ...detail };
    for (const listener of [...this._listeners.state]) this._call(listener, change);
  }

  _emit(name, value) {
    for (const listener of [...this._listeners[name]]) this._call(listener, value);
  }

  _call(fn, ...args) {
    guarded(fn, args, (error) => {
      // An application handler threw: report it without disturbing the client.
      setTimeout(() => {
        throw error;
      });
    });
  }
}
