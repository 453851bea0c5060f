"""Pull benchmark: a Zenodo record of 20 files of 50 MiB pulled into the CS3 storage
through the REST API (``POST /mesh-zenodo/zenodo/pulls``), against downloading the same
files with plain ``requests`` to local disk, in the same run.

Everything runs on loopback as separate processes: the Zenodo stand-in
(``--big-record 20:50``), the embedded CS3 storage, and a Jupyter server with the
mesh_zenodo extension and its contents on the storage.

Both sides are measured ``--rounds`` times, alternately, and the best of each is kept
(other load on the machine only ever slows a run down). Prints both throughputs, their
ratio (target >= 0.8), the CPU time of each process during a pull, and the Jupyter
server's memory growth during a pull (target < 100 MiB). Usage::

    python benchmarks/pull.py [--files 20] [--size-mib 50] [--rounds 3] [--concurrency N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from mesh_zenodo.launcher import spawn_standin, spawn_storage
from measure import CHUNK, download, free_port, rss, cpu_seconds, reset_peak, wait_http

REPO = Path(__file__).resolve().parents[1]












def start_standin(files: int, size_mib: int, data: Path):
    """The stand-in with one big record of ``files`` files of ``size_mib`` MiB."""
    standin = spawn_standin(data, ["--big-record", f"{files}:{size_mib}", "--rate-limit", "100000,100000,100000"])
    deadline = time.monotonic() + 30
    while not (match := re.search(r"mesh-zenodo zenodo-standin: big records (\d+)", standin.output)):
        if time.monotonic() > deadline:
            raise SystemExit(f"the Zenodo stand-in announced no big record:\n{standin.output}")
        time.sleep(0.1)
    return standin, standin.ready["url"], int(match.group(1))


def plain_download(files: list[dict], folder: Path) -> None:
    """The baseline: what a script would do, one file after the other."""
    with requests.Session() as session:
        for f in files:
            download(f["links"]["self"], folder / f["key"], session=session)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--size-mib", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=None, help="PullService.concurrency (default: its own)")
    parser.add_argument("--rounds", type=int, default=3, help="measure both sides this many times, keep the best")
    args = parser.parse_args()
    total = args.files * args.size_mib * CHUNK

    with tempfile.TemporaryDirectory(prefix="mz-pull-bench-") as tmp:
        tmp = Path(tmp)
        print(f"pull benchmark: {args.files} files of {args.size_mib} MiB ({total / 2**30:.2f} GiB)", flush=True)
        standin, zenodo_url, record_id = start_standin(args.files, args.size_mib, tmp / "zenodo")
        storage = spawn_storage(tmp / "storage")
        port = free_port()
        token = os.urandom(16).hex()
        env = dict(os.environ, MESH_ZENODO_CS3_PASSWORD="relativity", JUPYTER_RUNTIME_DIR=str(tmp / "rt"),
                   JUPYTER_DATA_DIR=str(tmp / "data"), PYTHONPATH=str(REPO))
        extra = [f"--PullService.concurrency={args.concurrency}"] if args.concurrency else []
        jupyter = subprocess.Popen(
            [
                sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={port}",
                "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", "--allow-root",
                "--ServerApp.jpserver_extensions=mesh_zenodo=True",
                "--ServerApp.contents_manager_class=mesh_zenodo.contents.CS3ContentsManager",
                f"--CS3Client.gateway={storage.grpc_addr}", "--CS3Client.username=einstein",
                f"--ZenodoClient.base_url={zenodo_url}", f"--ServerApp.root_dir={tmp}", "--ServerApp.log_level=WARN",
                *extra,
            ],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp,
        )
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"token {token}"}
        try:
            wait_http(f"{base}/api/status", jupyter)
            record = requests.get(f"{zenodo_url}/api/records/{record_id}", timeout=30).json()
            files = record["files"]
            assert len(files) == args.files and sum(f["size"] for f in files) == total

            plain_times, pull_times, growths, cpus = [], [], [], []
            for round_number in range(1, args.rounds + 1):
                print(f"round {round_number}", flush=True)
                # baseline: plain requests to local disk
                (tmp / "plain").mkdir()
                started = time.perf_counter()
                plain_download(files, tmp / "plain")
                plain_times.append(time.perf_counter() - started)
                for f in files[:2]:
                    digest = hashlib.md5((tmp / "plain" / f["key"]).read_bytes()).hexdigest()
                    assert f"md5:{digest}" == f["checksum"]
                shutil.rmtree(tmp / "plain")
                print(f"  {'plain requests to local disk':<36} {plain_times[-1]:7.2f} s  "
                      f"{total / plain_times[-1] / 2**20:8.1f} MiB/s", flush=True)

                # the pull: Zenodo -> Jupyter server -> CS3 storage, md5 verified
                folder = f"pull-{round_number}-{os.urandom(4).hex()}"
                requests.put(f"{base}/api/contents/{folder}", json={"type": "directory"}, headers=headers,
                             timeout=30).raise_for_status()
                start_rss = rss(jupyter.pid)["VmRSS"]
                reset_peak(jupyter.pid)
                processes = {"jupyter": jupyter.pid, "storage": storage.pid, "zenodo stand-in": standin.pid}
                cpu_before = {name: cpu_seconds(pid) for name, pid in processes.items()}
                started = time.perf_counter()
                response = requests.post(
                    f"{base}/mesh-zenodo/zenodo/pulls", headers=headers, timeout=30,
                    data=json.dumps({"record_id": record_id, "keys": None, "destination": folder}),
                )
                response.raise_for_status()
                job = response.json()["job"]
                while job["state"] == "running":  # polled as the panel does, a little more often
                    time.sleep(0.05)
                    job = requests.get(f"{base}/mesh-zenodo/jobs/{job['id']}", headers=headers, timeout=30).json()["job"]
                pull_times.append(time.perf_counter() - started)
                if job["state"] != "done":
                    raise SystemExit(f"the pull ended {job['state']}: {json.dumps(job, indent=1)[:2000]}")
                growths.append((rss(jupyter.pid)["VmHWM"] - start_rss) / 2**20)
                cpus.append({name: cpu_seconds(pid) - cpu_before[name] for name, pid in processes.items()})
                print(f"  {'pull into the CS3 storage (REST job)':<36} {pull_times[-1]:7.2f} s  "
                      f"{total / pull_times[-1] / 2**20:8.1f} MiB/s", flush=True)
                print("  CPU seconds during the pull: " + ", ".join(f"{n} {c:.2f}" for n, c in cpus[-1].items()),
                      flush=True)
                listing = requests.get(f"{base}/api/contents/{folder}", headers=headers, timeout=30).json()
                assert sorted(m["name"] for m in listing["content"]) == sorted(f["key"] for f in files)

            # best of the rounds for each side (the machine's other load only ever slows a run down)
            plain_best, pull_best, growth = min(plain_times), min(pull_times), max(growths)
            ratio = plain_best / pull_best
            print(f"\nbest of {args.rounds}: plain {total / plain_best / 2**20:.1f} MiB/s, "
                  f"pull {total / pull_best / 2**20:.1f} MiB/s")
            print(f"ratio pull / plain requests: {ratio:.2f}  (target >= 0.80: {'ok' if ratio >= 0.8 else 'BELOW TARGET'})")
            print(f"Jupyter server memory growth during a pull (peak RSS - RSS before): {growth:.1f} MiB  "
                  f"(target < 100 MiB: {'ok' if growth < 100 else 'ABOVE TARGET'})")
        finally:
            jupyter.terminate()
            jupyter.wait(timeout=30)
            standin.stop()
            storage.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
