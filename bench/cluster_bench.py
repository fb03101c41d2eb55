#!/usr/bin/env python3
"""Publishing, fan-out and cross-node latency: SQLite vs one PostgreSQL node vs three, in one run.

For each setup (`sqlite`: one node on its embedded SQLite; `pg1`: one node on PostgreSQL; `pg3`: three
nodes on one PostgreSQL database) it starts the release servers, then measures, with the same client:

1. publishes/s: PUBLISHERS HTTP clients (keep-alive, one publish in flight each) spread over the nodes,
   each on its own channel, for SECONDS; every publish is acknowledged once durable (201).
2. fan-out: SUBSCRIBERS WebSocket subscribers of one channel spread over the nodes, while one client
   publishes RATE events a second on a node for SECONDS: deliveries/s received, and the delay from the
   publish being sent to each delivery (p50/p99).
3. cross-node latency (pg3 only): a subscriber on node B, events published on node A one at a time;
   the delay from sending the publish to receiving it on B (p50/p99), and the same with the subscriber
   on node A for comparison.

The client runs in this one Python process (asyncio), so compare the setups with each other: they share
its limits. Nodes run `serve --dev` with `store.durability=full`.

Usage: swift build -c release --product switchboard
       python3 bench/cluster_bench.py --database postgres://user@127.0.0.1:5432/db [--seconds 10]
Needs the `websockets` and `requests` packages (Tests/interop/requirements.txt) and `psql`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from websockets.asyncio.client import connect as ws_connect

from bench_support import free_port, stop_server, wait_http
from chaos import HttpConnection, create_database

REPO_ROOT = Path(__file__).resolve().parents[1]


def start_nodes(binary: str, count: int, database: str | None, workdir: Path) -> list[tuple[subprocess.Popen, int]]:
    nodes = []
    for index in range(count):
        directory = workdir / f"node-{index}"
        directory.mkdir(parents=True)
        config = {"store": {"durability": "full"}}
        if database:
            config["store"]["database_url"] = database
        (directory / "config.json").write_text(json.dumps(config))
        port = free_port()
        log = open(directory / "server.log", "wb")
        process = subprocess.Popen(
            [binary, "serve", "--dev", "--host", "127.0.0.1", "--port", str(port), "--data-dir",
             str(directory / "data"), "--config", str(directory / "config.json"), "--log-level", "warning"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_http(f"http://127.0.0.1:{port}/readyz", 60)
        nodes.append((process, port))
    return nodes


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


async def publish_rate(ports: list[int], publishers: int, seconds: float) -> float:
    stop = time.monotonic() + seconds
    counts = [0] * publishers

    async def publisher(index: int) -> None:
        conn = HttpConnection(ports[index % len(ports)])
        body = {"type": "bench", "data": {"n": index, "pad": "x" * 100}}
        while time.monotonic() < stop:
            status, _, _ = await conn.request("POST", f"/v1/channels/bench-{index}/events", body)
            if status == 201:
                counts[index] += 1
        conn.close()

    started = time.monotonic()
    await asyncio.gather(*(publisher(i) for i in range(publishers)))
    return sum(counts) / (time.monotonic() - started)


async def subscribe(port: int, channel: str, on_event) -> tuple[asyncio.Task, asyncio.Event]:
    ready = asyncio.Event()

    async def run() -> None:
        async with ws_connect(f"ws://127.0.0.1:{port}/v1/ws", ping_interval=None, max_queue=None,
                              proxy=None) as ws:
            await ws.send(json.dumps({"op": "subscribe", "channel": channel}))
            async for raw in ws:
                message = json.loads(raw)
                if message.get("op") == "subscribed":
                    ready.set()
                elif message.get("op") == "event":
                    on_event(message, time.monotonic())

    task = asyncio.create_task(run())
    await asyncio.wait_for(ready.wait(), 30)
    return task, ready


async def fan_out(ports: list[int], subscribers: int, rate: float, seconds: float) -> tuple[float, float, float]:
    channel = f"fan-{time.monotonic_ns()}"
    sent: dict[int, float] = {}
    delays: list[float] = []
    received = 0

    def on_event(message: dict, at: float) -> None:
        nonlocal received
        received += 1
        started = sent.get(message["data"]["n"])
        if started is not None:
            delays.append(at - started)

    tasks = [(await subscribe(ports[i % len(ports)], channel, on_event))[0] for i in range(subscribers)]
    conn = HttpConnection(ports[0])
    interval = 1 / rate
    began = time.monotonic()
    n = 0
    while time.monotonic() - began < seconds:
        n += 1
        sent[n] = time.monotonic()
        await conn.request("POST", f"/v1/channels/{channel}/events", {"type": "bench", "data": {"n": n}})
        await asyncio.sleep(max(0.0, began + n * interval - time.monotonic()))
    expected = n * subscribers
    deadline = time.monotonic() + 30
    while received < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    elapsed = time.monotonic() - began
    conn.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if received < expected:
        print(f"  fan-out: {expected - received} of {expected} deliveries missing", file=sys.stderr)
    return received / elapsed, percentile(delays, 0.5) * 1000, percentile(delays, 0.99) * 1000


async def latency(publish_port: int, subscribe_port: int, count: int) -> tuple[float, float]:
    channel = f"lat-{time.monotonic_ns()}"
    arrived: dict[int, float] = {}
    waiting: dict[int, asyncio.Event] = {}

    def on_event(message: dict, at: float) -> None:
        n = message["data"]["n"]
        arrived[n] = at
        if n in waiting:
            waiting[n].set()

    task, _ = await subscribe(subscribe_port, channel, on_event)
    conn = HttpConnection(publish_port)
    delays = []
    for n in range(1, count + 1):
        waiting[n] = asyncio.Event()
        started = time.monotonic()
        await conn.request("POST", f"/v1/channels/{channel}/events", {"type": "bench", "data": {"n": n}})
        await asyncio.wait_for(waiting[n].wait(), 30)
        delays.append(arrived[n] - started)
    conn.close()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return percentile(delays, 0.5) * 1000, percentile(delays, 0.99) * 1000


async def measure(setup: str, ports: list[int], args: argparse.Namespace) -> dict:
    result = {"setup": setup, "nodes": len(ports)}
    result["publishes_per_second"] = await publish_rate(ports, args.publishers, args.seconds)
    rate, p50, p99 = await fan_out(ports, args.subscribers, args.rate, args.seconds)
    result.update(fanout_deliveries_per_second=rate, fanout_p50_ms=p50, fanout_p99_ms=p99)
    if len(ports) > 1:
        result["cross_node_p50_ms"], result["cross_node_p99_ms"] = await latency(ports[0], ports[1], args.latency_count)
        result["same_node_p50_ms"], result["same_node_p99_ms"] = await latency(ports[0], ports[0], args.latency_count)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.environ.get("SWITCHBOARD_BIN", ".build/release/switchboard"))
    parser.add_argument("--database", required=True, help="a PostgreSQL server's URL (a fresh database "
                        "is made there for each PostgreSQL setup)")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--publishers", type=int, default=32)
    parser.add_argument("--subscribers", type=int, default=300)
    parser.add_argument("--rate", type=float, default=100, help="fan-out publishes a second")
    parser.add_argument("--latency-count", type=int, default=300)
    parser.add_argument("--setups", default="sqlite,pg1,pg3")
    args = parser.parse_args()
    binary = str(Path(args.binary).resolve())
    results = []
    for setup in args.setups.split(","):
        workdir = Path(tempfile.mkdtemp(prefix=f"switchboard-cluster-bench-{setup}-"))
        database = None if setup == "sqlite" else create_database(args.database)
        nodes = start_nodes(binary, 3 if setup == "pg3" else 1, database, workdir)
        try:
            result = asyncio.run(measure(setup, [port for _, port in nodes], args))
        finally:
            for process, _ in nodes:
                stop_server(process)
        print(json.dumps(result), flush=True)
        results.append(result)
    print()
    print(f"{'setup':8} {'publishes/s':>12} {'fan-out deliveries/s':>21} {'fan-out p50/p99 ms':>19} "
          f"{'A→B p50/p99 ms':>15} {'A→A p50/p99 ms':>15}")
    for r in results:
        cross = f"{r['cross_node_p50_ms']:.1f}/{r['cross_node_p99_ms']:.1f}" if "cross_node_p50_ms" in r else "-"
        same = f"{r['same_node_p50_ms']:.1f}/{r['same_node_p99_ms']:.1f}" if "same_node_p50_ms" in r else "-"
        print(f"{r['setup']:8} {r['publishes_per_second']:12.0f} {r['fanout_deliveries_per_second']:21.0f} "
              f"{r['fanout_p50_ms']:8.1f}/{r['fanout_p99_ms']:<10.1f} {cross:>15} {same:>15}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
