"""Start the embedded CS3 storage (``python -m mesh_zenodo.storage``) as a subprocess.

Plain helpers, not fixtures: wrap them in fixtures where needed::

    proc = start_storage(tmp_path / "root")
    ... proc.grpc_addr, proc.http_addr, proc.http_url ...
    proc.stop()          # SIGTERM, wait, assert exit code 0
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
READY_RE = re.compile(
    r"^mesh-zenodo storage: gRPC on (?P<grpc>\S+), data gateway on http://(?P<http>\S+), root (?P<root>.+)$"
)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class StorageProcess:
    """A running storage: ``grpc_addr`` / ``http_addr`` are ``HOST:PORT``."""

    def __init__(self, process: subprocess.Popen, root: Path):
        self.process = process
        self.root = root
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
                f"storage did not become ready within {timeout:.0f} s "
                f"(exit code {self.process.returncode}):\n{self.output}"
            )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Ask the storage to stop, wait for it and assert a clean exit (code 0)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
                raise AssertionError(f"storage did not stop within {timeout:.0f} s after signal {sig}") from None
        self._reader.join(5)
        code = self.process.returncode
        assert code == 0, f"storage exited with code {code}:\n{self.output}"
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def storage_command(root: Path, grpc_addr: str, http_addr: str, extra_args: Sequence[str] = ()) -> list[str]:
    return [
        sys.executable,
        "-m",
        "mesh_zenodo.storage",
        "--root",
        str(root),
        "--grpc",
        grpc_addr,
        "--http",
        http_addr,
        *extra_args,
    ]


def storage_env() -> dict[str, str]:
    """The environment for the subprocess: this source tree first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_storage(root: Path, extra_args: Sequence[str] = (), *, timeout: float = 30.0) -> StorageProcess:
    """Launch the storage on free loopback ports and wait for its ready line.

    The ports are chosen by the kernel (``127.0.0.1:0``) and read back from the ready line,
    so there is no race with other processes grabbing a "free" port.
    """
    root = Path(root)
    process = subprocess.Popen(
        storage_command(root, "127.0.0.1:0", "127.0.0.1:0", extra_args),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=storage_env(),
        cwd=str(REPO_ROOT),
    )
    storage = StorageProcess(process, root)
    started = time.monotonic()
    storage.wait_ready(timeout)
    storage.startup_seconds = time.monotonic() - started
    return storage


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
        import grpc
        from cs3.gateway.v1beta1 import gateway_api_pb2 as gw
        from cs3.gateway.v1beta1 import gateway_api_pb2_grpc as gw_grpc
        from cs3.rpc.v1beta1 import code_pb2

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
        from cs3.storage.provider.v1beta1 import resources_pb2 as spr

        if isinstance(path_or_id, str):
            return spr.Reference(path=path_or_id)
        return spr.Reference(resource_id=path_or_id, path=relative)

    def call(self, method: str, request, **kw):
        return getattr(self.stub, method)(request, metadata=self.md, **kw)

    # -- namespace -------------------------------------------------------------------
    def stat(self, target, relative: str = "", keys=()):
        from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp

        return self.call("Stat", sp.StatRequest(ref=self.ref(target, relative), arbitrary_metadata_keys=list(keys)))

    def stat_ok(self, target, relative: str = "", keys=()):
        from cs3.rpc.v1beta1 import code_pb2

        res = self.stat(target, relative, keys)
        assert res.status.code == code_pb2.CODE_OK, res.status
        return res.info

    def ls(self, target, **kw):
        from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp

        return self.call("ListContainer", sp.ListContainerRequest(ref=self.ref(target), **kw))

    def names(self, target) -> list[str]:
        from cs3.rpc.v1beta1 import code_pb2

        res = self.ls(target)
        assert res.status.code == code_pb2.CODE_OK, res.status
        return [i.name for i in res.infos]

    def mkdir(self, target):
        from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp

        return self.call("CreateContainer", sp.CreateContainerRequest(ref=self.ref(target)))

    def touch(self, target):
        from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp

        return self.call("TouchFile", sp.TouchFileRequest(ref=self.ref(target)))

    def delete(self, target):
        from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp

        return self.call("Delete", sp.DeleteRequest(ref=self.ref(target)))

    def move(self, source, destination):
        from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp

        return self.call("Move", sp.MoveRequest(source=self.ref(source), destination=self.ref(destination)))

    # -- data ------------------------------------------------------------------------
    def initiate_upload(self, target, length: int | None = None, **options):
        from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp
        from cs3.types.v1beta1 import types_pb2

        opaque = types_pb2.Opaque()
        if length is not None:
            opaque.map["Upload-Length"].CopyFrom(types_pb2.OpaqueEntry(decoder="plain", value=str(length).encode()))
        return self.call(
            "InitiateFileUpload", sp.InitiateFileUploadRequest(ref=self.ref(target), opaque=opaque, **options)
        )

    def upload_protocol(self, target, protocol: str = "simple", length: int | None = None, **options):
        from cs3.rpc.v1beta1 import code_pb2

        res = self.initiate_upload(target, length, **options)
        assert res.status.code == code_pb2.CODE_OK, res.status
        return next(p for p in res.protocols if p.protocol == protocol)

    def put(self, target, data: bytes, **options):
        """Initiate + simple PUT; returns the HTTP response."""
        import requests

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
        from cs3.rpc.v1beta1 import code_pb2
        from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp

        res = self.call("InitiateFileDownload", sp.InitiateFileDownloadRequest(ref=self.ref(target)))
        assert res.status.code == code_pb2.CODE_OK, res.status
        return next(p for p in res.protocols if p.protocol == "simple")

    def get(self, target, headers: dict[str, str] | None = None, method: str = "GET"):
        import requests

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
        from cs3.rpc.v1beta1 import code_pb2
        from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp

        res = self.call("ListFileVersions", sp.ListFileVersionsRequest(ref=self.ref(target)))
        assert res.status.code == code_pb2.CODE_OK, res.status
        return list(res.versions)

    def recycle(self):
        from cs3.rpc.v1beta1 import code_pb2
        from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp

        res = self.call("ListRecycle", sp.ListRecycleRequest(ref=self.ref("/home")))
        assert res.status.code == code_pb2.CODE_OK, res.status
        return list(res.recycle_items)
