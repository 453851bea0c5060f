"""Lab listing benchmark: while one client lists a folder of 5,000 files through a Jupyter
server on the embedded storage (``GET /api/contents/big``, what Lab's file browser does),
another client's small request to the same server (``GET /api/contents/small.txt`` without
content) keeps being timed.

* idle:   the small request's latency with nothing else going on (same run, same machine)
* during: its latency while the listing runs, over and over

Prints the listing's time and the small request's p50 / p95 / max in both phases, and the
ratios during / idle (target: no visible stall, p50 ratio well under 2). Usage:

    python benchmarks/lab_listing.py [--files 5000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from measure import percentile, start_jupyter
from mesh_zenodo.launcher import spawn_storage


def summary(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"n={len(ms):4d}  p50 {percentile(ms, 0.5):7.2f} ms  p95 {percentile(ms, 0.95):7.2f} ms  max {max(ms):7.2f} ms"


def small_requests(base: str, token: str, stop: threading.Event, out: list[float], count: int = 0) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"token {token}"
    while not stop.is_set() and (not count or len(out) < count):
        started = time.perf_counter()
        response = session.get(f"{base}/api/contents/small.txt", params={"content": "0"}, timeout=60)
        out.append(time.perf_counter() - started)
        response.raise_for_status()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mz-bench-") as tmp:
        tmp = Path(tmp)
        storage = spawn_storage(tmp / "storage")
        home = tmp / "storage" / "home" / "einstein"
        big = home / "big"
        big.mkdir(parents=True, exist_ok=True)
        for i in range(args.files):
            (big / f"file-{i:05d}.txt").write_bytes(b"x" * 100)
        (home / "small.txt").write_bytes(b"small")
        jupyter, base, token = start_jupyter(storage, tmp)
        try:
            headers = {"Authorization": f"token {token}"}
            # first listing: the storage meets the files (ids, checksums); not measured
            first = requests.get(f"{base}/api/contents/big", headers=headers, timeout=300)
            first.raise_for_status()
            assert len(first.json()["content"]) == args.files

            idle: list[float] = []
            small_requests(base, token, threading.Event(), idle, count=300)

            stop, during = threading.Event(), []
            prober = threading.Thread(target=small_requests, args=(base, token, stop, during))
            listings = []
            prober.start()
            deadline = time.monotonic() + args.seconds
            while time.monotonic() < deadline:
                started = time.perf_counter()
                response = requests.get(f"{base}/api/contents/big", headers=headers, timeout=300)
                listings.append(time.perf_counter() - started)
                response.raise_for_status()
            stop.set()
            prober.join()

            print(f"Lab listing benchmark: {args.files} files, {len(listings)} listings in {args.seconds:.0f} s")
            print(f"  listing of {args.files} files      p50 {percentile(listings, 0.5):6.3f} s")
            print(f"  small GET, idle           {summary(idle)}")
            print(f"  small GET, during listing {summary(during)}")
            for q, name in ((0.5, "p50"), (0.95, "p95")):
                print(f"  ratio during/idle {name}: {percentile(during, q) / percentile(idle, q):6.2f}")
        finally:
            jupyter.terminate()
            jupyter.wait(timeout=30)
            storage.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
