"""`mesh-zenodo lab` as the README runs it: the embedded storage comes up beside Lab,
Lab is signed in to it as einstein, and stopping Lab stops the storage; as root it starts
with a warning; the account is checked before Lab starts; `mesh-zenodo --version`.

The helpers here (``lab_env``, ``launch_lab``, ``wait_for``, ``stop``) are shared by the
other ``test_cli_*.py`` modules."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from mesh_zenodo import __version__
from mesh_zenodo.pytest_plugin import PASSWORDS, free_port, source_tree_env, start_storage


def wait_for(url: str, process: subprocess.Popen, log_path, headers: dict[str, str] | None = None) -> bytes:
    """GET ``url`` once Lab answers (a deadline for starting, not a timing assertion)."""
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as response:
                return response.read()
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError(log_path.read_text(errors="replace"))
            time.sleep(0.3)


def lab_env(tmp_path: Path, password: str | None = None) -> dict[str, str]:
    """This source tree's programs with Jupyter's folders under ``tmp_path``, and the CS3
    password in the environment (as the README documents) when given."""
    env = dict(
        source_tree_env(),
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
    )
    env.pop("MESH_ZENODO_CS3_PASSWORD", None)
    if password is not None:
        env["MESH_ZENODO_CS3_PASSWORD"] = password
    return env


def launch_lab(args: list[str], env: dict[str, str], log_path: Path, port: int, token: str = "") -> subprocess.Popen:
    """``mesh-zenodo lab ARGS`` on ``port``, its output in ``log_path`` (no --allow-root,
    no root_dir: what the CLI sets itself is what is tested)."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "mesh_zenodo.cli", "lab", *args, "--no-browser", f"--port={port}",
             "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", "--ServerApp.password="],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=log_path.parent,
        )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_cli(args: list[str], env: dict[str, str], cwd: Path, **kw) -> subprocess.CompletedProcess:
    """``mesh-zenodo ARGS`` to its end; one that keeps running (Lab started after all)
    is stopped at the deadline and fails the test."""
    return subprocess.run([sys.executable, "-m", "mesh_zenodo.cli", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120, **kw)


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


def test_version():
    result = run_cli(["--version"], source_tree_env(), Path.cwd())
    assert result.returncode == 0
    assert result.stdout.strip() == f"mesh-zenodo {__version__}"


def test_embedded_storage_refuses_an_unknown_user_before_asking_a_password(tmp_path):
    """`--user nobody` used to prompt for nobody's password (stdin is a terminal here)."""
    grpc_addr, http_addr = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    primary, secondary = os.openpty()
    try:
        result = run_cli(
            ["lab", "--user", "nobody", "--storage-grpc", grpc_addr, "--storage-http", http_addr, "--no-browser",
             f"--port={free_port()}"],
            lab_env(tmp_path), tmp_path, stdin=secondary, start_new_session=True,
        )
    finally:
        os.close(primary)
        os.close(secondary)
    assert result.returncode != 0
    assert "password" not in result.stdout + result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last == (f"mesh-zenodo: the embedded storage at {grpc_addr} has no user 'nobody' "
                    "(its users: einstein, marie, richard; use --user NAME)")
    assert "Traceback" not in result.stderr
    assert not port_open(grpc_addr) and not port_open(http_addr), "the storage it started outlived it"


def test_gateway_wrong_password_or_unknown_user_stops_before_lab(tmp_path):
    storage = start_storage(tmp_path / "storage")
    try:
        wrong = run_cli(["lab", "--gateway", storage.grpc_addr, "--user", "einstein", "--no-browser",
                         f"--port={free_port()}"], lab_env(tmp_path, "not-his-password"), tmp_path)
        unknown = run_cli(["lab", "--gateway", storage.grpc_addr, "--user", "nobody", "--no-browser",
                           f"--port={free_port()}"], lab_env(tmp_path, PASSWORDS["einstein"]), tmp_path)
    finally:
        storage.stop()
    assert wrong.returncode == 1
    assert wrong.stderr.splitlines() == [
        f"mesh-zenodo: signing in to {storage.grpc_addr} as einstein failed: wrong username or password"
    ]
    assert "not-his-password" not in wrong.stdout + wrong.stderr
    assert unknown.returncode == 1
    assert unknown.stderr.splitlines() == [f"mesh-zenodo: the CS3 gateway at {storage.grpc_addr} has no user 'nobody'"]


def test_lab_starts_as_root_and_with_an_unreachable_gateway_with_one_warning_each(tmp_path):
    """The README's first command as root (containers, CI): no --allow-root needed. A
    gateway that does not answer is a warning, and Lab starts."""
    gateway = f"127.0.0.1:{free_port()}"  # nothing listens there
    port = free_port()
    log_path = tmp_path / "lab.log"
    process = launch_lab(["--gateway", gateway], lab_env(tmp_path, "some-password"), log_path, port)
    try:
        status = json.loads(wait_for(f"http://127.0.0.1:{port}/api/status", process, log_path))
        assert "started" in status
    finally:
        stop(process)
    lines = log_path.read_text(errors="replace").splitlines()
    root_lines = [line for line in lines if "root" in line.lower() and "warning" in line.lower()]
    if os.geteuid() == 0:
        assert root_lines == ["mesh-zenodo: warning: running as root: Lab, its kernels and terminals run as root"]
    else:
        assert root_lines == []
    assert "Running as root is not recommended" not in "\n".join(lines)
    unreachable = [line for line in lines if line.startswith("mesh-zenodo: warning: signing in")]
    assert unreachable == [
        f"mesh-zenodo: warning: signing in to {gateway} as einstein failed: the CS3 gateway is unreachable "
        "(connection refused: is the storage running?); Lab starts anyway, without its files until the gateway answers"
    ]
