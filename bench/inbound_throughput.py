#!/usr/bin/env python3
"""Inbound webhook throughput, as a ratio to a plain publish of the same body on the same server.

One release server (durability full, --dev) with a `github` source. Each repetition runs wrk three
times against it, one after the other, with the same connections and body:

1. publish:   POST /v1/channels/bench/events with an API-style event (no verification);
2. inbound:   POST /v1/inbound/github, signed as GitHub signs (X-Hub-Signature-256), a new
              X-GitHub-Delivery on every request, so that every request is a new event;
3. duplicate: the same as 2 with one fixed delivery id, so every request after the first is
              answered 200 from the deduplication lookup.

The figure that matters is inbound / publish: what verification, the source lookup, the request log
and the derived idempotency key cost on top of a publish. Every request must be answered 2xx; the
script checks wrk's non-2xx count and the server's inbound counters.

Usage: swift build -c release --product switchboard
       python3 bench/inbound_throughput.py [--binary .build/release/switchboard] [--seconds 10] [--reps 3]
Needs wrk (Debian package) and the `requests` package.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile

import requests

from bench_support import free_port, stop_server, wait_http

SECRET = "bench-secret"
BODY = json.dumps({"ref": "refs/heads/main", "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
                   "after": "0000000000000000000000000000000000000000",
                   "repository": {"id": 1296269, "full_name": "octocat/Hello-World"},
                   "pusher": {"name": "octocat"}, "commits": [{"id": "1", "message": "Update README"}]})
SIGNATURE = "sha256=" + hmac.new(SECRET.encode(), BODY.encode(), hashlib.sha256).hexdigest()


def lua(kind: str) -> str:
    if kind == "publish":
        body = json.dumps({"type": "push", "data": json.loads(BODY)})
        return (f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n'
                'wrk.headers["Content-Type"] = "application/json"\n')
    script = (f'wrk.method = "POST"\nwrk.body = {json.dumps(BODY)}\n'
              'wrk.headers["Content-Type"] = "application/json"\n'
              f'wrk.headers["X-Hub-Signature-256"] = "{SIGNATURE}"\n'
              'wrk.headers["X-GitHub-Event"] = "push"\n')
    if kind == "duplicate":
        return script + 'wrk.headers["X-GitHub-Delivery"] = "fixed-delivery"\n'
    # A delivery id unique across wrk's threads and requests.
    return script + ('counter = 0\n'
                     'function setup(thread) thread:set("prefix", tostring(math.random(1, 1e9))) end\n'
                     'function request()\n'
                     '  counter = counter + 1\n'
                     '  wrk.headers["X-GitHub-Delivery"] = prefix .. "-" .. counter\n'
                     '  return wrk.format()\n'
                     'end\n')


def run_wrk(url: str, kind: str, connections: int, seconds: int, workdir: str) -> float:
    script = os.path.join(workdir, f"{kind}.lua")
    with open(script, "w") as f:
        f.write(lua(kind))
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", script, url],
                         capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"{kind}: some answers were not 2xx:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise SystemExit(f"cannot read wrk's output:\n{out}")
    return float(match.group(1))


def counter(base: str, outcome: str) -> float:
    text = requests.get(base + "/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith(f'switchboard_inbound_requests_total{{outcome="{outcome}"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/switchboard")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (apt-get install wrk)")
    with tempfile.TemporaryDirectory(prefix="sb-inbound-bench-") as workdir:
        port = free_port()
        server = subprocess.Popen([args.binary, "serve", "--dev", "--port", str(port), "--data-dir",
                                   os.path.join(workdir, "data")],
                                  stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, "server.log"), "w"))
        base = f"http://127.0.0.1:{port}"
        try:
            wait_http(base + "/healthz")
            requests.post(base + "/v1/sources", json={"name": "github", "verify": "github", "secrets": [SECRET],
                                                      "channel": "github"}, timeout=10).raise_for_status()
            rows = []
            for rep in range(args.reps):
                publish = run_wrk(base + "/v1/channels/bench/events", "publish", args.connections, args.seconds,
                                  workdir)
                inbound = run_wrk(base + "/v1/inbound/github", "inbound", args.connections, args.seconds, workdir)
                duplicate = run_wrk(base + "/v1/inbound/github", "duplicate", args.connections, args.seconds,
                                    workdir)
                rows.append((publish, inbound, duplicate))
                print(f"rep {rep + 1}: publish {publish:,.0f}/s · inbound {inbound:,.0f}/s "
                      f"({inbound / publish:.2f} of publish) · duplicate {duplicate:,.0f}/s "
                      f"({duplicate / publish:.2f})", flush=True)
            rejected = counter(base, "rejected") + counter(base, "refused")
            if rejected:
                raise SystemExit(f"{rejected:.0f} inbound requests were refused")
            publish, inbound, duplicate = (statistics.median(column) for column in zip(*rows))
            print(f"median of {args.reps}: publish {publish:,.0f}/s · inbound {inbound:,.0f}/s · ratio "
                  f"{inbound / publish:.2f} · duplicate {duplicate:,.0f}/s · ratio {duplicate / publish:.2f}")
            print(f"inbound events published: {counter(base, 'published'):,.0f} · duplicates answered: "
                  f"{counter(base, 'duplicate'):,.0f}")
        finally:
            stop_server(server)


if __name__ == "__main__":
    main()
