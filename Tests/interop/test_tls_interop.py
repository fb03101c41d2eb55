"""TLS interop: `switchboard serve --tls-cert FILE --tls-key FILE` serves HTTPS and WSS on one
port. The certificate is self-signed, made by the test with `cryptography` (P-256, SAN
IP:127.0.0.1 and DNS:localhost); clients trust exactly that certificate file."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from interop_support import (
    HTTP_TIMEOUT,
    Stream,
    assert_canonical_event,
    new_session,
    ping,
    publish_http,
    recv_json,
    run,
    subscribe,
    unique_channel,
    welcome,
    ws_connect,
)


def write_self_signed(directory, name: str = "server"):
    """A self-signed P-256 certificate for 127.0.0.1 and localhost: (cert path, key path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"switchboard interop {name}")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.DNSName("localhost"),
            ]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False,
                          crl_sign=False, encipher_only=False, decipher_only=False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / f"{name}-cert.pem"
    key_path = directory / f"{name}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    return cert_path, key_path


@pytest.fixture(scope="module")
def cert_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("tls")


@pytest.fixture(scope="module")
def tls_server(module_server_factory, cert_dir):
    return module_server_factory(tls=write_self_signed(cert_dir))


@pytest.fixture(scope="module")
def other_cert(cert_dir):
    """A certificate the server does not use."""
    return write_self_signed(cert_dir, "other")[0]


# --------------------------------------------------------------------------------------------


def test_https_healthz_and_publish(tls_server):
    assert tls_server.base_url.startswith("https://127.0.0.1:")
    s = tls_server.new_session()  # trusts the certificate file
    try:
        for path in ("/healthz", "/readyz"):
            r = s.get(tls_server.url(path), timeout=HTTP_TIMEOUT)
            assert r.status_code == 200, f"{path}: {r.status_code} {r.text[:200]}"
        # The certificate names localhost too.
        r = s.get(f"https://localhost:{tls_server.port}/healthz", timeout=HTTP_TIMEOUT)
        assert r.status_code == 200, r.status_code
    finally:
        s.close()
    channel = unique_channel("tls-http")
    pub = tls_server.publish(channel, "tls.test", {"over": "https"})
    hist = tls_server.history(channel, after=0)
    assert len(hist["events"]) == 1
    assert_canonical_event(hist["events"][0], published=pub, data={"over": "https"})


def test_wss_welcome_and_event_published_over_https(tls_server):
    channel = unique_channel("tls-ws")
    data = {"over": "wss", "blob": "x" * 20000}  # spans several TLS records

    async def main():
        async with ws_connect(tls_server) as ws:  # wss:// with a context trusting the cert
            assert ws.request.path == "/v1/ws"
            hello = await welcome(ws)
            assert hello["client"].startswith("cl_"), hello
            await subscribe(ws, channel)
            pub = await publish_http(tls_server, channel, "tls.ws", data)
            ev = await recv_json(ws)
            assert_canonical_event(ev, extra_keys={"op"}, channel=channel, type="tls.ws",
                                   data=data, published=pub)
            await ping(ws, "tls")

    assert tls_server.ws_url.startswith("wss://")
    run(main())


def test_sse_over_https(tls_server):
    channel = unique_channel("tls-sse")
    with Stream(tls_server, [channel]) as stream:
        pubs = [tls_server.publish(channel, "tls.sse", {"n": n}) for n in range(3)]
        for n, pub in enumerate(pubs, start=1):
            ev, cursor, _ = stream.next_event()
            assert_canonical_event(ev, channel=channel, offset=n, published=pub)
            assert cursor == {channel: n}


def test_plain_http_to_the_tls_port_fails(tls_server):
    s = new_session()
    try:
        with pytest.raises(requests.RequestException) as info:
            s.get(f"http://127.0.0.1:{tls_server.port}/healthz", timeout=5)
        # Refused promptly, not left hanging until the client gives up.
        assert not isinstance(info.value, requests.Timeout), repr(info.value)
    finally:
        s.close()

    async def plain_ws():
        async with connect(f"ws://127.0.0.1:{tls_server.port}/v1/ws", proxy=None,
                           open_timeout=5):
            pass

    with pytest.raises((InvalidHandshake, ConnectionClosed, OSError, EOFError)) as info:
        run(plain_ws())
    assert not isinstance(info.value, (TimeoutError, asyncio.TimeoutError)), repr(info.value)
    # The server is still serving TLS clients.
    assert tls_server.session.get(tls_server.url("/healthz"), timeout=HTTP_TIMEOUT).status_code == 200


@pytest.mark.parametrize("trust", ["system", "other-cert"])
def test_client_that_does_not_trust_the_certificate_fails(tls_server, other_cert, trust):
    # "system": requests' default CA bundle; "other-cert": trusts only a different self-signed cert.
    s = new_session(verify=None if trust == "system" else str(other_cert))
    try:
        with pytest.raises(requests.exceptions.SSLError):
            s.get(tls_server.url("/healthz"), timeout=HTTP_TIMEOUT)
    finally:
        s.close()

    context = ssl.create_default_context(
        cafile=None if trust == "system" else str(other_cert)
    )

    async def untrusted_ws():
        async with ws_connect(tls_server, ssl=context):
            pass

    with pytest.raises(ssl.SSLCertVerificationError):
        run(untrusted_ws())
    assert tls_server.session.get(tls_server.url("/healthz"), timeout=HTTP_TIMEOUT).status_code == 200
