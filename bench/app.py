"""``make bench-app``: the browser app on the 50,000-customer demo (issue 11's floors).

    python bench/app.py [--customers 50000] [--seconds 30] [--readers 20]

Builds the demo workspace once (bench/out/app-demo-<N>, reused), starts ``journeymap
serve`` as its own process on a free port, waits until every map's analysis is cached,
then measures over loopback with keep-alive connections (stdlib ``http.client``):

* map view from the cache: ``GET /maps/REF`` (the app page) and ``GET /maps/REF/page``
  (the map itself, as the frame loads it), 200 requests each, p50 / p95;
* a save: ``PUT /api/maps/REF`` of an edited text (title changed back and forth, each a
  new version written to the file), 50 requests, p50 / p95;
* readers: N threads for S seconds, each looping over the maps list, a map view and a
  map page; requests, errors and p95.

* rule preview: ``POST /api/maps/REF/preview-match`` of an event name and of a regex with
  a ``where``, 20 requests each;

Prints a table and writes bench/RESULTS-app.md.  Floors: view p95 <= 150 ms, save
<= 100 ms, rule preview <= 1 s, 20 readers for 30 s with 0 errors.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
JOURNEYMAP = Path(sys.executable).with_name("journeymap")
SME = "sme-onboarding-churn"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build(customers: int) -> Path:
    root = OUT / f"app-demo-{customers}"
    if not (root / "journeymap.toml").is_file():
        subprocess.run([str(JOURNEYMAP), "demo", str(root), "--customers", str(customers), "--no-serve"],
                       check=True, stdout=subprocess.DEVNULL)
    return root


class Client:
    def __init__(self, port: int, token: str = ""):
        self.con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.token = token

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes, float]:
        headers = {"X-CSRF-Token": self.token} if self.token else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        self.con.request(method, path, body=data, headers=headers)
        response = self.con.getresponse()
        payload = response.read()
        return response.status, payload, time.perf_counter() - started


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=50_000)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--readers", type=int, default=20)
    args = ap.parse_args()
    root = build(args.customers)
    import shutil

    shutil.rmtree(root / ".journeymap", ignore_errors=True)  # the app starts as on a fresh workspace
    port = free_port()
    server = subprocess.Popen([str(JOURNEYMAP), "serve", "-w", str(root), "--port", str(port)],
                              stdout=subprocess.DEVNULL)
    rows: list[tuple[str, str, str, str]] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                c = Client(port)
                token = json.loads(c.call("GET", "/api/session")[1])["csrf_token"]
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        c = Client(port, token)
        refs = [m["ref"] for m in json.loads(c.call("GET", "/api/maps")[1])]
        started = time.monotonic()
        for ref in refs:  # serve queued them at start: wait until each is cached
            while c.call("GET", f"/api/maps/{ref}/analysis")[0] != 200:
                time.sleep(0.5)
        warm = time.monotonic() - started
        rows.append(("first numbers: start until the 3 maps' analyses are cached (background)",
                     f"{warm:.1f} s", "", ""))

        for path, what in ((f"/maps/{SME}", "map view (app page)"), (f"/maps/{SME}/page", "map page (the frame)"),
                           ("/", "maps list"), (f"/maps/{SME}/analytics/pain-points", "analytics view (pain points)"),
                           (f"/maps/{SME}/analytics/paths", "analytics view (paths, Sankey)")):
            c.call("GET", path)
            times = []
            for _ in range(200):
                status, _, t = c.call("GET", path)
                assert status == 200, (path, status)
                times.append(t)
            rows.append((f"{what}, from the cache: GET {path}", f"{pct(times, .5) * 1000:.1f} ms",
                         f"{pct(times, .95) * 1000:.1f} ms", "≤ 150 ms" if "view" in what else ""))

        text = json.loads(c.call("GET", f"/api/maps/{SME}")[1])["text"]
        base = json.loads(c.call("GET", f"/api/maps/{SME}")[1])["latest"]["number"]
        times = []
        for i in range(50):
            edited = text.replace("title: ", "title: (bench) ", 1) if i % 2 == 0 else text
            status, payload, t = c.call("PUT", f"/api/maps/{SME}", {"text": edited, "base_version": base,
                                                                    "message": "bench"})
            assert status == 200, payload[:300]
            base = json.loads(payload)["number"]
            times.append(t)
        rows.append(("save a version: PUT /api/maps/REF (validate, write the file, record)",
                     f"{pct(times, .5) * 1000:.1f} ms", f"{pct(times, .95) * 1000:.1f} ms", "≤ 100 ms"))

        for rule, what in (("data_import_started", "an event name"),
                           ('{"event_regex": "^support_", "where": "channel == \'chat\'"}', "a regex and a where")):
            times = []
            for _ in range(20):
                status, payload, t = c.call("POST", f"/api/maps/{SME}/preview-match", {"match_text": rule})
                assert status == 200, payload[:300]
                times.append(t)
            rows.append((f"rule preview ({what}): POST /api/maps/REF/preview-match", f"{pct(times, .5) * 1000:.0f} ms",
                         f"{pct(times, .95) * 1000:.0f} ms", "≤ 1 s"))

        counts = {"requests": 0, "errors": 0}
        latencies: list[float] = []
        lock = threading.Lock()
        stop = time.monotonic() + args.seconds

        def reader() -> None:
            client = Client(port)
            paths = ["/", f"/maps/{SME}", f"/maps/{SME}/page"]
            i = 0
            while time.monotonic() < stop:
                try:
                    status, _, t = client.call("GET", paths[i % 3])
                    ok = status == 200
                except OSError:
                    ok, t = False, 0.0
                    client = Client(port)
                with lock:
                    counts["requests"] += 1
                    counts["errors"] += 0 if ok else 1
                    latencies.append(t)
                i += 1

        threads = [threading.Thread(target=reader) for _ in range(args.readers)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        rows.append((f"{args.readers} concurrent readers for {args.seconds:.0f} s (list, view, page)",
                     f"{counts['requests'] / args.seconds:.0f} req/s, {counts['errors']} errors",
                     f"{pct(latencies, .95) * 1000:.0f} ms", "0 errors"))
    finally:
        server.terminate()
        server.wait(timeout=30)
    header = ("what (whole HTTP request over loopback)", "p50 / value", "p95", "floor")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *rows]]
    print("\n".join(lines))
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    md = [f"# App benchmark ({args.customers:,}-customer demo)", "",
          f"`python bench/app.py` on {machine}, {time.strftime('%Y-%m-%d')}. Each figure is a whole HTTP "
          "request to `journeymap serve -w WORKSPACE --port P` (its own process, default options, a fresh "
          "app database) over loopback, timed by a client with keep-alive connections.", "",
          "- *first numbers*: from the app answering its first request until every map's page analysis is "
          "in the cache (the analyses `serve` queues at start, one after another on one worker);",
          "- *map view / map page / maps list / analytics views*: `GET` of the app page, of the standalone map page its frame "
          "loads, of the list and of two analytics views (drawn from the cached analysis), each 200 times "
          "after one warm-up request, served from the cache;",
          "- *save*: `PUT /api/maps/REF` of the whole YAML text (title changed back and forth), 50 times: "
          "sync with the disk, validate, write the file (fsync), record the version;",
          "- *rule preview*: `POST /api/maps/REF/preview-match`, 20 times per rule, over every stored event;",
          "- *readers*: N threads, each on its own connection, looping list → map view → map page for S "
          "seconds; requests per second, errors and p95 of all of them (the client shares the 2 cores).", "",
          "| " + " | ".join(header) + " |", "|---|---|---|---|"]
    md += ["| " + " | ".join(r) + " |" for r in rows]
    (HERE / "RESULTS-app.md").write_text("\n".join(md) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
