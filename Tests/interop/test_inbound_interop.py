"""Webhooks in (PROTOCOL.md, "Webhooks in"), driven the way providers call us: payloads signed by
Python's `standardwebhooks` and `svix` libraries, and GitHub-, Stripe- and Shopify-style
signatures computed with `hmac` exactly as those providers document them. Each is accepted, and
each with one altered byte (body or signature) is refused with 401 and stores nothing.

The sources come from the server's configuration file, as an operator would set them up.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import os
import time
import uuid

import pytest
import standardwebhooks.webhooks
import svix.webhooks

from interop_support import HTTP_TIMEOUT, assert_problem

STANDARD_SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
GITHUB_SECRET = "github-interop-secret"
STRIPE_SECRET = "whsec_stripe_interop_secret"
SHOPIFY_SECRET = "shpss_interop_client_secret"

CONFIG = {
    "sources": ["standard", "github", "stripe", "shopify"],
    "source": {
        "standard": {"verify": "standard", "secrets": [STANDARD_SECRET], "channel": "inbound-standard"},
        "github": {"verify": "github", "secrets": [GITHUB_SECRET], "channel": "inbound-github"},
        "stripe": {"verify": "stripe", "secrets": [STRIPE_SECRET], "channel": "inbound-stripe"},
        "shopify": {"verify": "shopify", "secrets": [SHOPIFY_SECRET], "channel": "inbound-shopify"},
    },
}


@pytest.fixture(scope="module")
def inbound_server(module_server_factory):
    return module_server_factory(dev=False, config=CONFIG)


def post(server, source: str, body: bytes, headers: dict[str, str]):
    return server.new_session().post(
        server.url(f"/v1/inbound/{source}"),
        data=body,
        headers={"Content-Type": "application/json", **headers},
        timeout=HTTP_TIMEOUT,
    )


def stored(server, channel: str) -> list[dict]:
    return server.history(channel, after=0, limit=1000)["events"]


def altered(data: bytes, index: int) -> bytes:
    """`data` with the byte at `index` changed to another printable byte."""
    out = bytearray(data)
    out[index] = ord("x") if out[index] != ord("x") else ord("y")
    return bytes(out)


def payload(kind: str) -> bytes:
    return json.dumps({"id": f"{kind}-{uuid.uuid4()}", "type": f"{kind}.created", "data": {"amount": 42}}).encode()


# -- Standard Webhooks and Svix ------------------------------------------------


@pytest.mark.parametrize("library", ["standardwebhooks", "svix"])
def test_library_signed_payload_is_accepted_once(inbound_server, library):
    body = payload(library)
    msg_id = f"msg_{uuid.uuid4().hex}"
    now = datetime.datetime.now(tz=datetime.timezone.utc)
    if library == "standardwebhooks":
        signature = standardwebhooks.webhooks.Webhook(STANDARD_SECRET).sign(msg_id, now, body.decode())
        headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature}
    else:
        signature = svix.webhooks.Webhook(STANDARD_SECRET).sign(msg_id, now, body.decode())
        headers = {"svix-id": msg_id, "svix-timestamp": str(int(now.timestamp())), "svix-signature": signature}
    before = len(stored(inbound_server, "inbound-standard"))
    r = post(inbound_server, "standard", body, headers)
    assert r.status_code == 202, r.text
    receipt = r.json()
    events = stored(inbound_server, "inbound-standard")
    assert len(events) == before + 1
    assert events[-1]["id"] == receipt["id"]
    assert events[-1]["type"] == f"{library}.created"
    assert events[-1]["data"] == json.loads(body)

    # The sender retries the same message: 200, the same event, nothing new.
    again = post(inbound_server, "standard", body, headers)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == receipt["id"]
    assert len(stored(inbound_server, "inbound-standard")) == before + 1


@pytest.mark.parametrize("library", ["standardwebhooks", "svix"])
@pytest.mark.parametrize("part", ["body", "signature"])
def test_library_signed_payload_with_one_altered_byte_is_refused(inbound_server, library, part):
    body = payload(library)
    msg_id = f"msg_{uuid.uuid4().hex}"
    now = datetime.datetime.now(tz=datetime.timezone.utc)
    webhook = standardwebhooks.webhooks.Webhook if library == "standardwebhooks" else svix.webhooks.Webhook
    signature = webhook(STANDARD_SECRET).sign(msg_id, now, body.decode())
    if part == "body":
        body = altered(body, len(body) // 2)
    else:
        # A byte inside the base64 MAC (after "v1,"), changed to another base64 character.
        signature = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    before = len(stored(inbound_server, "inbound-standard"))
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature}
    assert_problem(post(inbound_server, "standard", body, headers), 401, "unauthorized")
    assert len(stored(inbound_server, "inbound-standard")) == before


def test_standard_payload_older_than_the_tolerance_is_refused(inbound_server):
    body = payload("stale")
    msg_id = f"msg_{uuid.uuid4().hex}"
    then = datetime.datetime.now(tz=datetime.timezone.utc) - datetime.timedelta(minutes=10)
    signature = standardwebhooks.webhooks.Webhook(STANDARD_SECRET).sign(msg_id, then, body.decode())
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(then.timestamp())), "webhook-signature": signature}
    assert_problem(post(inbound_server, "standard", body, headers), 401, "unauthorized")


# -- GitHub, Stripe and Shopify as documented -----------------------------------


def github_request(body: bytes) -> dict[str, str]:
    """GitHub: X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256 of the body with the secret."""
    mac = hmac.new(GITHUB_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={mac}", "X-GitHub-Event": "push", "X-GitHub-Delivery": str(uuid.uuid4())}


def stripe_request(body: bytes) -> dict[str, str]:
    """Stripe: Stripe-Signature = "t=<unix>,v1=<hex HMAC-SHA256 of '<t>.<body>'>" with the whsec_ text."""
    t = int(time.time())
    mac = hmac.new(STRIPE_SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={t},v1={mac}"}


def shopify_request(body: bytes) -> dict[str, str]:
    """Shopify: X-Shopify-Hmac-Sha256 = base64 HMAC-SHA256 of the body with the client secret."""
    mac = base64.b64encode(hmac.new(SHOPIFY_SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return {"X-Shopify-Hmac-Sha256": mac, "X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": str(uuid.uuid4())}


PROVIDERS = {
    "github": (github_request, "X-Hub-Signature-256", "push"),
    "stripe": (stripe_request, "Stripe-Signature", "stripe.created"),
    "shopify": (shopify_request, "X-Shopify-Hmac-Sha256", "orders.create"),
}


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_provider_signature_is_accepted(inbound_server, provider):
    sign, _, expected_type = PROVIDERS[provider]
    body = payload(provider)
    before = len(stored(inbound_server, f"inbound-{provider}"))
    r = post(inbound_server, provider, body, sign(body))
    assert r.status_code == 202, r.text
    events = stored(inbound_server, f"inbound-{provider}")
    assert len(events) == before + 1
    assert events[-1]["type"] == expected_type
    assert events[-1]["data"] == json.loads(body)


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
@pytest.mark.parametrize("position", ["first", "middle", "last"])
@pytest.mark.parametrize("part", ["body", "signature"])
def test_provider_signature_with_one_altered_byte_is_refused(inbound_server, provider, position, part):
    sign, header, _ = PROVIDERS[provider]
    body = payload(provider)
    headers = sign(body)
    if part == "body":
        index = {"first": 0, "middle": len(body) // 2, "last": len(body) - 1}[position]
        body = altered(body, index)
    else:
        value = headers[header]
        start = value.rindex("=", 0, len(value) - 2) + 1 if provider != "shopify" else 0
        mac_length = len(value) - start - (value.count("=", start) if provider == "shopify" else 0)
        index = start + {"first": 0, "middle": mac_length // 2, "last": mac_length - 1}[position]
        replacement = "0" if value[index] != "0" else "1"
        headers[header] = value[:index] + replacement + value[index + 1:]
    before = len(stored(inbound_server, f"inbound-{provider}"))
    assert_problem(post(inbound_server, provider, body, headers), 401, "unauthorized")
    assert len(stored(inbound_server, f"inbound-{provider}")) == before


def test_refusals_are_visible_in_the_request_log(inbound_server):
    body = payload("github")
    headers = github_request(body)
    headers["X-Hub-Signature-256"] = "sha256=" + "0" * 64
    assert_problem(post(inbound_server, "github", body, headers), 401, "unauthorized")
    r = inbound_server.session.get(inbound_server.url("/v1/sources/github/requests"), timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    latest = r.json()["requests"][0]
    assert latest["verified"] is False
    assert latest["status"] == 401
    assert latest["reason"] == "no signature matches"


def test_configured_sources_are_listed_without_secrets(inbound_server):
    r = inbound_server.session.get(inbound_server.url("/v1/sources"), timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    names = [s["name"] for s in r.json()["sources"]]
    assert names == ["github", "shopify", "standard", "stripe"]
    for secret in (STANDARD_SECRET, GITHUB_SECRET, STRIPE_SECRET, SHOPIFY_SECRET):
        assert secret not in r.text
    assert all(s["managedBy"] == "config" for s in r.json()["sources"])
