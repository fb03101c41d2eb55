// Switchboard operator console: a plain ES module, no dependencies, no build step.
//
// Safety rule for this file: everything that comes from the server (event data, channel names,
// response bodies, URLs, key names) is untrusted. It reaches the page only as text (text nodes,
// textContent) or as attribute values through setAttribute, never as HTML. Links built from data
// are "#/…" routes with each part passed through encodeURIComponent.

const KEY_STORAGE = "switchboard.console.key";
const RECENT_STORAGE = "switchboard.console.channels";
const POLL_MS = 2000;
const SAMPLES = 150; // 5 minutes of metrics at one sample every 2 s
const TAIL_ROWS = 500;

// ---------------------------------------------------------------------------------------------
// DOM helpers

/** Makes an element: h("a", {href, class, onclick}, "text", child, [more]). Strings become text. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  append(el, children);
  setAttrs(el, attrs);
  return el;
}

/** The same for SVG elements. */
function s(tag, attrs, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  append(el, children);
  setAttrs(el, attrs);
  return el;
}

const PROPERTIES = new Set(["value", "checked", "disabled", "hidden", "selected", "open"]);

function setAttrs(el, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (name.startsWith("on")) {
      if (typeof value === "function") el.addEventListener(name.slice(2), value); // never an inline handler
    } else if (PROPERTIES.has(name)) el[name] = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's content. */
function fill(el, ...children) {
  delete el.dataset?.signature;
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Fills `el` only when `data` differs from what it shows, so refreshes keep open details and clicks. */
function renderIfChanged(el, data, build) {
  const signature = JSON.stringify(data);
  if (el.dataset.signature === signature) return;
  fill(el, build());
  el.dataset.signature = signature;
}

/** A "#/a/b" link; every part is encoded. */
function route(...parts) { return "#/" + parts.map((p) => encodeURIComponent(String(p))).join("/"); }

function link(parts, text, attrs = {}) { return h("a", { href: route(...parts), ...attrs }, text); }

function badge(text, kind) { return h("span", { class: "badge " + (kind || "") }, text); }

function statusBadge(status) {
  const kind = { succeeded: "ok", failed: "warn", dead: "bad", pending: "info" }[status] || "";
  return badge(status, kind);
}

function card(title, ...children) { return h("section", { class: "card" }, title ? h("h2", {}, title) : null, ...children); }

function tableOf(headers, rows, { empty = "Nothing here yet.", cls = "" } = {}) {
  if (!rows.length) return h("p", { class: "muted empty" }, empty);
  return h("div", { class: "table-wrap" },
    h("table", { class: cls },
      h("thead", {}, h("tr", {}, headers.map((x) => (typeof x === "string" ? h("th", {}, x) : x)))),
      h("tbody", {}, rows)));
}

/** A definition list from [term, value] pairs (falsy pairs are left out); `inline` puts them on one line. */
function facts(pairs, { inline = false } = {}) {
  const items = pairs.filter(Boolean).map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]);
  return h("dl", { class: inline ? "facts-inline" : "facts" }, inline ? items.map((x) => h("div", {}, x)) : items);
}

function field(label, control, hint) {
  return h("label", { class: "field" }, h("span", { class: "field-label" }, label), control,
    hint ? h("span", { class: "hint" }, hint) : null);
}

/** A button that shows a confirmation step in place, then runs `run`. */
function confirmButton(text, question, run, { danger = false } = {}) {
  const box = h("span", { class: "confirm" });
  const start = h("button", { type: "button", class: danger ? "danger" : "", onclick: () => ask() }, text);
  function ask() {
    box.classList.add("asking");
    fill(box,
      h("span", { class: "confirm-question" }, question), " ",
      h("button", { type: "button", class: danger ? "danger primary" : "primary", onclick: async (e) => {
        e.target.disabled = true;
        try { await run(); } finally { reset(); }
      } }, "Yes, " + text.toLowerCase()), " ",
      h("button", { type: "button", class: "quiet", onclick: reset }, "Cancel"));
  }
  function reset() {
    box.classList.remove("asking");
    fill(box, start);
  }
  reset();
  return box;
}

/** A secret shown with a copy button (where the clipboard is not available, it is selected instead). */
function secretBox(value, note) {
  const code = h("code", { class: "secret-value" }, value);
  const done = h("span", { class: "muted small", "aria-live": "polite" });
  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      fill(done, "Copied.");
    } catch {
      getSelection().selectAllChildren(code);
      fill(done, "Selected: copy it with Ctrl+C or ⌘C.");
    }
  }
  return h("div", { class: "secret" }, note ? h("p", { class: "small" }, note) : null,
    h("div", { class: "row" }, code, h("button", { type: "button", onclick: copy }, "Copy"), done));
}

function jsonText(value, pretty = true) {
  try { return JSON.stringify(value, null, pretty ? 2 : 0) ?? "null"; } catch { return String(value); }
}

/** An event's data: a short line that opens into the whole JSON. */
function dataCell(value) {
  const compact = jsonText(value, false);
  if (compact.length <= 60) return h("div", { class: "data-box" }, h("code", {}, compact));
  return h("div", { class: "data-box" }, h("details", { class: "data" }, h("summary", {}, h("code", {}, compact.slice(0, 200))),
    h("pre", {}, jsonText(value))));
}

// ---------------------------------------------------------------------------------------------
// Formatting

function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function timeEl(iso) { return h("time", { datetime: iso || "", title: iso || "" }, fmtTime(iso)); }

function duration(ms) {
  const sec = Math.round(Math.abs(ms) / 1000);
  if (sec < 60) return sec + " s";
  if (sec < 3600) return Math.round(sec / 60) + " min";
  if (sec < 86400 * 2) return (sec / 3600).toFixed(sec < 36000 ? 1 : 0) + " h";
  return Math.round(sec / 86400) + " days";
}

function ago(iso) {
  if (!iso) return "never";
  const ms = Date.now() - Date.parse(iso);
  return ms < 1000 ? "just now" : duration(ms) + " ago";
}

/** A countdown that the one-second ticker keeps current. */
function countdown(iso) {
  const el = h("span", { class: "countdown", "data-until": iso, title: iso });
  tickCountdown(el);
  return el;
}

function tickCountdown(el) {
  const ms = Date.parse(el.getAttribute("data-until")) - Date.now();
  el.textContent = ms > 0 ? "in " + duration(ms) : "due now";
}

function num(n, digits = 0) {
  if (n == null || !isFinite(n)) return "—";
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function pct(ratio) { return ratio == null ? "—" : num(ratio * 100, ratio > 0.999 || ratio < 0.001 ? 0 : 1) + " %"; }

function ms(n) { return n == null ? "—" : n < 1000 ? num(n) + " ms" : num(n / 1000, 1) + " s"; }

function splitList(text) { return text.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean); }

// ---------------------------------------------------------------------------------------------
// Session: the admin key lives in sessionStorage only (this tab, until it closes).

const session = {
  key: sessionStorage.getItem(KEY_STORAGE) || "",
  dev: false,
  keyListeners: new Set(),
  setKey(key) {
    this.key = key;
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
    this.dev = false;
    updateKeyStatus();
    for (const fn of this.keyListeners) fn();
  },
};

function authHeaders(key = session.key) { return key ? { Authorization: "Bearer " + key } : {}; }

// ---------------------------------------------------------------------------------------------
// Banners: the server down, the key refused, a request refused.

const banners = new Map();

function showBanner(kind, text, action) {
  banners.set(kind, { text, action });
  renderBanners();
}

function clearBanner(kind) {
  if (banners.delete(kind)) renderBanners();
}

function renderBanners() {
  const box = document.getElementById("banners");
  fill(box, [...banners].map(([kind, { text, action }]) =>
    h("div", { class: "banner banner-" + kind, role: "alert", "data-kind": kind },
      h("span", { class: "banner-text" }, text),
      action ? h("button", { type: "button", onclick: action.run }, action.label) : null,
      kind === "api" ? h("button", { type: "button", class: "quiet", "aria-label": "Dismiss", onclick: () => clearBanner(kind) }, "×") : null)));
}

// ---------------------------------------------------------------------------------------------
// The HTTP API

class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || (status ? "HTTP " + status : "the server cannot be reached"));
    this.status = status;
    this.code = problem.code || (status ? "http_" + status : "unreachable");
    this.problem = problem;
  }
}

function serverDown(text) {
  showBanner("down", text || "The server cannot be reached: it may be down or restarting. The console keeps trying and recovers by itself.");
}

function authRefused(detail) {
  const text = session.key
    ? `The server refused the admin key (${detail}). Enter a valid key to go on; what you typed in forms is kept.`
    : `This server needs an admin key (${detail}).`;
  showBanner("auth", text, { label: "Enter a key", run: () => openKeyDialog() });
  if (!session.key && !keyDialogAsked) openKeyDialog();
}

/**
 * Calls the API. Returns the parsed JSON (null for 204). Throws an ApiError. Network failures,
 * 503s and 401s are announced in a banner; with `action` (a short description of what the
 * operator asked for), any other refusal is too.
 */
async function api(method, path, { body, action, text = false } = {}) {
  const init = { method, cache: "no-store", headers: { Accept: text ? "text/plain" : "application/json", ...authHeaders() } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    serverDown();
    throw new ApiError(0, { detail: "the server cannot be reached" });
  }
  if (res.status === 502 || res.status === 503 || res.status === 504) {
    const problem = await readProblem(res);
    serverDown(`The server is unavailable (${problem.detail || res.status}). The console keeps trying and recovers by itself.`);
    throw new ApiError(res.status, problem);
  }
  clearBanner("down");
  if (res.ok) {
    if (/^\/v1\/(endpoints|keys|sources|deliveries|events\/)/.test(path)) { // admin routes
      clearBanner("auth");
      if (!session.key && !session.dev) {
        session.dev = true;
        updateKeyStatus();
      }
    }
    if (action) clearBanner("api");
    if (res.status === 204) return null;
    return text ? res.text() : res.json().catch(() => null);
  }
  const problem = await readProblem(res);
  const error = new ApiError(res.status, problem);
  if (res.status === 401) authRefused(error.message);
  else if (action) showBanner("api", `${action}: the server refused (${error.status} ${problem.title || ""}): ${error.message}`);
  throw error;
}

async function readProblem(res) {
  const body = await res.text().catch(() => "");
  try {
    const parsed = JSON.parse(body);
    if (parsed && typeof parsed === "object") return parsed;
  } catch { /* not JSON */ }
  return { title: res.statusText, detail: body.slice(0, 300) || res.statusText || "HTTP " + res.status };
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const text = q.toString();
  return text ? "?" + text : "";
}

const enc = encodeURIComponent;

// ---------------------------------------------------------------------------------------------
// The key dialog

let keyDialogAsked = false;

function openKeyDialog(message) {
  keyDialogAsked = true;
  const dialog = document.getElementById("key-dialog");
  showKeyError(message || "");
  if (!dialog.open) dialog.showModal();
  document.getElementById("key-input").focus();
}

function showKeyError(text) {
  const el = document.getElementById("key-error");
  el.textContent = text;
  el.hidden = !text;
}

/** Tries `key` (or no key) against an admin route without touching the session. */
async function probeKey(key) {
  try {
    const res = await fetch("/v1/keys", { cache: "no-store", headers: { Accept: "application/json", ...authHeaders(key) } });
    if (res.ok) return { ok: true };
    const problem = await readProblem(res);
    return { ok: false, status: res.status, detail: problem.detail || problem.title };
  } catch {
    return { ok: false, status: 0, detail: "the server cannot be reached" };
  }
}

function explainProbe(result, key) {
  if (result.status === 401) return key ? `The server refused this key: ${result.detail}.` : `This server needs an admin key: ${result.detail}.`;
  if (result.status === 403) return `This key is valid but lacks the admin scope: ${result.detail}.`;
  if (result.status === 0) return "The server cannot be reached. Try again once it is back.";
  return `The server answered ${result.status}: ${result.detail}.`;
}

async function useKey(key) {
  const submit = document.getElementById("key-submit");
  submit.disabled = true;
  showKeyError("");
  const result = await probeKey(key);
  submit.disabled = false;
  if (!result.ok) {
    showKeyError(explainProbe(result, key)); // the typed key stays in the input
    return;
  }
  document.getElementById("key-dialog").close();
  document.getElementById("key-input").value = "";
  session.setKey(key);
  session.dev = !key;
  updateKeyStatus();
  clearBanner("auth");
  current?.refresh?.();
}

function setupKeyDialog() {
  const dialog = document.getElementById("key-dialog");
  document.getElementById("key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    useKey(document.getElementById("key-input").value.trim());
  });
  document.getElementById("key-none").addEventListener("click", () => useKey(""));
  document.getElementById("key-cancel").addEventListener("click", () => dialog.close());
  document.getElementById("key-status").addEventListener("click", () => openKeyDialog());
}

function updateKeyStatus() {
  const el = document.getElementById("key-status");
  if (session.key) {
    el.textContent = "Admin key set";
    el.className = "key-status has-key";
  } else {
    el.textContent = session.dev ? "Dev mode: no key" : "No key";
    el.className = "key-status " + (session.dev ? "dev" : "no-key");
  }
}

// ---------------------------------------------------------------------------------------------
// Metrics: /metrics every 2 s, whatever the page; it is also how the console notices the server
// coming back.

const metrics = { samples: [], taken: 0, listeners: new Set() };

function parsePrometheus(text) {
  const out = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] || "").matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

function metricSum(parsed, name, labels = {}) {
  let total = 0;
  let found = false;
  for (const row of parsed) {
    if (row.name !== name) continue;
    if (Object.entries(labels).some(([k, v]) => row.labels[k] !== v)) continue;
    total += row.value;
    found = true;
  }
  return found ? total : null;
}

function sampleOf(parsed) {
  const m = (name, labels) => metricSum(parsed, name, labels);
  return {
    t: Date.now(),
    ws: m("switchboard_connections", { transport: "websocket" }),
    sse: m("switchboard_connections", { transport: "sse" }),
    longpoll: m("switchboard_long_polls_waiting"),
    subscriptions: m("switchboard_subscriptions"),
    published: m("switchboard_events_published_total"),
    delivered: m("switchboard_events_delivered_total"),
    success: m("switchboard_webhook_attempts_total", { outcome: "success" }),
    httpError: m("switchboard_webhook_attempts_total", { outcome: "http_error" }),
    networkError: m("switchboard_webhook_attempts_total", { outcome: "network_error" }),
    queue: m("switchboard_webhook_queue_depth"),
    dead: m("switchboard_webhook_deliveries_dead_total"),
    disabled: m("switchboard_webhook_endpoints_disabled_total"),
    latencySum: m("switchboard_webhook_delivery_latency_seconds_sum"),
    latencyCount: m("switchboard_webhook_delivery_latency_seconds_count"),
  };
}

/** The increase of a counter between two samples (a restart resets counters to zero). */
function increase(prev, next, key) {
  if (!prev || prev[key] == null || next[key] == null) return null;
  const d = next[key] - prev[key];
  return d >= 0 ? d : next[key];
}

async function pollMetrics() {
  try {
    const text = await api("GET", "/metrics", { text: true });
    metrics.samples.push(sampleOf(parsePrometheus(text)));
    metrics.taken += 1;
    if (metrics.samples.length > SAMPLES) metrics.samples.shift();
  } catch {
    // The banner says why; the next poll may find the server back.
  }
  for (const fn of metrics.listeners) fn();
  setTimeout(pollMetrics, POLL_MS);
}

// ---------------------------------------------------------------------------------------------
// Charts: small SVG line charts and bar strips, drawn here.

/**
 * A line chart of one or more series ({values, cls}); null values leave gaps. `max` fixes the
 * top of the scale (else the largest value).
 */
function lineChart(series, { max, height = 48, label = "chart" } = {}) {
  const width = 300;
  const n = Math.max(2, ...series.map((x) => x.values.length));
  const top = max ?? Math.max(1, ...series.flatMap((x) => x.values.filter((v) => v != null)));
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", class: "chart", role: "img", "aria-label": label });
  svg.append(s("line", { x1: 0, x2: width, y1: height - 0.5, y2: height - 0.5, class: "axis" }));
  for (const { values, cls } of series) {
    const offset = n - values.length;
    let path = "";
    let area = "";
    let run = [];
    const flush = () => {
      if (run.length) {
        path += "M" + run.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join("L");
        area += `M${run[0][0].toFixed(1)},${height}L` + run.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join("L") + `L${run[run.length - 1][0].toFixed(1)},${height}Z`;
      }
      run = [];
    };
    values.forEach((v, i) => {
      if (v == null) return flush();
      const x = ((i + offset) / (n - 1)) * width;
      const y = height - 2 - (Math.min(v, top) / top) * (height - 4);
      run.push([x, y]);
    });
    flush();
    if (area) svg.append(s("path", { d: area, class: "area " + (cls || "") }));
    if (path) svg.append(s("path", { d: path, class: "line " + (cls || ""), "vector-effect": "non-scaling-stroke" }));
  }
  return svg;
}

/** One bar per item ({value, ok, title}): height from value, colour from ok. */
function barStrip(items, { height = 24, slots = 30, label = "latest attempts" } = {}) {
  const width = slots * 4;
  const top = Math.max(1, ...items.map((x) => x.value || 0));
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "bars", role: "img", "aria-label": label, preserveAspectRatio: "none" });
  items.slice(-slots).forEach((item, i, list) => {
    const x = (slots - list.length + i) * 4;
    const hgt = item.ok ? Math.max(3, Math.sqrt((item.value || 0) / top) * (height - 2)) : height - 2;
    svg.append(s("rect", { x: x + 0.5, y: height - hgt, width: 3, height: hgt, class: item.ok ? "ok" : "fail" },
      s("title", {}, item.title || "")));
  });
  return svg;
}

// ---------------------------------------------------------------------------------------------
// Endpoint health from its latest deliveries

function latestAttempt(delivery) { return delivery.attempts?.length ? delivery.attempts[delivery.attempts.length - 1] : null; }

function endpointHealth(deliveries) {
  const attempts = [];
  for (const d of deliveries) for (const a of d.attempts || []) attempts.push(a);
  attempts.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  const ok = attempts.filter((a) => a.error == null && a.status >= 200 && a.status < 300);
  const latencies = attempts.map((a) => a.latencyMs).filter((x) => x != null).sort((a, b) => a - b);
  const due = deliveries.filter((d) => d.nextAttempt && (d.status === "failed" || d.status === "pending"))
    .map((d) => d.nextAttempt).sort((a, b) => Date.parse(a) - Date.parse(b));
  const waiting = deliveries.filter((d) => d.status === "failed").length;
  return {
    attempts,
    rate: attempts.length ? ok.length / attempts.length : null,
    p50: latencies.length ? latencies[Math.floor(latencies.length / 2)] : null,
    nextRetry: deliveries.some((d) => d.status === "failed") ? due[0] : null,
    waiting,
    dead: deliveries.filter((d) => d.status === "dead").length,
    bars: attempts.slice(-30).map((a) => ({
      value: a.latencyMs, ok: a.error == null && a.status >= 200 && a.status < 300,
      title: `${a.status ?? "no response"} · ${ms(a.latencyMs)} · ${fmtTime(a.time)}${a.error ? " · " + a.error : ""}`,
    })),
  };
}

function healthSummary(hl) {
  return h("div", { class: "health" },
    barStrip(hl.bars),
    h("span", { class: "health-text" },
      h("span", { class: hl.rate == null ? "" : hl.rate >= 0.99 ? "good" : hl.rate >= 0.9 ? "meh" : "poor" }, pct(hl.rate), " ok"),
      " · p50 ", ms(hl.p50),
      hl.nextRetry ? [" · next retry ", countdown(hl.nextRetry)] : null));
}

async function loadEndpointsWithHealth() {
  const { endpoints } = await api("GET", "/v1/endpoints");
  return Promise.all(endpoints.map(async (ep) => {
    try {
      const { deliveries } = await api("GET", `/v1/endpoints/${enc(ep.id)}/deliveries?limit=50`);
      return { ep, health: endpointHealth(deliveries) };
    } catch {
      return { ep, health: null };
    }
  }));
}

function endpointRows(list) {
  return list.map(({ ep, health }) => h("tr", {},
    h("td", { class: "wrap" }, ep.enabled ? null : [badge("disabled", "bad"), " "], link(["endpoints", ep.id], ep.url),
      ep.description ? h("div", { class: "muted small" }, ep.description) : null),
    h("td", { class: "opt" }, (ep.channels || []).join(", "), ep.types?.length ? h("div", { class: "muted small" }, ep.types.join(", ")) : null),
    h("td", {}, health ? healthSummary(health) : h("span", { class: "muted" }, "—"))));
}

// ---------------------------------------------------------------------------------------------
// Pages. Each returns {el, refresh?, every?, destroy?}; the router calls refresh at once and
// then every `every` ms. Forms are built once, so refreshing never loses what was typed.

// Drafts: what was typed in a form field survives leaving the page and coming back (memory only).
const drafts = new Map();

function input(draftKey, attrs = {}) {
  const tag = attrs.tag || "input";
  const el = h(tag, { ...attrs, tag: null });
  if (draftKey) {
    if (drafts.has(draftKey)) {
      if (el.type === "checkbox" || el.type === "radio") el.checked = drafts.get(draftKey);
      else el.value = drafts.get(draftKey);
    }
    el.addEventListener(el.tagName === "SELECT" || el.type === "checkbox" || el.type === "radio" ? "change" : "input",
      () => drafts.set(draftKey, el.type === "checkbox" || el.type === "radio" ? el.checked : el.value));
  }
  return el;
}

function select(draftKey, options, attrs = {}) {
  const el = h("select", attrs, options.map(([value, text]) => h("option", { value }, text)));
  if (drafts.has(draftKey)) el.value = drafts.get(draftKey);
  el.addEventListener("change", () => drafts.set(draftKey, el.value));
  return el;
}

function pageHeader(title, ...extra) { return h("header", { class: "page-header" }, h("h1", {}, title), ...extra); }

function loadError(e, what) {
  if (e.status === 0 || e.status === 401 || e.status >= 502) return h("p", { class: "muted" }, `Could not load ${what} (see above).`);
  return h("p", { class: "form-error" }, `Could not load ${what}: ${e.message}`);
}

// --- Overview ------------------------------------------------------------------------------

function pageOverview() {
  const stat = (title) => {
    const [value, sub, chart] = [h("div", { class: "stat-value" }, "—"), h("div", { class: "stat-sub muted" }), h("div", { class: "stat-chart" })];
    return { el: h("section", { class: "card stat" }, h("h2", {}, title), value, sub, chart), value, sub, chart };
  };
  const conns = stat("Connections");
  const rate = stat("Events published / s (10 s)");
  const success = stat("Webhook success (last minute)");
  const backlog = stat("Webhook backlog");
  const endpointsBox = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const legend = h("div", { class: "legend small" },
    h("span", { class: "key s1" }, "WebSocket"), h("span", { class: "key s2" }, "SSE"), h("span", { class: "key s3" }, "long-poll"));
  conns.el.append(legend);

  function draw() {
    const list = metrics.samples;
    const last = list[list.length - 1];
    el.dataset.samples = String(metrics.taken);
    if (!last) return;
    const total = (x) => (x.ws ?? 0) + (x.sse ?? 0) + (x.longpoll ?? 0);
    fill(conns.value, num(total(last)));
    fill(conns.sub, `WebSocket ${num(last.ws)} · SSE ${num(last.sse)} · long-poll ${num(last.longpoll)} · ${num(last.subscriptions)} subscriptions`);
    fill(conns.chart, lineChart([
      { values: list.map((x) => x.ws), cls: "s1" }, { values: list.map((x) => x.sse), cls: "s2" },
      { values: list.map((x) => x.longpoll), cls: "s3" }], { label: "connections by transport" }));

    const perSec = list.map((x, i) => {
      const d = increase(list[i - 1], x, "published");
      return d == null ? null : d / ((x.t - list[i - 1].t) / 1000);
    });
    const recent = perSec.slice(-5).filter((x) => x != null);
    const lastRate = recent.length ? recent.reduce((a, b) => a + b, 0) / recent.length : null;
    fill(rate.value, lastRate == null ? "—" : num(lastRate, lastRate < 10 ? 1 : 0));
    fill(rate.sub, `${num(last.published)} published since the server started · ${num(last.delivered)} delivered to subscribers`);
    fill(rate.chart, lineChart([{ values: perSec, cls: "s1" }], { label: "events per second" }));

    // Success rate over a sliding 30 s window, and over the last minute for the headline.
    const window = (i, span) => {
      const a = list[Math.max(0, i - span)];
      const b = list[i];
      if (!a || a === b) return null;
      const ok = increase(a, b, "success") ?? 0;
      const bad = (increase(a, b, "httpError") ?? 0) + (increase(a, b, "networkError") ?? 0);
      return ok + bad ? { ok, bad, ratio: ok / (ok + bad) } : null;
    };
    const minute = window(list.length - 1, 30);
    fill(success.value, minute ? pct(minute.ratio) : "—");
    fill(success.sub, minute ? `${num(minute.ok)} succeeded · ${num(minute.bad)} failed attempts in the last minute`
      : `no attempts in the last minute · ${num(last.success)} succeeded, ${num((last.httpError ?? 0) + (last.networkError ?? 0))} failed since start`);
    fill(success.chart, lineChart([{ values: list.map((_, i) => window(i, 15)?.ratio ?? null).map((r) => (r == null ? null : r * 100)), cls: "s1" }],
      { max: 100, label: "webhook success rate" }));

    fill(backlog.value, num(last.queue));
    const avg = last.latencyCount ? (last.latencySum / last.latencyCount) * 1000 : null;
    fill(backlog.sub, `deliveries still to make · ${num(last.dead)} dead · ${num(last.disabled)} endpoints disabled by the server · average delivery ${ms(avg)}`);
    fill(backlog.chart, lineChart([{ values: list.map((x) => x.queue), cls: "s2" }], { label: "webhook backlog" }));
  }

  async function refresh() {
    try {
      const list = await loadEndpointsWithHealth();
      renderIfChanged(endpointsBox, list, () => tableOf(["Endpoint", h("th", { class: "opt" }, "Channels · types"), "Health (latest attempts)"],
        endpointRows(list), { empty: "No webhook endpoints yet." }));
    } catch (e) {
      fill(endpointsBox, loadError(e, "the endpoints"));
    }
  }

  const el = h("div", { class: "overview" },
    pageHeader("Overview", h("span", { class: "muted small" }, "live, every 2 s")),
    h("div", { class: "stats" }, conns.el, rate.el, success.el, backlog.el),
    card("Webhook endpoints", endpointsBox));
  metrics.listeners.add(draw);
  draw();
  return { el, refresh, every: 5000, destroy: () => metrics.listeners.delete(draw) };
}

// --- Channels ------------------------------------------------------------------------------

function recentChannels() {
  try { return JSON.parse(sessionStorage.getItem(RECENT_STORAGE) || "[]").filter((x) => typeof x === "string"); } catch { return []; }
}

function rememberChannel(name) {
  const list = [name, ...recentChannels().filter((x) => x !== name)].slice(0, 12);
  sessionStorage.setItem(RECENT_STORAGE, JSON.stringify(list));
}

function pageChannels() {
  const name = input("channels.open", { type: "text", placeholder: "orders", required: true, spellcheck: "false", autocomplete: "off" });
  const form = h("form", { class: "inline-form", onsubmit: (e) => { e.preventDefault(); location.hash = route("channels", name.value.trim()); } },
    field("Channel", name), h("button", { type: "submit", class: "primary" }, "Open"));
  const recent = recentChannels();
  const el = h("div", {},
    pageHeader("Channels"),
    card("Open a channel", h("p", { class: "muted" }, "Tail it live from any offset, browse its history, publish to it, see who is present."), form),
    card("Recently opened", recent.length
      ? h("ul", { class: "chips" }, recent.map((c) => h("li", {}, link(["channels", c], c))))
      : h("p", { class: "muted" }, "None yet in this tab.")),
    card("Server channels", h("ul", { class: "chips" }, h("li", {}, link(["channels", "$system"], "$system")))));
  return { el };
}

function eventRow(ev, { fresh = false } = {}) {
  return h("tr", { class: fresh ? "fresh" : "" },
    h("td", { class: "num" }, link(["events", ev.id], String(ev.offset), { title: ev.id })),
    h("td", { class: "opt" }, timeEl(ev.time)),
    h("td", {}, h("code", {}, ev.type)),
    h("td", { class: "opt" }, link(["events", ev.id], ev.id, { class: "mono small" })),
    h("td", { class: "data-col" }, dataCell(ev.data)));
}

const eventHeaders = () => ["Offset", h("th", { class: "opt" }, "Time"), "Type", h("th", { class: "opt" }, "Id"), "Data"];

/** Loads /v1/client.js once; null when it cannot be used. */
let clientModule;
async function loadClient() {
  if (clientModule === undefined) {
    try {
      const mod = await import("/v1/client.js");
      clientModule = typeof mod.default === "function" ? mod.default : null;
    } catch {
      clientModule = null;
    }
  }
  return clientModule;
}

/** A live tail of `channel` after `since` (undefined: live only). Returns stop(). */
async function openTail(channel, since, onEvent, onState) {
  const Switchboard = await loadClient();
  if (Switchboard) {
    // The client reconnects by itself and resumes from its cursor (WebSocket, else SSE, else long-poll).
    const client = new Switchboard(location.origin, session.key ? { token: session.key } : {});
    client.on("state", (change) => onState(change.state + (change.transport ? ` (${change.transport})` : "") +
      (change.reason ? `: ${change.reason.message || change.reason.code}` : "")));
    client.on("error", (error) => onState(`error: ${error.message || error.code}`));
    const sub = client.subscribe(channel, onEvent, {
      since,
      onGap: (gap) => onState(`events between offsets ${gap.cursor} and ${gap.earliest} are no longer retained; continuing from ${gap.earliest}`),
      onError: (error) => onState(`refused: ${error.message || error.code}`),
    });
    return () => { sub.unsubscribe(); client.close(); };
  }
  onState("the browser client /v1/client.js could not be loaded");
  return () => {};
}

function pageChannel(channel) {
  rememberChannel(channel);
  const base = `/v1/channels/${enc(channel)}`;
  const draft = (k) => `channel.${channel}.${k}`;
  const tail = tailCard(channel, draft);
  const restart = () => tail.restart();
  session.keyListeners.add(restart);
  const el = h("div", {},
    pageHeader(h("span", {}, "Channel ", h("code", {}, channel))),
    tail.el,
    h("div", { class: "grid-2" }, publishCard(base, draft), presenceCard(base)),
    historyCard(base, draft));
  return { el, destroy: () => { tail.stop(); session.keyListeners.delete(restart); } };
}

/** The live tail: newest first, from an offset or live only. */
function tailCard(channel, draft) {
  const body = h("tbody", {});
  const table = h("div", { class: "table-wrap tail" },
    h("table", {}, h("thead", {}, h("tr", {}, eventHeaders().map((x) => (typeof x === "string" ? h("th", {}, x) : x)))), body));
  const state = h("span", { class: "state muted" }, "stopped");
  const counter = h("span", { class: "muted small" });
  const since = input(draft("since"), { type: "number", min: "0", placeholder: "live", class: "narrow", id: "tail-since" });
  const paused = input(null, { type: "checkbox" });
  let stopTail = null;
  let generation = 0; // a newer start (or leaving the page) makes an older one stop
  function stop(text) {
    generation += 1;
    stopTail?.();
    stopTail = null;
    if (text) state.textContent = text;
  }
  async function start() {
    stop();
    const mine = generation;
    const after = since.value === "" ? undefined : Math.max(0, Number(since.value));
    let count = 0;
    let last = 0;
    fill(counter);
    fill(body, h("tr", { class: "waiting" }, h("td", { colspan: "5", class: "muted" }, after === undefined ? "Waiting for new events…" : "Waiting for events…")));
    state.textContent = "connecting";
    const end = await openTail(channel, after, (ev) => {
      if (mine !== generation || paused.checked) return;
      body.querySelector("tr.waiting")?.remove();
      const now = Date.now();
      body.prepend(eventRow(ev, { fresh: now - last > 300 })); // a burst (catching up) is not highlighted
      last = now;
      while (body.children.length > TAIL_ROWS) body.lastChild.remove();
      count += 1;
      counter.textContent = `${count} event${count === 1 ? "" : "s"} received`;
    }, (text) => { if (mine === generation) state.textContent = text; });
    if (mine !== generation) end();
    else stopTail = end;
  }
  const form = h("form", { class: "inline-form", onsubmit: (e) => { e.preventDefault(); start(); } },
    field("After offset", since, "empty: live only · 0: from the beginning"),
    h("button", { type: "submit", class: "primary", id: "tail-start" }, "Tail"),
    h("button", { type: "button", onclick: () => stop("stopped") }, "Stop"),
    h("label", { class: "check" }, paused, " Pause"));
  start();
  return {
    el: card("Live tail", form, h("p", { class: "small" }, "Connection: ", state, " ", counter), table),
    stop: () => stop(),
    restart: () => { if (stopTail) start(); },
  };
}

/** History, a page at a time by cursor. */
function historyCard(base, draft) {
  const box = h("div", {});
  const after = input(draft("after"), { type: "number", min: "0", value: "0", class: "narrow" });
  const limit = input(draft("limit"), { type: "number", min: "1", max: "1000", value: "50", class: "narrow" });
  const note = h("p", { class: "muted small" });
  let nextAfter = null;
  const nextButton = h("button", { type: "button", disabled: true, onclick: () => { after.value = String(nextAfter); load(); } }, "Next page");
  async function load() {
    try {
      const page = await api("GET", base + "/events" + query({ after: after.value || 0, limit: limit.value || 50 }));
      nextAfter = page.next;
      nextButton.disabled = !page.events.length;
      fill(note, `Events after offset ${after.value || 0}: ${page.events.length} shown · earliest retained ${page.earliest ?? "—"} · next cursor ${page.next}`,
        page.truncated ? h("strong", { class: "warn-text" }, " · some events were lost to retention") : null);
      fill(box, tableOf(eventHeaders(), page.events.map((ev) => eventRow(ev)), { empty: "No events after this offset.", cls: "events" }));
    } catch (e) {
      fill(box, loadError(e, "the history"));
    }
  }
  async function latest() {
    try {
      const probe = await api("GET", base + "/events?after=0&limit=1");
      after.value = String(Math.max(0, (probe.head ?? probe.next) - Math.max(1, Number(limit.value) || 50)));
      drafts.set(draft("after"), after.value);
      load();
    } catch (e) {
      fill(box, loadError(e, "the history"));
    }
  }
  const form = h("form", { class: "inline-form", onsubmit: (e) => { e.preventDefault(); load(); } },
    field("After", after), field("Limit", limit), h("button", { type: "submit" }, "Load"), nextButton,
    h("button", { type: "button", onclick: latest }, "Latest"));
  load();
  return card("History", form, note, box);
}

function publishCard(base, draft) {
  const type = input(draft("type"), { type: "text", placeholder: "order.created", required: true, spellcheck: "false", id: "publish-type" });
  const data = input(draft("data"), { tag: "textarea", rows: "5", placeholder: '{"id": 1}', spellcheck: "false", id: "publish-data" });
  const result = h("p", { class: "result", "aria-live": "polite", id: "publish-result" });
  async function publish(e) {
    e.preventDefault();
    let value;
    try {
      value = data.value.trim() === "" ? null : JSON.parse(data.value);
    } catch (err) {
      fill(result, h("span", { class: "form-error" }, "The data is not valid JSON: " + err.message));
      return;
    }
    try {
      const reply = await api("POST", base + "/events", { body: { type: type.value.trim(), data: value }, action: "Publish" });
      fill(result, "Published at offset ", String(reply.offset), " as ", link(["events", reply.id], reply.id), ".");
    } catch (err) {
      fill(result, h("span", { class: "form-error" }, "Not published: " + err.message)); // the form keeps its text
    }
  }
  return card("Publish", h("form", { class: "stack", onsubmit: publish, id: "publish-form" },
    field("Type", type), field("Data (JSON)", data), h("div", {}, h("button", { type: "submit", class: "primary" }, "Publish")), result));
}

function presenceCard(base) {
  const box = h("div", {}, h("p", { class: "muted" }, "—"));
  async function load() {
    try {
      const { members = [] } = await api("GET", base + "/presence");
      fill(box, tableOf(["User", "Client", "Info"], members.map((m) => h("tr", {},
        h("td", {}, m.user ?? h("span", { class: "muted" }, "anonymous")), h("td", { class: "mono small" }, m.client), h("td", {}, dataCell(m.info)))),
      { empty: "Nobody is present." }));
    } catch (e) {
      fill(box, h("p", { class: "muted" }, e.status === 0 || e.status === 401 ? "Could not load presence." : `No presence here: ${e.message}`));
    }
  }
  load();
  return card("Presence", h("div", {}, h("button", { type: "button", class: "quiet small-button", onclick: load }, "Refresh")), box);
}

// --- Endpoints -----------------------------------------------------------------------------

function pageEndpoints() {
  const listBox = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const url = input("ep.url", { type: "url", placeholder: "https://example.com/hooks", required: true, id: "ep-url" });
  const channels = input("ep.channels", { type: "text", placeholder: "orders, chat:*", required: true, id: "ep-channels" });
  const types = input("ep.types", { type: "text", placeholder: "order.* (empty: every type)", id: "ep-types" });
  const description = input("ep.description", { type: "text", placeholder: "billing service", id: "ep-description" });
  const ordered = input("ep.ordered", { type: "checkbox" });
  const created = h("div", { "aria-live": "polite" });
  async function create(e) {
    e.preventDefault();
    const body = { url: url.value.trim(), channels: splitList(channels.value) };
    if (types.value.trim()) body.types = splitList(types.value);
    if (description.value.trim()) body.description = description.value.trim();
    if (ordered.checked) body.ordered = true;
    try {
      const ep = await api("POST", "/v1/endpoints", { body, action: "Create endpoint" });
      for (const k of ["ep.url", "ep.channels", "ep.types", "ep.description", "ep.ordered"]) drafts.delete(k);
      url.value = channels.value = types.value = description.value = "";
      ordered.checked = false;
      fill(created, h("div", { class: "notice" }, h("p", {}, "Created ", link(["endpoints", ep.id], ep.id), ". Give its signing secret to the receiver:"),
        secretBox(ep.secret)));
      refresh();
    } catch { /* the banner says why; the form keeps its values */ }
  }
  const form = h("form", { class: "grid-form", onsubmit: create },
    field("URL", url), field("Channels", channels, "patterns, comma-separated"), field("Types", types, "optional"),
    field("Description", description), h("label", { class: "check" }, ordered, " Ordered (one at a time, in offset order)"),
    h("div", {}, h("button", { type: "submit", class: "primary" }, "Create endpoint")));
  async function refresh() {
    try {
      const list = await loadEndpointsWithHealth();
      renderIfChanged(listBox, list, () => tableOf(["Endpoint", h("th", { class: "opt" }, "Channels · types"), "Health (latest attempts)"], endpointRows(list),
        { empty: "No endpoints yet: create one below." }));
    } catch (e) {
      fill(listBox, loadError(e, "the endpoints"));
    }
  }
  const el = h("div", {}, pageHeader("Webhook endpoints"), card("", listBox), card("New endpoint", form, created));
  return { el, refresh, every: 5000 };
}

function deliveryRow(d) {
  const a = latestAttempt(d);
  return h("tr", { "data-delivery": d.id },
    h("td", { class: "opt" }, link(["endpoints", d.endpoint, "deliveries", d.id], d.id, { class: "mono small" })),
    h("td", {}, link(["endpoints", d.endpoint, "deliveries", d.id], statusBadge(d.status), { class: "plain", title: "attempts of " + d.id })),
    h("td", { class: "wrap" }, h("code", {}, d.type), h("div", { class: "muted small" }, link(["channels", d.channel], d.channel), " @ ", String(d.offset))),
    h("td", { class: "opt" }, link(["events", d.event], d.event, { class: "mono small" })),
    h("td", {}, String(d.attempts?.length ?? 0), a ? h("div", { class: "muted small" }, a.status ?? "no response", " · ", ms(a.latencyMs)) : null),
    h("td", { class: "opt wrap small" }, a?.error ?? ""),
    h("td", { class: "opt" }, d.nextAttempt ? countdown(d.nextAttempt) : "—"),
    h("td", {}, h("button", { type: "button", class: "small-button", onclick: () => retryDelivery(d.id) }, "Retry")));
}

const deliveryHeaders = () => [h("th", { class: "opt" }, "Delivery"), "Status", "Event", h("th", { class: "opt" }, "Event id"), "Attempts", h("th", { class: "opt" }, "Error"), h("th", { class: "opt" }, "Next attempt"), ""];

async function retryDelivery(id) {
  try {
    await api("POST", `/v1/deliveries/${enc(id)}/retry`, { action: "Retry " + id });
    current?.refresh?.();
  } catch { /* banner */ }
}

function replayCard(endpointId) {
  const d = (k) => `replay.${endpointId}.${k}`;
  const mode = select(d("mode"), [["since", "Since a time"], ["offsets", "A range of offsets of a channel"]], { id: "replay-mode" });
  const defaultSince = new Date(Date.now() - 3600e3 - new Date().getTimezoneOffset() * 60e3).toISOString().slice(0, 16);
  const since = input(d("since"), { type: "datetime-local", value: defaultSince, id: "replay-since" });
  const channel = input(d("channel"), { type: "text", placeholder: "orders", id: "replay-channel" });
  const from = input(d("from"), { type: "number", min: "1", class: "narrow", id: "replay-from" });
  const to = input(d("to"), { type: "number", min: "1", class: "narrow", placeholder: "head", id: "replay-to" });
  const status = select(d("status"), [["failed", "failed and dead only"], ["all", "every delivery, succeeded too"]], { id: "replay-status" });
  const sinceFields = h("div", { class: "inline-form nested" }, field("Since (local time)", since));
  const offsetFields = h("div", { class: "inline-form nested" }, field("Channel", channel), field("From offset", from), field("To offset", to));
  const outcome = h("div", { class: "replay-outcome", "aria-live": "polite", id: "replay-outcome" });
  const showMode = () => {
    sinceFields.hidden = mode.value !== "since";
    offsetFields.hidden = mode.value !== "offsets";
  };
  mode.addEventListener("change", showMode);
  showMode();
  function body() {
    const b = { status: status.value };
    if (mode.value === "since") {
      const t = new Date(since.value);
      if (isNaN(t)) throw new Error("choose a time");
      b.since = t.toISOString();
    } else {
      if (!channel.value.trim() || from.value === "") throw new Error("name the channel and the first offset");
      b.channel = channel.value.trim();
      b.fromOffset = Number(from.value);
      if (to.value !== "") b.toOffset = Number(to.value);
    }
    return b;
  }
  const path = `/v1/endpoints/${enc(endpointId)}/replay`;
  async function count(e) {
    e.preventDefault();
    let b;
    try { b = body(); } catch (err) { fill(outcome, h("span", { class: "form-error" }, err.message)); return; }
    fill(outcome, h("span", { class: "muted" }, "Counting…"));
    try {
      const { matching } = await api("POST", path, { body: { ...b, dryRun: true }, action: "Count deliveries to replay" });
      if (!matching) return fill(outcome, h("p", { class: "muted", id: "replay-count" }, "Nothing matches: no delivery would be re-sent."));
      fill(outcome, h("p", { id: "replay-count" }, `This will re-send ${matching} deliver${matching === 1 ? "y" : "ies"}.`), " ",
        h("button", { type: "button", class: "primary", id: "replay-confirm", onclick: () => resend(b) }, `Re-send ${matching}`), " ",
        h("button", { type: "button", class: "quiet", onclick: () => fill(outcome) }, "Cancel"));
    } catch (err) {
      fill(outcome, h("span", { class: "form-error" }, "Not counted: " + err.message));
    }
  }
  async function resend(b) {
    try {
      const { replayed } = await api("POST", path, { body: b, action: "Replay" });
      fill(outcome, h("p", { class: "ok-text", id: "replay-done" }, `Re-sending ${replayed} deliver${replayed === 1 ? "y" : "ies"}: they are queued, due now.`));
      current?.refresh?.();
    } catch (err) {
      fill(outcome, h("span", { class: "form-error" }, "Not replayed: " + err.message));
    }
  }
  // A changed choice invalidates a count already shown.
  const form = h("form", { onsubmit: count, oninput: () => fill(outcome), id: "replay-form" },
    h("div", { class: "inline-form" }, field("Replay", mode), sinceFields, offsetFields, field("Which", status),
      h("button", { type: "submit" }, "Count")), outcome);
  return card("Replay", h("p", { class: "muted small" }, "Puts deliveries back in the queue with a fresh retry schedule. The count comes first."), form);
}

function pageEndpoint(id) {
  const path = `/v1/endpoints/${enc(id)}`;
  const head = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const actions = h("div", { class: "row actions" });
  const secretArea = h("div", { "aria-live": "polite" });
  const healthBox = h("div", { class: "health-detail" });
  const deliveriesBox = h("div", {});
  const filter = select(`deliveries.${id}.status`, [["", "every status"], ["pending", "pending"], ["succeeded", "succeeded"], ["failed", "failed"], ["dead", "dead"]]);
  let first = []; // the newest page, refreshed
  let extra = []; // older pages, loaded on demand
  let older = null;
  const olderButton = h("button", { type: "button", hidden: true, onclick: loadOlder }, "Load older");
  let endpoint = null;

  function renderHead(ep) {
    renderIfChanged(head, ep, () => [
      h("h1", { class: "break" }, ep.url),
      h("p", {}, ep.enabled ? badge("enabled", "ok") : badge("disabled", "bad"), " ",
        ep.ordered ? badge("ordered", "info") : null, " ", ep.description ? h("strong", {}, ep.description) : null),
      ep.disabledReason ? h("p", { class: "warn-text" }, "Disabled: ", ep.disabledReason) : null,
      ep.failingSince ? h("p", { class: "warn-text" }, "Failing since ", timeEl(ep.failingSince), ` (${ago(ep.failingSince)})`) : null,
      facts([["Channels", (ep.channels || []).join(", ")], ["Types", ep.types?.length ? ep.types.join(", ") : "every type"],
        ["Rate limit", ep.rateLimit ? `${ep.rateLimit} / s` : "none"],
        Object.keys(ep.headers || {}).length && ["Headers", Object.keys(ep.headers).join(", ")],
        ["Signing", ep.pusherApp ? `Pusher app ${ep.pusherApp}` : ep.signing || "hmac-sha256"], ["Created", timeEl(ep.created)]], { inline: true })]);
    // A Pusher endpoint is signed with its app's secret (the configuration's) and takes only Pusher's
    // webhook events: no test event, no secret to reveal or rotate.
    const ownSecret = !ep.pusherApp;
    renderIfChanged(actions, ep.enabled, () => [
      ownSecret ? h("button", { type: "button", onclick: sendTest }, "Send test event") : null,
      ep.enabled
        ? confirmButton("Disable", "Stop deliveries to this endpoint?", () => setEnabled(false))
        : h("button", { type: "button", class: "primary", onclick: () => setEnabled(true) }, "Enable"),
      ownSecret ? h("button", { type: "button", onclick: revealSecret, id: "reveal-secret" }, "Reveal secret") : null,
      ownSecret ? confirmButton("Rotate secret", "Make a new secret? The old one keeps signing for 24 h.", rotate) : null,
      confirmButton("Delete", "Delete the endpoint with all its deliveries?", remove, { danger: true })]);
  }

  async function sendTest() {
    try {
      const r = await api("POST", path + "/test", { action: "Send a test event" });
      fill(secretArea, h("p", { class: "notice" }, "Test delivery ", link(["endpoints", id, "deliveries", r.delivery], r.delivery), " queued."));
      refresh();
    } catch { /* banner */ }
  }
  async function setEnabled(on) {
    try {
      if (on) await api("POST", path + "/enable", { action: "Enable" });
      else await api("POST", path + "/disable", { action: "Disable" });
      refresh();
    } catch { /* banner */ }
  }
  async function revealSecret() {
    try {
      const { secret } = await api("GET", path + "/secret", { action: "Reveal the secret" });
      fill(secretArea, h("div", { class: "notice" }, secretBox(secret, "Signing secret:"),
        h("button", { type: "button", class: "quiet", onclick: () => fill(secretArea) }, "Hide")));
    } catch { /* banner */ }
  }
  async function rotate() {
    try {
      const { secret } = await api("POST", path + "/rotate-secret", { action: "Rotate the secret" });
      fill(secretArea, h("div", { class: "notice" }, secretBox(secret, "New signing secret (the previous one also signs for 24 hours):"),
        h("button", { type: "button", class: "quiet", onclick: () => fill(secretArea) }, "Hide")));
    } catch { /* banner */ }
  }
  async function remove() {
    try {
      await api("DELETE", path, { action: "Delete the endpoint" });
      location.hash = route("endpoints");
    } catch { /* banner */ }
  }

  function renderDeliveries() {
    const loaded = [...first, ...extra.filter((x) => !first.some((y) => y.id === x.id))];
    renderIfChanged(deliveriesBox, loaded, () => tableOf(deliveryHeaders(), loaded.map(deliveryRow),
      { empty: "No deliveries" + (filter.value ? ` with status ${filter.value}` : "") + ".", cls: "deliveries" }));
    olderButton.hidden = !older;
  }
  function renderHealth(list) {
    const hl = endpointHealth(list);
    renderIfChanged(healthBox, list, () => [
      h("div", { class: "health-facts" },
        h("div", {}, h("div", { class: "stat-value" }, pct(hl.rate)), h("div", { class: "muted small" }, `of ${hl.attempts.length} latest attempts succeeded`)),
        h("div", {}, h("div", { class: "stat-value" }, ms(hl.p50)), h("div", { class: "muted small" }, "median latency")),
        h("div", {}, h("div", { class: "stat-value" }, hl.nextRetry ? countdown(hl.nextRetry) : "—"), h("div", { class: "muted small" }, `next retry · ${hl.waiting} waiting · ${hl.dead} dead`)),
        h("div", { class: "health-bars", title: "Each bar is one attempt, oldest on the left: its height is the latency, red is a failure." },
          barStrip(hl.bars, { height: 40, slots: 40 }), h("div", { class: "muted small" }, "latest attempts: latency, red = failed")))]);
  }

  async function refresh() {
    try {
      endpoint = await api("GET", path);
      renderHead(endpoint);
    } catch (e) {
      if (!endpoint) fill(head, pageHeader("Endpoint"), loadError(e, "the endpoint " + id));
      return;
    }
    try {
      const page = await api("GET", path + "/deliveries" + query({ status: filter.value, limit: 50 }));
      first = page.deliveries;
      if (!extra.length) older = page.next;
      renderDeliveries();
      const all = filter.value ? (await api("GET", path + "/deliveries?limit=50")).deliveries : page.deliveries;
      renderHealth(all);
    } catch (e) {
      fill(deliveriesBox, loadError(e, "the deliveries"));
    }
  }
  async function loadOlder() {
    try {
      const page = await api("GET", path + "/deliveries" + query({ status: filter.value, limit: 50, before: older }));
      extra = [...extra, ...page.deliveries];
      older = page.next;
      renderDeliveries();
    } catch { /* banner */ }
  }
  filter.addEventListener("change", () => {
    first = [];
    extra = [];
    older = null;
    refresh();
  });

  const el = h("div", {},
    h("p", { class: "crumbs" }, link(["endpoints"], "Endpoints"), " / ", h("span", { class: "mono" }, id)),
    head, actions, secretArea,
    h("section", { class: "card" }, healthBox),
    h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", {}, "Deliveries"), h("label", { class: "check small" }, "Status ", filter)),
      deliveriesBox, olderButton),
    replayCard(id));
  return { el, refresh, every: 3000 };
}

function attemptView(a) {
  const headers = Object.entries(a.responseHeaders || {});
  return h("section", { class: "attempt " + (a.error == null && a.status >= 200 && a.status < 300 ? "ok" : "fail") },
    h("h3", {}, `Attempt ${a.number ?? ""}`, " · ", a.status == null ? "no response" : "HTTP " + a.status, " · ", ms(a.latencyMs), " · ", timeEl(a.time)),
    a.error ? h("p", { class: "form-error" }, a.error) : null,
    headers.length ? h("details", {}, h("summary", {}, `Response headers (${headers.length})`),
      h("table", { class: "kv" }, h("tbody", {}, headers.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", { class: "wrap" }, v)))))) : null,
    a.responseBody != null && a.responseBody !== ""
      ? h("details", { open: true }, h("summary", {}, "Response body"), h("pre", { class: "body" }, a.responseBody))
      : h("p", { class: "muted small" }, "No response body."));
}

function pageDelivery(endpointId, id) {
  const box = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  let delivery = null;
  async function refresh() {
    try {
      delivery = await api("GET", `/v1/deliveries/${enc(id)}`);
    } catch (e) {
      if (!delivery) fill(box, loadError(e, "the delivery " + id));
      return;
    }
    const d = delivery;
    renderIfChanged(box, d, () => [
      h("h1", {}, "Delivery ", h("span", { class: "mono" }, d.id)),
      h("p", {}, statusBadge(d.status), " ", d.nextAttempt ? ["next attempt ", countdown(d.nextAttempt)] : null),
      facts([["Event", link(["events", d.event], d.event)], ["Channel", [link(["channels", d.channel], d.channel), " @ ", String(d.offset)]],
        ["Type", h("code", {}, d.type)], ["Queued", timeEl(d.created)], ["Endpoint", link(["endpoints", d.endpoint], d.endpoint)]]),
      h("div", { class: "row" }, h("button", { type: "button", class: "primary", onclick: () => retryDelivery(d.id) }, "Retry now")),
      card(`Attempts (${d.attempts?.length ?? 0})`, d.attempts?.length ? d.attempts.slice().reverse().map(attemptView) : h("p", { class: "muted" }, "No attempt yet."))]);
  }
  const el = h("div", {},
    h("p", { class: "crumbs" }, link(["endpoints"], "Endpoints"), " / ", link(["endpoints", endpointId], endpointId), " / ", h("span", { class: "mono" }, id)),
    box);
  return { el, refresh, every: 2000 };
}

// --- Inbound sources -----------------------------------------------------------------------

function pageSources() {
  const box = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  async function refresh() {
    try {
      const { sources } = await api("GET", "/v1/sources");
      renderIfChanged(box, sources, () => tableOf(["Source", "Verify", "Channel", h("th", { class: "opt" }, "URL"), h("th", { class: "opt" }, "Managed by")],
        sources.map((src) => h("tr", {},
          h("td", {}, link(["sources", src.name], src.name)), h("td", {}, src.verify), h("td", {}, link(["channels", src.channel], src.channel)),
          h("td", { class: "opt mono small" }, src.url || `/v1/inbound/${src.name}`), h("td", { class: "opt" }, src.managedBy || "—"))),
        { empty: "No inbound sources. Create them with POST /v1/sources or in the configuration file (docs/inbound.md)." }));
    } catch (e) {
      fill(box, loadError(e, "the sources"));
    }
  }
  return { el: h("div", {}, pageHeader("Inbound sources"), card("", box)), refresh, every: 5000 };
}

function pageSource(name) {
  const info = h("div", {});
  const box = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  async function refresh() {
    try {
      const src = await api("GET", `/v1/sources/${enc(name)}`);
      renderIfChanged(info, src, () => facts([["Verify", src.verify], ["Channel", link(["channels", src.channel], src.channel)],
        ["URL", h("code", {}, src.url || `/v1/inbound/${name}`)], ["Secrets", String(src.secrets ?? "—")],
        ["Type from", src.typeFrom || "—"], ["Delivery id from", src.idFrom || "—"], ["Managed by", src.managedBy || "—"]]));
      const { requests } = await api("GET", `/v1/sources/${enc(name)}/requests`);
      renderIfChanged(box, requests, () => tableOf(["Time", "Status", "Verified", "Result", h("th", { class: "opt" }, "Provider delivery id")],
        requests.map((r) => h("tr", {},
          h("td", {}, timeEl(r.time)),
          h("td", {}, badge(String(r.status), r.status < 300 ? "ok" : "bad")),
          h("td", {}, r.verified ? "yes" : "no"),
          h("td", { class: "wrap" }, r.eventId
            ? [r.duplicate ? "duplicate of " : "published ", link(["events", r.eventId], r.eventId), r.offset != null ? ` @ ${r.offset}` : ""]
            : r.challenge ? "challenge answered" : h("span", { class: "form-error" }, r.reason || "refused")),
          h("td", { class: "opt mono small" }, r.deliveryId ?? "—"))),
        { empty: "No requests since the server started (the log is kept in memory)." }));
    } catch (e) {
      fill(box, loadError(e, "the source " + name));
    }
  }
  const el = h("div", {},
    h("p", { class: "crumbs" }, link(["sources"], "Inbound sources"), " / ", name),
    pageHeader(h("span", {}, "Source ", h("code", {}, name))), card("", info), card("Latest requests", box));
  return { el, refresh, every: 3000 };
}

// --- API keys ------------------------------------------------------------------------------

function pageKeys() {
  const box = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const name = input("keys.name", { type: "text", placeholder: "billing", required: true, id: "key-name" });
  const scopes = input("keys.scopes", { type: "text", placeholder: "admin, publish:orders, subscribe:chat:*", required: true, id: "key-scopes" });
  const shown = h("div", { "aria-live": "polite" });
  async function create(e) {
    e.preventDefault();
    try {
      const k = await api("POST", "/v1/keys", { body: { name: name.value.trim(), scopes: splitList(scopes.value) }, action: "Create key" });
      drafts.delete("keys.name");
      drafts.delete("keys.scopes");
      name.value = scopes.value = "";
      fill(shown, h("div", { class: "notice", id: "new-key" },
        secretBox(k.key, `Key ${k.id} (“${k.name}”). Copy it now: it is shown this once and never again.`),
        h("button", { type: "button", class: "quiet", onclick: () => fill(shown) }, "Done")));
      refresh();
    } catch { /* banner; the form keeps its values */ }
  }
  async function revoke(id) {
    try {
      await api("DELETE", `/v1/keys/${enc(id)}`, { action: "Revoke " + id });
      refresh();
    } catch { /* banner */ }
  }
  async function refresh() {
    try {
      const { keys } = await api("GET", "/v1/keys");
      renderIfChanged(box, keys.map((k) => ({ ...k, lastUsed: null })), () => tableOf(["Name", "Scopes", h("th", { class: "opt" }, "Id"), h("th", { class: "opt" }, "Created"), "Last used", ""],
        keys.map((k) => h("tr", {},
          h("td", { class: "wrap" }, k.name), h("td", { class: "wrap" }, (k.scopes || []).map((x) => badge(x))),
          h("td", { class: "opt mono small" }, k.id), h("td", { class: "opt" }, timeEl(k.created)),
          h("td", { "data-last-used": k.id }),
          h("td", {}, confirmButton("Revoke", `Revoke “${k.name}”? Requests with it are refused from then on.`, () => revoke(k.id), { danger: true })))),
        { empty: "No keys." }));
      for (const cell of box.querySelectorAll("[data-last-used]")) {
        const k = keys.find((x) => x.id === cell.getAttribute("data-last-used"));
        if (k) cell.textContent = ago(k.lastUsed);
      }
    } catch (e) {
      fill(box, loadError(e, "the keys"));
    }
  }
  const form = h("form", { class: "grid-form", onsubmit: create },
    field("Name", name), field("Scopes", scopes, "admin · publish:<channel pattern> · subscribe:<channel pattern>"),
    h("div", {}, h("button", { type: "submit", class: "primary" }, "Create key")));
  const el = h("div", {}, pageHeader("API keys"), card("", box), card("New key", form, shown));
  return { el, refresh, every: 10000 };
}

// --- One event's story ---------------------------------------------------------------------

function eventSearchForm() {
  const id = input(null, { type: "search", placeholder: "evt_…", required: true, spellcheck: "false", id: "event-id" });
  return h("form", { class: "inline-form", onsubmit: (e) => { e.preventDefault(); location.hash = route("events", id.value.trim()); } },
    field("Event id", id), h("button", { type: "submit", class: "primary" }, "Show"));
}

function pageEvents() {
  return { el: h("div", {}, pageHeader("Event story"), card("", h("p", { class: "muted" },
    "Where an event came from, where it is in its channel, its data, and every webhook attempt it caused."), eventSearchForm())) };
}

function originView(origin) {
  if (!origin) return h("span", { class: "muted" }, "not recorded");
  switch (origin.kind) {
    case "api": return h("span", {}, "published through the HTTP API ", origin.key ? ["with the key ", link(["keys"], origin.key, { class: "mono" })] : "without a key (development mode)");
    case "client": return h("span", {}, "published by a real-time client, ", origin.user != null ? ["user ", h("code", {}, origin.user)] : "anonymous");
    case "inbound": return h("span", {}, "received as a webhook by the inbound source ", link(["sources", origin.source], origin.source));
    case "server": return h("span", {}, "written by the server itself");
    default: return h("span", {}, jsonText(origin, false));
  }
}

function pageEvent(id) {
  const box = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  let shown = false;
  let labels = null; // endpoint id -> its description or URL
  async function refresh() {
    let story;
    try {
      story = await api("GET", `/v1/events/${enc(id)}`);
      labels ||= await api("GET", "/v1/endpoints")
        .then((r) => new Map(r.endpoints.map((ep) => [ep.id, ep.description || ep.url]))).catch(() => null);
    } catch (e) {
      if (!shown) fill(box, e.status === 404 ? h("p", { class: "form-error" }, `The server has no such event: ${e.message}.`) : loadError(e, "the event"));
      return;
    }
    shown = true;
    const deliveries = story.deliveries || [];
    // An event no longer retained (or a test event, never stored) is known from its deliveries only.
    const ev = story.event || (deliveries[0] ? { channel: deliveries[0].channel, offset: deliveries[0].offset, type: deliveries[0].type } : {});
    const where = card("", facts([["Origin", originView(story.origin)],
      ["Channel", ev.channel != null ? [link(["channels", ev.channel], ev.channel), " at offset ", h("strong", {}, String(ev.offset))] : "—"],
      ["Type", ev.type != null ? h("code", {}, ev.type) : "—"], ["Time", ev.time ? [timeEl(ev.time), ` (${ago(ev.time)})`] : "—"]]));
    const webhooks = card(`Webhook deliveries (${deliveries.length})`, deliveries.length
      ? deliveries.map((d) => h("section", { class: "story-delivery" },
        h("h3", {}, statusBadge(d.status), " ", link(["endpoints", d.endpoint], labels?.get(d.endpoint) || d.endpoint), " · ",
          link(["endpoints", d.endpoint, "deliveries", d.id], d.id, { class: "mono small" }),
          d.nextAttempt ? [" · next attempt ", countdown(d.nextAttempt)] : null),
        tableOf(["#", "Time", "Status", "Latency", "Error"], (d.attempts || []).map((a) => h("tr", {},
          h("td", {}, String(a.number ?? "")), h("td", {}, timeEl(a.time)), h("td", {}, a.status ?? "no response"),
          h("td", {}, ms(a.latencyMs)), h("td", { class: "wrap" }, a.error ?? ""))), { empty: "No attempt yet.", cls: "compact" })))
      : h("p", { class: "muted" }, "No webhook endpoint matched this event."));
    renderIfChanged(box, story, () => [
      story.event ? null : h("p", { class: "warn-text" }, "This event is not in the log (no longer retained, or a test event): what its deliveries say is shown."),
      h("div", { class: "grid-2" }, h("div", {}, where, webhooks), story.event ? card("Data", h("pre", { class: "body" }, jsonText(ev.data))) : null)]);
  }
  const el = h("div", {}, pageHeader(h("span", {}, "Event ", h("span", { class: "mono break" }, id))), box);
  return { el, refresh, every: 3000 };
}

function pageNotFound() {
  return { el: h("div", {}, pageHeader("Not found"), h("p", {}, "No such page. ", link(["overview"], "Go to the overview"), ".")) };
}

// ---------------------------------------------------------------------------------------------
// Router

const ROUTES = [
  [["overview"], pageOverview, "overview"],
  [["channels"], pageChannels, "channels"],
  [["channels", "*"], pageChannel, "channels"],
  [["endpoints"], pageEndpoints, "endpoints"],
  [["endpoints", "*"], pageEndpoint, "endpoints"],
  [["endpoints", "*", "deliveries", "*"], pageDelivery, "endpoints"],
  [["sources"], pageSources, "sources"],
  [["sources", "*"], pageSource, "sources"],
  [["keys"], pageKeys, "keys"],
  [["events"], pageEvents, "events"],
  [["events", "*"], pageEvent, "events"],
];

let current = null;

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  if (!raw) return ["overview"];
  try {
    return raw.split("/").filter((x, i, all) => x !== "" || i < all.length - 1).map(decodeURIComponent);
  } catch {
    return null;
  }
}

function navigate() {
  if (current) {
    clearInterval(current.timer);
    current.destroy?.();
  }
  clearBanner("api");
  const parts = parseHash();
  let page = null;
  let section = "";
  for (const [pattern, fn, name] of ROUTES) {
    if (!parts || pattern.length !== parts.length) continue;
    if (!pattern.every((p, i) => p === "*" || p === parts[i])) continue;
    page = fn(...parts.filter((_, i) => pattern[i] === "*"));
    section = name;
    break;
  }
  page ||= pageNotFound();
  current = page;
  fill(document.getElementById("page"), page.el);
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.dataset.section === section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  setNavOpen(false);
  document.title = (section ? section[0].toUpperCase() + section.slice(1) + " · " : "") + "Switchboard console";
  if (page.refresh) {
    page.refresh();
    if (page.every) {
      page.timer = setInterval(() => {
        if (!document.hidden && !page.el.querySelector(".confirm.asking")) page.refresh();
      }, page.every);
    }
  }
  window.scrollTo(0, 0);
}

function setNavOpen(open) {
  document.getElementById("nav").classList.toggle("open", open);
  if (open) window.scrollTo(0, 0);
  document.getElementById("menu-button").setAttribute("aria-expanded", String(open));
}

// ---------------------------------------------------------------------------------------------
// Start

function start() {
  setupKeyDialog();
  updateKeyStatus();
  document.getElementById("menu-button").addEventListener("click", () =>
    setNavOpen(!document.getElementById("nav").classList.contains("open")));
  document.getElementById("event-search").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = document.getElementById("event-search-input");
    if (input.value.trim()) location.hash = route("events", input.value.trim());
  });
  setInterval(() => document.querySelectorAll("[data-until]").forEach(tickCountdown), 1000);
  window.addEventListener("hashchange", navigate);
  if (!location.hash) history.replaceState(null, "", "#/overview");
  navigate();
  pollMetrics();
}

start();
