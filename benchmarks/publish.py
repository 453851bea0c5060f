"""Publish benchmark: a folder of 200 files (mixed sizes, 2 GiB in all) published from the
CS3 storage to the Zenodo stand-in through the REST API (``POST
/mesh-zenodo/zenodo/publications``: streamed, several files at once, md5-checked, subfolders
as streamed ZIPs), against a sequential uploader that reads each file from local disk and
PUTs it to the stand-in's records API with plain ``requests``, in the same run.

Everything runs on loopback as separate processes: the Zenodo stand-in, the embedded CS3
storage, and a Jupyter server with the mesh_zenodo extension. Both sides are measured
``--rounds`` times, alternately, and the best of each is kept. Prints files/s and MiB/s of
each, their ratio (target >= 2x the sequential baseline), and the Jupyter server's memory
growth during a publication (target < 150 MiB). Usage::

    python benchmarks/publish.py [--files 200] [--total-mib 2048] [--rounds 2] [--link-mib-s N]

On loopback every byte costs CPU three times (the storage sends it, the Jupyter server
relays and hashes it, the stand-in receives and hashes it), so on a small machine both
sides are bound by the processor and several files at once cannot help. Zenodo is
reached over a wide-area link, where one connection's throughput is bounded by the round
trip; ``--link-mib-s N`` emulates that with the stand-in's ``rate`` fault: each file
content upload, the baseline's and ours alike, is received no faster than N MiB/s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp
from cs3.storage.provider.v1beta1 import resources_pb2 as spr

from mesh_zenodo.launcher import spawn_standin, spawn_storage
from mesh_zenodo.pytest_plugin import StorageUser
from mesh_zenodo.services.publishing import PUBLISHED_KEY, PUBLISHING_KEY
from measure import CHUNK, free_port, reset_peak, rss, wait_http

REPO = Path(__file__).resolve().parents[1]
TOKEN = "standin-full-token"
METADATA = {
    "title": "Benchmark dataset", "upload_type": "dataset", "description": "Files for a benchmark.",
    "creators": [{"name": "Einstein, Albert"}], "access_right": "open", "license": "cc-by-4.0",
}


def sizes(files: int, total: int, seed: int = 3) -> list[int]:
    """Mixed sizes: most files small (1 KiB to 1 MiB), a tenth large, adding up to ``total``."""
    rng = random.Random(seed)
    small = [rng.randint(1 << 10, 1 << 20) for _ in range(files - files // 10)]
    large_each = max(1 << 20, (total - sum(small)) // (files // 10))
    return small + [large_each] * (files // 10)


def make_folder(home: Path, folder: str, sizes_: list[int]) -> list[Path]:
    """90 top-level files and the rest in 5 subfolders (as a project folder looks)."""
    paths = []
    base = home / folder
    for i, size in enumerate(sizes_):
        sub = base if i < 90 else base / f"part{i % 5}"
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"file-{i:03d}.bin"
        with open(path, "wb") as f:
            block = os.urandom(min(size, CHUNK))
            left = size
            while left:
                f.write(block[: min(left, len(block))])
                left -= min(left, len(block))
        paths.append(path)
    return paths


def sequential_upload(zenodo: str, paths: list[Path]) -> None:
    """The baseline: a script uploading each file from local disk, one after the other
    (into drafts of at most 100 files, Zenodo's limit)."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with requests.Session() as s:
        for start in range(0, len(paths), 100):
            draft = s.post(f"{zenodo}/api/records", headers=headers, timeout=60,
                           json={"metadata": {"title": "baseline"}, "files": {"enabled": True}}).json()
            files_url = f"{zenodo}/api/records/{draft['id']}/draft/files"
            for path in paths[start:start + 100]:
                key = f"{path.parent.name}-{path.name}"
                s.post(files_url, headers=headers, json=[{"key": key}], timeout=60).raise_for_status()
                with open(path, "rb") as body:
                    s.put(f"{files_url}/{key}/content", data=body, timeout=600,
                          headers={**headers, "Content-Type": "application/octet-stream",
                                   "Content-Length": str(path.stat().st_size)}).raise_for_status()
                s.post(f"{files_url}/{key}/commit", headers=headers, timeout=60).raise_for_status()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--total-mib", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--link-mib-s", type=float, default=None,
                        help="emulate a wide-area link: each upload's body at most this fast")
    args = parser.parse_args()
    file_sizes = sizes(args.files, args.total_mib << 20)
    total = sum(file_sizes)

    with tempfile.TemporaryDirectory(prefix="mz-publish-bench-") as tmp:
        tmp = Path(tmp)
        print(f"publish benchmark: {args.files} files, {total / 2**30:.2f} GiB", flush=True)
        standin = spawn_standin(tmp / "zenodo", ["--rate-limit", "100000,100000,100000"])
        zenodo = standin.ready["url"]
        if args.link_mib_s:
            requests.post(f"{zenodo}/_standin/faults", timeout=10, json={
                "path_regex": "/content$", "method": "PUT", "rate": args.link_mib_s * 2**20, "times": None,
            }).raise_for_status()
            print(f"emulated link: {args.link_mib_s:g} MiB/s per upload", flush=True)
        storage = spawn_storage(tmp / "storage")
        paths = make_folder(tmp / "storage" / "home" / "einstein", "bench", file_sizes)
        port, token = free_port(), os.urandom(16).hex()
        env = dict(os.environ, MESH_ZENODO_CS3_PASSWORD="relativity", JUPYTER_RUNTIME_DIR=str(tmp / "rt"),
                   JUPYTER_DATA_DIR=str(tmp / "data"), PYTHONPATH=str(REPO))
        jupyter = subprocess.Popen(
            [
                sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={port}",
                "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", "--allow-root",
                "--ServerApp.jpserver_extensions=mesh_zenodo=True",
                "--ServerApp.contents_manager_class=mesh_zenodo.contents.CS3ContentsManager",
                f"--CS3Client.gateway={storage.grpc_addr}", "--CS3Client.username=einstein",
                f"--ZenodoClient.base_url={zenodo}", f"--ServerApp.root_dir={tmp}", "--ServerApp.log_level=WARN",
            ],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp,
        )
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"token {token}"}
        einstein = StorageUser(storage.grpc_addr, "einstein")
        try:
            wait_http(f"{base}/api/status", jupyter)
            requests.post(f"{base}/mesh-zenodo/zenodo/login", headers=headers, timeout=60,
                          json={"token": TOKEN, "base_url": zenodo}).raise_for_status()
            plain_times, publish_times, growths = [], [], []
            for round_number in range(1, args.rounds + 1):
                print(f"round {round_number}", flush=True)
                started = time.perf_counter()
                sequential_upload(zenodo, paths)
                plain_times.append(time.perf_counter() - started)
                print(f"  {'sequential requests from local disk':<38} {plain_times[-1]:7.2f} s", flush=True)

                start_rss = rss(jupyter.pid)["VmRSS"]
                reset_peak(jupyter.pid)
                # each round a new draft of the whole folder: forget the previous round's draft
                einstein.call("UnsetArbitraryMetadata", sp.UnsetArbitraryMetadataRequest(
                    ref=spr.Reference(path="/home/bench"), arbitrary_metadata_keys=[PUBLISHED_KEY, PUBLISHING_KEY]))
                started = time.perf_counter()
                response = requests.post(f"{base}/mesh-zenodo/zenodo/publications", headers=headers, timeout=60,
                                         data=json.dumps({"path": "bench", "metadata": METADATA, "publish": False}))
                response.raise_for_status()
                job = response.json()["job"]
                while job["state"] == "running":
                    time.sleep(0.1)
                    job = requests.get(f"{base}/mesh-zenodo/jobs/{job['id']}", headers=headers,
                                       timeout=30).json()["job"]
                publish_times.append(time.perf_counter() - started)
                if job["state"] != "done":
                    raise SystemExit(f"the publication failed: {job['error']}")
                growths.append(rss(jupyter.pid)["VmHWM"] - start_rss)
                print(f"  {'publish through the REST API':<38} {publish_times[-1]:7.2f} s  "
                      f"({len(job['items'])} uploads)", flush=True)

            plain, publish = min(plain_times), min(publish_times)
            mib = total / 2**20
            print("\nresults (best of each)")
            print(f"  sequential baseline   {args.files / plain:7.1f} files/s  {mib / plain:8.1f} MiB/s")
            print(f"  publish               {args.files / publish:7.1f} files/s  {mib / publish:8.1f} MiB/s")
            ratio = plain / publish
            print(f"  ratio publish / baseline {ratio:5.2f}  (target >= 2.0: {'ok' if ratio >= 2 else 'MISSED'})")
            growth = max(growths) / 2**20
            print(f"  Jupyter memory growth {growth:6.1f} MiB  (target < 150: {'ok' if growth < 150 else 'MISSED'})")
        finally:
            einstein.close()
            jupyter.terminate()
            jupyter.wait(timeout=60)
            storage.stop()
            standin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
