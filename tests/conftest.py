"""Shared fixtures: a real embedded storage process on loopback, a Jupyter server whose
contents live on it, and a raw CS3 inspector that checks what landed on the storage
with the cs3apis stubs directly (not through the client under test)."""

from __future__ import annotations

import uuid

import pytest
from cs3.rpc.v1beta1.code_pb2 import CODE_OK
from storage_fixture import PASSWORDS, StorageUser, start_storage
from zenodo_fixture import start_standin, zenodo_api_for
from traitlets.config import Config

pytest_plugins = ["pytest_jupyter.jupyter_server"]

@pytest.fixture(scope="session")
def storage(tmp_path_factory):
    """One embedded storage process for the session (each test works in its own folder)."""
    process = start_storage(tmp_path_factory.mktemp("storage"))
    yield process
    process.stop()


@pytest.fixture
def raw(storage):
    inspector = StorageUser(storage.grpc_addr, "einstein")
    yield inspector
    inspector.close()


@pytest.fixture
def cs3_root(raw) -> str:
    """A fresh folder in einstein's home that the test's Jupyter server shows as its root."""
    path = f"/home/test-{uuid.uuid4().hex[:10]}"
    assert raw.mkdir(path).status.code == CODE_OK
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


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    """The local Zenodo stand-in (one per test module: deposits made in one module stay there)."""
    process = start_standin(tmp_path_factory.mktemp("zenodo"))
    yield process
    process.stop()


@pytest.fixture
def zenodo(jp_serverapp, standin):
    """The test server's Zenodo state, with the stand-in's faults and rate limits reset."""
    standin.reset()
    return zenodo_api_for(jp_serverapp).zenodo


@pytest.fixture
def fetch(jp_fetch, zenodo):
    """``jp_fetch`` for tests of the Zenodo REST API."""
    return jp_fetch


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A storage of the test module's own (for tests that look at a whole home)."""
    proc = start_storage(tmp_path_factory.mktemp("storage-root"))
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def einstein(server):
    user = StorageUser(server.grpc_addr, "einstein")
    yield user
    user.close()


@pytest.fixture(scope="module")
def marie(server):
    user = StorageUser(server.grpc_addr, "marie")
    yield user
    user.close()
