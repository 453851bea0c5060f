"""The pytest plugin of mesh-zenodo: real programs on loopback for tests.

Load it with ``pytest_plugins = ["pytest_jupyter.jupyter_server", "mesh_zenodo.pytest_plugin"]``
in a ``conftest.py``. It gives

- the embedded CS3 storage as a real process (:func:`start_storage`, fixtures
  ``mz_storage`` for the session and ``mz_server`` per module), and
  :class:`StorageUser`, a user's view of it through the raw cs3apis stubs (fixtures
  ``mz_raw``, ``mz_einstein``, ``mz_marie``) that checks what landed on the storage
  without the client under test;
- a Jupyter server (pytest-jupyter's ``jp_serverapp`` / ``jp_fetch``) whose contents live
  in a fresh folder of that storage (``mz_cs3_root``, ``jp_server_config``);
- the Zenodo stand-in as a real process (:func:`start_standin`, fixture ``mz_standin``)
  and the test server's extension with the stand-in reset (``mz_zenodo``, ``mz_fetch``);
- `mesh-zenodo lab` started as a user would, for the browser tests (:func:`start_lab`),
  and Debian's Chromium for Playwright (:data:`CHROMIUM`, :data:`CHROMIUM_ARGS`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Sequence
from pathlib import Path

import grpc
import pytest
import requests
from cs3.gateway.v1beta1 import gateway_api_pb2 as gw
from cs3.gateway.v1beta1 import gateway_api_pb2_grpc as gw_grpc
from cs3.identity.group.v1beta1 import group_api_pb2 as group_api
from cs3.identity.group.v1beta1 import resources_pb2 as group_res
from cs3.identity.user.v1beta1 import user_api_pb2 as user_api
from cs3.rpc.v1beta1 import code_pb2
from cs3.sharing.collaboration.v1beta1 import collaboration_api_pb2 as col_api
from cs3.sharing.collaboration.v1beta1 import resources_pb2 as col_res
from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp
from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from cs3.types.v1beta1 import types_pb2
from playwright.sync_api import sync_playwright
from traitlets.config import Config

from .launcher import ProgramProcess, StorageProcess, spawn_standin, spawn_storage, storage_command  # noqa: F401

# ----------------------------------------------------------------------------------------
# The embedded storage
# ----------------------------------------------------------------------------------------
REPO_ROOT = Path(__file__).resolve().parents[1]
#: the source tree: the programs the tests start run its code


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def source_tree_env() -> dict[str, str]:
    """The environment for our programs' subprocesses: this source tree first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_storage(root: Path, extra_args: Sequence[str] = (), *, timeout: float = 30.0) -> StorageProcess:
    """The storage on free loopback ports, running this source tree's code."""
    return spawn_storage(Path(root), extra_args=extra_args, timeout=timeout, env=source_tree_env())


# ----------------------------------------------------------------------------------------
# A user's view of the storage through the raw cs3apis stubs (sync gRPC + requests).
# ----------------------------------------------------------------------------------------
PASSWORDS = {"einstein": "relativity", "marie": "radioactivity", "richard": "superfluidity"}


class StorageUser:
    """Signs in as ``username`` and offers thin wrappers around the raw stubs.

    Wrappers return the raw responses; nothing here interprets status codes except the
    ``*_ok`` helpers, which assert ``CODE_OK``.
    """

    def __init__(self, grpc_addr: str, username: str, password: str | None = None):
        self.channel = grpc.insecure_channel(grpc_addr)
        self.stub = gw_grpc.GatewayAPIStub(self.channel)
        res = self.stub.Authenticate(
            gw.AuthenticateRequest(
                type="basic", client_id=username, client_secret=PASSWORDS[username] if password is None else password
            )
        )
        assert res.status.code == code_pb2.CODE_OK, res.status
        self.username = username
        self.user = res.user
        self.token = res.token
        self.md = (("x-access-token", self.token),)

    def close(self) -> None:
        self.channel.close()

    @staticmethod
    def ref(path_or_id, relative: str = ""):
        if isinstance(path_or_id, str):
            return spr.Reference(path=path_or_id)
        return spr.Reference(resource_id=path_or_id, path=relative)

    def call(self, method: str, request, **kw):
        return getattr(self.stub, method)(request, metadata=self.md, **kw)

    # -- namespace -------------------------------------------------------------------
    def stat(self, target, relative: str = "", keys=()):
        return self.call("Stat", sp.StatRequest(ref=self.ref(target, relative), arbitrary_metadata_keys=list(keys)))

    def info(self, target):
        """The ResourceInfo at ``target``, or None when there is nothing there."""

        res = self.stat(target)
        if res.status.code == code_pb2.CODE_NOT_FOUND:
            return None
        assert res.status.code == code_pb2.CODE_OK, res.status
        return res.info

    def stat_ok(self, target, relative: str = "", keys=()):
        res = self.stat(target, relative, keys)
        assert res.status.code == code_pb2.CODE_OK, res.status
        return res.info

    def ls(self, target, **kw):
        return self.call("ListContainer", sp.ListContainerRequest(ref=self.ref(target), **kw))

    def names(self, target) -> list[str]:
        res = self.ls(target)
        assert res.status.code == code_pb2.CODE_OK, res.status
        return [i.name for i in res.infos]

    def mkdir(self, target):
        return self.call("CreateContainer", sp.CreateContainerRequest(ref=self.ref(target)))

    def touch(self, target):
        return self.call("TouchFile", sp.TouchFileRequest(ref=self.ref(target)))

    def delete(self, target):
        return self.call("Delete", sp.DeleteRequest(ref=self.ref(target)))

    def move(self, source, destination):
        return self.call("Move", sp.MoveRequest(source=self.ref(source), destination=self.ref(destination)))

    # -- data ------------------------------------------------------------------------
    def initiate_upload(self, target, length: int | None = None, **options):
        opaque = types_pb2.Opaque()
        if length is not None:
            opaque.map["Upload-Length"].CopyFrom(types_pb2.OpaqueEntry(decoder="plain", value=str(length).encode()))
        return self.call(
            "InitiateFileUpload", sp.InitiateFileUploadRequest(ref=self.ref(target), opaque=opaque, **options)
        )

    def upload_protocol(self, target, protocol: str = "simple", length: int | None = None, **options):
        res = self.initiate_upload(target, length, **options)
        assert res.status.code == code_pb2.CODE_OK, res.status
        return next(p for p in res.protocols if p.protocol == protocol)

    def put(self, target, data: bytes, **options):
        """Initiate + simple PUT; returns the HTTP response."""

        proto = self.upload_protocol(target, "simple", len(data), **options)
        return requests.put(
            proto.upload_endpoint,
            data=data,
            headers={"X-Reva-Transfer": proto.token, "x-access-token": self.token, "Upload-Length": str(len(data))},
            timeout=60,
        )

    def put_ok(self, target, data: bytes, **options):
        response = self.put(target, data, **options)
        assert response.status_code == 200, (response.status_code, response.text)
        return response

    def download_protocol(self, target):
        res = self.call("InitiateFileDownload", sp.InitiateFileDownloadRequest(ref=self.ref(target)))
        assert res.status.code == code_pb2.CODE_OK, res.status
        return next(p for p in res.protocols if p.protocol == "simple")

    def get(self, target, headers: dict[str, str] | None = None, method: str = "GET"):
        proto = self.download_protocol(target)
        return requests.request(
            method,
            proto.download_endpoint,
            headers={"X-Reva-Transfer": proto.token, **(headers or {})},
            timeout=60,
        )

    def read(self, target) -> bytes:
        response = self.get(target)
        assert response.status_code == 200, (response.status_code, response.text)
        return response.content

    def versions(self, target):
        res = self.call("ListFileVersions", sp.ListFileVersionsRequest(ref=self.ref(target)))
        assert res.status.code == code_pb2.CODE_OK, res.status
        return list(res.versions)

    def recycle(self):
        res = self.call("ListRecycle", sp.ListRecycleRequest(ref=self.ref("/home")))
        assert res.status.code == code_pb2.CODE_OK, res.status
        return list(res.recycle_items)

    # -- Issue 8 "Sharing": shares, received shares, users and groups ----------------
    #: the roles' ResourcePermissions (docs/sharing.md, from Reva's conversions/role.go)
    ROLES = {
        "viewer": {"stat", "get_path", "get_quota", "initiate_file_download", "list_container", "list_recycle",
                   "list_file_versions"},
        "uploader": {"stat", "get_path", "create_container", "initiate_file_upload"},
    }
    ROLES["editor"] = ROLES["viewer"] | {"create_container", "delete", "initiate_file_upload", "move",
                                         "restore_recycle_item", "restore_file_version"}
    ROLES["manager"] = ROLES["editor"] | {"add_grant", "update_grant", "remove_grant", "list_grants", "purge_recycle"}

    @classmethod
    def role_permissions(cls, role_or_perms) -> col_res.SharePermissions:
        perms = cls.ROLES[role_or_perms] if isinstance(role_or_perms, str) else set(role_or_perms)
        return col_res.SharePermissions(permissions=spr.ResourcePermissions(**{p: True for p in perms}))

    @staticmethod
    def grantee(user_id=None, group: str | None = None) -> spr.Grantee:
        if group is not None:
            return spr.Grantee(type=spr.GRANTEE_TYPE_GROUP, group_id=group_res.GroupId(opaque_id=group))
        return spr.Grantee(type=spr.GRANTEE_TYPE_USER, user_id=user_id)

    def share(self, target, grantee: spr.Grantee, role="viewer", expiration: float | None = None):
        """CreateShare of ``target`` (a path or ResourceId) for ``grantee`` with a role
        (or a set of permission names); ``expiration`` in seconds since the epoch."""
        if isinstance(target, str):
            info = spr.ResourceInfo(path=target)
        else:
            info = spr.ResourceInfo(id=target)
        grant = col_res.ShareGrant(grantee=grantee, permissions=self.role_permissions(role))
        if expiration is not None:
            grant.expiration.CopyFrom(types_pb2.Timestamp(seconds=int(expiration), nanos=int(expiration % 1 * 1e9)))
        return self.call("CreateShare", col_api.CreateShareRequest(resource_info=info, grant=grant))

    def share_ok(self, target, grantee, role="viewer", expiration=None) -> col_res.Share:
        res = self.share(target, grantee, role, expiration)
        assert res.status.code == code_pb2.CODE_OK, res.status
        return res.share

    @staticmethod
    def share_ref(share_id: str) -> col_res.ShareReference:
        return col_res.ShareReference(id=col_res.ShareId(opaque_id=share_id))

    def update_share(self, share_id: str, role=None, expiration: float | None = None):
        paths, share = [], col_res.Share()
        if role is not None:
            paths.append("permissions")
            share.permissions.CopyFrom(self.role_permissions(role))
        if expiration is not None:
            paths.append("expiration")
            share.expiration.CopyFrom(types_pb2.Timestamp(seconds=int(expiration), nanos=int(expiration % 1 * 1e9)))
        request = col_api.UpdateShareRequest(ref=self.share_ref(share_id), share=share)
        request.update_mask.paths.extend(paths)
        return self.call("UpdateShare", request)

    def remove_share(self, share_id: str):
        return self.call("RemoveShare", col_api.RemoveShareRequest(ref=self.share_ref(share_id)))

    def received(self, *states, existing: bool = True):
        filters = [col_res.Filter(type=col_res.Filter.TYPE_STATE, state=s) for s in states]
        method = "ListExistingReceivedShares" if existing else "ListReceivedShares"
        return self.call(method, col_api.ListReceivedSharesRequest(filters=filters))

    def respond(self, share_id: str, state=col_res.SHARE_STATE_ACCEPTED, mount_point: str | None = None,
                hidden: bool | None = None):
        """UpdateReceivedShare: the state and, if given, the mount point and hidden flag."""
        rs = col_res.ReceivedShare(share=col_res.Share(id=col_res.ShareId(opaque_id=share_id)), state=state)
        paths = ["state"]
        if mount_point is not None:
            rs.mount_point.CopyFrom(spr.Reference(path=mount_point))
            paths.append("mount_point")
        if hidden is not None:
            rs.hidden = hidden
            paths.append("hidden")
        request = col_api.UpdateReceivedShareRequest(share=rs)
        request.update_mask.paths.extend(paths)
        return self.call("UpdateReceivedShare", request)

    def accept(self, share_id: str, mount_point: str | None = None) -> col_res.ReceivedShare:
        res = self.respond(share_id, col_res.SHARE_STATE_ACCEPTED, mount_point)
        assert res.status.code == code_pb2.CODE_OK, res.status
        return res.share

    def find_users(self, query: str):
        return self.call("FindUsers", user_api.FindUsersRequest(
            filters=[user_api.Filter(type=user_api.Filter.TYPE_QUERY, query=query)]))

    def find_groups(self, query: str):
        return self.call("FindGroups", group_api.FindGroupsRequest(
            filters=[group_api.Filter(type=group_api.Filter.TYPE_QUERY, query=query)]))

# ----------------------------------------------------------------------------------------
# The Zenodo stand-in
# ----------------------------------------------------------------------------------------
FULL_TOKEN = "standin-full-token"  # deposit:write deposit:actions (user einstein)
READONLY_TOKEN = "standin-readonly-token"  # no deposit scope (user marie)
OTHER_TOKEN = "standin-other-token"  # full scope, another user (richard)

#: generous limits so that a whole test session stays under them; tests that need a
#: real 429 lower them at run time with ``standin.config(rate_limit=...)``
TEST_RATE_LIMITS = "100000,100000,100000"


class StandinProcess:
    """The running stand-in (``mesh_zenodo.launcher.spawn_standin``) plus its control API."""

    def __init__(self, program: ProgramProcess, data: Path) -> None:
        self.program = program
        self.process = program.process
        self.data = data
        self.url = program.ready["url"]
        self.http = requests.Session()

    @property
    def pid(self) -> int:
        return self.program.pid

    @property
    def output(self) -> str:
        return self.program.output

    # ------------------------------------------------------------------ control API

    def arm(self, **fault) -> dict:
        """Arm one fault (see the stand-in's docstring): ``arm(status=500, times=2)``."""
        response = self.http.post(f"{self.url}/_standin/faults", json=fault, timeout=10)
        assert response.status_code == 201, response.text
        return response.json()

    def release(self) -> None:
        """Let the requests held by ``arm(hold=True)`` go on."""
        response = self.http.post(f"{self.url}/_standin/release", timeout=10)
        assert response.status_code == 204, response.text

    def faults(self) -> list[dict]:
        return self.http.get(f"{self.url}/_standin/faults", timeout=10).json()

    def requests(self, path_regex: str = "") -> list[dict]:
        """Requests the stand-in saw (optionally only those whose path matches)."""
        seen = self.http.get(f"{self.url}/_standin/requests", timeout=10).json()
        return [r for r in seen if re.search(path_regex, r["path"])] if path_regex else seen

    def config(self, **config) -> dict:
        response = self.http.post(f"{self.url}/_standin/config", json=config, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def reset(self) -> None:
        """Disarm every fault, forget the request log and the rate-limit windows."""
        response = self.http.post(f"{self.url}/_standin/reset", timeout=10)
        assert response.status_code == 204, response.text
        self.config(rate_limit={"guest": 100000, "authenticated": 100000, "search": 100000})

    def info(self) -> dict:
        return self.http.get(f"{self.url}/_standin/info", timeout=10).json()

    def get(self, path: str, token: str | None = None, **kw) -> requests.Response:
        headers = kw.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.get(self.url + path, headers=headers, timeout=30, **kw)

    # ------------------------------------------------------------------ lifecycle

    def stop(self, timeout: float = 20.0) -> int:
        self.http.close()
        return self.program.stop(timeout=timeout)


def start_standin(data: Path, extra_args: Sequence[str] = (), *, timeout: float = 60.0) -> StandinProcess:
    """The stand-in on a free loopback port, with generous rate limits, running this tree's code."""
    program = spawn_standin(Path(data), ["--rate-limit", TEST_RATE_LIMITS, *extra_args], timeout=timeout, env=source_tree_env())
    return StandinProcess(program, Path(data))


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.05):
    """Poll ``predicate`` until it returns something truthy (a deadline, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:.0f} s")
        time.sleep(interval)


def mesh_extension(serverapp):
    """The running test server's mesh_zenodo extension (its services: ``jobs``, ``pulls``, ...)."""
    return next(iter(serverapp.extension_manager.extension_apps["mesh_zenodo"]))


async def wait_job(fetch, job_id: str, timeout: float = 120.0, until=None) -> dict:
    """Poll ``GET /mesh-zenodo/jobs/<id>`` until the job finished, or until
    ``until(job)`` is true. A deadline, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while True:
        response = await fetch("mesh-zenodo", "jobs", job_id)
        job = json.loads(response.body)["job"]
        if (until is not None and until(job)) or (until is None and job["state"] != "running"):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['state']} after {timeout:.0f} s: {job}")
        await asyncio.sleep(0.1)

# ----------------------------------------------------------------------------------------
# Lab as a user starts it, and the browser
# ----------------------------------------------------------------------------------------
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def lab_page(url: str, *, viewport: tuple[int, int] = (1280, 860), screenshot: Path | None = None):
    """A Lab page at ``url`` in its own headless Chromium (Playwright's sync API must
    start and stop within a test, or it clashes with pytest-jupyter's event loop),
    once Lab's launcher shows; on leaving, a screenshot to ``screenshot`` if given, and
    no uncaught error from this extension's code (served under mesh-zenodo/)."""
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        page.on("pageerror", lambda err: errors.append(f"{err.message}\n{err.stack}"))
        page.goto(url)
        page.wait_for_selector(".jp-Launcher", timeout=60_000)
        try:
            yield page
        finally:
            if screenshot is not None:
                page.screenshot(path=str(screenshot))
            browser.close()
    assert not [e for e in errors if "mesh-zenodo" in e], errors


class LabProcess:
    """A running Lab: ``url``; ``root`` is the CS3 folder it shows; ``tmp`` holds its
    Jupyter config, data and runtime folders and its log."""

    def __init__(self, process: subprocess.Popen, url: str, root: str, tmp: Path) -> None:
        self.process, self.url, self.root, self.tmp = process, url, root, tmp

    @property
    def log(self) -> str:
        return (self.tmp / "lab.log").read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=90)  # Jupyter shuts its kernels down first; slow on a loaded machine
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_lab(
    gateway: str, root: str, tmp: Path, config: dict | None = None, timeout: float = 60,
    *, user: str = "einstein", token: str = "",
) -> LabProcess:
    """Lab signed in to the CS3 gateway as ``user`` (password from the environment, as
    documented), showing the CS3 folder ``root`` (empty: the home); ``config`` goes to
    its server config; ``token``: Jupyter's token (empty: none)."""
    config_dir = tmp / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(config or {}))
    port = free_port()
    env = dict(
        os.environ,
        MESH_ZENODO_CS3_PASSWORD=PASSWORDS[user],
        JUPYTER_CONFIG_DIR=str(config_dir),
        JUPYTER_DATA_DIR=str(tmp / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
    )
    with open(tmp / "lab.log", "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "mesh_zenodo.cli", "lab", "--gateway", gateway, "--user", user,
                "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
                "--ServerApp.password=", "--allow-root", f"--CS3ContentsManager.root_path={root}",
                f"--ServerApp.root_dir={tmp}",
            ],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=tmp,
        )
    lab = LabProcess(process, f"http://127.0.0.1:{port}", root, tmp)
    deadline = time.monotonic() + timeout
    while True:
        try:
            headers = {"Authorization": f"token {token}"} if token else {}
            urllib.request.urlopen(urllib.request.Request(f"{lab.url}/api/status", headers=headers), timeout=2)
            return lab
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(lab.log) from None
            time.sleep(0.3)

# ----------------------------------------------------------------------------------------
# Fixtures
# ----------------------------------------------------------------------------------------
def cs3_config(storage: StorageProcess, root: str, user: str = "einstein") -> dict:
    """Server config for Lab's files in ``root`` on ``storage``, signed in as ``user``."""
    return {
        "CS3Client": {
            "gateway": storage.grpc_addr, "username": user, "password": PASSWORDS[user],
            "public_links_url": f"{storage.http_url}/s/",
        },
        "CS3ContentsManager": {"root_path": root},
    }


@pytest.fixture(scope="session")
def mz_storage(tmp_path_factory):
    """One embedded storage process for the session (each test works in its own folder)."""
    process = start_storage(tmp_path_factory.mktemp("storage"))
    yield process
    process.stop()


@pytest.fixture
def mz_raw(mz_storage):
    """einstein's raw view of the session's storage."""
    inspector = StorageUser(mz_storage.grpc_addr, "einstein")
    yield inspector
    inspector.close()


@pytest.fixture
def mz_cs3_root(mz_raw) -> str:
    """A fresh folder in einstein's home that the test's Jupyter server shows as its root."""
    path = f"/home/test-{uuid.uuid4().hex[:10]}"
    assert mz_raw.mkdir(path).status.code == code_pb2.CODE_OK
    return path


@pytest.fixture
def jp_server_config(mz_storage, mz_cs3_root):
    """pytest-jupyter's server, with the extension and its files in ``mz_cs3_root``."""
    return Config(
        {
            "ServerApp": {
                "contents_manager_class": "mesh_zenodo.contents.CS3ContentsManager",
                "jpserver_extensions": {"mesh_zenodo": True},
            },
            **cs3_config(mz_storage, mz_cs3_root),
        }
    )


@pytest.fixture(scope="module")
def mz_standin(tmp_path_factory):
    """The local Zenodo stand-in (one per test module: deposits made in one module stay there)."""
    process = start_standin(tmp_path_factory.mktemp("zenodo"))
    yield process
    process.stop()


@pytest.fixture
def mz_zenodo(jp_serverapp, mz_standin):
    """The test server's extension (its Zenodo connection, jobs, pulls), with the
    stand-in's faults and rate limits reset."""
    mz_standin.reset()
    return mesh_extension(jp_serverapp)


@pytest.fixture
def mz_fetch(jp_fetch, mz_zenodo):
    """``jp_fetch`` for tests of the Zenodo REST API."""
    return jp_fetch


@pytest.fixture(scope="module")
def mz_server(tmp_path_factory):
    """A storage of the test module's own (for tests that look at a whole home)."""
    proc = start_storage(tmp_path_factory.mktemp("storage-root"))
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def mz_einstein(mz_server):
    user = StorageUser(mz_server.grpc_addr, "einstein")
    yield user
    user.close()


@pytest.fixture(scope="module")
def mz_marie(mz_server):
    user = StorageUser(mz_server.grpc_addr, "marie")
    yield user
    user.close()

# ----------------------------------------------------------------------------------------
# Issue 7 "Hardening": a storage on a small disk of its own (full-disk tests)
# ----------------------------------------------------------------------------------------
import errno  # noqa: E402 - kept inside this section

SMALL_DISK_HELP = (
    "the full-disk tests need a small tmpfs as the storage root: run them as root (they mount one), "
    "or where `unshare --user --map-root-user --mount true` works (unprivileged user namespaces)"
)


class SmallDisk:
    """The storage with its root on a small tmpfs (``size_kib``). As root the tmpfs is a
    mount of its own; otherwise it is mounted inside ``unshare --user --map-root-user
    --mount`` by a holder process (``sleep``) and the storage runs in that namespace
    (``nsenter``). ``path`` is the root as this process sees it; :meth:`fill` writes a
    file next to ``home/`` until ENOSPC, :meth:`free` gives (some of) that space back,
    :meth:`restart` starts the storage again on the same disk. Neither way possible: the
    test fails with :data:`SMALL_DISK_HELP`. ``MZ_SMALL_DISK=unshare`` forces the second
    way (as root too)."""

    FILLER = "filler.bin"

    def __init__(self, base: Path, size_kib: int, extra_args: Sequence[str] = (), *, timeout: float = 30.0):
        self.mount_point = Path(base) / "disk"
        self.mount_point.mkdir(parents=True)
        self.mounted = False
        self.holder: subprocess.Popen | None = None
        self.prefix: list[str] = []
        self.timeout = timeout
        mode = os.environ.get("MZ_SMALL_DISK") or ("mount" if os.geteuid() == 0 else "unshare")
        if mode == "mount":
            done = subprocess.run(
                ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k,mode=0755", "tmpfs", str(self.mount_point)],
                capture_output=True, text=True,
            )
            if done.returncode != 0:
                pytest.fail(f"cannot mount a tmpfs ({done.stderr.strip()}): {SMALL_DISK_HELP}")
            self.mounted = True
            self.path = self.mount_point
        else:
            unshare, nsenter = shutil.which("unshare"), shutil.which("nsenter")
            if unshare is None or nsenter is None or subprocess.run(
                [unshare, "-rm", "true"], capture_output=True
            ).returncode != 0:
                pytest.fail(f"`unshare -rm true` (and nsenter) do not work here: {SMALL_DISK_HELP}")
            script = 'mount -t tmpfs -o size="$1"k tmpfs "$2" && echo mounted && exec sleep 86400'
            self.holder = subprocess.Popen(
                [unshare, "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", str(size_kib),
                 str(self.mount_point)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                start_new_session=True,
            )
            said = self.holder.stdout.readline().strip()
            if said != "mounted":
                self.holder.kill()
                pytest.fail(f"cannot mount a tmpfs in a user namespace ({said}): {SMALL_DISK_HELP}")
            self.prefix = [nsenter, "--target", str(self.holder.pid), "--user", "--mount", "--preserve-credentials"]
            self.path = Path(f"/proc/{self.holder.pid}/root") / str(self.mount_point).lstrip("/")
        self.storage = self._start(extra_args)

    def _start(self, extra_args: Sequence[str]) -> StorageProcess:
        command = [*self.prefix, *storage_command(self.mount_point, "127.0.0.1:0", "127.0.0.1:0", extra_args)]
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=source_tree_env(), start_new_session=True,
        )
        storage = StorageProcess(process, self.mount_point)
        try:
            storage.wait_ready(self.timeout)
        except BaseException:
            self._release()
            raise
        return storage

    def restart(self, extra_args: Sequence[str] = ()) -> StorageProcess:
        """Stop the storage and start it again on the same disk (as it is: full or not)."""
        self.storage.stop()
        self.storage = self._start(extra_args)
        return self.storage

    def fill(self) -> None:
        """Write a file until the disk is full (ENOSPC), with plain Python."""
        fd = os.open(self.path / self.FILLER, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            for block in (1 << 16, 1 << 12, 1):
                try:
                    while True:
                        os.write(fd, b"\0" * block)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
        finally:
            os.close(fd)

    def free(self, nbytes: int | None = None) -> None:
        """Give back ``nbytes`` of the filler (all of it by default)."""
        filler = self.path / self.FILLER
        if nbytes is None:
            filler.unlink(missing_ok=True)
            return
        size = filler.stat().st_size
        os.truncate(filler, max(0, size - nbytes))

    def stop(self) -> None:
        try:
            self.storage.stop()
        finally:
            self._release()

    def _release(self) -> None:
        storage = getattr(self, "storage", None)
        if storage is not None and storage.process.poll() is None:
            storage.kill()
        if self.mounted:
            if subprocess.run(["umount", str(self.mount_point)], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", str(self.mount_point)], capture_output=True)
            self.mounted = False
        if self.holder is not None:
            self.holder.kill()
            self.holder.wait(10)
            self.holder = None


# ----------------------------------------------------------------------------------------
# Issue 8 "Sharing": public links and project spaces (the wire values a client sends)
# ----------------------------------------------------------------------------------------
from cs3.storage.provider.v1beta1 import provider_api_pb2_grpc as sp_grpc  # noqa: E402 - kept inside this section
from cs3.storage.provider.v1beta1 import spaces_api_pb2 as spaces_api  # noqa: E402

_LINK_VIEW = {"stat", "get_path", "get_quota", "list_container", "initiate_file_download"}
#: oCIS's public link types as ResourcePermissions: (on a folder, on a file or None)
LINK_TYPES = {
    "view": (_LINK_VIEW, _LINK_VIEW),
    "upload": (_LINK_VIEW | {"create_container", "initiate_file_upload"}, None),
    "edit": (_LINK_VIEW | {"create_container", "initiate_file_upload", "delete", "move"},
             _LINK_VIEW | {"initiate_file_upload"}),
    "createOnly": ({"stat", "get_path", "create_container", "initiate_file_upload"}, None),
}
_SPACE_VIEWER = {"stat", "get_path", "get_quota", "initiate_file_download", "list_container", "list_recycle",
                 "list_file_versions"}
_SPACE_EDITOR = _SPACE_VIEWER | {"create_container", "delete", "initiate_file_upload", "move",
                                 "restore_recycle_item", "restore_file_version"}
#: Reva's roles as ResourcePermissions (notes 4.8)
SPACE_ROLES = {
    "viewer": _SPACE_VIEWER,
    "editor": _SPACE_EDITOR,
    "manager": _SPACE_EDITOR | {"add_grant", "update_grant", "remove_grant", "list_grants", "purge_recycle"},
}


def link_permissions(kind: str, is_dir: bool = True) -> spr.ResourcePermissions:
    """The ResourcePermissions of a public link type (for a file: None if not allowed,
    then the folder's set is sent, which the storage refuses)."""
    on_dir, on_file = LINK_TYPES[kind]
    names = on_dir if is_dir or on_file is None else on_file
    return spr.ResourcePermissions(**{name: True for name in names})


def role_permissions(role: str) -> spr.ResourcePermissions:
    return spr.ResourcePermissions(**{name: True for name in SPACE_ROLES[role]})


def provider_stub(user: StorageUser) -> sp_grpc.ProviderAPIStub:
    """The storage provider API on the storage's gRPC port (the grant RPCs)."""
    return sp_grpc.ProviderAPIStub(user.channel)


def space_ref(space) -> spr.Reference:
    """A reference to the root of a StorageSpace."""
    return spr.Reference(resource_id=space.root)


def create_space(user: StorageUser, name: str, quota: int = 0):
    return user.call(
        "CreateStorageSpace",
        spaces_api.CreateStorageSpaceRequest(type="project", name=name, quota=spr.Quota(quota_max_bytes=quota)),
    )
