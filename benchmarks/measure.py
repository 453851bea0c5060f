"""What the benchmarks share: ports, process memory and CPU from /proc, waiting for a
server, hashing a file."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import time
from pathlib import Path

import requests

CHUNK = 1 << 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in bytes."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) * 1024
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_peak(pid: int) -> None:
    """Reset VmHWM to the current RSS (writing 5 to clear_refs, Linux >= 4.0)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass


def wait_http(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    """Wait until ``url`` answers at all (any status), or fail if ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the process exited with code {process.returncode}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up within {timeout:.0f} s")


def md5_of(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, dst: Path, headers: dict | None = None, session: requests.Session | None = None) -> None:
    """Stream ``url`` to the file ``dst`` as a plain script would (1 MiB pieces)."""
    get = session.get if session is not None else requests.get
    with get(url, stream=True, timeout=120, headers=headers or {}) as r, open(dst, "wb") as f:
        r.raise_for_status()
        for chunk in r.iter_content(CHUNK):
            f.write(chunk)
