"""User and group shares (``store.shares``): the roles, the shares and each recipient's
received share (state, mount point, hidden), the grants they give, and the mounts under
``/home/Shares``. Tables: ``shares`` and ``received`` (schema migration 4).

**Roles.** A share's permissions must be exactly one of :data:`ROLES` (Reva's
``conversions/role.go``, oCIS ``unifiedrole``); anything else is refused as invalid.
Only the owner and managers (``add_grant``) share; a manager may grant any role, since
each role's set is within the manager's.

**Grants** (:meth:`Shares.grants`, asked by :meth:`.permissions.Access.permissions`): the
union of the roles of the unexpired shares on a place or a folder above it, to the user
or to one of their groups, that the user has not declined. As on Reva edge, a *pending*
share already grants: its grantee can Stat and open the resource by its ResourceId
(edge writes the grant when the share is created; acceptance only mounts it), but it is
not mounted under ``/home/Shares``. A declined (REJECTED) share grants nothing to the
user who declined it (other members of a group keep theirs). On the shared resource
itself, ``delete`` and ``move`` are never granted: a recipient cannot remove or move
away what was shared with them (they decline it instead); below it the role decides.

**Mounts.** Accepting a share mounts it at ``/home/Shares/<mount_point>``: by default
the resource's name, an existing mount of the same resource is reused, a clash becomes
``name (1).ext``, ``name (2).ext``, ... (Reva edge). Paths below a mount resolve into
the owner's tree (:class:`~.paths.Loc` with a ``view``, so answers speak the recipient's
paths).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied, StorageError
from .paths import SHARES_PATH, Loc, check_name

if TYPE_CHECKING:
    from .auth import User
    from .nodes import NodeInfo
    from .store import Store

# cs3.storage.provider.v1beta1.GranteeType
GRANTEE_USER = 1
GRANTEE_GROUP = 2
# cs3.sharing.collaboration.v1beta1.ShareState
PENDING = 1
ACCEPTED = 2
REJECTED = 3
STATES = (PENDING, ACCEPTED, REJECTED)

_VIEWER = frozenset(
    {"stat", "get_path", "get_quota", "initiate_file_download", "list_container", "list_recycle", "list_file_versions"}
)
_EDITOR = _VIEWER | {
    "create_container",
    "delete",
    "initiate_file_upload",
    "move",
    "restore_recycle_item",
    "restore_file_version",
}
#: the roles and the ResourcePermissions each one sets (docs/sharing.md)
ROLES: dict[str, frozenset[str]] = {
    "viewer": _VIEWER,
    "editor": _EDITOR,
    "uploader": frozenset({"stat", "get_path", "create_container", "initiate_file_upload"}),
    "manager": _EDITOR | {"add_grant", "update_grant", "remove_grant", "list_grants", "purge_recycle"},
}
#: never granted on the shared resource itself (only below it)
NOT_ON_SHARE_ROOT = frozenset({"delete", "move"})


def role_of(perms: frozenset[str]) -> str:
    """The role whose set is exactly ``perms``; :class:`InvalidArgument` otherwise."""
    for name, role_perms in ROLES.items():
        if perms == role_perms:
            return name
    raise InvalidArgument("the permissions are not those of a role (viewer, editor, uploader or manager)")


@dataclass
class Share:
    id: str
    node_id: str
    owner: str
    creator: str
    grantee_type: int
    grantee: str
    role: str
    ctime_ns: int
    mtime_ns: int
    expires_ns: int | None

    @property
    def permissions(self) -> frozenset[str]:
        return ROLES[self.role]

    def expired(self, now: int | None = None) -> bool:
        return self.expires_ns is not None and self.expires_ns <= (time.time_ns() if now is None else now)


@dataclass
class Received:
    share: Share
    state: int
    mount_point: str | None
    hidden: bool


_SHARE_COLUMNS = (
    "s.id, s.node_id, s.owner, s.creator, s.grantee_type, s.grantee, s.role, s.ctime_ns, s.mtime_ns, s.expires_ns"
)


class Shares:
    """The shares of one store (``store.shares``); methods run on the store's thread."""

    def __init__(self, store: Store):
        self.store = store
        #: (user id, grant table) while :meth:`prepared` is in force (one store call)
        self._prepared: tuple[str, dict[tuple[str, str], list[tuple[str, str, str]]]] | None = None
        self._resolving: set[tuple[str, str, str]] = set()

    @property
    def db(self):
        return self.store.db

    def _grant_table(self, user: User) -> dict[tuple[str, str], list[tuple[str, str, str]]]:
        """Every share that grants ``user`` something (unexpired, to them or a group of
        theirs, not declined by them) on a live node: (node owner, node path) ->
        [(share owner, role, creator)]. :meth:`grants` reads it instead of asking per place."""
        groups = sorted(self.store.users.group_ids(user))
        table: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
        for owner, path, share_owner, role, creator in self.db.execute(
            f"""SELECT n.owner, n.path, s.owner, s.role, s.creator FROM shares s
                JOIN nodes n ON n.id = s.node_id AND n.trash_key IS NULL
                WHERE (s.expires_ns IS NULL OR s.expires_ns > ?)
                  AND ((s.grantee_type = 1 AND s.grantee = ?)
                       OR (s.grantee_type = 2 AND s.grantee IN ({",".join("?" * len(groups))})))
                  AND NOT EXISTS (SELECT 1 FROM received r WHERE r.share_id = s.id AND r.user = ? AND r.state = 3)""",
            (time.time_ns(), user.opaque_id, *groups, user.opaque_id),
        ):
            table.setdefault((owner, path), []).append((share_owner, role, creator))
        return table

    @contextlib.contextmanager
    def prepared(self, user: User) -> Iterator[None]:
        """Within one store call that asks many places for ``user`` (a listing of
        shares): read the shares that grant them once, not per place. Nothing may
        change the shares meanwhile (the store's calls run one at a time)."""
        outer = self._prepared
        self._prepared = (user.opaque_id, self._grant_table(user))
        try:
            yield
        finally:
            self._prepared = outer

    # ---------------------------------------------------------------------------------
    # the grants (asked by Access.permissions)
    # ---------------------------------------------------------------------------------
    def grants(self, user: User, loc: Loc) -> frozenset[str]:
        """What the shares on ``loc`` and the folders above it grant ``user``."""
        segments = loc.rel.split("/") if loc.rel else []
        prefixes = [""] + ["/".join(segments[: i + 1]) for i in range(len(segments))]
        prepared = self._prepared
        if prepared is not None and prepared[0] == user.opaque_id:
            table = prepared[1]
            perms: set[str] = set()
            for path in prefixes:
                for share_owner, role, creator in table.get((loc.owner, path), ()):
                    if share_owner == loc.owner:
                        granted = self._still_granted(ROLES.get(role, frozenset()), creator, loc)
                        perms |= granted - NOT_ON_SHARE_ROOT if path == loc.rel else granted
            return frozenset(perms)
        nodes = dict(self.db.execute(
            f"""SELECT id, path FROM nodes WHERE owner = ? AND trash_key IS NULL
                  AND path IN ({",".join("?" * len(prefixes))})""",
            (loc.owner, *prefixes),
        ).fetchall())
        if not nodes:
            return frozenset()
        groups = sorted(self.store.users.group_ids(user))
        found = self.db.execute(
            f"""SELECT s.role, s.node_id, s.creator FROM shares s
                WHERE s.node_id IN ({",".join("?" * len(nodes))}) AND +s.owner = ?
                  AND (s.expires_ns IS NULL OR s.expires_ns > ?)
                  AND ((s.grantee_type = 1 AND s.grantee = ?)
                       OR (s.grantee_type = 2 AND s.grantee IN ({",".join("?" * len(groups))})))
                  AND NOT EXISTS (SELECT 1 FROM received r WHERE r.share_id = s.id AND r.user = ? AND r.state = 3)""",
            (*nodes, loc.owner, time.time_ns(), user.opaque_id, *groups, user.opaque_id),
        ).fetchall()
        perms = set()
        for role, node_id, creator in found:
            path = nodes[node_id]
            granted = self._still_granted(ROLES.get(role, frozenset()), creator, loc)
            perms |= granted - NOT_ON_SHARE_ROOT if path == loc.rel else granted
        return frozenset(perms)

    def _still_granted(self, granted: frozenset[str], creator: str, loc: Loc) -> frozenset[str]:
        """A reshare grants no more than its creator may still do at ``loc``: when a
        manager loses access, the shares they made grant nothing more either. (A cycle
        of reshares that no longer reaches the owner grants nothing.)"""
        if creator == loc.owner:
            return granted
        key = (creator, loc.owner, loc.rel)
        if key in self._resolving:
            return frozenset()
        user = self.store.users.by_id(creator)
        if user is None:
            return frozenset()
        self._resolving.add(key)
        try:
            return granted & self.store.permissions(user, Loc(loc.owner, loc.rel))
        finally:
            self._resolving.discard(key)

    # ---------------------------------------------------------------------------------
    # rows
    # ---------------------------------------------------------------------------------
    @staticmethod
    def _share(row) -> Share:
        return Share(*row)

    def _get(self, share_id: str) -> Share:
        row = self.db.execute(f"SELECT {_SHARE_COLUMNS} FROM shares s WHERE s.id = ?", (share_id,)).fetchone()
        if row is None:
            raise NotFound(f"no share with id {share_id!r}")
        return self._share(row)

    def locate(self, share: Share) -> Loc | None:
        """Where the shared resource is now (None: in the recycle bin or gone)."""
        row = self.db.execute(
            "SELECT owner, path FROM nodes WHERE id = ? AND trash_key IS NULL", (share.node_id,)
        ).fetchone()
        return Loc(row[0], row[1]) if row is not None else None

    def is_recipient(self, user: User, share: Share) -> bool:
        if share.grantee_type == GRANTEE_USER:
            return share.grantee == user.opaque_id
        return share.grantee in self.store.users.group_ids(user)

    def _can(self, user: User, share: Share, permission: str) -> bool:
        if user.opaque_id in (share.owner, share.creator):
            return True
        loc = self.locate(share)
        return loc is not None and permission in self.store.permissions(user, loc)

    def _visible(self, user: User, share: Share) -> bool:
        return self._can(user, share, "list_grants") or self.is_recipient(user, share)

    def find(self, user: User, share_id: str) -> Share:
        """A share the caller may see (its owner, creator, a manager of the resource or a
        recipient); NOT_FOUND otherwise, as for an unknown id."""
        share = self._get(share_id)
        if not self._visible(user, share):
            raise NotFound(f"no share with id {share_id!r}")
        return share

    def find_by_key(self, user: User, node_id: str, grantee_type: int, grantee: str) -> Share:
        row = self.db.execute(
            f"SELECT {_SHARE_COLUMNS} FROM shares s WHERE s.node_id = ? AND s.grantee_type = ? AND s.grantee = ?",
            (node_id, grantee_type, grantee),
        ).fetchone()
        if row is None or not self._visible(user, self._share(row)):
            raise NotFound("no such share")
        return self._share(row)

    # ---------------------------------------------------------------------------------
    # shares (by their creators)
    # ---------------------------------------------------------------------------------
    def check_grantee(self, grantee_type: int, grantee: str) -> None:
        users = self.store.users
        if grantee_type == GRANTEE_USER:
            if users.by_id(grantee) is None:
                raise NotFound("no such user to share with")
        elif grantee_type == GRANTEE_GROUP:
            if users.groups.by_id(grantee) is None:
                raise NotFound("no such group to share with")
        else:
            raise InvalidArgument("the grantee must be a user or a group")

    @staticmethod
    def check_expiry(expires_ns: int | None) -> None:
        if expires_ns is not None and expires_ns <= time.time_ns():
            raise InvalidArgument("the expiration date is in the past")

    def create(
        self, user: User, loc: Loc, grantee_type: int, grantee: str, perms: frozenset[str], expires_ns: int | None
    ) -> Share:
        store = self.store
        store.authorize(user, loc, "stat")  # NOT_FOUND for what the caller cannot see
        role = role_of(perms)
        self.check_expiry(expires_ns)
        self.check_grantee(grantee_type, grantee)
        if grantee_type == GRANTEE_USER and grantee in (user.opaque_id, loc.owner):
            raise InvalidArgument(
                "cannot share with yourself" if grantee == user.opaque_id else "cannot share with the owner"
            )
        if not loc.rel:
            raise InvalidArgument("a home folder cannot be shared (share a folder in it)")
        caller = store.authorize(user, loc, "add_grant")  # PERMISSION_DENIED: not owner nor manager
        if not perms <= caller:
            raise PermissionDenied(f"you may not grant the {role} role on {store.access.display(user, loc)}")
        st = store._require(loc)
        if role == "uploader" and not os.path.isdir(store.abs_path(loc)):
            raise InvalidArgument("the uploader role is for folders only")
        now = time.time_ns()
        with store._tx():
            node_id = store.nodes.row(loc, st, strict=True)[0]
            exists = self.db.execute(
                "SELECT 1 FROM shares WHERE node_id = ? AND grantee_type = ? AND grantee = ?",
                (node_id, grantee_type, grantee),
            ).fetchone()
            if exists:
                raise AlreadyExists("this resource is already shared with this grantee (update that share)")
            share = Share(
                uuid.uuid4().hex, node_id, loc.owner, user.opaque_id, grantee_type, grantee, role, now, now, expires_ns
            )
            self.db.execute(
                "INSERT INTO shares(id, node_id, owner, creator, grantee_type, grantee, role, ctime_ns, mtime_ns,"
                " expires_ns) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (share.id, node_id, share.owner, share.creator, grantee_type, grantee, role, now, now, expires_ns),
            )
        return share

    def _manage(self, user: User, share_id: str, permission: str) -> Share:
        share = self.find(user, share_id)
        if not self._can(user, share, permission):
            raise PermissionDenied("only the owner, the creator or a manager of the resource may change this share")
        return share

    def update(
        self, user: User, share_id: str, perms: frozenset[str] | None = None, expires_ns: int | None | bool = False
    ) -> Share:
        """Change the role (``perms``) and/or the expiry (``expires_ns``: a time, None to
        remove it, False to keep it)."""
        share = self._manage(user, share_id, "update_grant")
        role = share.role if perms is None else role_of(perms)
        if expires_ns is not False:
            self.check_expiry(expires_ns)  # type: ignore[arg-type]
            share.expires_ns = expires_ns  # type: ignore[assignment]
        if role != share.role:
            loc = self.locate(share)
            if role == "uploader" and (loc is None or not os.path.isdir(self.store.abs_path(loc))):
                raise InvalidArgument("the uploader role is for folders only")
            mine = user.opaque_id == share.owner
            if not mine and loc is not None and not ROLES[role] <= self.store.permissions(user, loc):
                raise PermissionDenied(f"you may not grant the {role} role")
        share.role = role
        share.mtime_ns = time.time_ns()
        with self.store._tx():
            self.db.execute(
                "UPDATE shares SET role = ?, expires_ns = ?, mtime_ns = ? WHERE id = ?",
                (share.role, share.expires_ns, share.mtime_ns, share.id),
            )
        return share

    def remove(self, user: User, share_id: str) -> None:
        share = self._manage(user, share_id, "remove_grant")
        with self.store._tx():
            self.db.execute("DELETE FROM received WHERE share_id = ?", (share.id,))
            self.db.execute("DELETE FROM shares WHERE id = ?", (share.id,))

    def list(self, user: User, resource_ids: list[str] | None = None) -> list[Share]:
        """The shares the caller owns or created, plus (for the given resources) those
        on resources they manage; the caller filters further."""
        rows = self.db.execute(
            f"SELECT {_SHARE_COLUMNS} FROM shares s WHERE s.owner = ? OR s.creator = ? ORDER BY s.ctime_ns, s.id",
            (user.opaque_id, user.opaque_id),
        ).fetchall()
        shares = [self._share(r) for r in rows]
        if resource_ids:
            seen = {s.id for s in shares}
            marks = ",".join("?" * len(resource_ids))
            for row in self.db.execute(
                f"SELECT {_SHARE_COLUMNS} FROM shares s WHERE s.node_id IN ({marks}) ORDER BY s.ctime_ns, s.id",
                tuple(resource_ids),
            ).fetchall():
                share = self._share(row)
                if share.id not in seen and self._can(user, share, "list_grants"):
                    shares.append(share)
        return shares

    # ---------------------------------------------------------------------------------
    # received shares (by their recipients)
    # ---------------------------------------------------------------------------------
    def received(self, user: User) -> list[Received]:
        """The unexpired shares to the user or their groups, on resources that exist."""
        return [rec for rec, _loc in self.received_at(user)]

    def received_at(self, user: User) -> list[tuple[Received, Loc]]:
        """:meth:`received`, each with where its resource is now (as :meth:`locate`)."""
        groups = sorted(self.store.users.group_ids(user))
        rows = self.db.execute(
            f"""SELECT {_SHARE_COLUMNS}, r.state, r.mount_point, r.hidden, n.owner, n.path
                FROM shares s JOIN nodes n ON n.id = s.node_id AND n.trash_key IS NULL
                LEFT JOIN received r ON r.share_id = s.id AND r.user = ?
                WHERE (s.expires_ns IS NULL OR s.expires_ns > ?)
                  AND ((s.grantee_type = 1 AND s.grantee = ?)
                       OR (s.grantee_type = 2 AND s.grantee IN ({",".join("?" * len(groups))})))
                ORDER BY s.ctime_ns, s.id""",
            (user.opaque_id, time.time_ns(), user.opaque_id, *groups),
        ).fetchall()
        return [
            (
                Received(self._share(r[:10]), r[10] or PENDING, r[11] if r[10] == ACCEPTED else None, bool(r[12])),
                Loc(r[13], r[14]),
            )
            for r in rows
        ]

    def get_received(self, user: User, share_id: str) -> Received:
        for rec in self.received(user):
            if rec.share.id == share_id:
                return rec
        raise NotFound(f"no share with id {share_id!r} was shared with you")

    def update_received(
        self,
        user: User,
        share_id: str,
        fields: list[str],
        state: int = 0,
        mount_point: str = "",
        hidden: bool = False,
    ) -> Received:
        if not fields:
            raise InvalidArgument("update_mask must name state, mount_point and/or hidden")
        unknown = [f for f in fields if f not in ("state", "mount_point", "hidden")]
        if unknown:
            raise InvalidArgument(f"cannot update {', '.join(unknown)} of a received share")
        rec = self.get_received(user, share_id)
        if "state" in fields:
            if state not in STATES:
                raise InvalidArgument("state must be PENDING, ACCEPTED or REJECTED")
            rec.state = state
        if "hidden" in fields:
            rec.hidden = hidden
        if rec.state != ACCEPTED:
            if "mount_point" in fields and mount_point:
                raise InvalidArgument("only an accepted share has a mount point")
            rec.mount_point = None
        elif "mount_point" in fields and mount_point:
            name = mount_point.rstrip("/").rsplit("/", 1)[-1]
            if not name or name in (".", ".."):
                raise InvalidArgument("invalid mount point")
            check_name(name)
            if name != rec.mount_point and self._mount_taken(user, name, rec.share):
                raise AlreadyExists(f"{SHARES_PATH}/{name} is already taken by another share")
            rec.mount_point = name
        elif rec.mount_point is None:
            rec.mount_point = self._default_mount(user, rec.share)
        with self.store._tx():
            self.db.execute(
                "INSERT OR REPLACE INTO received(share_id, user, state, mount_point, hidden) VALUES (?,?,?,?,?)",
                (rec.share.id, user.opaque_id, rec.state, rec.mount_point, int(rec.hidden)),
            )
        return rec

    def _mount_taken(self, user: User, name: str, share: Share) -> bool:
        return any(m == name and s.node_id != share.node_id for m, s, _loc in self.mounts(user))

    def _default_mount(self, user: User, share: Share) -> str:
        mounts = self.mounts(user)
        for name, other, _loc in mounts:
            if other.node_id == share.node_id:
                return name  # the same resource, mounted already (Reva edge reuses it)
        loc = self.locate(share)
        if loc is None:
            raise NotFound("the shared resource no longer exists")
        base = loc.name
        taken = {name for name, _s, _l in mounts}
        if base not in taken:
            return base
        stem, dot, ext = base.rpartition(".")
        if not stem or not os.path.isfile(self.store.abs_path(loc)):
            stem, dot, ext = base, "", ""
        n = 1
        while True:
            candidate = f"{stem} ({n}){dot}{ext}"
            if candidate not in taken:
                return candidate
            n += 1

    # ---------------------------------------------------------------------------------
    # mounts: /home/Shares/<mount point>
    # ---------------------------------------------------------------------------------
    def mounts(self, user: User, pairs: list[tuple[Received, Loc]] | None = None) -> list[tuple[str, Share, Loc]]:
        """The user's accepted shares: (mount point, share, place seen through it),
        sorted by mount point, one per mount point (``pairs``: :meth:`received_at`, when
        the caller has it already)."""
        seen: dict[str, tuple[str, Share, Loc]] = {}
        for rec, loc in self.received_at(user) if pairs is None else pairs:  # (where each resource is: one query)
            if rec.state != ACCEPTED or not rec.mount_point or rec.mount_point in seen:
                continue
            shown = f"{SHARES_PATH}/{rec.mount_point}"
            seen[rec.mount_point] = (rec.mount_point, rec.share, Loc(loc.owner, loc.rel, (loc.rel, shown)))
        return [seen[k] for k in sorted(seen)]

    def mount(self, user: User, name: str) -> Loc | None:
        """The place mounted at ``/home/Shares/<name>`` for ``user`` (None: no such mount)."""
        groups = sorted(self.store.users.group_ids(user))
        row = self.db.execute(
            f"""SELECT n.owner, n.path FROM received r JOIN shares s ON s.id = r.share_id
                JOIN nodes n ON n.id = s.node_id AND n.trash_key IS NULL
                WHERE r.user = ? AND r.state = 2 AND r.mount_point = ?
                  AND (s.expires_ns IS NULL OR s.expires_ns > ?)
                  AND ((s.grantee_type = 1 AND s.grantee = ?)
                       OR (s.grantee_type = 2 AND s.grantee IN ({",".join("?" * len(groups))})))
                ORDER BY s.ctime_ns, s.id LIMIT 1""",
            (user.opaque_id, name, time.time_ns(), user.opaque_id, *groups),
        ).fetchone()
        if row is None:
            return None
        return Loc(row[0], row[1], (row[1], f"{SHARES_PATH}/{name}"))

    def mounted(self, user: User, pairs: list[tuple[Received, Loc]] | None = None) -> dict[str, Loc]:
        """The user's mounts by the node id of the mounted resource."""
        return {share.node_id: loc for _name, share, loc in self.mounts(user, pairs)}

    def mounted_info(self, user: User, share: Share, mounted: dict[str, Loc]) -> NodeInfo | None:
        """The resource of a share as the caller sees it (through their mount if they
        accepted it: ``mounted`` is :meth:`mounted`); None if they cannot see it (or it
        is gone)."""
        loc = mounted.get(share.node_id) or self.locate(share)
        if loc is None:
            return None
        try:
            return self.store.stat(user, loc)
        except StorageError:
            return None

    def mounted_infos(self, user: User, shares: list[Share], mounted: dict[str, Loc]) -> list[NodeInfo | None]:
        """:meth:`mounted_info` of each share, computed together: the resources located
        in one query per batch, the grants read once, the folders checked once
        (:meth:`.store.Store.stat_many`)."""
        where: dict[str, Loc] = {}
        wanted = sorted({s.node_id for s in shares if s.node_id not in mounted})
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for node_id, owner, path in self.db.execute(
                f"SELECT id, owner, path FROM nodes WHERE trash_key IS NULL AND id IN ({marks})", chunk
            ):
                where[node_id] = Loc(owner, path)
        locs = [mounted.get(s.node_id) or where.get(s.node_id) for s in shares]
        infos = self.store.stat_many(user, [loc for loc in locs if loc is not None])
        found = iter(infos)
        return [next(found) if loc is not None else None for loc in locs]
