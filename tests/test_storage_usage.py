"""The quota's running count of used bytes per home (the ``usage`` table), in process at
the store level: it always equals a fresh walk of the home, and the upload commit path
never walks the home."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from mesh_zenodo.storage import quota as store_module
from mesh_zenodo.storage.auth import UserDirectory
from mesh_zenodo.storage.errors import InsufficientStorage
from mesh_zenodo.storage.files import tree_size
from mesh_zenodo.storage.paths import Loc
from mesh_zenodo.storage.store import Store


@pytest.fixture
def store(tmp_path):
    opened = Store(tmp_path / "root", UserDirectory(), quota=10**9)
    yield opened
    opened.close()


def upload(store: Store, user, loc: Loc, data: bytes):
    """What the data gateway does once a body is complete: temp file, then commit."""
    tmp = store.transfers.temp_path("test")
    Path(tmp).write_bytes(data)
    return store.transfers.commit_file(user, loc, tmp, len(data), hashlib.md5(data).hexdigest())


def stored_count(store: Store, owner: str) -> int | None:
    row = store.db.execute("SELECT bytes FROM usage WHERE owner=?", (owner,)).fetchone()
    return None if row is None else row[0]


def walked(store: Store, owner: str) -> int:
    """The old computation: a walk of the whole home."""
    return tree_size(store.home_dir(owner))


def test_the_running_count_equals_a_fresh_walk(store):
    users = store.users
    einstein, marie = users.by_username("einstein"), users.by_username("marie")
    home = store.ensure_home(einstein)
    marie_home = store.ensure_home(marie)
    owner = home.owner

    def check() -> None:
        assert stored_count(store, owner) == walked(store, owner)
        assert store.used_bytes(owner) == walked(store, owner)

    # a file already on disk before anything is counted: the first walk finds it
    Path(store.abs_path(home.child("before.bin"))).write_bytes(b"b" * 100)
    assert stored_count(store, owner) is None
    assert store.used_bytes(owner) == 100
    check()

    upload(store, einstein, home.child("a.bin"), b"a" * 1000)
    check()
    store.create_container(einstein, home.child("d"))
    upload(store, einstein, home.child("d/b.bin"), b"b" * 500)
    upload(store, einstein, home.child("d/c.bin"), b"c" * 70)
    check()
    upload(store, einstein, home.child("a.bin"), b"A" * 300)  # overwrite, smaller
    check()
    upload(store, einstein, home.child("a.bin"), b"A" * 2000)  # overwrite, larger
    check()
    store.touch_file(einstein, home.child("t.txt"))
    check()
    assert stored_count(store, owner) == 100 + 2000 + 500 + 70

    # version restore (a copy committed over the file)
    first = store.versions.list(einstein, home.child("a.bin"))[-1]
    assert first.size == 1000
    asyncio.run(store.versions.restore(einstein, home.child("a.bin"), first.key))
    check()
    assert stored_count(store, owner) == 100 + 1000 + 500 + 70

    # delete to the recycle bin (file, then folder), restore, purge
    file_key = store.delete(einstein, home.child("a.bin"))
    check()
    folder_key = store.delete(einstein, home.child("d"))
    check()
    assert stored_count(store, owner) == 100
    store.recycle.restore(einstein, home, folder_key, home.child("restored/d"))
    check()
    store.move(einstein, home.child("restored/d/b.bin"), home.child("moved.bin"))
    check()
    store.recycle.purge(einstein, home, file_key)
    check()
    store.delete(einstein, home.child("moved.bin"))
    store.delete(einstein, home.child("before.bin"))
    check()
    store.recycle.purge(einstein, home)
    check()
    assert stored_count(store, owner) == 70

    # another home is counted on its own
    upload(store, marie, marie_home.child("m.bin"), b"m" * 42)
    assert store.used_bytes(marie_home.owner) == 42 == walked(store, marie_home.owner)
    assert stored_count(store, owner) == 70


def test_the_upload_commit_path_does_not_walk_the_home(store, monkeypatch):
    einstein = store.users.by_username("einstein")
    home = store.ensure_home(einstein)
    upload(store, einstein, home.child("x.bin"), b"x" * 10)
    assert store.used_bytes(home.owner) == 10  # counted (one walk)

    walks = []
    real_tree_size = store_module.tree_size
    monkeypatch.setattr(store_module, "tree_size", lambda path: walks.append(path) or real_tree_size(path))
    for n in range(5):
        store.check_quota(home.owner, 100, 10)
        upload(store, einstein, home.child(f"f{n}.bin"), b"f" * 100)
        upload(store, einstein, home.child("x.bin"), b"x" * (n + 1))
    _total, used, _remaining = store.quota_of(einstein, home)
    assert walks == []
    assert used == 500 + 5 == walked(store, home.owner)

    store.quota = used + 10
    with pytest.raises(InsufficientStorage):
        upload(store, einstein, home.child("big.bin"), b"z" * 11)
    upload(store, einstein, home.child("fits.bin"), b"z" * 10)
    assert walks == []


def test_each_run_recounts_what_changed_while_stopped(tmp_path):
    root = tmp_path / "root"
    first = Store(root, UserDirectory())
    einstein = first.users.by_username("einstein")
    home = first.ensure_home(einstein)
    upload(first, einstein, home.child("a.bin"), b"a" * 10)
    assert first.used_bytes(home.owner) == 10
    first.close()

    (root / "home" / "einstein" / "dropped-in.bin").write_bytes(b"d" * 5)
    second = Store(root, UserDirectory())
    try:
        assert second.used_bytes(home.owner) == 15 == walked(second, home.owner)
    finally:
        second.close()
