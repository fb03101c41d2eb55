"""The operator console (/console) in a real browser: Selenium drives headless Chromium against the
real server over real sockets.

- a failing endpoint's failed delivery is shown, and the console's retry delivers it once the
  receiver recovers;
- replay by a range of offsets shows its count first, and re-sends exactly that range;
- a wrong or revoked key is said plainly and what was typed stays; a server stopped and started
  again shows a banner that goes away by itself;
- a new API key is shown once and works for its scope; the list shows its name, scopes and last
  use; revoked from the console, the server refuses it;
- an inbound source's accepted and refused requests are listed, the refused one with its reason;
- an endpoint's secret revealed is the one its creation returned; rotated, the new one is shown and
  is what the API then reveals;
- an event's story, reached from a delivery, shows its origin (the key that published it) and the
  attempts;
- event data, endpoint descriptions, key names, response bodies and URLs never become HTML;
- the screenshots of docs/console.md, taken at laptop and phone widths on realistic data.

The server serves the console's files built into the binary. With BROWSER_TEST_WEB_DIR set (a
directory holding console.html, console.js, …), it serves them from there instead
(`http.web_dir`), so that the console can be worked on without rebuilding.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import interop_support
from browser_support import PHONE, browser, new_browser, screenshot, wait_for_js, wait_until, web_env  # noqa: F401 (browser: a fixture)
from interop_support import HTTP_TIMEOUT, Stream, assert_problem, unique_channel
from webhook_support import wait_deliveries_settled

INJECTION = '<img src=x onerror="window.__pwned=1">'
class Receiver:
    """A webhook receiver on a loopback port that answers `status` with `body`, and records the
    webhook-id and JSON body of every request."""

    def __init__(self, status: int = 200, body: bytes = b"ok") -> None:
        self.status = status
        self.body = body
        self.requests: list[tuple[str, dict]] = []
        self.lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                payload = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.requests.append((self.headers.get("webhook-id", ""), json.loads(payload)))
                    receiver.lock.notify_all()
                    status, body = receiver.status, receiver.body
                self.send_response(status)
                self.send_header("Content-Type", "text/html")
                self.send_header("X-Note", INJECTION)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks"

    def answer(self, status: int, body: bytes = b"ok") -> None:
        with self.lock:
            self.status, self.body = status, body

    def ids(self) -> Counter:
        with self.lock:
            return Counter(webhook_id for webhook_id, _ in self.requests)

    def offsets(self) -> Counter:
        with self.lock:
            return Counter(body.get("offset") for _, body in self.requests)

    def wait(self, predicate, what: str, timeout: float = 30.0) -> None:
        """Waits until predicate() holds (it is checked after each request and at the start)."""
        with self.lock:
            if not self.lock.wait_for(predicate, timeout):
                raise AssertionError(f"webhook receiver: {what} not reached within {timeout:.0f}s: {self.ids()}")

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receivers():
    made: list[Receiver] = []

    def make(status: int = 200, body: bytes = b"ok") -> Receiver:
        made.append(Receiver(status, body))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def api(srv, method: str, path: str, body=None, expect: int | tuple = (200, 201, 202, 204)):
    r = srv.session.request(method, srv.url(path), json=body, timeout=HTTP_TIMEOUT)
    expected = expect if isinstance(expect, tuple) else (expect,)
    assert r.status_code in expected, f"{method} {path}: {r.status_code} {r.text[:500]}"
    return r.json() if r.content else None


def create_endpoint(srv, url: str, channels: list[str], **fields) -> dict:
    return api(srv, "POST", "/v1/endpoints", {"url": url, "channels": channels, **fields}, 201)


def open_console(driver, srv, hash_route: str) -> None:
    driver.get(f"{srv.base_url}/console#{hash_route}")
    wait_for_js(driver, "document.querySelector('#page h1, #page .card') !== null")


def text_of(driver, selector: str) -> str:
    return driver.execute_script("const e = document.querySelector(arguments[0]); return e ? e.textContent : '';", selector)


def banner(driver, kind: str) -> str:
    return text_of(driver, f'.banner[data-kind="{kind}"]')


def sign_in(driver, srv, hash_route: str) -> None:
    """Opens the console of a server without --dev at `hash_route` and gives it the admin key."""
    driver.get(f"{srv.base_url}/console#{hash_route}")
    wait_for_js(driver, "document.getElementById('key-dialog').open")
    driver.find_element(By.ID, "key-input").send_keys(srv.api_key)
    driver.find_element(By.ID, "key-submit").click()
    wait_for_js(driver, "!document.getElementById('key-dialog').open")


def row_text(driver, delivery_id: str) -> str:
    return text_of(driver, f'tr[data-delivery="{delivery_id}"]')


def assert_no_injection(driver) -> None:
    found = driver.execute_script("return document.querySelectorAll('img[src=x], img[src=\"x\"]').length")
    assert found == 0, "an <img> from untrusted data was built into the page"
    assert driver.execute_script("return window.__pwned === undefined"), "injected script ran"


# ---------------------------------------------------------------------------------------------


def test_failed_delivery_is_shown_and_retried_from_the_console(server_factory, browser, receivers):
    # Two attempts: the first at once, the next in an hour, so only the console's retry can deliver.
    srv = server_factory(dev=True, env=web_env({"SWITCHBOARD_WEBHOOKS_RETRY_SCHEDULE": "0s,1h"}))
    receiver = receivers(500, b"upstream is down")
    channel = unique_channel("orders")
    endpoint = create_endpoint(srv, receiver.url, [channel], description="billing service")
    event = srv.publish(channel, "order.created", {"id": 1, "total": "19.90"})
    receiver.wait(lambda: receiver.ids()[event["id"]] == 1, "the first attempt")
    delivery = wait_deliveries_settled(srv, endpoint["id"], {event["id"]})[event["id"]]
    assert delivery["status"] == "failed"

    open_console(browser, srv, f"/endpoints/{endpoint['id']}")
    wait_until(browser, lambda d: "failed" in row_text(d, delivery["id"]), message="the failed delivery shown")
    assert "500" in row_text(browser, delivery["id"])
    assert "1 waiting" in text_of(browser, ".health-detail")  # and its next retry, about an hour away

    # The attempt with its status, error and response body, on the delivery's own page.
    browser.find_element(By.CSS_SELECTOR, f'tr[data-delivery="{delivery["id"]}"] a[href*="deliveries"]').click()
    wait_until(browser, lambda d: "upstream is down" in text_of(d, "#page"), message="the response body shown")
    assert "HTTP 500" in text_of(browser, "#page")

    receiver.answer(200)
    browser.back()
    wait_until(browser, lambda d: "failed" in row_text(d, delivery["id"]), message="back on the endpoint")
    browser.find_element(By.XPATH, f'//tr[@data-delivery="{delivery["id"]}"]//button[text()="Retry"]').click()
    receiver.wait(lambda: receiver.ids()[event["id"]] == 2, "the retried delivery")
    wait_until(browser, lambda d: "succeeded" in row_text(d, delivery["id"]), message="the delivery shown succeeded")
    assert not banner(browser, "api") and not banner(browser, "down")


def test_replay_of_a_range_of_offsets_counts_first_then_resends_exactly_it(server_factory, browser, receivers):
    srv = server_factory(dev=True, env=web_env())
    receiver = receivers(200)
    channel = unique_channel("orders")
    endpoint = create_endpoint(srv, receiver.url, [channel])
    events = [srv.publish(channel, "order.created", {"id": i}) for i in range(1, 5)]
    ids = {e["id"] for e in events}
    wait_deliveries_settled(srv, endpoint["id"], ids)
    assert receiver.offsets() == Counter({1: 1, 2: 1, 3: 1, 4: 1})

    open_console(browser, srv, f"/endpoints/{endpoint['id']}")
    Select(browser.find_element(By.ID, "replay-mode")).select_by_value("offsets")
    Select(browser.find_element(By.ID, "replay-status")).select_by_value("all")
    browser.find_element(By.ID, "replay-channel").send_keys(channel)
    browser.find_element(By.ID, "replay-from").send_keys("2")
    browser.find_element(By.ID, "replay-to").send_keys("3")
    browser.find_element(By.CSS_SELECTOR, "#replay-form button[type=submit]").click()
    wait_until(browser, lambda d: "This will re-send 2 deliveries" in text_of(d, "#replay-outcome"),
               message="the dry-run count shown")
    assert receiver.offsets() == Counter({1: 1, 2: 1, 3: 1, 4: 1}), "a dry run sent something"

    browser.find_element(By.ID, "replay-confirm").click()
    wait_until(browser, lambda d: "Re-sending 2 deliveries" in text_of(d, "#replay-outcome"), message="the replay done")
    receiver.wait(lambda: receiver.offsets()[2] == 2 and receiver.offsets()[3] == 2, "the replayed range")
    wait_deliveries_settled(srv, endpoint["id"], ids)
    assert receiver.offsets() == Counter({1: 1, 2: 2, 3: 2, 4: 1})


def test_a_wrong_key_and_a_restart_are_said_plainly_and_typing_is_kept(server_factory, browser, tmp_path, monkeypatch):
    srv = server_factory(dev=False, data_dir=tmp_path / "data", env=web_env())
    spare = api(srv, "POST", "/v1/keys", {"name": "console", "scopes": ["admin"]}, 201)

    # No key yet: the console asks; a wrong one is refused plainly and stays in the input.
    browser.get(f"{srv.base_url}/console#/overview")
    wait_for_js(browser, "document.getElementById('key-dialog').open")
    browser.find_element(By.ID, "key-input").send_keys("sbk_not_a_real_key")
    browser.find_element(By.ID, "key-submit").click()
    wait_until(browser, lambda d: "refused this key" in text_of(d, "#key-error"), message="the wrong key refused")
    assert browser.find_element(By.ID, "key-input").get_attribute("value") == "sbk_not_a_real_key"
    assert browser.execute_script("return document.getElementById('key-dialog').open")

    key_input = browser.find_element(By.ID, "key-input")
    key_input.clear()
    key_input.send_keys(spare["key"])
    browser.find_element(By.ID, "key-submit").click()
    wait_for_js(browser, "!document.getElementById('key-dialog').open")
    assert browser.execute_script("return sessionStorage.getItem('switchboard.console.key')") == spare["key"]
    assert spare["key"] not in browser.current_url
    assert browser.execute_script("return localStorage.length") == 0

    # The key is revoked while the operator types: the publish is refused, the form keeps its text.
    channel = unique_channel("orders")
    open_console(browser, srv, f"/channels/{channel}")
    browser.find_element(By.ID, "publish-type").send_keys("order.created")
    browser.find_element(By.ID, "publish-data").send_keys('{"id": 7, "note": "typed by hand"}')
    api(srv, "DELETE", f"/v1/keys/{spare['id']}", expect=204)
    browser.find_element(By.CSS_SELECTOR, "#publish-form button[type=submit]").click()
    wait_until(browser, lambda d: "refused the admin key" in banner(d, "auth"), message="the revoked key said")
    assert "unknown or revoked" in banner(browser, "auth")
    assert browser.find_element(By.ID, "publish-type").get_attribute("value") == "order.created"
    assert browser.find_element(By.ID, "publish-data").get_attribute("value") == '{"id": 7, "note": "typed by hand"}'

    browser.find_element(By.XPATH, '//div[@data-kind="auth"]//button[text()="Enter a key"]').click()
    wait_for_js(browser, "document.getElementById('key-dialog').open")
    browser.find_element(By.ID, "key-input").send_keys(srv.api_key)
    browser.find_element(By.ID, "key-submit").click()
    wait_until(browser, lambda d: not banner(d, "auth"), message="the auth banner gone")
    browser.find_element(By.CSS_SELECTOR, "#publish-form button[type=submit]").click()
    wait_until(browser, lambda d: "Published at offset 1" in text_of(d, "#publish-result"), message="published")
    assert srv.history(channel)["events"][0]["data"] == {"id": 7, "note": "typed by hand"}

    # The server stops: the banner says so; it starts again on the same port: the banner goes.
    browser.find_element(By.ID, "publish-data").send_keys(" ")
    port = srv.port
    srv.stop()
    wait_until(browser, lambda d: "cannot be reached" in banner(d, "down"), message="the server-down banner")
    monkeypatch.setattr(interop_support, "free_port", lambda: port)
    srv.start()
    assert srv.port == port
    wait_until(browser, lambda d: not banner(d, "down"), timeout=30, message="the banner gone after the restart")
    assert not banner(browser, "auth")
    assert browser.find_element(By.ID, "publish-data").get_attribute("value") == '{"id": 7, "note": "typed by hand"} '
    wait_until(browser, lambda d: "open" in text_of(d, ".state"), message="the live tail reconnected")


def test_untrusted_data_never_becomes_html(server_factory, browser, receivers):
    srv = server_factory(dev=True, env=web_env({"SWITCHBOARD_WEBHOOKS_RETRY_SCHEDULE": "0s,1h"}))
    receiver = receivers(500, INJECTION.encode())
    channel = unique_channel("orders")
    endpoint = create_endpoint(srv, receiver.url + "?x=" + quote(INJECTION), [channel], description=INJECTION,
                               headers={"X-Team": INJECTION})
    key = api(srv, "POST", "/v1/keys", {"name": INJECTION, "scopes": [f"publish:{channel}"]}, 201)
    data = {INJECTION: INJECTION, "html": f"</code></pre>{INJECTION}<script>window.__pwned=1</script>"}
    event = srv.publish(channel, "order.created", data)
    delivery = wait_deliveries_settled(srv, endpoint["id"], {event["id"]})[event["id"]]

    # The markup shows as text: whole where it is text, JSON-escaped inside event data.
    visible = "<img src=x onerror="
    pages = ["/overview", "/endpoints", f"/endpoints/{endpoint['id']}",
             f"/endpoints/{endpoint['id']}/deliveries/{delivery['id']}", f"/channels/{channel}",
             f"/events/{event['id']}", "/keys", "/channels/" + quote(INJECTION, safe=""),
             "/events/" + quote(INJECTION, safe="")]
    for hash_route in pages:
        open_console(browser, srv, hash_route)
        wait_until(browser, lambda d: visible in d.execute_script("return document.getElementById('page').textContent"),
                   message=f"{visible!r} shown as text on #{hash_route}")
        assert_no_injection(browser)
    assert key["name"] == INJECTION

    # The live tail and the history show the data as text too.
    open_console(browser, srv, f"/channels/{channel}")
    browser.find_element(By.ID, "tail-since").send_keys("0")
    browser.find_element(By.ID, "tail-start").click()
    wait_until(browser, lambda d: "1 event received" in text_of(d, "#page"), message="the tail got the event")
    srv.publish(channel, "order.updated", {"note": INJECTION})
    wait_until(browser, lambda d: "2 events received" in text_of(d, "#page"), message="a live event")
    for details in browser.find_elements(By.CSS_SELECTOR, "details"):
        browser.execute_script("arguments[0].open = true", details)
    assert_no_injection(browser)
    assert browser.execute_script("return document.querySelectorAll('#page script').length") == 0


def publish_with(srv, key: str, channel: str, data):
    """A publish over HTTP with `key` (not the admin key); the response as it came."""
    return srv.client_session(key).post(srv.url(f"/v1/channels/{channel}/events"),
                                        json={"type": "invoice.paid", "data": data}, timeout=HTTP_TIMEOUT)


def key_row(driver, key_id: str) -> str:
    return text_of(driver, f'tr:has(td[data-last-used="{key_id}"])')


def test_a_new_key_is_shown_once_listed_with_its_last_use_and_refused_once_revoked(server_factory, browser):
    srv = server_factory(dev=False, env=web_env())
    channel = unique_channel("invoices")
    name = unique_channel("billing")
    sign_in(browser, srv, "/keys")
    browser.find_element(By.ID, "key-name").send_keys(name)
    browser.find_element(By.ID, "key-scopes").send_keys(f"publish:{channel}, subscribe:{channel}")
    browser.find_element(By.XPATH, '//button[text()="Create key"]').click()
    wait_until(browser, lambda d: text_of(d, "#new-key .secret-value").startswith("sbk_"), message="the new key shown")
    key = text_of(browser, "#new-key .secret-value")
    [listed] = [k for k in api(srv, "GET", "/v1/keys")["keys"] if k["name"] == name]
    assert f"Key {listed['id']} (“{name}”)" in text_of(browser, "#new-key")
    assert listed["scopes"] == [f"publish:{channel}", f"subscribe:{channel}"]
    assert browser.find_element(By.ID, "key-name").get_attribute("value") == ""
    wait_until(browser, lambda d: text_of(d, f'td[data-last-used="{listed["id"]}"]') == "never", message="listed, never used")

    # The key shown is the key: it publishes to its channel, and nowhere else.
    r = publish_with(srv, key, channel, {"invoice": 1})
    assert r.status_code == 201, r.text
    assert srv.history(channel)["events"][0]["id"] == r.json()["id"]
    assert_problem(publish_with(srv, key, unique_channel("other"), {"invoice": 2}), 403, "forbidden")

    # The list: its name, its scopes, and (after that publish) when it was last used.
    wait_until(browser, lambda d: re.search(r"just now|\d+ s ago", text_of(d, f'td[data-last-used="{listed["id"]}"]')),
               message="the key's last use shown")
    row = key_row(browser, listed["id"])
    assert name in row and f"publish:{channel}" in row and f"subscribe:{channel}" in row
    assert next(k for k in api(srv, "GET", "/v1/keys")["keys"] if k["id"] == listed["id"])["lastUsed"] is not None

    # Shown once: after leaving the page and coming back it is gone, and kept nowhere in the tab.
    browser.find_element(By.CSS_SELECTOR, '#nav a[href="#/overview"]').click()
    wait_until(browser, lambda d: "Overview" in text_of(d, "#page h1"), message="the overview")
    browser.find_element(By.CSS_SELECTOR, '#nav a[href="#/keys"]').click()
    wait_until(browser, lambda d: name in key_row(d, listed["id"]), message="the keys again")
    assert not browser.find_elements(By.ID, "new-key")
    assert key not in browser.page_source
    assert browser.execute_script("return JSON.stringify(sessionStorage) + JSON.stringify(localStorage)").count(key) == 0

    # Revoked (after the confirmation): gone from the list, and refused by the server.
    row_xpath = f'//tr[td[@data-last-used="{listed["id"]}"]]'
    browser.find_element(By.XPATH, row_xpath + '//button[text()="Revoke"]').click()
    wait_until(browser, lambda d: f"Revoke “{name}”?" in key_row(d, listed["id"]), message="the confirmation asked")
    assert publish_with(srv, key, channel, {"invoice": 3}).status_code == 201, "revoked before the confirmation"
    browser.find_element(By.XPATH, row_xpath + '//button[text()="Yes, revoke"]').click()
    wait_until(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, f'td[data-last-used="{listed["id"]}"]'),
               message="the revoked key gone from the list")
    assert_problem(publish_with(srv, key, channel, {"invoice": 4}), 401, "unauthorized")
    assert [k for k in api(srv, "GET", "/v1/keys")["keys"] if k["id"] == listed["id"]] == []
    assert not banner(browser, "api") and not banner(browser, "auth")


GITHUB_SECRET = "console-github-secret"


def github_post(srv, body: bytes, *, signature: str | None = None, delivery: str = ""):
    """A GitHub-style request to /v1/inbound/github, signed with GITHUB_SECRET unless `signature` is given."""
    mac = hmac.new(GITHUB_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature or f"sha256={mac}",
               "X-GitHub-Event": "push", "X-GitHub-Delivery": delivery}
    return srv.client_session().post(srv.url("/v1/inbound/github"), data=body, headers=headers, timeout=HTTP_TIMEOUT)


def test_an_inbound_sources_requests_are_listed_and_a_refused_one_says_why(server_factory, browser):
    srv = server_factory(dev=True, env=web_env())
    channel = unique_channel("github")
    api(srv, "POST", "/v1/sources", {"name": "github", "verify": "github", "secrets": [GITHUB_SECRET], "channel": channel}, 201)
    accepted_id, refused_id = unique_channel("delivery"), unique_channel("delivery")
    body = json.dumps({"ref": "refs/heads/main", "commits": 3}).encode()
    accepted = github_post(srv, body, delivery=accepted_id)
    assert accepted.status_code == 202, accepted.text
    receipt = accepted.json()
    assert_problem(github_post(srv, body, signature="sha256=" + "0" * 64, delivery=refused_id), 401, "unauthorized")

    open_console(browser, srv, "/sources")
    wait_until(browser, lambda d: channel in text_of(d, "#page table"), message="the source listed")
    assert "github" in text_of(browser, "#page table")
    browser.find_element(By.CSS_SELECTOR, '#page table a[href="#/sources/github"]').click()
    rows_css = "#page section.card:last-of-type tbody tr"
    wait_until(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, rows_css)) == 2, message="both requests listed")
    refused, ok = (row.text for row in browser.find_elements(By.CSS_SELECTOR, rows_css))  # newest first
    assert "401" in refused and "no signature matches" in refused
    assert text_of(browser, f"{rows_css}:first-child .form-error") == "no signature matches"
    assert "202" in ok and f"published {receipt['id']} @ {receipt['offset']}" in ok and accepted_id in ok
    assert "Secrets" in text_of(browser, "#page") and GITHUB_SECRET not in browser.page_source

    # The accepted request's event, with its origin.
    browser.find_element(By.CSS_SELECTOR, f'{rows_css}:last-child a[href^="#/events/"]').click()
    wait_until(browser, lambda d: "received as a webhook by the inbound source github" in text_of(d, "#page"),
               message="the inbound event's story")
    assert browser.execute_script("return location.hash") == "#/events/" + receipt["id"]


def secret_shown(driver) -> str:
    return text_of(driver, "#page .secret-value")


def test_the_signing_secret_is_revealed_and_rotated_from_the_endpoints_page(server_factory, browser, receivers):
    srv = server_factory(dev=True, env=web_env())
    receiver = receivers(200)
    endpoint = create_endpoint(srv, receiver.url, [unique_channel("orders")], description="billing service")
    original = endpoint["secret"]
    open_console(browser, srv, f"/endpoints/{endpoint['id']}")
    wait_until(browser, lambda d: "billing service" in text_of(d, "#page"), message="the endpoint shown")
    assert original not in browser.page_source, "the secret shown before it was asked for"

    browser.find_element(By.ID, "reveal-secret").click()
    wait_until(browser, lambda d: secret_shown(d), message="the secret revealed")
    assert secret_shown(browser) == original
    browser.find_element(By.XPATH, '//div[@class="notice"]//button[text()="Hide"]').click()
    wait_until(browser, lambda d: not secret_shown(d), message="the secret hidden")
    assert original not in browser.page_source

    browser.find_element(By.XPATH, '//button[text()="Rotate secret"]').click()
    browser.find_element(By.XPATH, '//button[text()="Yes, rotate secret"]').click()
    wait_until(browser, lambda d: secret_shown(d), message="the new secret shown")
    rotated = secret_shown(browser)
    assert rotated.startswith("whsec_") and rotated != original
    assert "New signing secret" in text_of(browser, "#page .notice")
    assert api(srv, "GET", f"/v1/endpoints/{endpoint['id']}/secret") == {"secret": rotated}

    # Revealed again, it is the new one.
    browser.find_element(By.XPATH, '//div[@class="notice"]//button[text()="Hide"]').click()
    wait_until(browser, lambda d: not secret_shown(d), message="the new secret hidden")
    browser.find_element(By.ID, "reveal-secret").click()
    wait_until(browser, lambda d: secret_shown(d) == rotated, message="the new secret revealed")
    assert not banner(browser, "api")


def test_an_events_story_reached_from_a_delivery_shows_its_origin_and_attempts(server_factory, browser, receivers):
    srv = server_factory(dev=False, env=web_env({"SWITCHBOARD_WEBHOOKS_RETRY_SCHEDULE": "0s,1h",
                                                 "SWITCHBOARD_WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true"}))
    receiver = receivers(500, b"not yet")
    channel = unique_channel("orders")
    endpoint = create_endpoint(srv, receiver.url, [channel], description="fulfillment service")
    publisher = api(srv, "POST", "/v1/keys", {"name": "shop backend", "scopes": [f"publish:{channel}"]}, 201)
    event = srv.publish(channel, "order.created", {"id": 42}, session=srv.client_session(publisher["key"]))
    receiver.wait(lambda: receiver.ids()[event["id"]] == 1, "the first attempt")
    delivery = wait_deliveries_settled(srv, endpoint["id"], {event["id"]})[event["id"]]
    assert delivery["status"] == "failed"
    receiver.answer(200)
    api(srv, "POST", f"/v1/deliveries/{delivery['id']}/retry", expect=202)
    receiver.wait(lambda: receiver.ids()[event["id"]] == 2, "the retried attempt")

    # The console shows the delivery succeeded once the second attempt is recorded.
    sign_in(browser, srv, f"/endpoints/{endpoint['id']}")
    wait_until(browser, lambda d: "succeeded" in row_text(d, delivery["id"]), message="the delivery shown succeeded")
    browser.find_element(By.CSS_SELECTOR, f'tr[data-delivery="{delivery["id"]}"] a[href^="#/events/"]').click()
    wait_until(browser, lambda d: "Webhook deliveries (1)" in text_of(d, "#page"), message="the event's story")
    assert browser.execute_script("return location.hash") == "#/events/" + event["id"]
    page = text_of(browser, "#page")
    assert f"published through the HTTP API with the key {publisher['id']}" in page
    assert browser.find_element(By.LINK_TEXT, publisher["id"]).get_attribute("href").endswith("#/keys")
    assert f"{channel} at offset 1" in page and "order.created" in page and '"id": 42' in page
    assert "fulfillment service" in page and delivery["id"] in page

    attempts = [row.text for row in browser.find_elements(By.CSS_SELECTOR, ".story-delivery tbody tr")]
    assert len(attempts) == 2, attempts
    assert attempts[0].startswith("1 ") and "500" in attempts[0]
    assert attempts[1].startswith("2 ") and "200" in attempts[1]
    assert "succeeded" in text_of(browser, ".story-delivery h3")



# ---------------------------------------------------------------------------------------------
# The screenshots of docs/console.md, on realistic data.


def test_screenshots_of_the_console(server_factory, browser, receivers):
    srv = server_factory(dev=True, env=web_env({"SWITCHBOARD_WEBHOOKS_RETRY_SCHEDULE": "0s,1h"}))
    fulfillment = receivers(200, b'{"received":true}')
    analytics = receivers(500, b'{"error":"database is read-only"}')
    create_endpoint(srv, fulfillment.url, ["orders"], types=["order.*"], description="fulfillment service")
    failing = create_endpoint(srv, analytics.url, ["orders", "payments"], description="analytics warehouse")
    phone = new_browser(PHONE, mobile=True)
    try:
        screenshots_with(srv, browser, phone, fulfillment, analytics, failing)
    finally:
        phone.quit()


def samples_taken(driver) -> int:
    return int(driver.execute_script("return Number(document.querySelector('.overview')?.dataset.samples || 0)"))


def screenshots_with(srv, browser, phone, fulfillment: Receiver, analytics: Receiver, failing: dict) -> None:
    # Both browsers watch the overview while traffic flows, so that their charts have a history.
    open_console(browser, srv, "/overview")
    open_console(phone, srv, "/overview")
    published = []
    customers = ["acme", "globex", "initech", "umbrella", "hooli", "stark"]
    with Stream(srv, ["orders"]), Stream(srv, ["orders", "payments"]):
        for i in range(10):
            before = samples_taken(browser)
            for _ in range(1 + (i * 7) % 4):
                n = len(published) + 1
                published.append(srv.publish("orders", "order.created", {
                    "id": 1000 + n, "customer": customers[n % len(customers)],
                    "total": f"{19.9 * n:.2f}", "items": [{"sku": f"SKU-{n % 5}", "qty": 1 + n % 3}]}))
            if i == 4:
                # The analytics warehouse recovers; one of its failed deliveries is retried by hand.
                story = published[1]["id"]
                delivery = wait_deliveries_settled(srv, failing["id"], {story})[story]
                analytics.answer(200, b'{"stored":1}')
                api(srv, "POST", f"/v1/deliveries/{delivery['id']}/retry", expect=202)
                analytics.wait(lambda: analytics.ids()[story] == 2, "the retried delivery of the story's event")
            if i == 8:
                analytics.answer(500, b'{"error":"database is read-only"}')
            wait_for_js(browser, f"Number(document.querySelector('.overview').dataset.samples) > {before}")
        paid = srv.publish("orders", "order.paid", {"id": 1002, "amount": 3980, "currency": "EUR"})
        analytics.wait(lambda: analytics.ids()[paid["id"]] >= 1, "the failing delivery")
        for driver in (browser, phone):
            wait_until(driver, lambda d: "analytics warehouse" in text_of(d, "#page"), message="the endpoints on the overview")
        screenshot(browser, "console-overview-laptop")
        screenshot(phone, "console-overview-phone")

    # On a phone the sections collapse behind the menu button.
    assert not phone.find_element(By.ID, "nav").is_displayed(), "the nav is collapsed on a phone"
    phone.find_element(By.ID, "menu-button").click()
    wait_until(phone, lambda d: d.find_element(By.ID, "nav").is_displayed(), message="the menu opens")
    phone.find_element(By.CSS_SELECTOR, '#nav a[href="#/endpoints"]').click()
    wait_until(phone, lambda d: not d.find_element(By.ID, "nav").is_displayed(), message="the menu closes")
    wait_until(phone, lambda d: "analytics warehouse" in text_of(d, "#page"), message="the endpoints on a phone")

    for driver, name in ((browser, "console-endpoint-laptop"), (phone, "console-endpoint-phone")):
        open_console(driver, srv, f"/endpoints/{failing['id']}")
        wait_until(driver, lambda d: "failed" in text_of(d, "table.deliveries") and "succeeded" in text_of(d, "table.deliveries"),
                   message="the endpoint's deliveries")
        screenshot(driver, name)

    open_console(browser, srv, f"/events/{story}")
    wait_until(browser, lambda d: "Webhook deliveries (2)" in text_of(d, "#page")
               and text_of(d, "#page").count("succeeded") == 2, message="the event's story")
    page = text_of(browser, "#page")
    assert "published through the HTTP API" in page and "analytics warehouse" in page and "fulfillment service" in page
    assert "HTTP 500" in page
    screenshot(browser, "console-event-laptop")

    open_console(browser, srv, "/channels/orders")
    browser.find_element(By.ID, "tail-since").send_keys(str(len(published) - 12))
    browser.find_element(By.ID, "tail-start").click()
    wait_until(browser, lambda d: "13 events received" in text_of(d, "#page"), message="the tail from an offset")
    srv.publish("orders", "order.shipped", {"id": 1003, "carrier": "DHL", "tracking": "JJD0099912345"})
    wait_until(browser, lambda d: "order.shipped" in text_of(d, "#page"), message="a live event in the tail")
    screenshot(browser, "console-channel-laptop")
