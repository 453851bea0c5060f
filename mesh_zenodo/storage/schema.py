"""The schema of ``storage.sqlite`` and its migrations.

A database's ``PRAGMA user_version`` is the number of migrations applied to it.
:func:`migrate` (called when the store opens) runs the migrations above it, in order and
inside one transaction that also sets ``user_version``: a failure leaves the database as
it was. A database from a newer mesh-zenodo (``user_version`` above ``len(MIGRATIONS)``)
is refused with :class:`SchemaTooNew` instead of being used half-understood.

Version 0 is both a new, empty database and one made before migrations existed (those
already hold migration 1's tables): migration 1 only uses ``CREATE ... IF NOT EXISTS``,
so it applies cleanly to either.

**Changing the schema** is a one-line addition: append a migration to ``MIGRATIONS``
(never edit, remove or reorder one that has shipped). A migration is SQL text (any
number of ``;``-separated statements, no transaction control) or a callable taking the
``sqlite3.Connection`` (for data that SQL alone cannot compute). For example::

    MIGRATIONS = [V1_BASE, V2_USAGE, V3_PENDING, V4_SHARES]   # + V4_SHARES = "CREATE TABLE grants (...);"
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator

Migration = str | Callable[[sqlite3.Connection], None]

# 1: nodes (ids, etag generations, checksums), metadata, versions, recycle bin, transfers
# (``downloads`` is no longer used: download sessions live in their transfer tokens).
V1_BASE = """
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

# 2: the running count of the bytes in each home (the quota's "used"; see quota.Usage.used_bytes).
V2_USAGE = """
CREATE TABLE IF NOT EXISTS usage (
    owner TEXT PRIMARY KEY,
    bytes INTEGER NOT NULL
);
"""

# 3: the journal of mutations under way (see journal.py): how to undo the file-system
# step of a mutation whose transaction never committed (a crash between the two).
V3_PENDING = """
CREATE TABLE IF NOT EXISTS pending (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    undo TEXT NOT NULL
);
"""

# 4: user and group shares (see shares.py): one row per share (the grant on a node to a
# user or a group, with its role and optional expiry), and each recipient's view of a
# share (state, mount point, hidden) in ``received``.
V4_SHARES = """
CREATE TABLE IF NOT EXISTS shares (
    id TEXT PRIMARY KEY,
    node_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    creator TEXT NOT NULL,
    grantee_type INTEGER NOT NULL,
    grantee TEXT NOT NULL,
    role TEXT NOT NULL,
    ctime_ns INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    expires_ns INTEGER,
    UNIQUE (node_id, grantee_type, grantee)
);
CREATE INDEX IF NOT EXISTS shares_owner ON shares(owner);
CREATE INDEX IF NOT EXISTS shares_grantee ON shares(grantee_type, grantee);
CREATE TABLE IF NOT EXISTS received (
    share_id TEXT NOT NULL,
    user TEXT NOT NULL,
    state INTEGER NOT NULL,
    mount_point TEXT,
    hidden INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (share_id, user)
);
CREATE INDEX IF NOT EXISTS received_user ON received(user);
"""

# 5: public links (see links.py: the token, the linked node, the permissions, the hashed
# password, the expiry) and project spaces (see spaces.py: the space, its quota, its
# members with their space roles; a deleted space keeps its row, ``deleted_ns`` set).
V5_LINKS_SPACES = """
CREATE TABLE IF NOT EXISTS public_links (
    id TEXT PRIMARY KEY,
    token TEXT NOT NULL UNIQUE,
    node_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    creator TEXT NOT NULL,
    permissions TEXT NOT NULL,
    password_hash TEXT,
    display_name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    ctime_ns INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    expires_ns INTEGER
);
CREATE INDEX IF NOT EXISTS public_links_node ON public_links(node_id);
CREATE INDEX IF NOT EXISTS public_links_creator ON public_links(creator);
CREATE TABLE IF NOT EXISTS spaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    space_type TEXT NOT NULL,
    creator TEXT NOT NULL,
    quota INTEGER,
    description TEXT NOT NULL DEFAULT '',
    ctime_ns INTEGER NOT NULL,
    deleted_ns INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS spaces_live_name ON spaces(name) WHERE deleted_ns IS NULL;
CREATE TABLE IF NOT EXISTS space_members (
    space_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    creator TEXT NOT NULL,
    ctime_ns INTEGER NOT NULL,
    expires_ns INTEGER,
    PRIMARY KEY (space_id, user_id)
);
CREATE INDEX IF NOT EXISTS space_members_user ON space_members(user_id);
"""

# 6: shares found by the resource they share (the permission check asks for a node's shares)
V6_SHARES_BY_NODE = """
CREATE INDEX IF NOT EXISTS shares_node ON shares(node_id);
"""

# 7: CS3 locks on files (see locks.py): at most one per node, kept across moves (the node
# id stays), dropped with the node (deleted, forgotten); ``user_id`` is the holder's
# opaque id, ``expiration_ns`` 0 means no expiry. Never in the arbitrary metadata.
V7_LOCKS = """
CREATE TABLE IF NOT EXISTS locks (
    node_id TEXT PRIMARY KEY,
    lock_id TEXT NOT NULL,
    type INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    idp TEXT NOT NULL DEFAULT '',
    app_name TEXT NOT NULL DEFAULT '',
    expiration_ns INTEGER NOT NULL DEFAULT 0,
    creation_ns INTEGER NOT NULL
);
"""

MIGRATIONS: list[Migration] = [
    V1_BASE, V2_USAGE, V3_PENDING, V4_SHARES, V5_LINKS_SPACES, V6_SHARES_BY_NODE, V7_LOCKS
]
LATEST = len(MIGRATIONS)


class SchemaTooNew(Exception):
    """The database was written by a newer mesh-zenodo than this one."""


def statements(script: str) -> Iterator[str]:
    """The complete SQL statements of ``script`` (semicolons inside strings or trigger
    bodies do not split)."""
    buffer = ""
    for part in script.split(";"):
        buffer += part + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \t\r\n;"):
                yield buffer
            buffer = ""
    if buffer.strip(" \t\r\n;"):
        raise ValueError(f"incomplete SQL statement in a migration: {buffer.strip()[:80]!r}")


def user_version(db: sqlite3.Connection) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite3.Connection, migrations: list[Migration] | None = None) -> int:
    """Bring ``db`` (an autocommit connection, no transaction open) up to date; returns
    its version. Raises :class:`SchemaTooNew` for a database newer than ``migrations``."""
    migrations = MIGRATIONS if migrations is None else migrations
    latest = len(migrations)
    db.execute("BEGIN IMMEDIATE")
    try:
        current = user_version(db)
        if current > latest or current < 0:
            raise SchemaTooNew(
                f"storage.sqlite has schema version {current}, but this mesh-zenodo knows only versions "
                f"up to {latest}: it was written by a newer mesh-zenodo (upgrade mesh-zenodo to use this "
                f"storage root)"
            )
        for step in migrations[current:]:
            if callable(step):
                step(db)
            else:
                for statement in statements(step):
                    db.execute(statement)
        if current != latest:
            db.execute(f"PRAGMA user_version = {int(latest)}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return latest
