"""``make bench`` (collector part): events per second through ``POST /v1/batch`` with
durability on, and p50 / p99 latency (issue 13's floor: >= 20,000 events/s in batches of
100, p99 < 100 ms, on this 2-core machine).

    python bench/collector.py [--seconds 10] [--clients 4] [--batch 100]

Starts ``journeymap collect`` as its own process on a free port of loopback, in a fresh
workspace (bench/out/collector-ws).  The clients are threads of this process with
keep-alive connections (stdlib ``http.client``); every body is built before the clock
starts, each call with its own messageId, so the client's cost is sending and reading.
A request counts when its 200 came back — i.e. after its calls were fsync'd in the
spool.  Then the collector is stopped (SIGTERM) and the time until the store holds
every call is the drain.  Prints a table and writes bench/RESULTS-collector.md.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
JOURNEYMAP = Path(sys.executable).with_name("journeymap")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bodies(n: int, size: int, client: int) -> list[bytes]:
    out = []
    for b in range(n):
        calls = [{"type": "track", "userId": f"c{client}-{(b * size + i) % 5000}", "event": f"step_{i % 9}",
                  "messageId": str(uuid.uuid4()), "timestamp": "2026-11-30T10:00:00.000Z",
                  "properties": {"plan": "pro", "i": i}} for i in range(size)]
        out.append(json.dumps({"batch": calls, "sentAt": "2026-11-30T10:00:01.000Z"}).encode())
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--batch", type=int, default=100)
    args = ap.parse_args()
    root = OUT / "collector-ws"
    shutil.rmtree(root, ignore_errors=True)
    subprocess.run([str(JOURNEYMAP), "init", str(root)], check=True, capture_output=True)
    key = subprocess.run([str(JOURNEYMAP), "collect", "-w", str(root), "--add-source", "bench"], check=True,
                         capture_output=True, text=True).stdout.split()[-1]
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    per_client = int(40_000 / args.batch * args.seconds / args.clients) + 10  # room for 40k/s
    bodies = [_bodies(per_client, args.batch, c) for c in range(args.clients)]
    port = _free_port()
    proc = subprocess.Popen([str(JOURNEYMAP), "collect", "-w", str(root), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        latencies: list[list[float]] = [[] for _ in range(args.clients)]
        errors = [0] * args.clients
        stop_at = time.monotonic() + args.seconds

        def client(i: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for body in bodies[i]:
                if time.monotonic() >= stop_at:
                    break
                t = time.perf_counter()
                conn.request("POST", "/v1/batch", body, {"Authorization": auth, "Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                if r.status == 200:
                    latencies[i].append(time.perf_counter() - t)
                else:
                    errors[i] += 1
            conn.close()

        start = time.monotonic()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.monotonic() - start
        lat = sorted(x for one in latencies for x in one)
        accepted = len(lat) * args.batch
        drain_start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=600)
        drained = time.monotonic() - drain_start
    finally:
        if proc.poll() is None:
            proc.kill()
    import duckdb

    con = duckdb.connect(str(root / "journeymap.duckdb"), read_only=True)
    stored = con.execute("SELECT count(*) FROM event_log").fetchone()[0]
    con.close()
    p50 = statistics.median(lat) * 1000
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
    rate = accepted / took
    rows = [
        ("events/s through /v1/batch (acknowledged = fsync'd)", f"{rate:,.0f}", ">= 20,000", rate >= 20_000),
        (f"p50 latency of a batch of {args.batch}", f"{p50:.1f} ms", "", True),
        (f"p99 latency of a batch of {args.batch}", f"{p99:.1f} ms", "< 100 ms", p99 < 100),
        ("requests refused or failed", f"{sum(errors):,}", "0", sum(errors) == 0),
        (f"drain into the store after stop ({accepted:,} events)", f"{drained:.1f} s", "", True),
        ("events stored = acknowledged", f"{stored:,} = {accepted:,}", "equal", stored == accepted),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"\ncollector: {args.clients} clients, batches of {args.batch}, {args.seconds:.0f} s, "
          f"{platform.machine()} {os.cpu_count()} cores")
    for name, value, floor, ok in rows:
        print(f"  {name:<{width}}  {value:>18}  {floor:>10}  {'ok' if ok else 'MISSED'}")
    lines = ["# Collector benchmark", "",
             "`python bench/collector.py` (part of `make bench`): `journeymap collect` as its own process on "
             f"loopback; {args.clients} client threads with keep-alive, batches of {args.batch} calls built "
             f"before the clock starts; {args.seconds:.0f} s. A batch counts when its 200 came back, after its "
             "calls were fsync'd in the spool. The drain is the time from SIGTERM until the store holds every "
             "call (its last load runs in its own process).", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.", "",
             "| measure | value | floor | |", "|---|---|---|---|"]
    lines += [f"| {n} | {v} | {f} | {'ok' if ok else 'missed'} |" for n, v, f, ok in rows]
    (HERE / "RESULTS-collector.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
