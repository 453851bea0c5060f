"""`mesh-zenodo lab --gateway ... --debug` with the password in the environment, as the
README documents: the password is in no log, no environment and no command line of the
server or its kernels; kernels start in the storage's FUSE mount; Lab's workspaces are per user."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
import urllib.request
from pathlib import Path

import pytest
from test_cli import lab_env, launch_lab, stop, wait_for

from traitlets.config import Config

from mesh_zenodo.cs3.client import CS3Client
from mesh_zenodo.pytest_plugin import PASSWORDS, StorageUser, free_port, start_storage

PASSWORD = PASSWORDS["einstein"]


class Lab:
    def __init__(self, process, url: str, token: str, log_path: Path) -> None:
        self.process, self.url, self.token, self.log_path = process, url, token, log_path

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read()
            return response.status, json.loads(text) if text else {}


def open_lab(storage, user: str, tmp: Path, name: str) -> Lab:
    port, token = free_port(), secrets.token_hex(16)
    log_path = tmp / f"{name}.log"
    process = launch_lab(["--gateway", storage.grpc_addr, "--user", user, "--debug"],
                         lab_env(tmp, PASSWORDS[user]), log_path, port, token)
    lab = Lab(process, f"http://127.0.0.1:{port}", token, log_path)
    wait_for(f"{lab.url}/api/status", process, log_path, {"Authorization": f"token {token}"})
    return lab


@pytest.fixture(scope="module")
def storage(tmp_path_factory):
    process = start_storage(tmp_path_factory.mktemp("storage"))
    einstein = StorageUser(process.grpc_addr, "einstein")
    einstein.put_ok("/home/on-the-storage.txt", b"hello")
    einstein.close()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def jupyter_home(tmp_path_factory) -> Path:
    """Jupyter's config, data and runtime folders, shared by the Labs of this module."""
    return tmp_path_factory.mktemp("jupyter")


@pytest.fixture(scope="module")
def einstein_lab(storage, jupyter_home):
    lab = open_lab(storage, "einstein", jupyter_home, "einstein")
    # a kernel, started as Lab starts one
    status, kernel = lab.request("POST", "/api/kernels", {"name": "python3"})
    assert status == 201
    lab.kernel_pid = find_kernel(kernel["id"], lab.process.pid)
    yield lab
    stop(lab.process)


def find_kernel(kernel_id: str, server_pid: int) -> int:
    """The pid of the kernel ``kernel_id`` of the server (its connection file names it)."""
    deadline = time.monotonic() + 60
    while True:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes()
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if f"kernel-{kernel_id}.json".encode() in cmdline and ppid == server_pid:
                return int(entry.name)
        if time.monotonic() > deadline:
            raise AssertionError(f"no process of kernel {kernel_id}")
        time.sleep(0.2)


def test_lab_works_and_shows_the_storage(einstein_lab):
    status, listing = einstein_lab.request("GET", "/api/contents")
    assert status == 200
    assert "on-the-storage.txt" in [item["name"] for item in listing["content"]]


def test_the_password_is_in_no_log_environment_or_command_line(einstein_lab):
    assert einstein_lab.request("GET", "/api/contents")[0] == 200
    log = einstein_lab.log
    assert "Config changed" in log  # it is the DEBUG log
    assert log.count(PASSWORD) == 0
    secret = PASSWORD.encode()
    server = einstein_lab.process.pid
    kernel = einstein_lab.kernel_pid
    for pid in (server, kernel):
        assert Path(f"/proc/{pid}/environ").read_bytes().count(secret) == 0
        assert Path(f"/proc/{pid}/cmdline").read_bytes().count(secret) == 0
        assert b"MESH_ZENODO_CS3_PASSWORD" not in Path(f"/proc/{pid}/environ").read_bytes()


def test_the_access_token_is_not_in_the_debug_log(einstein_lab):
    assert einstein_lab.request("GET", "/api/contents")[0] == 200
    assert "eyJ" not in einstein_lab.log


def test_kernels_start_on_the_storage_mount(einstein_lab, jupyter_home):
    """mesh-zenodo lab mounts the storage (FUSE, as CI runs: root with /dev/fuse): a kernel
    started without a notebook works in the mount's root, what the file browser shows as /."""
    status, session = einstein_lab.request("GET", "/mesh-zenodo/session")
    assert status == 200 and session["kernels"]["mounted"] is True, session
    mount = session["kernels"]["path"]
    assert mount.startswith(str(jupyter_home))  # under Jupyter's runtime folder
    assert os.readlink(f"/proc/{einstein_lab.kernel_pid}/cwd") == mount
    assert "on-the-storage.txt" in os.listdir(mount)
    # the scratch folder is there for a machine without FUSE, and says so
    readme = (jupyter_home / "data" / "mesh-zenodo" / "scratch" / "einstein" / "README.txt").read_text()
    assert "cannot be mounted" in readme and "cs3://" in readme


def test_each_user_has_workspaces_of_their_own(storage, einstein_lab, jupyter_home):
    layout = {"layout-restorer:data": {"main": {"current": "editor:on-the-storage.txt"}}}
    status, _ = einstein_lab.request("PUT", "/lab/api/workspaces/lab",
                                     {"data": layout, "metadata": {"id": "lab"}})
    assert status == 204
    assert einstein_lab.request("GET", "/lab/api/workspaces/lab")[1]["data"] == layout
    marie = open_lab(storage, "marie", jupyter_home, "marie")
    try:
        status, workspace = marie.request("GET", "/lab/api/workspaces/lab")
    finally:
        stop(marie.process)
    assert status == 200
    assert workspace["data"] != layout  # marie does not get einstein's tabs
    folders = {p.parent.name for p in (jupyter_home / "data" / "mesh-zenodo" / "workspaces").rglob("*.jupyterlab-workspace")}
    assert folders == {"einstein"}


def test_a_site_config_can_hand_the_password_over_a_descriptor(storage):
    """``c.CS3Client.password_fd = N`` (e.g. ``jupyter lab 3<secret-file``): the password is
    read once, to the end, without its newline; the descriptor is closed; a second client of
    the same configuration signs in too."""
    read_end, write_end = os.pipe()
    os.write(write_end, f"{PASSWORD}\n".encode())
    os.close(write_end)
    pipe = os.fstat(read_end)
    config = Config({"CS3Client": {"gateway": storage.grpc_addr, "username": "einstein", "password_fd": read_end}})

    async def sign_in() -> str:
        client = CS3Client(config=config)
        try:
            return (await client.authenticate()).username
        finally:
            await client.close()

    assert asyncio.run(sign_in()) == "einstein"
    assert asyncio.run(sign_in()) == "einstein"
    try:  # the descriptor is closed (its number may have been given to another file since)
        now = os.fstat(read_end)
        still_the_pipe = (now.st_dev, now.st_ino) == (pipe.st_dev, pipe.st_ino)
    except OSError:
        still_the_pipe = False
    assert not still_the_pipe
