"""Project spaces (``store.spaces``): folders of their own under ``ROOT/spaces/<space id>``
(in no user's home), with a name, an optional quota and members holding a space role.

* A space is a namespace of the store like a home: its places are ``Loc(space id, rel)``,
  its root node's id is the space id (as a home's is its user's id), and nodes, versions,
  the recycle bin and the usage count are kept per space id as they are per home.
* Members see a space under ``/home/Projects/<name>`` (:meth:`Spaces.resolve_path`;
  ``paths.SPACE_MOUNTS`` names the place in every answer).
* A member's role (viewer, editor, manager: Reva's roles, notes 4.8) is granted on the
  space root and holds for everything in the space; :meth:`Spaces.permissions` is the
  hook that :class:`~.permissions.Access` asks first for a place in a space.
* Members are managed with the storage provider's grant RPCs on the space root
  (``AddGrant`` / ``UpdateGrant`` / ``RemoveGrant`` / ``ListGrants``), as oCIS does
  under its CreateShare on a space root; only managers change them, and a space always
  keeps one manager.
* Any user may create a project space (Reva/oCIS reserve it to a "create space"
  permission; we have no administrators); the creator is its first manager.
* ``DeleteStorageSpace`` is final (one step, managers only): the row stays with
  ``deleted_ns`` set (so the name may be reused), the files, versions, recycle bin,
  members and public links of the space go. oCIS first disables a space and purges it
  on a second call; we do not keep disabled spaces.

This module imports nothing of :mod:`.permissions` (which calls it): the role sets are
spelled out here.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from .paths import HOME, SPACE_MOUNTS, Loc, check_name

if TYPE_CHECKING:
    from .auth import User
    from .store import Store

PROJECTS = "Projects"
PROJECT = "project"
PERSONAL = "personal"

_VIEWER = frozenset(
    {
        "stat",
        "get_path",
        "get_quota",
        "initiate_file_download",
        "list_container",
        "list_recycle",
        "list_file_versions",
    }
)
_EDITOR = _VIEWER | {
    "create_container",
    "delete",
    "initiate_file_upload",
    "move",
    "restore_recycle_item",
    "restore_file_version",
}
_MANAGER = _EDITOR | {"add_grant", "update_grant", "remove_grant", "list_grants", "purge_recycle"}

#: the space roles and what they grant (Reva ``pkg/conversions/role.go``)
ROLES: dict[str, frozenset[str]] = {"viewer": _VIEWER, "editor": _EDITOR, "manager": _MANAGER}


def role_of(permissions: frozenset[str]) -> str | None:
    """The role whose permission set is exactly ``permissions`` (None: custom)."""
    for name, perms in ROLES.items():
        if perms == permissions:
            return name
    return None


@dataclass
class Space:
    id: str
    name: str
    space_type: str
    creator: str
    quota: int | None
    description: str
    ctime_ns: int

    @property
    def mount(self) -> str:
        return f"{HOME}/{PROJECTS}/{self.name}"


@dataclass
class Member:
    user_id: str
    role: str
    creator: str
    ctime_ns: int
    expires_ns: int | None


class Spaces:
    """The project spaces of one store (``store.spaces``). Runs on the store's thread."""

    def __init__(self, store: Store):
        self.store = store
        self.dir = store.root / "spaces"
        self.dir.mkdir(exist_ok=True)
        self._live: dict[str, Space] = {}
        for row in store.db.execute(
            "SELECT id, name, space_type, creator, quota, description, ctime_ns FROM spaces WHERE deleted_ns IS NULL"
        ):
            self._remember(Space(*row))

    def _remember(self, space: Space) -> None:
        self._live[space.id] = space
        SPACE_MOUNTS[space.id] = space.mount

    def _forget(self, space_id: str) -> None:
        self._live.pop(space_id, None)
        SPACE_MOUNTS.pop(space_id, None)

    # -- lookups -----------------------------------------------------------------------
    def get(self, space_id: str) -> Space | None:
        return self._live.get(space_id)

    def require(self, user: User, space_id: str) -> tuple[Space, str]:
        """The space and the caller's role in it; NotFound for non-members."""
        space = self._live.get(space_id)
        role = self.role(user.opaque_id, space_id) if space is not None else None
        if space is None or role is None:
            raise NotFound("no such storage space")
        return space, role

    def root_dir(self, owner: str) -> str | None:
        """The folder of the space ``owner`` (None: not a space)."""
        if owner in self._live:
            return str(self.dir / owner)
        return None

    def role(self, user_id: str, space_id: str) -> str | None:
        row = self.store.db.execute(
            "SELECT role, expires_ns FROM space_members WHERE space_id=? AND user_id=?", (space_id, user_id)
        ).fetchone()
        if row is None or (row[1] is not None and row[1] <= time.time_ns()):
            return None
        return row[0]

    def permissions(self, user: User, loc: Loc) -> frozenset[str] | None:
        """The hook of :meth:`Access.permissions`: what ``user`` may do at ``loc`` when it
        is in a project space (their role's set, or nothing); None when it is not."""
        if loc.owner not in self._live:
            return None
        role = self.role(user.opaque_id, loc.owner)
        return ROLES[role] if role in ROLES else frozenset()

    def resolve_path(self, user: User, rel: str) -> Loc | None:
        """``Projects/<name>/...`` of a space the user is a member of (None otherwise)."""
        if not rel.startswith(PROJECTS + "/"):
            return None
        name, _, rest = rel[len(PROJECTS) + 1 :].partition("/")
        for space in self._live.values():
            if space.name == name and self.role(user.opaque_id, space.id) is not None:
                return Loc(space.id, rest)
        return None

    def of_user(self, user: User) -> list[tuple[Space, str]]:
        """The live spaces ``user`` is a member of, with their role, by name."""
        now = time.time_ns()
        rows = self.store.db.execute(
            "SELECT space_id, role FROM space_members WHERE user_id=? AND (expires_ns IS NULL OR expires_ns > ?)",
            (user.opaque_id, now),
        ).fetchall()
        found = [(self._live[sid], role) for sid, role in rows if sid in self._live]
        return sorted(found, key=lambda pair: pair[0].name)

    def members(self, user: User, space_id: str) -> list[Member]:
        space, _role = self.require(user, space_id)
        self.store.authorize(user, Loc(space.id, ""), "list_grants")
        rows = self.store.db.execute(
            "SELECT user_id, role, creator, ctime_ns, expires_ns FROM space_members WHERE space_id=? ORDER BY ctime_ns",
            (space_id,),
        ).fetchall()
        return [Member(*row) for row in rows]

    # -- changes -------------------------------------------------------------------------
    @staticmethod
    def _check_space_name(name: str) -> str:
        name = name.strip()
        if not name:
            raise InvalidArgument("a project space needs a name")
        if "/" in name or name in (".", ".."):
            raise InvalidArgument("a space name must not contain '/' nor be '.' or '..'")
        check_name(name)
        return name

    @staticmethod
    def _check_quota(quota: int | None) -> int | None:
        if quota is None or quota == 0:
            return None  # no quota of its own: the disk is the limit
        if quota < 0:
            raise InvalidArgument("a quota must not be negative")
        return quota

    def _name_taken(self, name: str, but: str | None = None) -> bool:
        return any(s.name == name and s.id != but for s in self._live.values())

    def create(self, user: User, name: str, quota: int | None, description: str = "") -> Space:
        name = self._check_space_name(name)
        quota = self._check_quota(quota)
        if self._name_taken(name):
            raise AlreadyExists(f"a project space named {name!r} exists already")
        space = Space(str(uuid.uuid4()), name, PROJECT, user.opaque_id, quota, description, time.time_ns())
        folder = self.dir / space.id
        os.mkdir(folder)
        store = self.store
        try:
            with store._tx():
                store.db.execute(
                    "INSERT INTO spaces(id, name, space_type, creator, quota, description, ctime_ns)"
                    " VALUES (?,?,?,?,?,?,?)",
                    (space.id, space.name, space.space_type, space.creator, space.quota, description, space.ctime_ns),
                )
                store.db.execute(
                    "INSERT INTO space_members(space_id, user_id, role, creator, ctime_ns) VALUES (?,?,?,?,?)",
                    (space.id, user.opaque_id, "manager", user.opaque_id, space.ctime_ns),
                )
                store.db.execute("INSERT INTO nodes(id, owner, path) VALUES (?, ?, '')", (space.id, space.id))
                store.db.execute("INSERT OR REPLACE INTO usage(owner, bytes) VALUES (?, 0)", (space.id,))
        except BaseException:
            os.rmdir(folder)
            raise
        store.usage.counted(space.id)
        self._remember(space)
        return space

    def update(
        self, user: User, space_id: str, *, name: str | None = None, quota: int | None = None,
        set_quota: bool = False, description: str | None = None,
    ) -> Space:
        space, _role = self.require(user, space_id)
        self.store.authorize(user, Loc(space.id, ""), "update_grant")
        new_name = space.name if not name else self._check_space_name(name)
        if new_name != space.name and self._name_taken(new_name, but=space.id):
            raise AlreadyExists(f"a project space named {new_name!r} exists already")
        new_quota = self._check_quota(quota) if set_quota else space.quota
        new_description = space.description if description is None else description
        with self.store._tx():
            self.store.db.execute(
                "UPDATE spaces SET name=?, quota=?, description=? WHERE id=?",
                (new_name, new_quota, new_description, space.id),
            )
        space = Space(space.id, new_name, space.space_type, space.creator, new_quota, new_description, space.ctime_ns)
        self._remember(space)
        return space

    def delete(self, user: User, space_id: str) -> None:
        """Delete a space for good (managers only); see the module's docstring."""
        space, _role = self.require(user, space_id)
        store = self.store
        store.authorize(user, Loc(space.id, ""), "remove_grant")
        with store._tx():
            ids = [r[0] for r in store.db.execute("SELECT id FROM nodes WHERE owner=?", (space.id,))]
            store.nodes.forget(ids)
            store.db.execute("DELETE FROM trash WHERE owner=?", (space.id,))
            store.db.execute("DELETE FROM usage WHERE owner=?", (space.id,))
            store.db.execute("DELETE FROM space_members WHERE space_id=?", (space.id,))
            store.db.execute("DELETE FROM public_links WHERE owner=?", (space.id,))
            store.db.execute("UPDATE spaces SET deleted_ns=? WHERE id=?", (time.time_ns(), space.id))
            store.discard(str(self.dir / space.id))
            store.discard(str(store.trash_dir / space.id))
        self._forget(space.id)

    def set_member(self, user: User, space_id: str, member_id: str, role: str, *, adding: bool,
                   expires_ns: int | None = None) -> None:
        """AddGrant (``adding``) or UpdateGrant of a member's role (managers only)."""
        space, _role = self.require(user, space_id)
        self.store.authorize(user, Loc(space.id, ""), "add_grant" if adding else "update_grant")
        if role not in ROLES:
            raise InvalidArgument(f"not a space role: {role!r} (viewer, editor or manager)")
        if self.store.users.by_id(member_id) is None:
            raise NotFound("no such user")
        if expires_ns is not None and expires_ns <= time.time_ns():
            raise InvalidArgument("the expiration is in the past")
        existing = self.store.db.execute(
            "SELECT role FROM space_members WHERE space_id=? AND user_id=?", (space.id, member_id)
        ).fetchone()
        if adding and existing is not None:
            raise AlreadyExists("this user is a member of the space already (use UpdateGrant)")
        if not adding and existing is None:
            raise NotFound("this user is not a member of the space")
        if not adding and existing[0] == "manager" and role != "manager":
            self._keep_a_manager(space.id, member_id)
        with self.store._tx():
            self.store.db.execute(
                "INSERT OR REPLACE INTO space_members(space_id, user_id, role, creator, ctime_ns, expires_ns)"
                " VALUES (?,?,?,?,?,?)",
                (space.id, member_id, role, user.opaque_id, time.time_ns(), expires_ns),
            )

    def remove_member(self, user: User, space_id: str, member_id: str) -> None:
        space, _role = self.require(user, space_id)
        self.store.authorize(user, Loc(space.id, ""), "remove_grant")
        row = self.store.db.execute(
            "SELECT role FROM space_members WHERE space_id=? AND user_id=?", (space.id, member_id)
        ).fetchone()
        if row is None:
            raise NotFound("this user is not a member of the space")
        if row[0] == "manager":
            self._keep_a_manager(space.id, member_id)
        with self.store._tx():
            self.store.db.execute("DELETE FROM space_members WHERE space_id=? AND user_id=?", (space.id, member_id))

    def _keep_a_manager(self, space_id: str, leaving: str) -> None:
        others = self.store.db.execute(
            "SELECT COUNT(*) FROM space_members WHERE space_id=? AND role='manager' AND user_id<>?"
            " AND (expires_ns IS NULL OR expires_ns > ?)",
            (space_id, leaving, time.time_ns()),
        ).fetchone()[0]
        if not others:
            raise FailedPrecondition("a project space keeps at least one manager")


def check_not_personal(space_id: str, user: User) -> None:
    """Personal spaces are not updated or deleted through the spaces RPCs."""
    if space_id == user.opaque_id:
        raise PermissionDenied("a personal space cannot be changed or deleted")

