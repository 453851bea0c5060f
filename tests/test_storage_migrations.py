"""The storage database's schema migrations: a root made before migrations existed (schema
"version 0", ``PRAGMA user_version`` 0) keeps working, and a database from a newer
mesh-zenodo is refused with a clear message."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess

from cs3.rpc.v1beta1 import code_pb2
from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp
from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from mesh_zenodo.pytest_plugin import StorageUser, source_tree_env, start_storage, storage_command

from mesh_zenodo.storage.schema import MIGRATIONS

OK = code_pb2.CODE_OK
EINSTEIN_ID = "4c510ada-c86b-4815-8820-42cdf82c3d51"
NODE_ID = "0b7e3a52-5d3c-4c59-9d54-6a5e1f0c9a11"
TRASHED_ID = "77a1d0c4-2b7e-4f1e-8a61-0c5d2f9e3b44"
VERSION_KEY = "1700000000000000000"

# The schema of storage.sqlite as the store created it before migrations existed.
V0_SCHEMA = """
CREATE TABLE IF NOT EXISTS nodes (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    path TEXT NOT NULL,
    gen INTEGER NOT NULL DEFAULT 0,
    trash_key TEXT,
    cks_size INTEGER,
    cks_mtime_ns INTEGER,
    md5 TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS nodes_live_path ON nodes(owner, path) WHERE trash_key IS NULL;
CREATE INDEX IF NOT EXISTS nodes_trash ON nodes(trash_key) WHERE trash_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS metadata (
    node_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (node_id, key)
);
CREATE TABLE IF NOT EXISTS versions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    node_id TEXT NOT NULL,
    key TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    etag TEXT NOT NULL,
    UNIQUE (node_id, key)
);
CREATE TABLE IF NOT EXISTS trash (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    node_id TEXT NOT NULL,
    orig_rel TEXT NOT NULL,
    is_dir INTEGER NOT NULL,
    size INTEGER NOT NULL,
    deleted_ns INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS trash_owner ON trash(owner);
CREATE TABLE IF NOT EXISTS uploads (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    user_id TEXT NOT NULL,
    parent_id TEXT NOT NULL,
    name TEXT NOT NULL,
    length INTEGER,
    if_match TEXT,
    if_not_exist INTEGER NOT NULL DEFAULT 0,
    if_unmodified_since_ns INTEGER,
    lock_id TEXT NOT NULL DEFAULT '',
    expires INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS downloads (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    user_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    expires INTEGER NOT NULL
);
"""


def v0_database(root, user_version: int = 0) -> sqlite3.Connection:
    meta = root / ".mesh-zenodo"
    meta.mkdir(parents=True)
    db = sqlite3.connect(meta / "storage.sqlite", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(V0_SCHEMA)
    if user_version:
        db.execute(f"PRAGMA user_version = {user_version}")
    return db


def old_etag(node_id: str, gen: int, st: os.stat_result) -> str:
    return '"' + hashlib.md5(f"{node_id}:{gen}:f:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest() + '"'


def make_v0_root(root) -> dict:
    """A storage root as the pre-migration store left it: einstein's home with one file
    that has a version and metadata, and one file in the recycle bin."""
    home = root / "home" / "einstein"
    (home / "papers").mkdir(parents=True)
    current = home / "papers" / "relativity.txt"
    current.write_bytes(b"E = mc^2\n")
    st = os.lstat(current)
    version_dir = root / ".mesh-zenodo" / "versions" / NODE_ID
    trash_dir = root / ".mesh-zenodo" / "trash" / EINSTEIN_ID
    db = v0_database(root)
    version_dir.mkdir(parents=True)
    (version_dir / VERSION_KEY).write_bytes(b"E = m c c\n")
    trash_dir.mkdir(parents=True)
    (trash_dir / "k0").write_bytes(b"ether\n")
    md5 = hashlib.md5(b"E = mc^2\n").hexdigest()
    db.execute("INSERT INTO nodes(id, owner, path) VALUES (?, ?, '')", (EINSTEIN_ID, EINSTEIN_ID))
    db.execute(
        "INSERT INTO nodes(id, owner, path, gen, cks_size, cks_mtime_ns, md5) VALUES (?,?,?,?,?,?,?)",
        (NODE_ID, EINSTEIN_ID, "papers/relativity.txt", 3, st.st_size, st.st_mtime_ns, md5),
    )
    db.execute(
        "INSERT INTO versions(node_id, key, size, mtime_ns, etag) VALUES (?,?,?,?,?)",
        (NODE_ID, VERSION_KEY, 10, 1_700_000_000_000_000_000, '"old-etag"'),
    )
    db.execute("INSERT INTO metadata(node_id, key, value) VALUES (?,?,?)", (NODE_ID, "zenodo.record", "12345"))
    db.execute(
        "INSERT INTO nodes(id, owner, path, trash_key) VALUES (?,?,?,?)", (TRASHED_ID, EINSTEIN_ID, "ether.txt", "k0")
    )
    db.execute(
        "INSERT INTO trash(key, owner, node_id, orig_rel, is_dir, size, deleted_ns) VALUES (?,?,?,?,?,?,?)",
        ("k0", EINSTEIN_ID, TRASHED_ID, "ether.txt", 0, 6, 1_700_000_100_000_000_000),
    )
    db.close()
    return {"etag": old_etag(NODE_ID, 3, st), "md5": md5}


def test_a_version_0_database_is_migrated_and_keeps_everything(tmp_path):
    root = tmp_path / "root"
    old = make_v0_root(root)
    proc = start_storage(root)
    try:
        user = StorageUser(proc.grpc_addr, "einstein")
        rid = spr.ResourceId(storage_id="mesh-zenodo", space_id=EINSTEIN_ID, opaque_id=NODE_ID)
        info = user.stat_ok(rid, keys=["zenodo.record"])
        assert info.path == "/home/papers/relativity.txt"
        assert info.id.opaque_id == NODE_ID
        assert info.etag == old["etag"]  # same node id and etag generation
        assert info.checksum.sum == old["md5"]
        assert dict(info.arbitrary_metadata.metadata) == {"zenodo.record": "12345"}
        assert user.stat_ok("/home/papers/relativity.txt").id.opaque_id == NODE_ID
        assert user.stat_ok(rid, "").size == 9
        assert [(v.key, v.size) for v in user.versions(rid)] == [(VERSION_KEY, 10)]
        assert [(i.key, i.ref.path, i.size) for i in user.recycle()] == [("k0", "/home/ether.txt", 6)]

        # and they still work
        res = user.call("RestoreFileVersion", sp.RestoreFileVersionRequest(ref=user.ref(rid), key=VERSION_KEY))
        assert res.status.code == OK, res.status
        assert user.read(rid) == b"E = m c c\n"
        res = user.call("RestoreRecycleItem", sp.RestoreRecycleItemRequest(ref=user.ref("/home"), key="k0"))
        assert res.status.code == OK, res.status
        assert user.stat_ok("/home/ether.txt").id.opaque_id == TRASHED_ID
        user.put_ok("/home/new.txt", b"new")
        user.close()
    finally:
        proc.stop()

    db = sqlite3.connect(root / ".mesh-zenodo" / "storage.sqlite")
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"nodes", "metadata", "versions", "trash", "uploads", "downloads", "usage"} <= tables
    finally:
        db.close()

    # a migrated root opens again as it is (nothing left to migrate)
    proc = start_storage(root)
    try:
        user = StorageUser(proc.grpc_addr, "einstein")
        assert user.stat_ok("/home/papers/relativity.txt").id.opaque_id == NODE_ID
        user.close()
    finally:
        proc.stop()


def test_a_database_newer_than_the_code_is_refused(tmp_path):
    root = tmp_path / "root"
    newer = len(MIGRATIONS) + 7
    v0_database(root, user_version=newer).close()
    command = storage_command(root, "127.0.0.1:0", "127.0.0.1:0")
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=source_tree_env())
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert f"schema version {newer}" in result.stderr and "newer mesh-zenodo" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    db = sqlite3.connect(root / ".mesh-zenodo" / "storage.sqlite")
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == newer  # left as it was
        assert db.execute("SELECT name FROM sqlite_master WHERE name='usage'").fetchone() is None
    finally:
        db.close()
