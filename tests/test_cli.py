"""`mesh-zenodo lab` as the README runs it: the embedded storage comes up beside Lab,
Lab is signed in to it as einstein, and stopping Lab stops the storage."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from mesh_zenodo.pytest_plugin import free_port


def wait_for(url: str, process: subprocess.Popen, log_path) -> bytes:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError(log_path.read_text(errors="replace"))
            time.sleep(0.3)


def port_open(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    with socket.socket() as s:
        return s.connect_ex((host, int(port))) == 0


def test_lab_starts_embedded_storage_and_stops_it(tmp_path):
    grpc_addr, http_addr = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    port = free_port()
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
    )
    env.pop("MESH_ZENODO_CS3_PASSWORD", None)
    log_path = tmp_path / "lab.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "mesh_zenodo.cli", "lab", "--storage-grpc", grpc_addr, "--storage-http", http_addr,
                "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=",
                "--ServerApp.password=", "--allow-root", f"--ServerApp.root_dir={tmp_path}",
            ],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=tmp_path,
        )
        try:
            session = json.loads(wait_for(f"http://127.0.0.1:{port}/mesh-zenodo/session", process, log_path))
            assert session["connected"] is True
            assert session["user"]["username"] == "einstein"
            assert session["storage"] == {"gateway": grpc_addr, "embedded": True, "home": "/home"}
            assert session["contents"] == "cs3"
            # the storage keeps its data under Jupyter's data directory
            assert (tmp_path / "data" / "mesh-zenodo" / "storage").is_dir()
            # no password on the command line of any process we started
            for pid in (process.pid,):
                cmdline = open(f"/proc/{pid}/cmdline", "rb").read()
                assert b"relativity" not in cmdline
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    assert process.returncode == 0, log_path.read_text(errors="replace")
    assert not port_open(grpc_addr), "the embedded storage outlived Lab"
    assert "Traceback" not in log_path.read_text(errors="replace")
    assert "mesh-zenodo storage: gRPC on" in log_path.read_text()


def test_storage_command_rejects_a_bad_users_file(tmp_path):
    users = tmp_path / "users.json"
    users.write_text("{not json")
    result = subprocess.run(
        [sys.executable, "-m", "mesh_zenodo.cli", "storage", "--root", str(tmp_path / "root"), "--users", str(users),
         "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "users" in result.stderr and "Traceback" not in result.stderr
