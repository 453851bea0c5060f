"""Sharing benchmark, all through real servers on loopback in one run:

* lists: with 2,000 shares in the store, einstein's "shared by me"
  (``GET /mesh-zenodo/shares``) and marie's "shared with me"
  (``GET /mesh-zenodo/received-shares``) through the REST API, against listing a plain
  folder of 2,000 files (``GET /api/contents/<folder>``) on the same server (target: at
  most 2x);
* links: downloading a file through its public link (``/s/<token>/<name>``) against the
  data gateway's own download of the same file (target: at least 0.8x).

    python benchmarks/shares.py [--shares 2000] [--size-mib 256]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import requests

from measure import CHUNK, start_jupyter
from mesh_zenodo.launcher import spawn_storage
from mesh_zenodo.pytest_plugin import StorageUser


def best_of(rounds: int, action) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def fetch(session: requests.Session, url: str, expect: int | None = None) -> None:
    response = session.get(url, timeout=600)
    response.raise_for_status()
    if expect is not None:
        body = response.json()
        count = len(body.get("shares", body.get("content", [])))
        assert count >= expect, (url, count)


def download(session: requests.Session, url: str, headers: dict | None = None) -> None:
    with session.get(url, stream=True, timeout=600, headers=headers or {}) as r:
        r.raise_for_status()
        for _ in r.iter_content(CHUNK):
            pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shares", type=int, default=2000)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    n = args.shares

    with tempfile.TemporaryDirectory(prefix="mz-bench-") as tmp:
        tmp = Path(tmp)
        storage = spawn_storage(tmp / "storage")
        home = tmp / "storage" / "home" / "einstein"
        (home / "shared").mkdir(parents=True)
        (home / "plain").mkdir(parents=True)
        for i in range(n):
            (home / "shared" / f"item-{i:05d}.txt").write_bytes(b"x" * 100)
            (home / "plain" / f"file-{i:05d}.txt").write_bytes(b"x" * 100)
        big = home / "big.bin"
        with open(big, "wb") as f:
            for _ in range(args.size_mib):
                f.write(b"\xa5" * CHUNK)

        einstein = StorageUser(storage.grpc_addr, "einstein")
        marie = StorageUser(storage.grpc_addr, "marie")
        servers = []
        try:
            print(f"sharing benchmark: {n} shares, a {args.size_mib} MiB file", flush=True)
            to_marie = StorageUser.grantee(marie.user.id)
            started = time.perf_counter()
            for i in range(n):
                share = einstein.share_ok(f"/home/shared/item-{i:05d}.txt", to_marie, "viewer")
                if i % 2 == 0:
                    marie.accept(share.id.opaque_id)
            print(f"  created {n} shares (half accepted) in {time.perf_counter() - started:.1f} s", flush=True)

            ein_proc, ein_base, ein_token = start_jupyter(storage, tmp, "einstein")
            mar_proc, mar_base, mar_token = start_jupyter(storage, tmp, "marie")
            servers = [ein_proc, mar_proc]
            ein, mar = requests.Session(), requests.Session()
            ein.headers["Authorization"] = f"token {ein_token}"
            mar.headers["Authorization"] = f"token {mar_token}"
            fetch(ein, f"{ein_base}/api/contents/plain", n)  # warm: the storage meets the files
            fetch(ein, f"{ein_base}/mesh-zenodo/shares", n)
            fetch(mar, f"{mar_base}/mesh-zenodo/received-shares", n)

            plain = best_of(args.rounds, lambda: fetch(ein, f"{ein_base}/api/contents/plain", n))
            by_me = best_of(args.rounds, lambda: fetch(ein, f"{ein_base}/mesh-zenodo/shares", n))
            with_me = best_of(args.rounds, lambda: fetch(mar, f"{mar_base}/mesh-zenodo/received-shares", n))

            link = requests.post(f"{ein_base}/mesh-zenodo/links", headers={"Authorization": f"token {ein_token}"},
                                 json={"path": "big.bin", "type": "view"}, timeout=60).json()["link"]
            proto = einstein.download_protocol("/home/big.bin")
            gateway = best_of(3, lambda: download(requests.Session(), proto.download_endpoint,
                                                  {"X-Reva-Transfer": proto.token}))
            public = best_of(3, lambda: download(requests.Session(), f"{link['url']}/big.bin"))
            size = args.size_mib

            print(f"  plain folder of {n} files (GET /api/contents)   {plain * 1000:8.1f} ms")
            print(f"  shared by me, {n} shares                        {by_me * 1000:8.1f} ms")
            print(f"  shared with me, {n} shares                      {with_me * 1000:8.1f} ms")
            print(f"  data gateway download                          {size / gateway:8.1f} MiB/s")
            print(f"  public link download                           {size / public:8.1f} MiB/s")
            print("\nratios (same run)")
            for label, ratio, target, ok in (
                ("shared by me / plain folder", by_me / plain, "<= 2.0", by_me / plain <= 2.0),
                ("shared with me / plain folder", with_me / plain, "<= 2.0", with_me / plain <= 2.0),
                ("public link / data gateway", gateway / public, ">= 0.8", gateway / public >= 0.8),
            ):
                print(f"  {label:<32} {ratio:5.2f}  (target {target}: {'ok' if ok else 'MISSED'})")
        finally:
            for process in servers:
                process.terminate()
                process.wait(timeout=30)
            einstein.close()
            marie.close()
            storage.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
