"""The example pages served in --dev mode, in a real Chromium: `/examples/chat` (a chat room with
presence and client publishes) and `/examples/orders` (a live dashboard fed by HTTP publishes).

They also make the screenshots docs/screenshots/example-chat.png and example-orders.png (laptop
size, realistic data). With BROWSER_TEST_WEB_DIR set, the servers read the web files from that
directory instead of the copies built into the binary.
"""

from __future__ import annotations

import os
import time
import uuid

import pytest
from selenium.webdriver.common.by import By

from browser_support import browser, console_log, new_browser, screenshot, wait_until, web_env  # noqa: F401 - fixture
from interop_support import make_token

JWT_SECRET = "examples-hs256-secret-0123456789abcdef0123"  # >= 32 bytes


@pytest.fixture(scope="module")
def presence_server(module_server_factory):
    """--dev with what the chat page's comment asks for presence: a `chat` presence namespace and a
    JWT secret for the users' tokens."""
    return module_server_factory(dev=True, env=web_env({
        "SWITCHBOARD_JWT_SECRET": JWT_SECRET,
        "SWITCHBOARD_NAMESPACES": "chat",
        "SWITCHBOARD_NAMESPACE_CHAT_PRESENCE": "true",
    }))


def user_token(user: str, name: str) -> str:
    return make_token(JWT_SECRET, sub=user, info={"name": name}, exp=int(time.time()) + 3600)


def js(driver, expression: str, *args):
    return driver.execute_script(f"return ({expression});", *args)


def texts(driver, selector: str) -> list[str]:
    return js(driver, "[...document.querySelectorAll(arguments[0])].map((e) => e.textContent)", selector)


def messages(driver) -> list[tuple[str, str]]:
    """The chat's messages as (name, text)."""
    return [tuple(m) for m in js(driver, "[...document.querySelectorAll('#messages li')]"
                                         ".map((li) => [li.querySelector('b').textContent, li.lastChild.textContent])")]


def join_chat(driver, base: str, room: str, nickname: str, token: str | None = None) -> None:
    driver.get(f"{base}/examples/chat?room={room}" + (f"#token={token}" if token else ""))
    nick = driver.find_element(By.ID, "nick")
    nick.clear()
    nick.send_keys(nickname)
    driver.find_element(By.ID, "join").click()
    wait_until(driver, lambda d: d.find_element(By.ID, "state").text.startswith("open"), 30,
               f"{nickname}'s chat connecting")


def say(driver, text: str) -> None:
    box = driver.find_element(By.ID, "text")
    box.send_keys(text)
    driver.find_element(By.ID, "send").click()


def wait_messages(driver, expected: list[tuple[str, str]], who: str) -> None:
    wait_until(driver, lambda d: messages(d) == expected, 30, f"{who} seeing {expected} (has {messages(driver)})")


def test_chat_two_people_see_each_other_and_their_messages(presence_server, browser):
    room = f"lobby-{uuid.uuid4().hex[:8]}"
    bob = new_browser()
    try:
        join_chat(browser, presence_server.base_url, room, "Alice", user_token("alice", "Alice"))
        join_chat(bob, presence_server.base_url, room, "Bob", user_token("bob", "Bob"))
        wait_until(browser, lambda d: sorted(texts(d, "#members li")) == ["Alice (you)", "Bob"], 30,
                   "Alice seeing Bob join")
        wait_until(bob, lambda d: sorted(texts(d, "#members li")) == ["Alice", "Bob (you)"], 30,
                   "Bob seeing Alice present")
        assert browser.find_element(By.ID, "state").text == "open · websocket"
        assert js(browser, "document.getElementById('presence-note').textContent") == ""

        conversation = [
            (browser, "Alice", "Morning! Did the A-1042 order go out yesterday?"),
            (bob, "Bob", "Yes, shipped at 17:40 with tracking. The customer has the link."),
            (browser, "Alice", "Great, thanks. I'll close the ticket."),
            (bob, "Bob", "Also: the new packaging arrives on Thursday."),
        ]
        expected: list[tuple[str, str]] = []
        for driver, name, text in conversation:
            say(driver, text)
            expected.append((name, text))
            wait_messages(browser, expected, "Alice")
            wait_messages(bob, expected, "Bob")
        assert texts(browser, "#messages li.mine b") == ["Alice", "Alice"]
        screenshot(browser, "example-chat")

        # Event data is untrusted: markup in a message stays text.
        hostile = '<img src=x onerror="window.pwned = 1">'
        say(bob, hostile)
        expected.append(("Bob", hostile))
        wait_messages(browser, expected, "Alice")
        assert js(browser, "document.querySelectorAll('#messages img').length") == 0
        assert js(browser, "window.pwned === undefined")
    finally:
        bob.quit()
    wait_until(browser, lambda d: texts(d, "#members li") == ["Alice (you)"], 30, "Alice seeing Bob leave")
    assert "SEVERE" not in console_log(browser)


def test_chat_without_presence_says_so_and_still_chats(module_server_factory, browser):
    """A plain --dev server: no presence namespace, no token. Messages work; the member list says why
    it is empty."""
    srv = module_server_factory(dev=True, env=web_env())
    join_chat(browser, srv.base_url, "lobby", "Dana")
    wait_until(browser, lambda d: "Presence is off" in d.find_element(By.ID, "presence-note").text, 30,
               "the page saying presence is off")
    assert texts(browser, "#members li") == []
    say(browser, "Is anyone here?")
    wait_messages(browser, [("Dana", "Is anyone here?")], "Dana")


ORDERS = [
    ("A-1041", "Ada Lovelace", 3, 84.50, "order.shipped"),
    ("A-1042", "Grace Hopper", 1, 19.99, "order.paid"),
    ("A-1043", "Linus Torvalds", 5, 212.00, None),
    ("A-1044", "Margaret Hamilton", 2, 47.25, "order.shipped"),
    ("A-1045", "Alan Turing", 4, 129.90, "order.cancelled"),
    ("A-1046", "Katherine Johnson", 2, 56.00, "order.paid"),
]


def order_rows(driver) -> list[list[str]]:
    return js(driver, "[...document.querySelectorAll('#orders tr')]"
                      ".map((tr) => [...tr.cells].map((c) => c.textContent))")


def money(driver, value: float) -> str:
    """`value` as the page formats money (in the browser's locale)."""
    return js(driver, "arguments[0].toLocaleString(undefined,"
                      " {minimumFractionDigits: 2, maximumFractionDigits: 2})", value)


def test_orders_dashboard_shows_orders_published_over_http(module_server_factory, browser):
    srv = module_server_factory(dev=True, env=web_env())
    browser.get(srv.base_url + "/examples/orders")
    wait_until(browser, lambda d: d.find_element(By.ID, "state").text.startswith("open"), 30,
               "the dashboard connecting")
    curl = browser.find_element(By.ID, "curl").text
    assert f"curl -X POST {srv.base_url}/v1/channels/orders/events" in curl and "order.created" in curl

    for order_id, customer, items, total, _ in ORDERS:
        srv.publish("orders", "order.created",
                    {"id": order_id, "customer": customer, "items": items, "total": total})
    for order_id, *_, change in ORDERS:
        if change:
            srv.publish("orders", change, {"id": order_id})
    statuses = {"order.shipped": "shipped", "order.paid": "paid", "order.cancelled": "cancelled", None: "new"}
    wait_until(browser, lambda d: [(r[0], r[4]) for r in order_rows(d)]
               == [(o[0], statuses[o[4]]) for o in reversed(ORDERS)], 30, "the orders and their statuses")
    rows = order_rows(browser)
    assert [r[1] for r in rows] == [o[1] for o in reversed(ORDERS)]
    assert [r[3] for r in rows] == [money(browser, o[3]) for o in reversed(ORDERS)]
    live = [o for o in ORDERS if o[4] != "order.cancelled"]
    revenue = sum(o[3] for o in live)
    assert browser.find_element(By.ID, "count").text == "6"
    assert browser.find_element(By.ID, "revenue").text == money(browser, revenue)
    assert browser.find_element(By.ID, "average").text == money(browser, revenue / len(live))
    assert browser.find_element(By.ID, "shipped").text == "2 / 3"
    screenshot(browser, "example-orders")

    # Away and back (persistCursors): the table is kept, what came meanwhile is added, none twice.
    browser.get("about:blank")
    srv.publish("orders", "order.created", {"id": "A-1047", "customer": "Hedy Lamarr", "items": 1, "total": 24.0})
    srv.publish("orders", "order.shipped", {"id": "A-1043"})
    browser.get(srv.base_url + "/examples/orders")
    wait_until(browser, lambda d: [r[0] for r in order_rows(d)][:1] == ["A-1047"]
               and browser.find_element(By.ID, "shipped").text == "3 / 3", 30, "the orders published while away")
    assert [r[0] for r in order_rows(browser)] == ["A-1047"] + [o[0] for o in reversed(ORDERS)]
    assert browser.find_element(By.ID, "count").text == "7"

    # Event data is untrusted: markup stays text.
    hostile = '<img src=x onerror="window.pwned = 1">'
    srv.publish("orders", "order.created", {"id": hostile, "customer": "<b>Mallory</b>", "total": 1})
    wait_until(browser, lambda d: order_rows(d)[0][:2] == [hostile[:40], "<b>Mallory</b>"], 30, "the hostile order")
    assert js(browser, "document.querySelectorAll('#orders img, #orders b').length") == 0
    assert js(browser, "window.pwned === undefined")
