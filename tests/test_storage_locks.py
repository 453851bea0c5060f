"""CS3 locks in the embedded storage (mesh_zenodo/storage/locks.py, docs/locks.md):
SetLock, GetLock, RefreshLock and Unlock, and their enforcement on every mutation of a
locked file, over gRPC and on the data gateway.

Everything goes over real gRPC on loopback (and HTTP to the data gateway); each case
asserts what a client sees: the CS3 status (or HTTP status), a message that names the
lock's holder, and the file's content left as it was after a refused write."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import requests
from cs3.rpc.v1beta1 import code_pb2
from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp
from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from cs3.types.v1beta1 import types_pb2

from mesh_zenodo.pytest_plugin import StorageUser

OK = code_pb2.CODE_OK
NOT_FOUND = code_pb2.CODE_NOT_FOUND
DENIED = code_pb2.CODE_PERMISSION_DENIED
INVALID = code_pb2.CODE_INVALID_ARGUMENT
EXISTS = code_pb2.CODE_ALREADY_EXISTS
PRECONDITION = code_pb2.CODE_FAILED_PRECONDITION
ABORTED = code_pb2.CODE_ABORTED
LOCKED = code_pb2.CODE_LOCKED
SHARED, WRITE, EXCL = spr.LOCK_TYPE_SHARED, spr.LOCK_TYPE_WRITE, spr.LOCK_TYPE_EXCL
APP = "mesh-zenodo"


def code_name(code: int) -> str:
    return code_pb2.Code.Name(code)


def timestamp(seconds: float) -> types_pb2.Timestamp:
    return types_pb2.Timestamp(seconds=int(seconds), nanos=int(seconds % 1 * 1e9))


def new_id() -> str:
    return str(uuid.uuid4())


def lock(lock_id: str, kind=WRITE, app: str = APP, expires: float | None = None) -> spr.Lock:
    message = spr.Lock(lock_id=lock_id, type=kind, app_name=app)
    if expires is not None:
        message.expiration.CopyFrom(timestamp(expires))
    return message


def set_lock(user: StorageUser, path: str, lock_id: str, kind=WRITE, app: str = APP, expires=None):
    return user.call("SetLock", sp.SetLockRequest(ref=user.ref(path), lock=lock(lock_id, kind, app, expires)))


def get_lock(user: StorageUser, path: str):
    return user.call("GetLock", sp.GetLockRequest(ref=user.ref(path)))


def refresh_lock(user: StorageUser, path: str, lock_id: str, kind=WRITE, app: str = APP, expires=None,
                 existing: str = ""):
    request = sp.RefreshLockRequest(
        ref=user.ref(path), lock=lock(lock_id, kind, app, expires), existing_lock_id=existing
    )
    return user.call("RefreshLock", request)


def unlock(user: StorageUser, path: str, lock_id: str, app: str = APP):
    return user.call("Unlock", sp.UnlockRequest(ref=user.ref(path), lock=lock(lock_id, app=app)))


def assert_status(res, code: int, *words: str) -> None:
    assert res.status.code == code, (code_name(res.status.code), res.status.message)
    for word in words:
        assert word in res.status.message, (word, res.status.message)


@pytest.fixture(scope="module")
def richard(mz_server):
    user = StorageUser(mz_server.grpc_addr, "richard")
    yield user
    user.close()


@pytest.fixture
def place(mz_einstein, mz_marie, richard):
    """A fresh folder of einstein's, shared with marie as editor and richard as viewer
    (both accepted): (einstein's path, marie's path, richard's path) of the folder."""
    name = f"locks-{uuid.uuid4().hex[:8]}"
    path = f"/home/{name}"
    assert mz_einstein.mkdir(path).status.code == OK
    info = mz_einstein.stat_ok(path)
    to_marie = mz_einstein.share_ok(info.id, mz_einstein.grantee(mz_marie.user.id), "editor")
    to_richard = mz_einstein.share_ok(info.id, mz_einstein.grantee(richard.user.id), "viewer")
    marie_path = mz_marie.accept(to_marie.id.opaque_id).mount_point.path
    richard_path = richard.accept(to_richard.id.opaque_id).mount_point.path
    return path, marie_path, richard_path


# --------------------------------------------------------------------------------------
# SetLock, GetLock, Stat and ListContainer
# --------------------------------------------------------------------------------------
def test_a_lock_is_set_read_and_shown_in_stat_and_listings(mz_einstein, place):
    folder = place[0]
    path = f"{folder}/notes.ipynb"
    mz_einstein.put_ok(path, b"{}")
    assert_status(get_lock(mz_einstein, path), NOT_FOUND, "not locked")
    assert not mz_einstein.stat_ok(path).HasField("lock")

    lock_id = new_id()
    before = time.time()
    assert_status(set_lock(mz_einstein, path, lock_id, expires=time.time() + 600), OK)
    got = get_lock(mz_einstein, path)
    assert_status(got, OK)
    assert got.lock.lock_id == lock_id and got.lock.type == WRITE and got.lock.app_name == APP
    assert got.lock.user.opaque_id == mz_einstein.user.id.opaque_id and got.lock.user.idp == mz_einstein.user.id.idp
    assert got.lock.expiration.seconds > before + 590
    assert before - 1 <= got.lock.creation_time.seconds <= time.time() + 1

    info = mz_einstein.stat_ok(path, keys=["*"])
    assert info.lock == got.lock
    assert dict(info.arbitrary_metadata.metadata) == {}  # never in the arbitrary metadata
    listed = {i.name: i for i in mz_einstein.ls(folder).infos}
    assert listed["notes.ipynb"].lock == got.lock
    assert mz_einstein.stat_ok(path).etag == info.etag  # a lock is no change of the content

    # a second SetLock, even by the holder, is refused as Reva does (refresh instead)
    res = set_lock(mz_einstein, path, new_id())
    assert_status(res, PRECONDITION, "locked by einstein (app mesh-zenodo) until", "Z")
    assert get_lock(mz_einstein, path).lock.lock_id == lock_id

    # folders are never locked (our choice: INVALID_ARGUMENT, not a lock conflict)
    assert_status(set_lock(mz_einstein, folder, new_id()), INVALID, "only files")
    assert_status(get_lock(mz_einstein, folder), NOT_FOUND)
    assert not mz_einstein.stat_ok(folder).HasField("lock")
    assert_status(set_lock(mz_einstein, f"{folder}/missing.txt", new_id()), NOT_FOUND)


def test_bad_locks_are_refused(mz_einstein, mz_marie, place):
    path = f"{place[0]}/f.txt"
    mz_einstein.put_ok(path, b"x")
    assert_status(set_lock(mz_einstein, path, ""), INVALID, "lock_id")
    res = mz_einstein.call("SetLock", sp.SetLockRequest(ref=mz_einstein.ref(path), lock=spr.Lock(lock_id="x")))
    assert_status(res, INVALID, "type")
    assert_status(set_lock(mz_einstein, path, new_id(), expires=time.time() - 10), INVALID, "expiration")
    taken_for_marie = spr.Lock(lock_id=new_id(), type=WRITE, user=mz_marie.user.id)
    res = mz_einstein.call("SetLock", sp.SetLockRequest(ref=mz_einstein.ref(path), lock=taken_for_marie))
    assert_status(res, DENIED)
    assert_status(get_lock(mz_einstein, path), NOT_FOUND)


def test_of_two_setlocks_at_once_exactly_one_wins(mz_einstein, mz_marie, place):
    folder, marie_folder, _ = place
    for round_ in range(6):
        name = f"race-{round_}.txt"
        mz_einstein.put_ok(f"{folder}/{name}", b"race")
        barrier = threading.Barrier(2)
        results: dict[str, object] = {}
        ids = {"einstein": new_id(), "marie": new_id()}

        def take(who: str, user: StorageUser, path: str) -> None:
            barrier.wait()
            results[who] = set_lock(user, path, ids[who])

        threads = [
            threading.Thread(target=take, args=("einstein", mz_einstein, f"{folder}/{name}")),
            threading.Thread(target=take, args=("marie", mz_marie, f"{marie_folder}/{name}")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        codes = sorted(code_name(r.status.code) for r in results.values())
        assert codes == ["CODE_FAILED_PRECONDITION", "CODE_OK"], codes
        winner = next(who for who, r in results.items() if r.status.code == OK)
        loser = next(r for r in results.values() if r.status.code != OK)
        assert f"locked by {winner}" in loser.status.message
        assert get_lock(mz_einstein, f"{folder}/{name}").lock.lock_id == ids[winner]


# --------------------------------------------------------------------------------------
# lock types
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", [SHARED, WRITE, EXCL], ids=["shared", "write", "excl"])
def test_each_lock_type(kind, mz_einstein, mz_marie, richard, place):
    folder, marie_folder, richard_folder = place
    mz_einstein.put_ok(f"{folder}/typed.txt", b"original")
    lock_id = new_id()
    assert_status(set_lock(mz_einstein, f"{folder}/typed.txt", lock_id, kind), OK)
    assert mz_einstein.stat_ok(f"{folder}/typed.txt").lock.type == kind
    # everyone reads, whatever the type (WRITE by definition, EXCL as Reva's drivers do)
    assert mz_marie.read(f"{marie_folder}/typed.txt") == b"original"
    assert richard.read(f"{richard_folder}/typed.txt") == b"original"
    # a SHARED lock is advisory: it blocks no write; WRITE and EXCL block other writers
    res = mz_marie.put(f"{marie_folder}/typed.txt", b"marie's") if kind == SHARED else None
    if kind == SHARED:
        assert res.status_code == 200
        assert mz_einstein.read(f"{folder}/typed.txt") == b"marie's"
        # ...and anyone who may write the file may release it (with its id), as on Reva edge
        assert_status(unlock(mz_marie, f"{marie_folder}/typed.txt", lock_id, app="other"), OK)
    else:
        res = mz_marie.initiate_upload(f"{marie_folder}/typed.txt", 7)
        assert_status(res, LOCKED, "locked by einstein (app mesh-zenodo)")
        assert mz_einstein.read(f"{folder}/typed.txt") == b"original"
        assert_status(unlock(mz_marie, f"{marie_folder}/typed.txt", lock_id), DENIED, "einstein")
        assert_status(unlock(mz_einstein, f"{folder}/typed.txt", lock_id), OK)
    assert_status(get_lock(mz_einstein, f"{folder}/typed.txt"), NOT_FOUND)


# --------------------------------------------------------------------------------------
# expiry, refresh, unlock
# --------------------------------------------------------------------------------------
def test_an_expired_lock_is_gone(mz_einstein, mz_marie, place):
    folder, marie_folder, _ = place
    path = f"{folder}/short.txt"
    mz_einstein.put_ok(path, b"short")
    assert_status(set_lock(mz_einstein, path, new_id(), expires=time.time() + 2.0), OK)
    assert mz_einstein.stat_ok(path).HasField("lock")
    assert_status(mz_marie.initiate_upload(f"{marie_folder}/short.txt", 1), LOCKED)
    time.sleep(2.5)
    assert_status(get_lock(mz_einstein, path), NOT_FOUND)
    assert not mz_einstein.stat_ok(path).HasField("lock")
    assert not {i.name: i for i in mz_einstein.ls(folder).infos}["short.txt"].HasField("lock")
    # another holder takes it now, and may write
    marie_id = new_id()
    assert_status(set_lock(mz_marie, f"{marie_folder}/short.txt", marie_id), OK)
    assert get_lock(mz_einstein, path).lock.user.opaque_id == mz_marie.user.id.opaque_id
    mz_marie.put_ok(f"{marie_folder}/short.txt", b"marie's", lock_id=marie_id)
    assert mz_einstein.read(path) == b"marie's"


def test_refresh(mz_einstein, mz_marie, place):
    folder, marie_folder, _ = place
    path = f"{folder}/refresh.txt"
    mz_einstein.put_ok(path, b"r")
    assert_status(refresh_lock(mz_einstein, path, new_id()), PRECONDITION, "not locked")
    lock_id = new_id()
    assert_status(set_lock(mz_einstein, path, lock_id, expires=time.time() + 60), OK)
    first = get_lock(mz_einstein, path).lock
    time.sleep(1.1)

    assert_status(refresh_lock(mz_einstein, path, new_id(), expires=time.time() + 120), ABORTED, "wrong lock id")
    assert_status(refresh_lock(mz_einstein, path, lock_id, existing=new_id()), ABORTED)
    # the right id but another holder: another user, or the same user from another app
    assert_status(refresh_lock(mz_marie, f"{marie_folder}/refresh.txt", lock_id), DENIED, "einstein")
    assert_status(refresh_lock(mz_einstein, path, lock_id, app="another-app"), DENIED)
    assert get_lock(mz_einstein, path).lock == first

    assert_status(refresh_lock(mz_einstein, path, lock_id, expires=time.time() + 600), OK)
    refreshed = get_lock(mz_einstein, path).lock
    assert refreshed.expiration.seconds > first.expiration.seconds + 500
    assert refreshed.creation_time == first.creation_time
    # a new id, naming the old one (existing_lock_id)
    renewed = new_id()
    assert_status(refresh_lock(mz_einstein, path, renewed, EXCL, existing=lock_id), OK)
    now = get_lock(mz_einstein, path).lock
    assert (now.lock_id, now.type, now.creation_time) == (renewed, EXCL, first.creation_time)
    assert not now.HasField("expiration")


def test_unlock(mz_einstein, mz_marie, place):
    folder, marie_folder, _ = place
    path = f"{folder}/unlock.txt"
    mz_einstein.put_ok(path, b"u")
    assert_status(unlock(mz_einstein, path, new_id()), PRECONDITION, "not locked")
    lock_id = new_id()
    assert_status(set_lock(mz_einstein, path, lock_id), OK)
    assert_status(unlock(mz_einstein, path, new_id()), ABORTED, "einstein")
    assert_status(unlock(mz_marie, f"{marie_folder}/unlock.txt", lock_id), DENIED, "einstein")
    assert_status(unlock(mz_marie, f"{marie_folder}/unlock.txt", new_id()), ABORTED)
    assert get_lock(mz_einstein, path).lock.lock_id == lock_id
    assert_status(unlock(mz_einstein, path, lock_id), OK)
    assert_status(get_lock(mz_einstein, path), NOT_FOUND)
    assert_status(unlock(mz_einstein, path, lock_id), PRECONDITION)


# --------------------------------------------------------------------------------------
# every mutation of a locked file
# --------------------------------------------------------------------------------------
def _upload(user: StorageUser, path: str, lock_id: str):
    res = user.initiate_upload(path, 3, lock_id=lock_id)
    if res.status.code != OK:
        return res.status.code
    proto = next(p for p in res.protocols if p.protocol == "simple")
    r = requests.put(proto.upload_endpoint, data=b"new", headers={"X-Reva-Transfer": proto.token}, timeout=30)
    assert r.status_code == 200, (r.status_code, r.text)
    return OK


def _restore(user: StorageUser, path: str, lock_id: str):
    key = user.versions(path)[0].key
    return user.call("RestoreFileVersion", sp.RestoreFileVersionRequest(ref=user.ref(path), key=key, lock_id=lock_id))


MUTATIONS = {
    "upload": _upload,
    "touch": lambda u, p, lid: u.call("TouchFile", sp.TouchFileRequest(ref=u.ref(p), lock_id=lid)),
    "delete": lambda u, p, lid: u.call("Delete", sp.DeleteRequest(ref=u.ref(p), lock_id=lid)),
    "move": lambda u, p, lid: u.call(
        "Move", sp.MoveRequest(source=u.ref(p), destination=u.ref(p + ".moved"), lock_id=lid)
    ),
    "move-onto": lambda u, p, lid: u.call(
        "Move", sp.MoveRequest(source=u.ref(p + ".other"), destination=u.ref(p), lock_id=lid)
    ),
    "set-metadata": lambda u, p, lid: u.call("SetArbitraryMetadata", sp.SetArbitraryMetadataRequest(
        ref=u.ref(p), arbitrary_metadata=spr.ArbitraryMetadata(metadata={"k": "v2"}), lock_id=lid)),
    "unset-metadata": lambda u, p, lid: u.call("UnsetArbitraryMetadata", sp.UnsetArbitraryMetadataRequest(
        ref=u.ref(p), arbitrary_metadata_keys=["k"], lock_id=lid)),
    "restore-version": _restore,
}
#: with the right lock id: what the mutation answers then (our Move and TouchFile never
#: replace an existing file: past the lock, ALREADY_EXISTS)
WITH_THE_LOCK = {**dict.fromkeys(MUTATIONS, OK), "touch": EXISTS, "move-onto": EXISTS}


def _code(res) -> int:
    return res if isinstance(res, int) else res.status.code


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_each_mutation_of_a_locked_file(mutation, mz_einstein, mz_marie, place):
    folder, marie_folder, _ = place
    path, marie_path = f"{folder}/m.txt", f"{marie_folder}/m.txt"
    mz_einstein.put_ok(path, b"version one")
    mz_einstein.put_ok(path, b"version two")
    mz_einstein.put_ok(path + ".other", b"other")
    md = sp.SetArbitraryMetadataRequest(ref=mz_einstein.ref(path), arbitrary_metadata=spr.ArbitraryMetadata(
        metadata={"k": "v"}))
    assert_status(mz_einstein.call("SetArbitraryMetadata", md), OK)
    before = mz_einstein.stat_ok(path, keys=["k"])
    lock_id = new_id()
    assert_status(set_lock(mz_marie, marie_path, lock_id), OK)
    act = MUTATIONS[mutation]

    def unchanged() -> None:
        now = mz_einstein.stat_ok(path, keys=["k"])
        assert (now.etag, dict(now.arbitrary_metadata.metadata)) == (before.etag, {"k": "v"})
        assert mz_einstein.read(path) == b"version two"
        assert mz_einstein.info(path + ".moved") is None

    res = act(mz_einstein, path, "")
    assert _code(res) == LOCKED, code_name(_code(res))
    if not isinstance(res, int):
        assert "locked by marie (app mesh-zenodo)" in res.status.message, res.status.message
    unchanged()
    assert _code(act(mz_einstein, path, new_id())) == ABORTED
    unchanged()
    # the right id, but not the holder: still locked
    assert _code(act(mz_einstein, path, lock_id)) == LOCKED
    unchanged()
    # the holder with the lock's id
    assert _code(act(mz_marie, marie_path, lock_id)) == WITH_THE_LOCK[mutation]
    if mutation in ("move", "upload", "set-metadata", "restore-version"):
        where = f"{path}.moved" if mutation == "move" else path
        assert mz_einstein.stat_ok(where).lock.lock_id == lock_id  # the lock stays with the file
    if mutation == "delete":
        assert mz_einstein.info(path) is None


def test_a_folder_with_a_locked_file_cannot_be_deleted_and_a_lock_follows_moves(mz_einstein, mz_marie, place):
    folder, marie_folder, _ = place
    assert mz_einstein.mkdir(f"{folder}/sub").status.code == OK
    assert mz_einstein.mkdir(f"{folder}/sub/deeper").status.code == OK
    mz_einstein.put_ok(f"{folder}/sub/deeper/held.txt", b"held")
    lock_id = new_id()
    assert_status(set_lock(mz_marie, f"{marie_folder}/sub/deeper/held.txt", lock_id), OK)

    res = mz_einstein.delete(f"{folder}/sub")
    assert_status(res, LOCKED, "held.txt", "locked by marie")
    wrong = mz_einstein.call("Delete", sp.DeleteRequest(ref=mz_einstein.ref(f"{folder}/sub"), lock_id=new_id()))
    assert_status(wrong, ABORTED)
    assert mz_einstein.read(f"{folder}/sub/deeper/held.txt") == b"held"

    # moving the folder is allowed (as Reva): the file keeps its id, so its lock
    assert_status(mz_einstein.move(f"{folder}/sub", f"{folder}/renamed"), OK)
    assert mz_einstein.stat_ok(f"{folder}/renamed/deeper/held.txt").lock.lock_id == lock_id
    assert_status(mz_einstein.initiate_upload(f"{folder}/renamed/deeper/held.txt", 1), LOCKED)

    # its holder deletes the file with the lock: the lock goes with it
    by_holder = mz_marie.call("Delete", sp.DeleteRequest(
        ref=mz_marie.ref(f"{marie_folder}/renamed/deeper/held.txt"), lock_id=lock_id))
    assert_status(by_holder, OK)
    item = next(i for i in mz_einstein.recycle() if i.ref.path.endswith("/held.txt"))
    restore = sp.RestoreRecycleItemRequest(ref=mz_einstein.ref("/home"), key=item.key)
    assert_status(mz_einstein.call("RestoreRecycleItem", restore), OK)
    assert not mz_einstein.stat_ok(f"{folder}/renamed/deeper/held.txt").HasField("lock")
    assert_status(mz_einstein.delete(f"{folder}/renamed"), OK)


# --------------------------------------------------------------------------------------
# shares: who may lock
# --------------------------------------------------------------------------------------
def test_a_viewer_cannot_lock_but_reads_a_locked_file(mz_einstein, richard, place):
    folder, _, richard_folder = place
    mz_einstein.put_ok(f"{folder}/view.txt", b"look")
    res = set_lock(richard, f"{richard_folder}/view.txt", new_id())
    assert_status(res, DENIED, "initiate_file_upload")
    assert_status(get_lock(richard, f"{richard_folder}/view.txt"), NOT_FOUND)

    lock_id = new_id()
    assert_status(set_lock(mz_einstein, f"{folder}/view.txt", lock_id), OK)
    assert richard.read(f"{richard_folder}/view.txt") == b"look"
    seen = get_lock(richard, f"{richard_folder}/view.txt")
    assert_status(seen, OK)
    assert seen.lock.lock_id == lock_id
    assert richard.stat_ok(f"{richard_folder}/view.txt").lock.user.opaque_id == mz_einstein.user.id.opaque_id
    assert_status(unlock(richard, f"{richard_folder}/view.txt", lock_id), DENIED)
    assert_status(refresh_lock(richard, f"{richard_folder}/view.txt", lock_id), DENIED)


def test_an_editor_locks_and_the_owner_is_locked_out(mz_einstein, mz_marie, place):
    folder, marie_folder, _ = place
    path = f"{folder}/edited.txt"
    mz_einstein.put_ok(path, b"owner's")
    lock_id = new_id()
    assert_status(set_lock(mz_marie, f"{marie_folder}/edited.txt", lock_id, expires=time.time() + 300), OK)
    res = mz_einstein.initiate_upload(path, 4)
    assert_status(res, LOCKED, "locked by marie (app mesh-zenodo) until")
    assert_status(mz_einstein.delete(path), LOCKED, "marie")
    assert_status(set_lock(mz_einstein, path, new_id()), PRECONDITION, "marie")
    assert_status(unlock(mz_einstein, path, lock_id), DENIED, "marie")
    assert mz_einstein.read(path) == b"owner's"
    mz_marie.put_ok(f"{marie_folder}/edited.txt", b"marie's", lock_id=lock_id)
    assert_status(unlock(mz_marie, f"{marie_folder}/edited.txt", lock_id), OK)
    mz_einstein.put_ok(path, b"owner's again")
    assert mz_einstein.read(path) == b"owner's again"


# --------------------------------------------------------------------------------------
# preconditions and the data gateway
# --------------------------------------------------------------------------------------
def test_a_stale_if_match_fails_at_initiate(mz_einstein, place):
    path = f"{place[0]}/etag.txt"
    mz_einstein.put_ok(path, b"one")
    stale = mz_einstein.stat_ok(path).etag
    mz_einstein.put_ok(path, b"two")
    assert_status(mz_einstein.initiate_upload(path, 5, if_match=stale), PRECONDITION, "changed since")
    # with a lock too: the lock's holder still gets "changed since read", not a lock conflict
    lock_id = new_id()
    assert_status(set_lock(mz_einstein, path, lock_id), OK)
    assert_status(mz_einstein.initiate_upload(path, 5, if_match=stale, lock_id=lock_id), PRECONDITION)
    assert mz_einstein.read(path) == b"two"


def _put(proto, data: bytes, **headers: str) -> requests.Response:
    return requests.put(
        proto.upload_endpoint, data=data, timeout=30,
        headers={"X-Reva-Transfer": proto.token, "Upload-Length": str(len(data)), **headers},
    )


def test_the_data_gateway_checks_the_lock_when_the_upload_runs(mz_einstein, mz_marie, place):
    folder, marie_folder, _ = place
    path = f"{folder}/gw.txt"
    mz_einstein.put_ok(path, b"before")
    # initiated before marie took the lock: the PUT without a lock id is refused (423)
    early = mz_einstein.upload_protocol(path, "simple", 5)
    early_tus = mz_einstein.upload_protocol(path, "tus", 5)
    hers = mz_marie.upload_protocol(f"{marie_folder}/gw.txt", "simple", 5)
    lock_id = new_id()
    assert_status(set_lock(mz_marie, f"{marie_folder}/gw.txt", lock_id), OK)
    r = _put(early, b"early")
    assert r.status_code == 423 and "locked by marie" in r.text
    r = requests.patch(early_tus.upload_endpoint, data=b"early", timeout=30, headers={
        "X-Reva-Transfer": early_tus.token, "Tus-Resumable": "1.0.0", "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream"})
    assert r.status_code == 423 and "locked by marie" in r.text
    # a wrong lock id: 409 (ABORTED)
    r = _put(early, b"early", **{"X-Lock-Id": new_id()})
    assert r.status_code == 409 and "wrong lock id" in r.text
    # the right lock id but einstein is not the holder: 423
    r = _put(early, b"early", **{"X-Lock-Id": lock_id})
    assert r.status_code == 423
    assert mz_einstein.read(path) == b"before"

    # the holder's upload, initiated before the lock, carrying it on the PUT: accepted
    assert _put(hers, b"marie").status_code == 423
    r = _put(hers, b"marie", **{"X-Lock-Id": lock_id})
    assert r.status_code == 200, r.text
    assert mz_einstein.read(path) == b"marie"

    # initiated with the lock, which is released and taken by another before the PUT
    stale = mz_marie.upload_protocol(f"{marie_folder}/gw.txt", "simple", 5, lock_id=lock_id)
    assert_status(unlock(mz_marie, f"{marie_folder}/gw.txt", lock_id), OK)
    other_id = new_id()
    assert_status(set_lock(mz_einstein, path, other_id), OK)
    r = _put(stale, b"stale")
    assert r.status_code == 409
    assert mz_einstein.read(path) == b"marie"


def test_the_data_gateway_answers_412_when_the_file_changed_since_initiate(mz_einstein, place):
    path = f"{place[0]}/changed.txt"
    mz_einstein.put_ok(path, b"base")
    etag = mz_einstein.stat_ok(path).etag
    lock_id = new_id()
    assert_status(set_lock(mz_einstein, path, lock_id), OK)
    mine = mz_einstein.upload_protocol(path, "simple", 7, if_match=etag, lock_id=lock_id)
    mz_einstein.put_ok(path, b"changed", lock_id=lock_id)  # the file changes in between
    r = _put(mine, b"my edit")
    assert r.status_code == 412 and r.text.strip()
    assert mz_einstein.read(path) == b"changed"
