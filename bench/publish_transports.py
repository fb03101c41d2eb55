#!/usr/bin/env python3
"""Durable publishes over WebSocket against HTTP, on the same server, in one run.

One release server (durability full, --dev, pinned to core 0) with a public namespace `bench` whose
clients may publish and the per-connection publish and command limits out of the way. The client runs on core 1, in one asyncio
loop, and measures for SECONDS each of:

1. ws, 1 client:    one WebSocket publishing in a loop, the next `publish` sent when the previous
                    one's `published` arrived;
2. ws, N clients:   N such WebSockets at once;
3. http, 1 client:  one keep-alive connection POSTing /v1/channels/bench:load/events in a loop;
4. http, N clients: N such connections at once.

Every answer is checked (`published` for WebSocket, `201` for HTTP); any other fails the run.
Both transports are driven by hand-written asyncio code of the same shape (the WebSocket one
through the `websockets` package), so the client's cost per publish is comparable; its CPU is
printed beside the rate.

Usage: swift build -c release --product switchboard
       python3 bench/publish_transports.py [--binary .build/release/switchboard] [--seconds 10] [--clients 16]
Needs the `websockets` package.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time

import websockets

from bench_support import free_port, stop_server, wait_http

DATA = {"order": "ord_1042", "status": "paid", "amount": 4200, "currency": "eur", "items": [1, 2, 3]}


async def ws_client(port: int, deadline: float, counts: list[int], index: int) -> None:
    async with websockets.connect(f"ws://127.0.0.1:{port}/v1/ws", max_queue=None) as socket:
        json.loads(await socket.recv())  # welcome
        ref = 0
        while time.monotonic() < deadline:
            ref += 1
            await socket.send(json.dumps({"op": "publish", "channel": f"bench:load{index}", "type": "bench",
                                          "data": DATA, "ref": ref}))
            while True:
                reply = json.loads(await socket.recv())
                if reply.get("ref") == ref:
                    break
            if reply.get("op") != "published":
                raise RuntimeError(f"publish refused: {reply}")
            counts[index] += 1


async def http_client(port: int, deadline: float, counts: list[int], index: int) -> None:
    body = json.dumps({"type": "bench", "data": DATA}).encode()
    request = (f"POST /v1/channels/bench:load{index}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.monotonic() < deadline:
            writer.write(request)
            status = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode().partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            if b" 201 " not in status:
                raise RuntimeError(f"publish refused: {status!r}")
            counts[index] += 1
    finally:
        writer.close()


async def measure(kind: str, port: int, clients: int, seconds: float) -> tuple[float, float]:
    counts = [0] * clients
    deadline = time.monotonic() + seconds
    client = ws_client if kind == "ws" else http_client
    started, cpu = time.monotonic(), time.process_time()
    await asyncio.gather(*(client(port, deadline, counts, i) for i in range(clients)))
    elapsed, used = time.monotonic() - started, time.process_time() - cpu
    return sum(counts) / elapsed, 100 * used / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=".build/release/switchboard")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    results: dict[str, list[float]] = {}
    for rep in range(args.reps):
        for kind, clients in (("ws", 1), ("ws", args.clients), ("http", 1), ("http", args.clients)):
            workdir = tempfile.mkdtemp(prefix="switchboard-publish-")
            port = free_port()
            environment = dict(os.environ, SWITCHBOARD_NAMESPACES="bench", SWITCHBOARD_NAMESPACE_BENCH_PUBLIC="true",
                               SWITCHBOARD_NAMESPACE_BENCH_CLIENT_PUBLISH="true",
                               SWITCHBOARD_LIMITS_CONNECTION_PUBLISH_RATE="0",
                               SWITCHBOARD_LIMITS_CONNECTION_COMMAND_RATE="1000000")
            server = subprocess.Popen(["taskset", "-c", "0", args.binary, "serve", "--dev", "--host", "127.0.0.1",
                                       "--port", str(port), "--data-dir", f"{workdir}/data"],
                                      env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_http(f"http://127.0.0.1:{port}/v1/health")
                rate, cpu = asyncio.run(measure(kind, port, clients, args.seconds))
            finally:
                stop_server(server)
                shutil.rmtree(workdir, ignore_errors=True)
            label = f"{kind}, {clients} client{'s' if clients > 1 else ''}"
            results.setdefault(label, []).append(rate)
            print(f"rep {rep + 1}: {label}: {rate:,.0f} publishes/s (client CPU {cpu:.0f}%)", flush=True)
    print("\nmedians:")
    for label, rates in results.items():
        print(f"  {label}: {sorted(rates)[len(rates) // 2]:,.0f} publishes/s")


if __name__ == "__main__":
    main()
