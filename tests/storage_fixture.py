"""Start the embedded CS3 storage (``python -m mesh_zenodo.storage``) as a subprocess.

Plain helpers, not fixtures: wrap them in fixtures where needed::

    proc = start_storage(tmp_path / "root")
    ... proc.grpc_addr, proc.http_addr, proc.http_url ...
    proc.stop()          # SIGTERM, wait, assert exit code 0
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from pathlib import Path

from mesh_zenodo.launcher import StorageProcess, spawn_storage, storage_command  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parents[1]


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

    def info(self, target):
        """The ResourceInfo at ``target``, or None when there is nothing there."""
        from cs3.rpc.v1beta1 import code_pb2

        res = self.stat(target)
        if res.status.code == code_pb2.CODE_NOT_FOUND:
            return None
        assert res.status.code == code_pb2.CODE_OK, res.status
        return res.info

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
