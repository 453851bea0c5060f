"""What the benchmarks share: ports, process memory and CPU from /proc, waiting for a
server, hashing a file."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
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


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


PASSWORDS = {"einstein": "relativity", "marie": "radioactivity", "richard": "superfluidity"}


def start_jupyter(storage, tmp: Path, user: str = "einstein") -> tuple[subprocess.Popen, str, str]:
    """A Jupyter server whose files are ``user``'s on the embedded ``storage`` (a
    ``StorageProcess``): ``(process, base URL, token)``, once it answers."""
    port, token = free_port(), os.urandom(16).hex()
    env = dict(os.environ, MESH_ZENODO_CS3_PASSWORD=PASSWORDS[user], JUPYTER_RUNTIME_DIR=str(tmp / f"rt-{user}"))
    process = subprocess.Popen(
        [
            sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={port}",
            "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", "--allow-root",
            "--ServerApp.contents_manager_class=mesh_zenodo.contents.CS3ContentsManager",
            f"--CS3Client.gateway={storage.grpc_addr}", f"--CS3Client.username={user}",
            f"--CS3Client.public_links_url={storage.http_url}/s/",
            f"--ServerApp.root_dir={tmp}",
        ],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp,
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/api/status", process)
    return process, base, token


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
