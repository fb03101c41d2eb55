#!/usr/bin/env python3
"""Webhook delivery throughput against a local receiver, and the raw HTTP rate for comparison.

Both figures come from one run on the same machine, against the same receiver (nginx answering
200 at once, one worker process):

1. raw:  the same HTTP client the server delivers with (AsyncHTTPClient, built as the
         `http-client-rate` benchmark executable) POSTs a body of the same size as a delivery,
         unsigned, with as many requests in flight as the server's delivery concurrency;
         requests per second. wrk, a C load generator, does the same as a ceiling.
2. ours: the release server (durability full) with ENDPOINTS endpoints on one channel, so that
         every event makes ENDPOINTS deliveries and all of the delivery concurrency is used.
         Events are published in batches faster than they can be delivered; the rate of
         successful, signed attempts is read from /metrics over a window after a warm-up.

Usage: swift build -c release --product switchboard &&
       swift build --package-path Benchmarks --scratch-path .build -c release --product http-client-rate
       python3 bench/webhook_throughput.py [--binary .build/release/switchboard] [--seconds 10]
Needs nginx and wrk (Debian packages) and the `requests` package.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import requests

from bench_support import free_port, stop_server, wait_http

BODY = json.dumps({"type": "order.created", "timestamp": "2026-11-25T00:00:00.000Z", "channel": "bench",
                   "offset": 1, "data": {"id": "ord_123456", "total": 4250, "currency": "EUR",
                                          "items": [{"sku": "A-1", "qty": 2}]}})


def start_receiver(workdir: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    conf = os.path.join(workdir, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
worker_processes 1;
pid {workdir}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {workdir}/body;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "ok"; }}
    }}
}}
""")
    proc = subprocess.Popen(["nginx", "-p", workdir, "-e", "stderr", "-c", conf, "-g", "daemon off;"])
    wait_http(f"http://127.0.0.1:{port}/")
    return proc, port


def raw_rate(port: int, connections: int, seconds: int, workdir: str) -> float:
    script = os.path.join(workdir, "post.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\n')
        f.write(f"wrk.body = {json.dumps(BODY)}\n")
        f.write('wrk.headers["Content-Type"] = "application/json"\n')
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script,
                          f"http://127.0.0.1:{port}/hooks"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise SystemExit(f"cannot read wrk's output:\n{out}")
    return float(match.group(1))


def client_rate(client: str, port: int, concurrency: int, seconds: int, workdir: str) -> float:
    body = os.path.join(workdir, "body.json")
    with open(body, "w") as f:
        f.write(BODY)
    out = subprocess.run([client, f"http://127.0.0.1:{port}/hooks", str(concurrency), str(seconds), body],
                         capture_output=True, text=True, check=True).stdout
    return float(out.strip())


def metric(base: str, name: str, labels: str = "") -> float:
    text = requests.get(base + "/metrics", timeout=5).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and (not labels or labels in line):
            total += float(line.rsplit(" ", 1)[1])
    return total


def our_rate(binary: str, port: int, endpoints: int, concurrency: int, per_endpoint: int, seconds: int,
             warmup: int, workdir: str) -> dict:
    server_port = free_port()
    data_dir = os.path.join(workdir, "data")
    env = dict(os.environ, SWITCHBOARD_WEBHOOKS_CONCURRENCY=str(concurrency),
               SWITCHBOARD_WEBHOOKS_ENDPOINT_CONCURRENCY=str(per_endpoint))
    server = subprocess.Popen([binary, "serve", "--dev", "--port", str(server_port), "--data-dir", data_dir],
                              env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, "server.log"), "w"))
    base = f"http://127.0.0.1:{server_port}"
    try:
        wait_http(base + "/healthz")
        for n in range(endpoints):
            r = requests.post(base + "/v1/endpoints", json={"url": f"http://127.0.0.1:{port}/hooks/{n}",
                                                             "channels": ["bench"]}, timeout=10)
            r.raise_for_status()
        stop = threading.Event()
        published = [0]
        data = json.loads(BODY)["data"]

        def publish() -> None:
            session = requests.Session()
            batch = {"events": [{"channel": "bench", "type": "order.created", "data": data}] * 500}
            while not stop.is_set():
                # Keep a backlog, but a bounded one: the delivery queue, not the log, is measured.
                if metric(base, "switchboard_webhook_queue_depth") > 40_000:
                    time.sleep(0.2)
                    continue
                session.post(base + "/v1/events", json=batch, timeout=30).raise_for_status()
                published[0] += 500

        publisher = threading.Thread(target=publish, daemon=True)
        publisher.start()
        time.sleep(warmup)
        start_ok = metric(base, "switchboard_webhook_attempts_total", 'outcome="success"')
        start_failed = metric(base, "switchboard_webhook_attempts_total", 'outcome="http_error"') + \
            metric(base, "switchboard_webhook_attempts_total", 'outcome="network_error"')
        t0 = time.monotonic()
        time.sleep(seconds)
        end_ok = metric(base, "switchboard_webhook_attempts_total", 'outcome="success"')
        end_failed = metric(base, "switchboard_webhook_attempts_total", 'outcome="http_error"') + \
            metric(base, "switchboard_webhook_attempts_total", 'outcome="network_error"')
        elapsed = time.monotonic() - t0
        depth = metric(base, "switchboard_webhook_queue_depth")
        stop.set()
        publisher.join(timeout=30)
        return {"deliveries_per_second": (end_ok - start_ok) / elapsed, "failed": end_failed - start_failed,
                "queue_depth_at_end": depth, "events_published": published[0]}
    finally:
        stop_server(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/switchboard")
    parser.add_argument("--client", default=".build/release/http-client-rate")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--endpoints", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    for tool in ("nginx", "wrk"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is needed (apt-get install {tool})")
    per_endpoint = max(1, args.concurrency // args.endpoints)
    with tempfile.TemporaryDirectory(prefix="sb-webhook-bench-") as workdir:
        receiver, port = start_receiver(workdir)
        try:
            rows = []
            for rep in range(args.reps):
                wrk = raw_rate(port, args.concurrency, args.seconds, workdir)
                raw = client_rate(args.client, port, args.concurrency, args.seconds, workdir)
                rep_dir = os.path.join(workdir, f"rep{rep}")
                os.makedirs(rep_dir)
                ours = our_rate(args.binary, port, args.endpoints, args.concurrency, per_endpoint, args.seconds,
                                args.warmup, rep_dir)
                ratio = ours["deliveries_per_second"] / raw
                rows.append((raw, ours, ratio, wrk))
                print(f"rep {rep + 1}: same client raw {raw:,.0f} req/s · wrk {wrk:,.0f} req/s · signed deliveries "
                      f"{ours['deliveries_per_second']:,.0f}/s · ratio to the client {ratio:.2f} · to wrk "
                      f"{ours['deliveries_per_second'] / wrk:.2f} · failed {ours['failed']:.0f} · backlog "
                      f"{ours['queue_depth_at_end']:.0f}", flush=True)
            mid = len(rows) // 2
            raws = sorted(r[0] for r in rows)
            wrks = sorted(r[3] for r in rows)
            ours_sorted = sorted(r[1]["deliveries_per_second"] for r in rows)
            ratios = sorted(r[2] for r in rows)
            print(f"median: same client raw {raws[mid]:,.0f} req/s · wrk {wrks[mid]:,.0f} req/s · signed deliveries "
                  f"{ours_sorted[mid]:,.0f}/s · ratio to the client {ratios[mid]:.2f} · to wrk "
                  f"{ours_sorted[mid] / wrks[mid]:.2f}")
        finally:
            receiver.send_signal(signal.SIGQUIT)
            receiver.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
