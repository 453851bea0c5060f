"""Transfer benchmark: 1 GiB through the CS3 client and through the contents manager,
against a raw baseline measured in the same rounds.

* baseline up:   the same bytes copied on local disk (1 MiB reads and writes) and fsynced,
                 as the storage makes every upload durable before it answers
* baseline down: the same bytes fetched over plain HTTP from loopback (http.server + requests)
* client:        CS3Client.upload / download against the embedded storage
* contents:      through a Jupyter server whose contents manager is CS3ContentsManager:
                 Lab's generic chunked PUT /api/contents (base64 JSON, 1 MiB chunks), the
                 streamed PUT /mesh-zenodo/upload that the labextension uses for Lab's large
                 uploads, and GET /files/ (Lab's downloads)

Every path runs once per round, the baselines too (``--rounds``, 3 by default), and each
line shows its best round: on a shared machine a round may meet other work. All paths
meet the same page cache: each upload's file is removed after it (on the storage:
deleted and purged), so that every upload writes into memory that the last one freed (the
local copy too: an untimed copy before it), and every download writes over the same file
in place (a virtual machine can take longer to hand out fresh memory than to copy the
bytes: up to ten times on the development machine). Also shown: the MD5 of the bytes in
this process, which every upload through the storage computes (its checksum) and which
bounds it.

Prints MiB/s, the ratio to the baseline (target >= 0.7), the ratio of Lab's paths to the
client's (what the Jupyter server's relay costs), the memory growth of the server
processes (storage, Jupyter; target < 100 MiB) and the load average before and after.
Usage:

    python benchmarks/transfer.py [--size-mib 1024] [--rounds 3]
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
from measure import CHUNK, free_port, md5_of, reset_peak, rss, start_jupyter, wait_http

from mesh_zenodo.cs3.client import CS3Client
from mesh_zenodo.launcher import spawn_storage


def timed(fn) -> float:
    """Seconds that ``fn()`` took, or the seconds it returns (the chunked upload counts
    only its waits for the server)."""
    started = time.perf_counter()
    result = fn()
    return result if isinstance(result, float) else time.perf_counter() - started


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


def download(url: str, dst: Path, headers: dict | None = None) -> None:
    """Stream ``url`` as a plain script would (1 MiB pieces), written over ``dst`` in
    place: every download writes into the same page cache, so that none of them pays
    for fresh memory that another did not (on a virtual machine that can be most of the
    cost)."""
    with requests.get(url, stream=True, timeout=120, headers=headers or {}) as r, open(dst, "r+b") as f:
        r.raise_for_status()
        for chunk in r.iter_content(CHUNK):
            f.write(chunk)


def local_copy(src: Path, dst: Path) -> None:
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(CHUNK):
            fout.write(chunk)
        fout.flush()
        os.fsync(fout.fileno())


async def client_upload(client: CS3Client, src: Path, path: str) -> None:
    async def chunks():
        with open(src, "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk

    await client.upload(path, chunks(), src.stat().st_size)


async def client_download(client: CS3Client, path: str, dst: Path) -> None:
    with open(dst, "r+b") as f:  # in place, as download()
        async with client.download(path) as (_, chunks):
            async for chunk in chunks:
                f.write(chunk)


async def remove(client: CS3Client, paths: list[str]) -> None:
    """Delete ``paths`` on the storage and purge them from the recycle bin."""
    for path in paths:
        await client.delete(path)
    await client.purge_recycle("/home")


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


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    size = args.size_mib * CHUNK

    with tempfile.TemporaryDirectory(prefix="mz-bench-") as tmp:
        tmp = Path(tmp)
        src, out, copy = tmp / "source.bin", tmp / "out.bin", tmp / "copy.bin"
        print(f"transfer benchmark: {args.size_mib} MiB, best of {args.rounds} rounds; load average {load()}",
              flush=True)
        expected = make_source(src, size)
        shutil.copyfile(src, out)  # what the downloads write over

        storage = spawn_storage(tmp / "storage")
        http_port = free_port()
        http_server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(http_port), "--bind", "127.0.0.1", "--directory", str(tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        jupyter, base, token = start_jupyter(storage, tmp)
        client = CS3Client(gateway=storage.grpc_addr, username="einstein", password="relativity")
        loop = asyncio.new_event_loop()
        try:
            wait_http(f"http://127.0.0.1:{http_port}/", http_server)
            servers = {"storage": storage.process.pid, "jupyter": jupyter.pid}
            start_rss = {name: rss(pid)["VmRSS"] for name, pid in servers.items()}
            for pid in servers.values():
                reset_peak(pid)

            def check_download() -> None:
                assert md5_of(out) == expected, "the downloaded bytes differ"

            def check_upload(path: str, *, remove_it: bool = False):
                """A check that the storage has the bytes (its checksum), then (``remove_it``)
                a clean-up: the file deleted and purged, its memory free for the next upload."""

                def check() -> None:
                    info = loop.run_until_complete(client.stat(path))
                    assert info.checksum.sum == expected, f"the storage's checksum of {path} differs"
                    if remove_it:
                        loop.run_until_complete(remove(client, [path]))

                return check

            # (section, label, what is timed, what follows untimed: a check, a clean-up). Each
            # upload's file is removed after it, so that every upload writes into memory that
            # the last one freed; the downloads write over out.bin in place (download()).
            lab = "contents manager (Lab's REST calls to a Jupyter server)"
            steps = [
                ("baseline", "local disk copy (fsynced)", lambda: local_copy(src, copy), copy.unlink),
                ("baseline", "plain HTTP GET from loopback",
                 lambda: download(f"http://127.0.0.1:{http_port}/source.bin", out), check_download),
                ("baseline", "MD5 of the bytes (in this process)", lambda: md5_of(src), None),
                ("CS3 client", "client upload", lambda: loop.run_until_complete(
                    client_upload(client, src, "/home/bench-client.bin")), check_upload("/home/bench-client.bin")),
                ("CS3 client", "client download", lambda: loop.run_until_complete(
                    client_download(client, "/home/bench-client.bin", out)), check_download),
                (lab, "chunked PUT /api/contents", lambda: contents_upload(base, token, src, "bench-contents.bin"),
                 check_upload("/home/bench-contents.bin", remove_it=True)),
                (lab, "streamed PUT /mesh-zenodo/upload", lambda: streamed_upload(base, token, src, "bench-streamed.bin"),
                 check_upload("/home/bench-streamed.bin", remove_it=True)),
                (lab, "GET /files/", lambda: contents_download(base, token, "bench-client.bin", out), check_download),
            ]
            best: dict[str, float] = {}
            for round_no in range(args.rounds):
                local_copy(src, copy)  # untimed: the timed copy writes into the memory it frees,
                copy.unlink()  # as each upload below writes into the memory the previous one freed
                seconds = {}
                for _section, label, run, after in steps:
                    seconds[label] = timed(run)
                    if after is not None:
                        after()
                    best[label] = max(best.get(label, 0.0), size / seconds[label] / 2**20)
                print(f"  round {round_no + 1}: " + ", ".join(
                    f"{label.split(' (')[0]} {size / s / 2**20:.0f}" for label, s in seconds.items()) + " MiB/s",
                    flush=True)
                loop.run_until_complete(remove(client, ["/home/bench-client.bin"]))

            section = None
            for this_section, label, _run, _after in steps:
                if this_section != section:
                    section = this_section
                    print(section)
                print(f"  {label:<38} {best[label]:8.1f} MiB/s")

            base_up, base_down = best["local disk copy (fsynced)"], best["plain HTTP GET from loopback"]
            print("\nratios to the baseline (target >= 0.70)")
            rows = [
                ("client upload / local copy", best["client upload"] / base_up),
                ("client download / plain HTTP", best["client download"] / base_down),
                ("chunked PUT / local copy", best["chunked PUT /api/contents"] / base_up),
                ("streamed upload / local copy", best["streamed PUT /mesh-zenodo/upload"] / base_up),
                ("contents download / plain HTTP", best["GET /files/"] / base_down),
            ]
            for label, ratio in rows:
                print(f"  {label:<38} {ratio:5.2f}  {'ok' if ratio >= 0.7 else 'BELOW TARGET'}")
            print("\nthe Jupyter server's relay: Lab's paths / the client's")
            print(f"  {'streamed upload / client upload':<38} "
                  f"{best['streamed PUT /mesh-zenodo/upload'] / best['client upload']:5.2f}")
            print(f"  {'GET /files/ / client download':<38} {best['GET /files/'] / best['client download']:5.2f}")
            print("\nserver memory (target: growth < 100 MiB)")
            for name, pid in servers.items():
                mem = rss(pid)
                growth = (mem["VmHWM"] - start_rss[name]) / 2**20
                print(f"  {name:<10} start {start_rss[name] / 2**20:7.1f} MiB  peak {mem['VmHWM'] / 2**20:7.1f} MiB"
                      f"  growth {growth:6.1f} MiB  {'ok' if growth < 100 else 'ABOVE TARGET'}")
            print(f"\nload average {load()}")
        finally:
            loop.run_until_complete(client.close())
            loop.close()
            for process in (jupyter, http_server):
                process.terminate()
                process.wait(timeout=30)
            storage.stop()
            shutil.rmtree(tmp / "storage", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
