"""Issue 7 "Hardening", item 4: a big folder neither stalls the storage nor breaks a
standard CS3 client. Every answer stays under gRPC's default 4 MiB message limit
(ListContainer pages are cut and say where to go on, ListContainerStream sends one entry
per message); the storage's blocking work runs off its event loop, in one way; our client
follows pages and copes with gateways that page differently. (How long a listing takes,
and how long another client's Stat waits meanwhile, is measured by
``benchmarks/listing.py``.)"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import time
import uuid
from pathlib import Path

import grpc
import pytest
import requests
from cs3.gateway.v1beta1 import gateway_api_pb2 as gw
from cs3.gateway.v1beta1 import gateway_api_pb2_grpc as gw_grpc
from cs3.rpc.v1beta1 import code_pb2, status_pb2
from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp
from cs3.storage.provider.v1beta1 import resources_pb2 as spr

import mesh_zenodo.storage
from mesh_zenodo.cs3 import errors
from mesh_zenodo.cs3.client import CS3Client
from mesh_zenodo.pytest_plugin import PASSWORDS, StorageUser, start_storage

OK = code_pb2.CODE_OK
BIG = 30_000


@pytest.fixture(scope="module")
def big_folder(mz_server, mz_einstein) -> tuple[str, list[str]]:
    """A folder of 30,000 files with longish names (put there by other means: the
    storage meets them for the first time when listing)."""
    name = f"big-{uuid.uuid4().hex[:8]}"
    assert mz_einstein.mkdir(f"/home/{name}").status.code == OK
    folder = mz_server.root / "home" / "einstein" / name
    names = [f"{i:05d}-measurement-{'x' * 40}.csv" for i in range(BIG)]
    for entry in names:
        (folder / entry).touch()
    return f"/home/{name}", names


def test_a_big_listing_fits_a_standard_client_page_by_page(mz_einstein, big_folder):
    path, names = big_folder
    first = mz_einstein.ls(path)  # the raw stubs: gRPC's default 4 MiB receive limit
    assert first.status.code == OK
    assert 0 < len(first.infos) < BIG and first.next_page_token
    seen = [i.name for i in first.infos]
    token, pages = first.next_page_token, 1
    while token:
        page = mz_einstein.ls(path, page_token=token)
        assert page.status.code == OK
        seen += [i.name for i in page.infos]
        token, pages = page.next_page_token, pages + 1
    assert seen == names and pages > 1
    assert all(i.checksum.sum for i in first.infos)  # files seen the first time get their MD5

    # page_size is honoured, and a page never exceeds it
    page = mz_einstein.ls(path, page_size=100, page_token=first.next_page_token)
    assert [i.name for i in page.infos] == names[len(first.infos) : len(first.infos) + 100]

    stream = list(
        mz_einstein.stub.ListContainerStream(sp.ListContainerStreamRequest(ref=spr.Reference(path=path)), metadata=mz_einstein.md)
    )
    assert [r.status.code for r in stream] == [OK] * BIG
    assert [r.info.name for r in stream] == names


async def test_our_client_lists_a_big_folder(mz_server, big_folder):
    path, names = big_folder
    client = CS3Client(gateway=mz_server.grpc_addr, username="einstein", password=PASSWORDS["einstein"])
    try:
        infos = await client.list_container(path)
    finally:
        await client.close()
    assert [i.name for i in infos] == names


# ----------------------------------------------------------------------------------------
# our client against gateways that page differently (small stand-ins for other servers)
# ----------------------------------------------------------------------------------------
class PagingGateway(gw_grpc.GatewayAPIServicer):
    """A CS3 gateway with one folder of ``count`` files, listed in one of three ways:
    ``ignore`` (everything at once, no token, whatever the client asks), ``short``
    (pages of 7 whatever the page_size, with tokens), ``stuck`` (the first page again and
    again, always with the same token)."""

    def __init__(self, mode: str, count: int):
        self.mode, self.count = mode, count

    async def Authenticate(self, request, context):
        return gw.AuthenticateResponse(status=status_pb2.Status(code=OK), token="opaque-token")

    async def ListContainer(self, request, context):
        infos = [spr.ResourceInfo(name=f"f{i:04d}", path=f"/home/d/f{i:04d}") for i in range(self.count)]
        if self.mode == "ignore":
            return sp.ListContainerResponse(status=status_pb2.Status(code=OK), infos=infos)
        start = int(request.page_token or 0)
        if self.mode == "stuck":
            return sp.ListContainerResponse(status=status_pb2.Status(code=OK), infos=infos[:7], next_page_token="7")
        end = min(start + 7, self.count)
        return sp.ListContainerResponse(
            status=status_pb2.Status(code=OK), infos=infos[start:end], next_page_token=str(end) if end < self.count else ""
        )


async def list_from(mode: str, count: int):
    server = grpc.aio.server()
    gw_grpc.add_GatewayAPIServicer_to_server(PagingGateway(mode, count), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    client = CS3Client(gateway=f"127.0.0.1:{port}", username="einstein", password="x")
    try:
        return await asyncio.wait_for(client.list_container("/home/d"), 60)  # a deadline, not a measurement
    finally:
        await client.close()
        await server.stop(None)


async def test_our_client_follows_short_pages_and_accepts_no_paging():
    assert [i.name for i in await list_from("short", 100)] == [f"f{i:04d}" for i in range(100)]
    assert [i.name for i in await list_from("ignore", 2500)] == [f"f{i:04d}" for i in range(2500)]


async def test_our_client_does_not_loop_on_a_gateway_whose_paging_is_stuck():
    with pytest.raises(errors.CS3Error, match="paging does not advance"):
        await list_from("stuck", 100)


# ----------------------------------------------------------------------------------------
# the event loop never waits for the database
# ----------------------------------------------------------------------------------------
def test_signing_in_is_served_while_the_database_is_busy(tmp_path):
    """Another program holds the database's write lock: a write waits for it on the
    store's thread, and meanwhile the storage keeps serving what needs no database."""
    proc = start_storage(tmp_path / "root")
    einstein = StorageUser(proc.grpc_addr, "einstein")
    try:
        assert einstein.mkdir("/home/warm").status.code == OK
        other = sqlite3.connect(tmp_path / "root" / ".mesh-zenodo" / "storage.sqlite", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            pending = einstein.stub.CreateContainer.future(
                sp.CreateContainerRequest(ref=spr.Reference(path="/home/while-locked")), metadata=einstein.md
            )
            time.sleep(0.5)  # let the request reach the storage (not a measurement)
            marie = StorageUser(proc.grpc_addr, "marie")
            who = marie.call("WhoAmI", gw.WhoAmIRequest(token=marie.token))
            marie.close()
            assert who.status.code == OK and who.user.username == "marie"
            assert not pending.done()  # still waiting for the lock, without holding the loop
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert pending.result(timeout=60).status.code == OK
        assert einstein.stat_ok("/home/while-locked").type == spr.RESOURCE_TYPE_CONTAINER
    finally:
        einstein.close()
        proc.stop()


def test_blocking_work_goes_through_the_one_helper():
    """Only ``storage/worker.py`` starts threads or hands work to them."""
    package = Path(mesh_zenodo.storage.__file__).parent
    pattern = re.compile(r"\bto_thread\b|\brun_in_executor\b|\bThreadPoolExecutor\b|threading\.Thread\b")
    offenders = [
        f"{source.name}:{n}"
        for source in sorted(package.glob("*.py"))
        if source.name != "worker.py"
        for n, line in enumerate(source.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_a_file_replaced_by_a_fifo_does_not_hang_the_storage(mz_server, mz_einstein):
    """Opening a FIFO for reading waits for a writer: the store must not."""
    folder = f"/home/fifo-{uuid.uuid4().hex[:8]}"
    assert mz_einstein.mkdir(folder).status.code == OK
    mz_einstein.put_ok(f"{folder}/data.bin", b"data")
    proto = mz_einstein.download_protocol(f"{folder}/data.bin")
    on_disk = mz_server.root / "home" / "einstein" / folder.removeprefix("/home/") / "data.bin"
    on_disk.unlink()
    os.mkfifo(on_disk)
    response = requests.get(proto.download_endpoint, headers={"X-Reva-Transfer": proto.token}, timeout=60)
    assert response.status_code in (404, 412) and response.text.strip()
    mz_einstein.put_ok(f"{folder}/other.bin", b"other")
    assert mz_einstein.read(f"{folder}/other.bin") == b"other"
