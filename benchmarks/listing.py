"""Listing benchmark: a folder of 30,000 files on the embedded storage, listed through the
CS3 client, while another client (another user, another process) keeps calling Stat.

* idle:    the other client's Stat latency on an idle storage (same run, same machine)
* cold:    the first listing (the storage meets the files for the first time: it records
           their ids and computes their MD5s)
* warm:    the same listing again

Prints the listing's time and entries per second, the other client's Stat latency during
each listing (p50 / p95 / max) and its ratios to the idle latency. Usage:

    python benchmarks/listing.py [--files 30000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure import percentile
from mesh_zenodo.cs3.client import CS3Client
from mesh_zenodo.launcher import spawn_storage

IDLE_STATS = 300


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": percentile(values, 0.5), "p95": percentile(values, 0.95), "max": max(values)}


# -- the other client: a process of its own, so that the listing client does not slow it
async def probe(gateway: str, path: str, count: int) -> None:
    """Stat ``path`` as marie: ``count`` times, or (count 0) until a line arrives on
    stdin. Prints "ready", then the latencies (seconds) as one JSON list."""
    client = CS3Client(gateway=gateway, username="marie", password="radioactivity")
    await client.stat(path)  # signed in, channel up
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    if count == 0:
        loop.add_reader(sys.stdin.fileno(), stop.set)
    latencies = []
    while (count and len(latencies) < count) or (not count and not stop.is_set()):
        started = time.perf_counter()
        await client.stat(path)
        latencies.append(time.perf_counter() - started)
    await client.close()
    print(json.dumps(latencies), flush=True)


class Prober:
    def __init__(self, gateway: str, path: str, count: int = 0):
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--probe", gateway, path, str(count)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        if self.process.stdout.readline().strip() != "ready":
            raise SystemExit("the Stat prober did not start")

    def latencies(self, stop: bool = True) -> list[float]:
        if stop:
            self.process.stdin.write("stop\n")
            self.process.stdin.flush()
        line = self.process.stdout.readline()
        self.process.wait(timeout=60)
        return json.loads(line)


async def timed_listing(client: CS3Client, path: str) -> tuple[float, int]:
    started = time.perf_counter()
    infos = await client.list_container(path)
    return time.perf_counter() - started, len(infos)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=30_000)
    parser.add_argument("--probe", nargs=3, metavar=("GATEWAY", "PATH", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        gateway, path, count = args.probe
        asyncio.run(probe(gateway, path, int(count)))
        return 0

    with tempfile.TemporaryDirectory(prefix="mz-bench-") as tmp:
        root = Path(tmp) / "storage"
        storage = spawn_storage(root)
        loop = asyncio.new_event_loop()
        try:
            einstein = CS3Client(gateway=storage.grpc_addr, username="einstein", password="relativity")
            marie = CS3Client(gateway=storage.grpc_addr, username="marie", password="radioactivity")
            loop.run_until_complete(einstein.create_container("/home/big"))
            loop.run_until_complete(marie.upload("/home/probe.txt", b"probe"))
            loop.run_until_complete(marie.close())
            folder = root / "home" / "einstein" / "big"
            for i in range(args.files):
                (folder / f"{i:05d}-measurement-{'x' * 40}.csv").write_bytes(b"%d\n" % i)
            print(f"listing benchmark: {args.files} files in one folder", flush=True)

            idle = summary(Prober(storage.grpc_addr, "/home/probe.txt", IDLE_STATS).latencies(stop=False))
            rows = []
            for label in ("cold", "warm"):
                prober = Prober(storage.grpc_addr, "/home/probe.txt")
                seconds, count = loop.run_until_complete(timed_listing(einstein, "/home/big"))
                busy = summary(prober.latencies())
                assert count == args.files, count
                rows.append((label, seconds, busy))
            loop.run_until_complete(einstein.close())
        finally:
            loop.close()
            storage.stop()

    ms = 1000.0
    print(f"\nother client's Stat on an idle storage: p50 {idle['p50'] * ms:6.2f} ms  p95 {idle['p95'] * ms:6.2f} ms"
          f"  max {idle['max'] * ms:6.2f} ms  ({idle['n']} calls)")
    print("\nlisting through CS3Client.list_container, and the other client's Stat meanwhile")
    for label, seconds, busy in rows:
        print(f"  {label:<5} listing {seconds:6.2f} s ({args.files / seconds:8.0f} entries/s)   Stat p50 "
              f"{busy['p50'] * ms:7.2f} ms  p95 {busy['p95'] * ms:7.2f} ms  max {busy['max'] * ms:7.2f} ms"
              f"  ({busy['n']} calls)")
    print("\nthe other client's Stat latency during the listing / on the idle storage")
    for label, _seconds, busy in rows:
        print(f"  {label:<5} p50 {busy['p50'] / idle['p50']:6.2f}  p95 {busy['p95'] / idle['p95']:6.2f}"
              f"  max {busy['max'] / idle['max']:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
