"""The embedded storage that `mesh-zenodo lab` starts lives as long as that Lab: a second
Lab says that it depends on the first, and a Lab killed outright leaves no storage behind."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from test_cli import lab_env, launch_lab, port_open, stop, wait_for

from mesh_zenodo.pytest_plugin import free_port


def children(pid: int) -> dict[int, bytes]:
    """The processes whose parent is ``pid``, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                found[int(entry.name)] = (entry / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
    return found


def running(pid: int) -> bool:
    """Is ``pid`` a live process (not gone, not a zombie waiting to be reaped)?"""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def embedded_args(grpc_addr: str, http_addr: str) -> list[str]:
    return ["--storage-grpc", grpc_addr, "--storage-http", http_addr]


def test_a_second_lab_says_which_lab_its_storage_depends_on(tmp_path):
    grpc_addr, http_addr = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    env = lab_env(tmp_path)
    first_port, second_port = free_port(), free_port()
    first = launch_lab(embedded_args(grpc_addr, http_addr), env, tmp_path / "first.log", first_port)
    second = None
    try:
        wait_for(f"http://127.0.0.1:{first_port}/api/status", first, tmp_path / "first.log")
        second = launch_lab(embedded_args(grpc_addr, http_addr) + ["--user", "marie"], env, tmp_path / "second.log",
                            second_port)
        wait_for(f"http://127.0.0.1:{second_port}/api/status", second, tmp_path / "second.log")
    finally:
        if second is not None:
            stop(second)
        stop(first)
    said = [line for line in (tmp_path / "second.log").read_text().splitlines() if line.startswith("mesh-zenodo:")]
    assert said[0] == (f"mesh-zenodo: using the embedded storage at {grpc_addr} started by mesh-zenodo lab "
                       f"(pid {first.pid}); it stops when that one stops")
    assert "mesh-zenodo storage: gRPC on" not in (tmp_path / "second.log").read_text()  # it started none


def test_a_killed_lab_leaves_no_storage_behind(tmp_path):
    grpc_addr, http_addr = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    port = free_port()
    log_path = tmp_path / "lab.log"
    lab = launch_lab(embedded_args(grpc_addr, http_addr), lab_env(tmp_path), log_path, port)
    storage_pid = None
    try:
        wait_for(f"http://127.0.0.1:{port}/api/status", lab, log_path)
        storages = [pid for pid, cmdline in children(lab.pid).items() if b"mesh_zenodo.storage" in cmdline]
        assert len(storages) == 1, children(lab.pid)
        storage_pid = storages[0]
        assert port_open(grpc_addr) and port_open(http_addr)

        lab.send_signal(signal.SIGKILL)  # as the OOM killer would
        lab.wait(timeout=30)

        deadline = time.monotonic() + 30
        while running(storage_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not running(storage_pid), "the storage outlived the Lab that started it"
        assert not port_open(grpc_addr) and not port_open(http_addr)
    finally:
        stop(lab)
        if storage_pid is not None and running(storage_pid):
            os.kill(storage_pid, signal.SIGKILL)  # the orphan this test is about: do not leave it behind
