"""Run the embedded storage as a subprocess and wait until it serves.

The one way other programs start it: ``mesh-zenodo lab`` (the storage beside Lab), the
tests and the benchmarks.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

READY_RE = re.compile(
    r"^mesh-zenodo storage: gRPC on (?P<grpc>\S+), data gateway on http://(?P<http>\S+), root (?P<root>.+)$"
)


class StorageProcess:
    """A running storage: ``grpc_addr`` / ``http_addr`` are ``HOST:PORT``."""

    def __init__(self, process: subprocess.Popen, root: Path, echo: bool = False):
        self.process = process
        self.root = root
        self.echo = echo
        self.grpc_addr = ""
        self.http_addr = ""
        self.startup_seconds = 0.0
        self._lines: list[str] = []
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()

    @property
    def http_url(self) -> str:
        return f"http://{self.http_addr}"

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def output(self) -> str:
        """Everything the storage wrote to stderr so far."""
        return "".join(self._lines)

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if self.echo:
                sys.stderr.write(line)
            else:
                self._lines.append(line)
            match = READY_RE.match(line.rstrip("\n"))
            if match and not self._ready.is_set():
                self.grpc_addr = match["grpc"]
                self.http_addr = match["http"]
                self._ready.set()
        self._ready.set()  # EOF: wake up a waiter

    def wait_ready(self, timeout: float) -> None:
        if not self._ready.wait(timeout) or not self.grpc_addr:
            self.process.kill()
            self.process.wait(10)
            raise RuntimeError(
                f"the storage did not become ready within {timeout:.0f} s "
                f"(exit code {self.process.returncode}):\n{self.output}"
            )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Ask the storage to stop and wait for it; a dirty exit raises RuntimeError."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
                raise RuntimeError(f"the storage did not stop within {timeout:.0f} s after signal {sig}") from None
        self._reader.join(5)
        code = self.process.returncode
        if code != 0:
            raise RuntimeError(f"the storage exited with code {code}:\n{self.output}")
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def storage_command(root: Path, grpc_addr: str, http_addr: str, extra_args: Sequence[str] = ()) -> list[str]:
    return [sys.executable, "-m", "mesh_zenodo.storage", "--root", str(root), "--grpc", grpc_addr, "--http", http_addr,
            *extra_args]


def spawn(
    root: Path,
    grpc_addr: str = "127.0.0.1:0",
    http_addr: str = "127.0.0.1:0",
    extra_args: Sequence[str] = (),
    *,
    timeout: float = 30.0,
    echo: bool = False,
    env: dict[str, str] | None = None,
) -> StorageProcess:
    """Start the storage and wait for its ready line. With port 0 the kernel picks free
    ports, read back from the ready line (no race for a "free" port). ``echo`` passes
    its log through to our stderr."""
    root = Path(root)
    process = subprocess.Popen(
        storage_command(root, grpc_addr, http_addr, extra_args),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # its own session: a Ctrl+C in the terminal reaches the program that started it,
        # which stops the storage in order (Jupyter first asks whether to shut down)
        start_new_session=True,
    )
    storage = StorageProcess(process, root, echo=echo)
    started = time.monotonic()
    storage.wait_ready(timeout)
    storage.startup_seconds = time.monotonic() - started
    return storage
