"""Who may do what: the permission names (the fields of CS3's ``ResourcePermissions``)
and :class:`Access`, the one place where a permission is decided.

Every operation of the store calls ``Store.authorize(user, loc, permission)``, which asks
:meth:`Access.authorize`; resource listings report :meth:`Access.permissions`. The owner
of a home may do everything in it; anyone else what the shares on the place and the
folders above it grant them or their groups (:meth:`.shares.Shares.grants`: unexpired,
not declined; pending ones grant too, as on Reva edge, but are not mounted). A user's
virtual ``/home/Shares`` and ``/home/Projects`` folders can be stat'ed and listed by that
user only; nothing can be written in them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import NotFound, PermissionDenied
from .paths import PROJECTS_REL, SHARES_REL, Loc

if TYPE_CHECKING:
    from .auth import User
    from .store import Store

# The fields of cs3.storage.provider.v1beta1.ResourcePermissions.
PERMISSIONS: tuple[str, ...] = (
    "add_grant",
    "create_container",
    "delete",
    "get_path",
    "get_quota",
    "initiate_file_download",
    "initiate_file_upload",
    "list_grants",
    "list_container",
    "list_file_versions",
    "list_recycle",
    "move",
    "remove_grant",
    "purge_recycle",
    "restore_file_version",
    "restore_recycle_item",
    "stat",
    "update_grant",
    "deny_grant",
    "delete_container",
    "move_container",
    "set_immutable_file",
    "set_immutable_container",
)
ALL_PERMISSIONS = frozenset(PERMISSIONS)
NO_PERMISSIONS: frozenset[str] = frozenset()
#: what a user may do with their own virtual /home/Shares and /home/Projects folders
SHARES_FOLDER = frozenset({"stat", "get_path", "get_quota", "list_container"})


def resource_permissions(perms: frozenset[str]):
    """The CS3 ``ResourcePermissions`` message of a permission set."""
    from cs3.storage.provider.v1beta1 import resources_pb2 as sp_res

    return sp_res.ResourcePermissions(**{p: (p in perms) for p in PERMISSIONS})


class Access:
    """Decides what a user may do at a place of one store."""

    def __init__(self, store: Store):
        self.store = store

    def permissions(self, user: User, loc: Loc) -> frozenset[str]:
        """What ``user`` may do at ``loc``: everything in their own home, what shares
        grant them elsewhere (see the module's docstring)."""
        # -- public links and project spaces decide for their visitors and places (links.py, spaces.py)
        for hook in (self.store.links.permissions, self.store.spaces.permissions):
            granted = hook(user, loc)
            if granted is not None:
                return granted
        # --
        for virtual in (SHARES_REL, PROJECTS_REL):  # /home/Shares, /home/Projects
            if loc.rel == virtual or loc.rel.startswith(virtual + "/"):
                return SHARES_FOLDER if loc.rel == virtual and user.opaque_id == loc.owner else NO_PERMISSIONS
        if user.opaque_id == loc.owner:
            return ALL_PERMISSIONS
        return self.store.shares.grants(user, loc)

    def authorize(self, user: User, loc: Loc, permission: str) -> frozenset[str]:
        """Raise unless ``user`` has ``permission`` at ``loc``; returns all their
        permissions there. Resources the user cannot even stat are reported as not
        found, to not leak their existence."""
        perms = self.permissions(user, loc)
        if "stat" not in perms:
            raise NotFound(f"no such file or folder: {self.display(user, loc)}")
        if permission not in perms:
            raise PermissionDenied(f"permission denied ({permission}) on {self.display(user, loc)}")
        return perms

    @staticmethod
    def display(user: User, loc: Loc) -> str:
        """How ``loc`` is named in an error for ``user`` (not at all if not theirs)."""
        return loc.path if user.opaque_id == loc.owner or loc.view is not None else "the requested resource"
