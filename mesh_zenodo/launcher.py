"""Run one of the project's own programs (the embedded storage, the Zenodo stand-in) as a
subprocess and wait until it serves: the one way ``mesh-zenodo lab``, the tests and the
benchmarks start them.

Each program prints one ready line once its ports are bound; the addresses are read
back from it, so with port 0 the kernel picks free ports and nothing races for them.

A program started here does not outlive the process that started it: on Linux it gets
SIGTERM (and stops cleanly) when its parent dies, even by SIGKILL or the OOM killer
(``prctl(PR_SET_PDEATHSIG)``, set in the child before it runs the program). Linux ties
that to the *thread* that started the child: start programs from a thread that lives as
long as they should (the main thread).
"""

from __future__ import annotations

import ctypes
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

STORAGE_READY = re.compile(
    r"^mesh-zenodo storage: gRPC on (?P<grpc>\S+), data gateway on (?P<scheme>https?)://(?P<http>\S+), root (?P<root>.+)$"
)
STANDIN_READY = re.compile(r"^mesh-zenodo zenodo-standin: listening on (?P<url>http://\S+)$")


class ProgramProcess:
    """A running program; ``ready`` holds the named groups of its ready line."""

    def __init__(self, name: str, process: subprocess.Popen, ready_re: re.Pattern, echo: bool = False):
        self.name = name
        self.process = process
        self.ready: dict[str, str] = {}
        self.startup_seconds = 0.0
        self._ready_re = ready_re
        self._echo = echo
        self._lines: list[str] = []
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read_output, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def output(self) -> str:
        """Everything the program printed so far (when not echoed through)."""
        return "".join(self._lines)

    def _read_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if self._echo:
                sys.stderr.write(line)
            else:
                self._lines.append(line)
            match = self._ready_re.match(line.rstrip("\n"))
            if match and not self._ready.is_set():
                self.ready = match.groupdict()
                self._ready.set()
        self._ready.set()  # EOF: wake up a waiter

    def wait_ready(self, timeout: float) -> None:
        started = time.monotonic()
        if not self._ready.wait(timeout) or not self.ready:
            self.process.kill()
            self.process.wait(10)
            raise RuntimeError(
                f"the {self.name} did not become ready within {timeout:.0f} s "
                f"(exit code {self.process.returncode}):\n{self.output}"
            )
        self.startup_seconds = time.monotonic() - started

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Ask the program to stop and wait for it; a dirty exit raises RuntimeError."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
                raise RuntimeError(f"the {self.name} did not stop within {timeout:.0f} s after signal {sig}") from None
        self._reader.join(5)
        code = self.process.returncode
        if code != 0:
            raise RuntimeError(f"the {self.name} exited with code {code}:\n{self.output}")
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


class StorageProcess(ProgramProcess):
    """The embedded CS3 storage: ``grpc_addr`` / ``http_addr`` are ``HOST:PORT``."""

    def __init__(self, process: subprocess.Popen, root: Path, echo: bool = False):
        super().__init__("storage", process, STORAGE_READY, echo)
        self.root = root

    @property
    def grpc_addr(self) -> str:
        return self.ready.get("grpc", "")

    @property
    def http_addr(self) -> str:
        return self.ready.get("http", "")

    @property
    def http_url(self) -> str:
        return f"{self.ready.get('scheme', 'http')}://{self.http_addr}"


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent_hook():
    """A ``preexec_fn`` that makes the child get SIGTERM when its parent dies (Linux;
    ``None`` elsewhere). libc is loaded here, in the parent: the hook itself only calls it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # libc's, linked into the interpreter
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def hook() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the prctl: the signal will not come
            os.kill(os.getpid(), signal.SIGTERM)

    return hook


def _popen(command: list[str], env: dict[str, str] | None) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        # its own session: a Ctrl+C in the terminal reaches the program that started it,
        # which stops this one in order (Jupyter first asks whether to shut down)
        start_new_session=True,
        # and it stops when the process that started it dies, however it dies
        preexec_fn=die_with_parent_hook(),
    )


def storage_command(root: Path, grpc_addr: str, http_addr: str, extra_args: Sequence[str] = ()) -> list[str]:
    return [sys.executable, "-m", "mesh_zenodo.storage", "--root", str(root), "--grpc", grpc_addr, "--http", http_addr,
            *extra_args]


def spawn_storage(
    root: Path,
    grpc_addr: str = "127.0.0.1:0",
    http_addr: str = "127.0.0.1:0",
    extra_args: Sequence[str] = (),
    *,
    timeout: float = 30.0,
    echo: bool = False,
    env: dict[str, str] | None = None,
) -> StorageProcess:
    """Start the embedded storage and wait until it serves. ``echo`` passes its log
    through to our stderr."""
    root = Path(root)
    storage = StorageProcess(_popen(storage_command(root, grpc_addr, http_addr, extra_args), env), root, echo)
    storage.wait_ready(timeout)
    return storage


def spawn_standin(
    data: Path,
    extra_args: Sequence[str] = (),
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    timeout: float = 60.0,
    env: dict[str, str] | None = None,
) -> ProgramProcess:
    """Start the Zenodo stand-in and wait until it serves; its URL is ``ready["url"]``."""
    data = Path(data)
    data.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "mesh_zenodo.standin", "--host", host, "--port", str(port),
               "--data", str(data), *extra_args]
    standin = ProgramProcess("Zenodo stand-in", _popen(command, env), STANDIN_READY)
    standin.wait_ready(timeout)
    return standin
