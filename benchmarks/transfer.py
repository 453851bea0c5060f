"""Transfer benchmark: 1 GiB through the CS3 client and through the contents manager,
against a raw baseline measured in the same run.

* baseline up:   the same bytes copied on local disk (1 MiB reads and writes)
* baseline down: the same bytes fetched over plain HTTP from loopback (http.server + requests)
* client:        CS3Client.upload / download against the embedded storage
* contents:      through a Jupyter server whose contents manager is CS3ContentsManager:
                 Lab's generic chunked PUT /api/contents (base64 JSON, 1 MiB chunks), the
                 streamed PUT /mesh-zenodo/upload that the labextension uses for Lab's large
                 uploads, and GET /files/ (Lab's downloads)

Prints MiB/s, the ratio to the baseline (target >= 0.7) and the memory growth of the
server processes (storage, Jupyter; target < 100 MiB). Usage:

    python benchmarks/transfer.py [--size-mib 1024]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from measure import CHUNK, download, free_port, md5_of, reset_peak, rss, start_jupyter, wait_http

from mesh_zenodo.cs3.client import CS3Client
from mesh_zenodo.launcher import spawn_storage









def timed(label: str, size: int, fn) -> float:
    started = time.perf_counter()
    fn()
    seconds = time.perf_counter() - started
    rate = size / seconds / 2**20
    print(f"  {label:<34} {seconds:7.2f} s  {rate:8.1f} MiB/s", flush=True)
    return rate


def make_source(path: Path, size: int) -> str:
    digest = hashlib.md5()
    block = os.urandom(CHUNK)
    with open(path, "wb") as f:
        for i in range(size // CHUNK):
            # vary each block a little so nothing can deduplicate it
            piece = i.to_bytes(8, "little") + block[8:]
            f.write(piece)
            digest.update(piece)
    return digest.hexdigest()


def local_copy(src: Path, dst: Path) -> None:
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(CHUNK):
            fout.write(chunk)


async def client_upload(client: CS3Client, src: Path, path: str) -> None:
    async def chunks():
        with open(src, "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk

    await client.upload(path, chunks(), src.stat().st_size)


async def client_download(client: CS3Client, path: str, dst: Path) -> None:
    with open(dst, "wb") as f:
        async with client.download(path) as (_, chunks):
            async for chunk in chunks:
                f.write(chunk)


def contents_upload(base: str, token: str, src: Path, name: str) -> float:
    """Lab's chunked upload; returns the seconds spent waiting for the server (the
    browser's base64 encoding is not the server's work and is not counted)."""
    headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}
    size = src.stat().st_size
    waited = 0.0
    with requests.Session() as session, open(src, "rb") as f:
        n, sent = 0, 0
        while chunk := f.read(CHUNK):
            n += 1
            sent += len(chunk)
            number = -1 if sent >= size else n
            body = json.dumps(
                {"type": "file", "format": "base64", "chunk": number, "name": name, "path": name,
                 "content": base64.b64encode(chunk).decode("ascii")}
            )
            started = time.perf_counter()
            r = session.put(f"{base}/api/contents/{name}", data=body, headers=headers, timeout=120)
            waited += time.perf_counter() - started
            r.raise_for_status()
    return waited


def streamed_upload(base: str, token: str, src: Path, name: str) -> None:
    """What the labextension does for a large upload: one PUT of the raw bytes."""
    with open(src, "rb") as f:
        requests.put(f"{base}/mesh-zenodo/upload/{name}", data=f, headers={"Authorization": f"token {token}"},
                     timeout=600).raise_for_status()


def contents_download(base: str, token: str, name: str, dst: Path) -> None:
    download(f"{base}/files/{name}", dst, {"Authorization": f"token {token}"})






def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    size = args.size_mib * CHUNK

    with tempfile.TemporaryDirectory(prefix="mz-bench-") as tmp:
        tmp = Path(tmp)
        src, out = tmp / "source.bin", tmp / "out.bin"
        print(f"transfer benchmark: {args.size_mib} MiB", flush=True)
        expected = make_source(src, size)

        storage = spawn_storage(tmp / "storage")
        http_port = free_port()
        http_server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(http_port), "--bind", "127.0.0.1", "--directory", str(tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        jupyter, base, token = start_jupyter(storage, tmp)
        try:
            wait_http(f"http://127.0.0.1:{http_port}/", http_server)
            servers = {"storage": storage.process.pid, "jupyter": jupyter.pid}
            start_rss = {name: rss(pid)["VmRSS"] for name, pid in servers.items()}
            for pid in servers.values():
                reset_peak(pid)

            print("baseline", flush=True)
            base_up = timed("local disk copy", size, lambda: local_copy(src, out))
            base_down = timed("plain HTTP GET from loopback", size, lambda: download(
                f"http://127.0.0.1:{http_port}/source.bin", out))
            assert md5_of(out) == expected

            print("CS3 client", flush=True)
            client = CS3Client(gateway=storage.grpc_addr, username="einstein", password="relativity")
            loop = asyncio.new_event_loop()
            client_up = timed("client upload", size, lambda: loop.run_until_complete(
                client_upload(client, src, "/home/bench-client.bin")))
            client_down = timed("client download", size, lambda: loop.run_until_complete(
                client_download(client, "/home/bench-client.bin", out)))
            assert md5_of(out) == expected
            info = loop.run_until_complete(client.stat("/home/bench-client.bin"))
            assert info.checksum.sum == expected
            loop.run_until_complete(client.close())
            loop.close()

            print("contents manager (Lab's REST calls to a Jupyter server)", flush=True)
            waited = contents_upload(base, token, src, "bench-contents.bin")
            cm_up = size / waited / 2**20
            print(f"  {'chunked PUT /api/contents':<34} {waited:7.2f} s  {cm_up:8.1f} MiB/s", flush=True)
            streamed_up = timed("streamed PUT /mesh-zenodo/upload", size, lambda: streamed_upload(
                base, token, src, "bench-streamed.bin"))
            cm_down = timed("GET /files/", size, lambda: contents_download(base, token, "bench-contents.bin", out))
            assert md5_of(out) == expected

            print("\nratios to the baseline (target >= 0.70)")
            rows = [
                ("client upload / local copy", client_up / base_up),
                ("client download / plain HTTP", client_down / base_down),
                ("chunked PUT / local copy", cm_up / base_up),
                ("streamed upload / local copy", streamed_up / base_up),
                ("contents download / plain HTTP", cm_down / base_down),
            ]
            for label, ratio in rows:
                print(f"  {label:<34} {ratio:5.2f}  {'ok' if ratio >= 0.7 else 'BELOW TARGET'}")
            print("\nserver memory (target: growth < 100 MiB)")
            for name, pid in servers.items():
                mem = rss(pid)
                growth = (mem["VmHWM"] - start_rss[name]) / 2**20
                print(f"  {name:<10} start {start_rss[name] / 2**20:7.1f} MiB  peak {mem['VmHWM'] / 2**20:7.1f} MiB"
                      f"  growth {growth:6.1f} MiB  {'ok' if growth < 100 else 'ABOVE TARGET'}")
        finally:
            for process in (jupyter, http_server):
                process.terminate()
                process.wait(timeout=30)
            storage.stop()
            shutil.rmtree(tmp / "storage", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
