"""Shared fixtures: a real embedded storage process on loopback, a Jupyter server whose
contents live on it, and a raw CS3 inspector that checks what landed on the storage
with the cs3apis stubs directly (not through the client under test)."""

from __future__ import annotations

import uuid

import grpc
import pytest
import requests
from cs3.gateway.v1beta1 import gateway_api_pb2 as gw
from cs3.gateway.v1beta1 import gateway_api_pb2_grpc as gw_grpc
from cs3.rpc.v1beta1 import code_pb2
from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp
from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from storage_fixture import start_storage
from traitlets.config import Config

pytest_plugins = ["pytest_jupyter.jupyter_server"]

PASSWORDS = {"einstein": "relativity", "marie": "radioactivity", "richard": "superfluidity"}


class RawCS3:
    """A user's view of the storage through the bare CS3 protocol (test inspector)."""

    def __init__(self, grpc_addr: str, username: str) -> None:
        self.channel = grpc.insecure_channel(grpc_addr)
        self.stub = gw_grpc.GatewayAPIStub(self.channel)
        res = self.stub.Authenticate(
            gw.AuthenticateRequest(type="basic", client_id=username, client_secret=PASSWORDS[username])
        )
        assert res.status.code == code_pb2.CODE_OK, res.status
        self.token = res.token
        self.md = (("x-access-token", self.token),)

    def stat(self, path: str) -> spr.ResourceInfo | None:
        res = self.stub.Stat(sp.StatRequest(ref=spr.Reference(path=path)), metadata=self.md)
        if res.status.code == code_pb2.CODE_NOT_FOUND:
            return None
        assert res.status.code == code_pb2.CODE_OK, res.status
        return res.info

    def names(self, path: str) -> set[str]:
        res = self.stub.ListContainer(sp.ListContainerRequest(ref=spr.Reference(path=path)), metadata=self.md)
        assert res.status.code == code_pb2.CODE_OK, res.status
        return {i.path.rsplit("/", 1)[-1] for i in res.infos}

    def mkdir(self, path: str) -> None:
        res = self.stub.CreateContainer(sp.CreateContainerRequest(ref=spr.Reference(path=path)), metadata=self.md)
        assert res.status.code == code_pb2.CODE_OK, res.status

    def read(self, path: str) -> bytes:
        res = self.stub.InitiateFileDownload(
            sp.InitiateFileDownloadRequest(ref=spr.Reference(path=path)), metadata=self.md
        )
        assert res.status.code == code_pb2.CODE_OK, res.status
        proto = next(p for p in res.protocols if p.protocol == "simple")
        r = requests.get(proto.download_endpoint, headers={"X-Reva-Transfer": proto.token}, timeout=60)
        r.raise_for_status()
        return r.content

    def write(self, path: str, data: bytes) -> None:
        res = self.stub.InitiateFileUpload(sp.InitiateFileUploadRequest(ref=spr.Reference(path=path)), metadata=self.md)
        assert res.status.code == code_pb2.CODE_OK, res.status
        proto = next(p for p in res.protocols if p.protocol == "simple")
        r = requests.put(
            proto.upload_endpoint,
            data=data,
            headers={"X-Reva-Transfer": proto.token, "Upload-Length": str(len(data))},
            timeout=60,
        )
        r.raise_for_status()

    def versions(self, path: str) -> list[spr.FileVersion]:
        res = self.stub.ListFileVersions(sp.ListFileVersionsRequest(ref=spr.Reference(path=path)), metadata=self.md)
        assert res.status.code == code_pb2.CODE_OK, res.status
        return list(res.versions)

    def recycle(self) -> list[spr.RecycleItem]:
        res = self.stub.ListRecycle(sp.ListRecycleRequest(ref=spr.Reference(path="/home")), metadata=self.md)
        assert res.status.code == code_pb2.CODE_OK, res.status
        return list(res.recycle_items)

    def close(self) -> None:
        self.channel.close()


@pytest.fixture(scope="session")
def storage(tmp_path_factory):
    """One embedded storage process for the session (each test works in its own folder)."""
    process = start_storage(tmp_path_factory.mktemp("storage"))
    yield process
    process.stop()


@pytest.fixture
def raw(storage):
    inspector = RawCS3(storage.grpc_addr, "einstein")
    yield inspector
    inspector.close()


@pytest.fixture
def cs3_root(raw) -> str:
    """A fresh folder in einstein's home that the test's Jupyter server shows as its root."""
    path = f"/home/test-{uuid.uuid4().hex[:10]}"
    raw.mkdir(path)
    return path


def cs3_config(storage, root: str, user: str = "einstein") -> dict:
    return {
        "CS3Client": {"gateway": storage.grpc_addr, "username": user, "password": PASSWORDS[user]},
        "CS3ContentsManager": {"root_path": root},
    }


@pytest.fixture
def jp_server_config(storage, cs3_root):
    config = {
        "ServerApp": {
            "contents_manager_class": "mesh_zenodo.contents.CS3ContentsManager",
            "jpserver_extensions": {"mesh_zenodo": True},
        },
        **cs3_config(storage, cs3_root),
    }
    return Config(config)
