"""Webhooks out survive a crash: every event whose publish was acknowledged (201) is delivered
at least once, even when the server is killed with SIGKILL while publishing and delivering, and
restarted on the same data directory (transactional outbox; leases given back at start).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter

import requests

from interop_support import HTTP_TIMEOUT, new_session, unique_channel
from webhook_support import Receiver, create_endpoint, verify_with_both

TOTAL = 1000  # events published in all (before and after the crash)
THREADS = 8
KILL_AFTER_ACKS = 350  # the crash comes once this many publishes were acknowledged
DELIVERY_WAIT = 60.0  # seconds for the restarted server to deliver every acknowledged event
# Fast retries, and many of them, so that no delivery is exhausted around the crash; a short
# attempt timeout keeps leases short (they are given back at start anyway).
CRASH_ENV = {
    "SWITCHBOARD_WEBHOOKS_RETRY_SCHEDULE": "0s,100ms,250ms,500ms,1s,1s,2s,2s,2s,2s,5s,5s,5s,5s,5s,5s",
    "SWITCHBOARD_WEBHOOKS_TIMEOUT_SECONDS": "5",
}


class Publishers:
    """THREADS threads publishing events 0..TOTAL-1 to whichever server is current. A publish
    answered 201 is acknowledged; anything else (errors, refused connections during the crash)
    is not, and that event is not tried again. `pause()` holds the threads between publishes."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.lock = threading.Lock()
        self.next_index = 0
        self.base_url = ""
        self.acked: dict[str, int] = {}  # event id -> index
        self.failed: list[tuple[int, str]] = []
        self.gate = threading.Event()
        self.enough_acked = threading.Event()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, name=f"publisher-{n}", daemon=True)
                        for n in range(THREADS)]

    def start(self, base_url: str) -> None:
        self.resume(base_url)
        for t in self.threads:
            t.start()

    def pause(self) -> None:
        self.gate.clear()

    def resume(self, base_url: str) -> None:
        with self.lock:
            self.base_url = base_url
        self.gate.set()

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in self.threads if t.is_alive()]
        self.stop.set()
        assert not alive, f"publishers still running after {timeout:.0f}s: {alive}"

    def _run(self) -> None:
        session = new_session()
        try:
            while not self.stop.is_set():
                if not self.gate.wait(timeout=0.5):
                    continue
                with self.lock:
                    if self.next_index >= TOTAL:
                        return
                    index = self.next_index
                    self.next_index += 1
                    url = f"{self.base_url}/v1/channels/{self.channel}/events"
                try:
                    r = session.post(url, json={"type": "crash.test", "data": {"i": index, "text": "ü✓"}},
                                     timeout=HTTP_TIMEOUT)
                except requests.RequestException as e:
                    with self.lock:
                        self.failed.append((index, type(e).__name__))
                    continue
                with self.lock:
                    if r.status_code == 201:
                        self.acked[r.json()["id"]] = index
                        if len(self.acked) >= KILL_AFTER_ACKS:
                            self.enough_acked.set()
                    else:
                        self.failed.append((index, f"HTTP {r.status_code}"))
        finally:
            session.close()


def test_acknowledged_events_are_delivered_after_sigkill(server_factory, tmp_path_factory, capsys):
    data_dir = tmp_path_factory.mktemp("sb-crash")
    ch = unique_channel("wh-crash")
    with Receiver(delay=0.02) as receiver:  # a little slower than publishing: a backlog builds
        first = server_factory(data_dir=data_dir, env=CRASH_ENV)
        ep = create_endpoint(first, receiver.url(), [ch])
        secret = ep["secret"]

        pubs = Publishers(ch)
        pubs.start(first.base_url)
        assert pubs.enough_acked.wait(timeout=60), (
            f"only {len(pubs.acked)} publishes acknowledged within 60s; failures: {pubs.failed[:5]}"
        )
        receiver.wait_until(lambda reqs: len(reqs) >= 1, timeout=30, what="a first delivery")
        # Kill while publishes and deliveries are in flight, then hold the publishers.
        acked_at_kill = len(pubs.acked)
        received_at_kill = len(receiver.snapshot())
        os.kill(first.proc.pid, signal.SIGKILL)
        pubs.pause()  # before reaping: publishes to the dead server end with those in flight
        rc = first.crash()  # reaps it; the fixture then no longer expects a clean exit from it
        assert rc == -signal.SIGKILL, f"server exit code after SIGKILL: {rc}"

        second = server_factory(data_dir=data_dir, env=CRASH_ENV)
        pubs.resume(second.base_url)
        pubs.join(timeout=60)

        with pubs.lock:
            acked = dict(pubs.acked)
            failed = list(pubs.failed)
        assert len(acked) + len(failed) == TOTAL
        # Publishes that failed were in flight at the crash (or began just before the pause).
        assert len(failed) < TOTAL // 2, f"too many failed publishes: {failed[:10]}"

        wait_started = time.monotonic()
        try:
            receiver.wait_until(lambda reqs: set(acked) <= {r.webhook_id for r in reqs},
                                timeout=DELIVERY_WAIT, what="every acknowledged event")
        except AssertionError:
            pass  # reported with the counts below
        waited = time.monotonic() - wait_started
        requests_seen = receiver.snapshot()
        counts = Counter(r.webhook_id for r in requests_seen)
        missing = sorted(set(acked) - set(counts), key=acked.get)
        duplicated = {i: n for i, n in counts.items() if n > 1}
        unacked_delivered = set(counts) - set(acked)

        with capsys.disabled():
            print(
                f"\n[webhooks crash] published {TOTAL}: acknowledged {len(acked)}, "
                f"failed {len(failed)} ({Counter(f for _, f in failed).most_common()}); "
                f"at the kill: {acked_at_kill} acknowledged, {received_at_kill} received; "
                f"received {len(requests_seen)} requests for {len(counts)} events "
                f"({len(duplicated)} events duplicated, {sum(duplicated.values()) - len(duplicated)} "
                f"extra requests; {len(unacked_delivered)} unacknowledged events delivered); "
                f"missing {len(missing)}; waited {waited:.1f}s after publishing"
            )
        assert not missing, (
            f"{len(missing)} acknowledged events never delivered within {DELIVERY_WAIT:.0f}s "
            f"(indexes {[acked[i] for i in missing[:20]]})\n{second.log_tail()}"
        )

        # Every request that arrived is a genuine, verifiable delivery of an event of this test.
        for r in requests_seen:
            verify_with_both(secret, r.body, r.headers)
            body = r.json()
            assert body["channel"] == ch and body["type"] == "crash.test", body
            if r.webhook_id in acked:
                assert body["data"]["i"] == acked[r.webhook_id], (r.webhook_id, body)
