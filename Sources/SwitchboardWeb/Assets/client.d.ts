// Types of Switchboard's browser client, served at /v1/client.d.ts beside /v1/client.js.
// Usage: import Switchboard from "https://events.example.com/v1/client.js";

/** An event in its canonical form, identical on every transport. */
export interface SwitchboardEvent {
  id: string;
  channel: string;
  offset: number;
  type: string;
  /** RFC 3339 UTC with milliseconds. */
  time: string;
  data: unknown;
}

/** The connection's state, announced through `on("state", …)`. */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

/** How events reach the page: tried in this order, falling back when one cannot connect. */
export type Transport = "websocket" | "sse" | "longpoll";

/** A presence member: one connection of a user on a presence channel. */
export interface PresenceMember {
  client: string;
  user: string | null;
  info: unknown;
}

/** Said when retention (or a replaced log) lost events between the cursor and what is still kept. */
export interface Gap {
  channel: string;
  /** The offset the subscription had seen. */
  cursor: number;
  /** The earliest offset still retained: delivery continues from there. */
  earliest: number;
}

/** Why the client stopped, or what went wrong without stopping it. */
export interface SwitchboardErrorInfo {
  /**
   * A PROTOCOL.md error code (`unauthorized`, `forbidden`, …), `transport` for a failed connection,
   * `token` for a failed `getToken`, `truncated` for events lost to retention.
   */
  code: string;
  message: string;
  /** For a subscription error, its channel. */
  channel?: string;
}

export interface StateChange {
  state: ConnectionState;
  /** The transport in use once `open`; null otherwise. */
  transport: Transport | null;
  /** While `reconnecting`: milliseconds until the next attempt. */
  delay?: number;
  /** Why the connection closed, when it did. */
  reason?: SwitchboardErrorInfo;
}

export interface SwitchboardOptions {
  /** A client token (JWT) or an API key (sbk_…). */
  token?: string;
  /**
   * Called for a token when connecting and again before the current one expires (its `exp`).
   * Calls never overlap. A call that rejects or takes over 10 s is a failed attempt (an `error` with
   * code `token`, then a retry with backoff). A token the server refuses as unauthorized is asked for
   * once more; a second refusal stops the client (state `closed` with reason `unauthorized`) instead of
   * retrying forever.
   */
  getToken?: () => Promise<string> | string;
  /** Transports to try, in order. Default: ["websocket", "sse", "longpoll"]. */
  transports?: Transport[];
  /** Backoff bounds in ms (full jitter, doubling): defaults 500 and 20000. */
  minReconnectDelay?: number;
  maxReconnectDelay?: number;
  /** While on a fallback transport, try WebSocket again after this many ms (default 60000). */
  upgradeRetryDelay?: number;
  /**
   * Keep each subscription's cursor in localStorage, so that a page reload resumes where it left off.
   * `true` uses the key prefix "switchboard:"; a string is the prefix to use. Default false.
   */
  persistCursors?: boolean | string;
  /** Long-poll wait in seconds (default 25). */
  longPollWait?: number;
  /** The random source for jitter (default Math.random); tests inject their own. */
  random?: () => number;
}

export interface SubscribeOptions {
  /**
   * Resume after this offset (0: from the earliest retained event). Default: live only, or the stored
   * cursor. It applies when the channel is first subscribed; a later handle on a channel already
   * subscribed shares its position.
   */
  since?: number;
  /** Called when retention lost events before this subscription's cursor. */
  onGap?: (gap: Gap) => void;
  /** Presence channels (WebSocket only): a member joined or left. */
  onJoin?: (member: PresenceMember) => void;
  onLeave?: (member: PresenceMember) => void;
  /** The server refused this subscription (for example `forbidden`); it stays inactive. */
  onError?: (error: SwitchboardErrorInfo) => void;
}

/** One `subscribe` call's handle. Several handles on one channel share one server subscription. */
export interface Subscription {
  readonly channel: string;
  /**
   * Where the subscription stands: the last offset delivered on this channel, or, before the first
   * event, where it resumes from (the head a live subscription started at, `since`, or the stored
   * cursor); 0 while not known yet.
   */
  readonly cursor: number;
  /** Whether the server confirmed the subscription on the current connection. */
  readonly active: boolean;
  /** Stops this handle's callbacks; the server subscription ends with the last handle. Idempotent. */
  unsubscribe(): void;
}

export interface PublishResult {
  id: string;
  offset: number;
}

export default class Switchboard {
  /** `baseURL`: where the server is reached, without /v1 (for example "https://events.example.com"). */
  constructor(baseURL: string, options?: SwitchboardOptions);
  /** The current state. */
  readonly state: ConnectionState;
  /** The transport in use while open, else null. */
  readonly transport: Transport | null;
  /**
   * Subscribes `onEvent` to `channel`. Never throws for a second subscribe of the same channel: each call
   * gets its own handle, and each event reaches each handler once, in offset order.
   */
  subscribe(channel: string, onEvent: (event: SwitchboardEvent) => void, options?: SubscribeOptions): Subscription;
  /**
   * Publishes an event. Over WebSocket with any credential the server allows to publish; on a fallback
   * transport through `POST /v1/channels/{channel}/events`, which needs an API key. Rejects with an Error
   * whose `code` is a PROTOCOL.md code.
   */
  publish(channel: string, type: string, data: unknown, options?: { id?: string }): Promise<PublishResult>;
  /** The channel's presence members. */
  presence(channel: string): Promise<PresenceMember[]>;
  /** Listens to "state" (StateChange) or "error" (SwitchboardErrorInfo); returns a function that stops listening. */
  on(name: "state", listener: (change: StateChange) => void): () => void;
  on(name: "error", listener: (error: SwitchboardErrorInfo) => void): () => void;
  /** Reconnects now if waiting out a backoff (done by itself on `online`, on a page becoming visible and after a sleep). */
  reconnect(): void;
  /** Closes for good: no reconnect; subscriptions end. */
  close(): void;
}
