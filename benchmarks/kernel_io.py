"""Kernel I/O benchmark: writing and reading a 1 GiB file from a kernel's Python process
through the FUSE mount (``open()`` in the notebook's folder) and through ``cs3://``
(fsspec), against the same on local disk, in the same run.

The embedded storage and the mount program run as ``mesh-zenodo lab`` runs them (the
mount with a token file); the reads and writes happen in a separate Python process, as
in a kernel, 1 MiB at a time. Local disk: the same file written (and fsynced) and read
back on the same disk as the storage's data. Before each read the file's pages are
dropped from the page cache on every side (the local file; the storage's copy), so that
"local disk" means the disk and not memory (a kernel reading its data set), and the
storage reads from the same disk. Prints MiB/s and the ratio of each to local disk;
targets: reads >= 0.6x, writes >= 0.5x. Usage::

    python benchmarks/kernel_io.py [--size-mib 1024] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from mesh_zenodo.cs3.client import TOKEN_FILE_ENV
from mesh_zenodo.launcher import spawn_storage
from mesh_zenodo.pytest_plugin import StorageUser

REPO = Path(__file__).resolve().parents[1]

#: runs in the "kernel": writes or reads a file with plain open() or fsspec, 1 MiB at a time
WORKER = textwrap.dedent("""
    import json, os, sys, time
    how, phase, target, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if how == "fsspec":
        import fsspec
        opener = lambda mode: fsspec.open(target, mode)
    else:
        opener = lambda mode: open(target, mode)
    started = time.perf_counter()
    if phase == "write":
        block = os.urandom(1 << 20)
        with opener("wb") as f:
            for _ in range(size >> 20):
                f.write(block)
            if how == "local":
                f.flush()
                os.fsync(f.fileno())
    else:
        total = 0
        with opener("rb") as f:
            while chunk := f.read(1 << 20):
                total += len(chunk)
        assert total == size, (total, size)
    print(json.dumps({"seconds": time.perf_counter() - started}))
""")


def run_worker(how: str, phase: str, target: str, size: int, env: dict[str, str]) -> float:
    result = subprocess.run([sys.executable, "-c", WORKER, how, phase, target, str(size)], env=env,
                            capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise SystemExit(f"{how} failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])["seconds"]


def drop_from_page_cache(path: Path) -> None:
    """Forget a file's cached pages (its next read comes from the disk)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    size = args.size_mib << 20
    with tempfile.TemporaryDirectory(prefix="mz-kernel-io-") as tmp:
        tmp = Path(tmp)
        storage = spawn_storage(tmp / "storage")
        einstein = StorageUser(storage.grpc_addr, "einstein")
        token_file = tmp / "token"
        token_file.write_text(einstein.token)
        mountpoint = tmp / "cs3"
        mountpoint.mkdir()
        env = {**os.environ, "PYTHONPATH": str(REPO), "MESH_ZENODO_CS3_GATEWAY": storage.grpc_addr,
               TOKEN_FILE_ENV: str(token_file)}
        env.pop("MESH_ZENODO_CS3_PASSWORD", None)
        mount = subprocess.Popen([sys.executable, "-m", "mesh_zenodo.fs.mount", str(mountpoint), "--root", "/home",
                                  "--spool-dir", str(tmp)], env=env, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while not os.path.ismount(mountpoint):
                if time.monotonic() > deadline or mount.poll() is not None:
                    raise SystemExit("the mount did not come up")
                time.sleep(0.05)
            (tmp / "local").mkdir()
            home = tmp / "storage" / "home" / "einstein"  # the embedded storage's copy of /home
            paths = {  # label: (how, target, the file on disk to drop from the cache before reading)
                "local disk": ("local", str(tmp / "local" / "big.bin"), tmp / "local" / "big.bin"),
                "FUSE mount (open)": ("mount", str(mountpoint / "big.bin"), home / "big.bin"),
                "cs3:// (fsspec)": ("fsspec", "cs3://home/big-fsspec.bin", home / "big-fsspec.bin"),
            }
            print(f"kernel I/O benchmark: {args.size_mib} MiB, best of {args.rounds}", flush=True)
            best: dict[str, dict[str, float]] = {}
            for round_number in range(1, args.rounds + 1):
                for label, (how, target, on_disk) in paths.items():
                    seen = {"write": run_worker(how, "write", target, size, env)}
                    drop_from_page_cache(on_disk)
                    seen["read"] = run_worker(how, "read", target, size, env)
                    print(f"  round {round_number} {label:<20} write {seen['write']:6.2f} s  "
                          f"read {seen['read']:6.2f} s", flush=True)
                    mine = best.setdefault(label, {"write": seen["write"], "read": seen["read"]})
                    mine["write"], mine["read"] = min(mine["write"], seen["write"]), min(mine["read"], seen["read"])
                    if how == "local":
                        os.unlink(target)
            mib = size / 2**20
            local = best["local disk"]
            print("\nresults (MiB/s; ratio to local disk; targets: read >= 0.6, write >= 0.5)")
            for label, times in best.items():
                write_rate, read_rate = mib / times["write"], mib / times["read"]
                line = f"  {label:<20} write {write_rate:8.1f}  read {read_rate:8.1f}"
                if label != "local disk":
                    w, r = local["write"] / times["write"], local["read"] / times["read"]
                    line += (f"   ratio write {w:5.2f} ({'ok' if w >= 0.5 else 'MISSED'})"
                             f"  read {r:5.2f} ({'ok' if r >= 0.6 else 'MISSED'})")
                print(line)
        finally:
            mount.terminate()
            mount.wait(timeout=60)
            einstein.close()
            storage.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
