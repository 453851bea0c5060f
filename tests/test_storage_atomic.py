"""Issue 7 "Hardening", items 1 and 2: on a full disk every mutation happens whole (OK)
or not at all (INSUFFICIENT_STORAGE), never INTERNAL and never half; reading and signing
in keep working; what a crash leaves half-way is undone at the next start.

The full disk is a small tmpfs as the storage root (:class:`SmallDisk`), filled with a
plain file until ENOSPC. The mutations are tried with the free space growing a page at a
time, so that each of them fails at every step it can fail at (before its file-system
step, or at its commit) until it succeeds; after each failure the old state is checked
whole, through the storage's RPCs and in its internal folders."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit

import grpc
import pytest
import requests
from cs3.gateway.v1beta1 import gateway_api_pb2 as gw
from cs3.rpc.v1beta1 import code_pb2
from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp
from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from mesh_zenodo.pytest_plugin import SmallDisk, StorageUser, start_storage

OK = code_pb2.CODE_OK
FULL = code_pb2.CODE_INSUFFICIENT_STORAGE
PAGE = 4096


def name_of(code: int) -> str:
    return code_pb2.Code.Name(code)


@pytest.fixture
def disk(tmp_path):
    small = SmallDisk(tmp_path, 4096)
    yield small
    small.stop()


def ref(path: str) -> spr.Reference:
    return spr.Reference(path=path)


def set_metadata(user: StorageUser, path: str, items: dict[str, str]):
    return user.call(
        "SetArbitraryMetadata",
        sp.SetArbitraryMetadataRequest(ref=ref(path), arbitrary_metadata=spr.ArbitraryMetadata(metadata=items)),
    )


def internal(root: Path) -> dict[str, list[str]]:
    """What is in the storage's own folders (besides its database)."""
    meta = root / ".mesh-zenodo"

    def below(folder: Path, depth: int) -> list[str]:
        if depth == 1:
            return sorted(p.name for p in folder.iterdir())
        return sorted(f"{d.name}/{p}" for d in folder.iterdir() for p in below(d, depth - 1))

    return {
        "trash": below(meta / "trash", 2),
        "versions": below(meta / "versions", 2),
        "uploads": below(meta / "uploads", 1),
        "purge": below(meta / "purge", 1),
    }


def state(user: StorageUser, root: Path) -> dict:
    """Everything a client sees of einstein's home, and the storage's own folders."""

    def describe(path: str) -> dict:
        listing = user.ls(path)
        assert listing.status.code == OK, listing.status
        entries = {}
        for info in listing.infos:
            full = user.stat_ok(info.path, keys=["*"])
            entry = {
                "id": full.id.opaque_id,
                "etag": full.etag,
                "size": full.size,
                "md5": full.checksum.sum,
                "metadata": dict(full.arbitrary_metadata.metadata),
            }
            if full.type == spr.RESOURCE_TYPE_CONTAINER:
                entry["children"] = describe(full.path)
            else:
                entry["versions"] = [(v.key, v.size, v.etag) for v in user.versions(full.path)]
            entries[info.name] = entry
        return entries

    return {
        "home": user.stat_ok("/home").etag,
        "tree": describe("/home"),
        "recycle": sorted((i.key, i.ref.path, i.size) for i in user.recycle()),
        "internal": internal(root),
    }


def consistent(user: StorageUser, root: Path) -> None:
    """No bytes the storage does not account for: the recycle bin is exactly what the
    trash folder holds, nothing waits in uploads or purge."""
    inside = internal(root)
    assert sorted(k.split("/", 1)[1] for k in inside["trash"]) == sorted(i.key for i in user.recycle())
    assert inside["uploads"] == [] and inside["purge"] == []


def under_pressure(disk: SmallDisk, user: StorageUser, attempt, check_done, max_pages: int = 64) -> list[int]:
    """Try ``attempt()`` (returns a CS3 code) on a full disk, then with 1, 2, ... pages
    free, until it succeeds; after every failure the state must be exactly as before.
    Returns the codes seen."""
    disk.fill()
    before = state(user, disk.path)
    codes = []
    for pages in range(max_pages):
        disk.fill()
        disk.free(pages * PAGE)
        code = attempt()
        codes.append(code)
        assert code in (OK, FULL), f"{name_of(code)} with {pages} pages free"
        if code == OK:
            check_done()
            return codes
        assert state(user, disk.path) == before, f"a failed attempt with {pages} pages free changed something"
    raise AssertionError(f"still failing with {max_pages} pages free: {[name_of(c) for c in codes]}")


def test_every_mutation_is_whole_or_not_at_all_on_a_full_disk(disk):
    user = StorageUser(disk.storage.grpc_addr, "einstein")
    try:
        user.mkdir("/home/keep")
        user.put_ok("/home/keep/doc.txt", b"version 1")
        user.put_ok("/home/keep/doc.txt", b"version 2")
        assert set_metadata(user, "/home/keep/doc.txt", {"zenodo.record": "42"}).status.code == OK
        user.put_ok("/home/keep/other.txt", b"other")
        user.put_ok("/home/old.txt", b"old")
        assert user.delete("/home/old.txt").status.code == OK
        doc = user.stat_ok("/home/keep/doc.txt", keys=["*"])
        old_key = user.recycle()[0].key

        # metadata (one transaction, nothing on the file system)
        def metadata_done():
            info = user.stat_ok("/home/keep/other.txt", keys=["*"])
            assert dict(info.arbitrary_metadata.metadata) == {"zenodo.doi": "10.5281/zenodo.42"}

        under_pressure(disk, user, lambda: set_metadata(user, "/home/keep/other.txt", {"zenodo.doi": "10.5281/zenodo.42"}).status.code, metadata_done)

        # a version restored: a copy, then the commit that swaps it in
        first = user.versions("/home/keep/doc.txt")[0]

        def restore_version():
            return user.call(
                "RestoreFileVersion", sp.RestoreFileVersionRequest(ref=ref("/home/keep/doc.txt"), key=first.key)
            ).status.code

        def version_done():
            assert user.read("/home/keep/doc.txt") == b"version 1"
            assert user.stat_ok("/home/keep/doc.txt").id == doc.id
            assert len(user.versions("/home/keep/doc.txt")) == 2

        under_pressure(disk, user, restore_version, version_done)

        def touch_done():
            assert user.stat_ok("/home/new.txt").size == 0

        under_pressure(disk, user, lambda: user.touch("/home/new.txt").status.code, touch_done)

        def mkdir_done():
            assert user.stat_ok("/home/newdir").type == spr.RESOURCE_TYPE_CONTAINER

        under_pressure(disk, user, lambda: user.mkdir("/home/newdir").status.code, mkdir_done)

        def move_done():
            moved = user.stat_ok("/home/newdir/moved.txt", keys=["*"])
            assert moved.id == doc.id
            assert dict(moved.arbitrary_metadata.metadata) == {"zenodo.record": "42"}
            assert len(user.versions("/home/newdir/moved.txt")) == 2
            assert user.info("/home/keep/doc.txt") is None

        under_pressure(disk, user, lambda: user.move("/home/keep/doc.txt", "/home/newdir/moved.txt").status.code, move_done)

        def delete_done():
            assert user.info("/home/newdir/moved.txt") is None
            assert "/home/newdir/moved.txt" in {i.ref.path for i in user.recycle()}

        under_pressure(disk, user, lambda: user.delete("/home/newdir/moved.txt").status.code, delete_done)

        def restore_item():
            return user.call(
                "RestoreRecycleItem",
                sp.RestoreRecycleItemRequest(ref=ref("/home"), key=old_key, restore_ref=ref("/home/back/old.txt")),
            ).status.code

        def item_done():
            assert user.read("/home/back/old.txt") == b"old"
            assert old_key not in {i.key for i in user.recycle()}

        under_pressure(disk, user, restore_item, item_done)

        deleted_key = next(i.key for i in user.recycle() if i.ref.path == "/home/newdir/moved.txt")

        def purge():
            return user.call("PurgeRecycle", sp.PurgeRecycleRequest(ref=ref("/home"), key=deleted_key)).status.code

        under_pressure(disk, user, purge, lambda: None)

        # space again: everything is whole, nothing leaked
        disk.free()
        assert user.recycle() == []
        assert user.read("/home/keep/other.txt") == b"other"
        assert user.read("/home/back/old.txt") == b"old"
        assert {i.name for i in user.ls("/home").infos} == {"keep", "new.txt", "newdir", "back"}
        assert user.names("/home/newdir") == []
        consistent(user, disk.path)
        assert internal(disk.path)["versions"] == []  # the purged file's versions went with it
        user.put_ok("/home/keep/other.txt", b"written again")
        assert user.read("/home/keep/other.txt") == b"written again"
    finally:
        user.close()
    assert "Traceback" not in disk.storage.output


def test_reading_and_signing_in_work_on_a_full_disk_writes_say_why(disk):
    data = bytes(range(256)) * 8
    einstein = StorageUser(disk.storage.grpc_addr, "einstein")
    try:
        einstein.mkdir("/home/papers")
        einstein.put_ok("/home/papers/paper.bin", data)
        einstein.put_ok("/home/papers/paper.bin", data[::-1])
        einstein.put_ok("/home/gone.txt", b"gone")
        einstein.delete("/home/gone.txt")
        announced = einstein.upload_protocol("/home/papers/late.bin", length=100)
        before = einstein.stat_ok("/home/papers/paper.bin")
        disk.fill()
        # a file that appeared by other means (an empty one: the disk has no room for more)
        (disk.path / "home" / "einstein" / "papers" / "dropped.txt").touch()

        # the storage starts again on the full disk
        einstein.close()
        disk.restart()
        einstein = StorageUser(disk.storage.grpc_addr, "einstein")

        # signing in: a user whose home was never made, and one whose home exists
        marie = StorageUser(disk.storage.grpc_addr, "marie")
        again = StorageUser(disk.storage.grpc_addr, "einstein")
        try:
            assert marie.call("GetHome", sp.GetHomeRequest()).status.code == OK
            assert marie.names("/home") == []
            assert again.call("WhoAmI", gw.WhoAmIRequest(token=again.token)).status.code == OK

            # reading
            info = again.stat_ok("/home/papers/paper.bin")
            assert (info.id, info.etag, info.checksum.sum) == (before.id, before.etag, hashlib.md5(data[::-1]).hexdigest())
            assert again.names("/home/papers") == ["dropped.txt", "paper.bin"]
            dropped = again.stat_ok("/home/papers/dropped.txt")
            assert again.stat_ok("/home/papers/dropped.txt").id == dropped.id  # the same id, not recorded yet
            assert len(again.versions("/home/papers/paper.bin")) == 1
            assert [i.ref.path for i in again.recycle()] == ["/home/gone.txt"]
            quota = again.call("GetQuota", sp.GetQuotaRequest(ref=ref("/home")))
            assert quota.status.code == OK and quota.used_bytes >= len(data)
            assert again.read("/home/papers/paper.bin") == data[::-1]
            ranged = again.get("/home/papers/paper.bin", {"Range": "bytes=0-9"})
            assert ranged.status_code == 206 and ranged.content == data[::-1][:10]
            head = again.get("/home/papers/paper.bin", method="HEAD")
            assert head.status_code == 200 and head.headers["Content-Length"] == str(len(data))

            # writing: the reason, never INTERNAL
            assert set_metadata(again, "/home/papers/paper.bin", {"k": "v"}).status.code == FULL
            assert again.mkdir("/home/more").status.code == FULL
            assert again.initiate_upload("/home/papers/new.bin", 10).status.code == FULL
            put = requests.put(  # (the session outlived the restart, on the storage's new port)
                f"{disk.storage.http_url}{urlsplit(announced.upload_endpoint).path}",
                data=b"x" * 100,
                headers={"X-Reva-Transfer": announced.token, "Upload-Length": "100"},
                timeout=60,
            )
            assert put.status_code == 507 and put.text.strip()
            assert again.info("/home/papers/late.bin") is None
            assert internal(disk.path)["uploads"] == []
        finally:
            marie.close()
            again.close()

        disk.free()
        assert einstein.stat_ok("/home/papers/dropped.txt").id == dropped.id  # recorded now, same id
        assert set_metadata(einstein, "/home/papers/paper.bin", {"k": "v"}).status.code == OK
        einstein.put_ok("/home/papers/new.bin", b"fits now")
        consistent(einstein, disk.path)
    finally:
        einstein.close()
    assert "Traceback" not in disk.storage.output


# ----------------------------------------------------------------------------------------
# a crash between the file-system step and the commit
# ----------------------------------------------------------------------------------------
def crash_with(root: Path, action) -> None:
    """Run ``action(user)`` on a storage that stops dead right after the file-system
    step of a mutation (before its transaction commits), as a crash would."""
    proc = start_storage(root, ["--fault", "crash-after-fs-step"])
    user = StorageUser(proc.grpc_addr, "einstein")
    try:
        with pytest.raises((grpc.RpcError, requests.ConnectionError)):
            outcome = action(user)
            # an RPC answered: the storage must have died anyway
            raise AssertionError(f"the storage answered {outcome!r} instead of stopping")
    finally:
        user.close()
    assert proc.process.wait(timeout=30) == 70, proc.output


def test_a_crash_half_way_is_undone_at_the_next_start(tmp_path):
    root = tmp_path / "root"
    proc = start_storage(root)
    user = StorageUser(proc.grpc_addr, "einstein")
    user.mkdir("/home/keep")
    user.put_ok("/home/keep/doc.txt", b"version 1")
    user.put_ok("/home/keep/doc.txt", b"version 2")
    assert set_metadata(user, "/home/keep/doc.txt", {"zenodo.record": "42"}).status.code == OK
    user.put_ok("/home/old.txt", b"old")
    user.delete("/home/old.txt")
    before = state(user, root)
    old_key = user.recycle()[0].key
    first_version = user.versions("/home/keep/doc.txt")[0].key
    user.close()
    proc.stop()

    def put_raw(user: StorageUser, path: str, data: bytes):
        proto = user.upload_protocol(path, length=len(data))
        return requests.put(
            proto.upload_endpoint, data=data, headers={"X-Reva-Transfer": proto.token}, timeout=60
        ).status_code

    crash_with(root, lambda u: u.delete("/home/keep/doc.txt"))
    crash_with(root, lambda u: u.move("/home/keep/doc.txt", "/home/elsewhere.txt"))
    crash_with(root, lambda u: u.move("/home/keep", "/home/renamed"))
    crash_with(root, lambda u: u.mkdir("/home/newdir"))
    crash_with(root, lambda u: u.touch("/home/new.txt"))
    crash_with(root, lambda u: put_raw(u, "/home/keep/doc.txt", b"version 3"))
    crash_with(root, lambda u: put_raw(u, "/home/brand-new.txt", b"new"))
    crash_with(
        root,
        lambda u: u.call(
            "RestoreFileVersion", sp.RestoreFileVersionRequest(ref=ref("/home/keep/doc.txt"), key=first_version)
        ),
    )
    crash_with(
        root,
        lambda u: u.call(
            "RestoreRecycleItem",
            sp.RestoreRecycleItemRequest(ref=ref("/home"), key=old_key, restore_ref=ref("/home/a/b/old.txt")),
        ),
    )

    proc = start_storage(root)
    try:
        user = StorageUser(proc.grpc_addr, "einstein")
        assert state(user, root) == before
        assert user.read("/home/keep/doc.txt") == b"version 2"
        consistent(user, root)
        # and it goes on working normally
        assert user.move("/home/keep/doc.txt", "/home/elsewhere.txt").status.code == OK
        assert user.stat_ok("/home/elsewhere.txt").id.opaque_id == before["tree"]["keep"]["children"]["doc.txt"]["id"]
        user.close()
    finally:
        proc.stop()
    assert "Traceback" not in proc.output


def test_data_no_row_knows_is_purged_at_start(tmp_path):
    """What a crash after a commit (or an older storage's half-done delete) left in the
    recycle-bin and versions folders belongs to nothing: it is purged, not leaked."""
    root = tmp_path / "root"
    proc = start_storage(root)
    user = StorageUser(proc.grpc_addr, "einstein")
    user.put_ok("/home/kept.txt", b"1")
    user.put_ok("/home/kept.txt", b"2")
    user.put_ok("/home/binned.txt", b"binned")
    user.delete("/home/binned.txt")
    owner = user.user.id.opaque_id
    before = state(user, root)
    user.close()
    proc.stop()

    meta = root / ".mesh-zenodo"
    (meta / "trash" / owner / "0123456789abcdef0123456789abcdef").write_bytes(b"orphan" * 1000)
    stray_node = meta / "versions" / "8d7f3c1e-0000-4000-8000-000000000000"
    stray_node.mkdir()
    (stray_node / "1700000000000000000").write_bytes(b"orphan version")
    known_node = next(p for p in (meta / "versions").iterdir() if p != stray_node)
    (known_node / "1700000000000000001").write_bytes(b"orphan version of a known file")

    proc = start_storage(root)
    try:
        user = StorageUser(proc.grpc_addr, "einstein")
        assert state(user, root) == before
        consistent(user, root)
        user.close()
    finally:
        proc.stop()
