"""Public links (``store.links``): a token that lets anyone (with the password, if one
is set) reach one file or folder with the permissions of the link's type.

* **Types** (oCIS ``linktype.go``), recognised from the ``ResourcePermissions`` of the
  grant by exact match, as Reva recognises roles (anything else is refused):

  ============  =====================================================================
  view          stat, get_path, get_quota, list_container, initiate_file_download
  upload        view + create_container, initiate_file_upload (folders; never overwrites)
  edit          upload + delete, move (folders); view + initiate_file_upload (files)
  createOnly    stat, get_path, create_container, initiate_file_upload: file drop
                (folders): no listing, no download; a name clash becomes ``name (1).ext``
  ============  =====================================================================

* Only those who may share the resource create, change or remove its links: its owner,
  or a manager of its project space (``add_grant`` there). A link never grants more
  than its creator has.
* Passwords are stored as scrypt hashes with a salt of their own, compared in constant
  time, and never returned (``password_protected`` says whether there is one) nor logged.
* An expired link is gone for everyone: ``GetPublicShare``/``ByToken`` answer NOT_FOUND,
  listings leave it out, ``/s/<token>`` answers 404 (as Reva's public share manager,
  which deletes expired links; we keep the row, so that the owner may see it gone).
* The anonymous visitor of a link acts as :func:`link_user` (``idp`` ``public-link``):
  :meth:`Links.permissions`, asked first by :class:`~.permissions.Access`, grants that
  user the link's permissions on the linked resource and below, nothing elsewhere, and
  nothing once the link is removed or expired.

This module imports nothing of :mod:`.permissions` (which calls it).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat as statmod
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .auth import User
from .errors import InvalidArgument, NotFound, PermissionDenied
from .paths import Loc

if TYPE_CHECKING:
    from .store import Store

LINK_IDP = "public-link"
#: what a link never grants on the linked item itself
_NOT_ON_LINK_ROOT = frozenset({"delete", "move"})

_VIEW = frozenset({"stat", "get_path", "get_quota", "list_container", "initiate_file_download"})
_UPLOAD = _VIEW | {"create_container", "initiate_file_upload"}
_EDIT_FOLDER = _UPLOAD | {"delete", "move"}
_EDIT_FILE = _VIEW | {"initiate_file_upload"}
_CREATE_ONLY = frozenset({"stat", "get_path", "create_container", "initiate_file_upload"})

#: link type -> (permissions on a folder, permissions on a file or None: folders only)
LINK_TYPES: dict[str, tuple[frozenset[str], frozenset[str] | None]] = {
    "view": (_VIEW, _VIEW),
    "upload": (_UPLOAD, None),
    "edit": (_EDIT_FOLDER, _EDIT_FILE),
    "createOnly": (_CREATE_ONLY, None),
}

# scrypt: 16 MiB and about 50 ms per check (OWASP's minimum is N=2**17 with r=8 for
# logins; a link password guards one link and is checked once per visitor session).
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
MAX_PASSWORD = 1024
MAX_DISPLAY_NAME = 255


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_password_text(password: str) -> None:
    if len(password) > MAX_PASSWORD:
        raise InvalidArgument(f"the password is longer than {MAX_PASSWORD} characters")


def check_password(stored: str, password: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=len(digest) // 2
        )
    except (ValueError, UnicodeEncodeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def password_fingerprint(stored: str | None) -> str:
    """A short mark of the current password (changes when the password does): what a
    visitor's cookie names, so that a new password ends the sessions of the old one."""
    return hashlib.sha256((stored or "").encode()).hexdigest()[:16]


def link_type(permissions: frozenset[str], is_dir: bool) -> str | None:
    """The type whose permissions (on a folder or a file) are exactly ``permissions``."""
    for name, (on_dir, on_file) in LINK_TYPES.items():
        if permissions == (on_dir if is_dir else on_file):
            return name
    return None


def link_user(link: PublicLink) -> User:
    """The anonymous visitor of ``link`` (never signs in; nothing else grants it anything)."""
    return User(opaque_id=f"{LINK_IDP}:{link.id}", idp=LINK_IDP, username=LINK_IDP, secret="",
                display_name=link.display_name or "public link")


@dataclass
class PublicLink:
    id: str
    token: str
    node_id: str
    owner: str
    creator: str
    permissions: frozenset[str]
    password_hash: str | None
    display_name: str
    description: str
    ctime_ns: int
    mtime_ns: int
    expires_ns: int | None

    @property
    def expired(self) -> bool:
        return self.expires_ns is not None and self.expires_ns <= time.time_ns()

    @property
    def password_protected(self) -> bool:
        return bool(self.password_hash)


_COLUMNS = (
    "id, token, node_id, owner, creator, permissions, password_hash, display_name, description,"
    " ctime_ns, mtime_ns, expires_ns"
)


def _link(row) -> PublicLink:
    values = list(row)
    values[5] = frozenset(p for p in values[5].split(",") if p)
    return PublicLink(*values)


class Links:
    """The public links of one store (``store.links``). Runs on the store's thread."""

    def __init__(self, store: Store):
        self.store = store

    # -- lookups -----------------------------------------------------------------------
    def _by(self, column: str, value: str) -> PublicLink | None:
        row = self.store.db.execute(f"SELECT {_COLUMNS} FROM public_links WHERE {column}=?", (value,)).fetchone()
        return None if row is None else _link(row)

    def by_token(self, token: str) -> PublicLink:
        """The live link of ``token`` (NotFound if unknown, removed or expired)."""
        link = self._by("token", token) if token else None
        if link is None or link.expired:
            raise NotFound("no such public link (it may have expired or been removed)")
        return link

    def target(self, link: PublicLink) -> Loc:
        """Where the link points now (NotFound if the resource is gone)."""
        row = self.store.db.execute(
            "SELECT owner, path FROM nodes WHERE id=? AND trash_key IS NULL", (link.node_id,)
        ).fetchone()
        if row is None or row[0] != link.owner:
            raise NotFound("the resource of this public link no longer exists")
        return Loc(row[0], row[1])

    def permissions(self, user: User, loc: Loc) -> frozenset[str] | None:
        """The hook of :meth:`Access.permissions`: for a link's visitor, the link's
        permissions on the linked resource and below, nothing elsewhere; None for
        everyone else."""
        if user.idp != LINK_IDP:
            return None
        link = self._by("id", user.opaque_id.removeprefix(LINK_IDP + ":"))
        if link is None or link.expired:
            return frozenset()
        try:
            base = self.target(link)
        except NotFound:
            return frozenset()
        if loc.owner != base.owner:
            return frozenset()
        if not (loc.rel == base.rel or not base.rel or loc.rel.startswith(base.rel + "/")):
            return frozenset()
        # never more than its creator may still do there (a manager who lost access
        # takes their links' power with them); the linked item itself is not deleted
        # or moved through its link
        creator = self.store.users.by_id(link.creator)
        if creator is None:
            return frozenset()
        granted = link.permissions & self.store.permissions(creator, loc)
        return granted - _NOT_ON_LINK_ROOT if loc.rel == base.rel else granted

    def visible(self, user: User, link: PublicLink) -> bool:
        """Whether ``user`` sees (and manages) ``link``: its creator, the owner of its
        resource, or whoever may share the resource (a manager of its space)."""
        if user.opaque_id in (link.creator, link.owner):
            return True
        try:
            loc = self.target(link)
        except NotFound:
            return False
        return "add_grant" in self.store.permissions(user, loc)

    def get(self, user: User, *, link_id: str = "", token: str = "") -> PublicLink:
        link = self._by("id", link_id) if link_id else self._by("token", token) if token else None
        if link is None or link.expired or not self.visible(user, link):
            raise NotFound("no such public link")
        return link

    def list(self, user: User, node_ids: set[str] | None = None, owners: set[str] | None = None,
             creators: set[str] | None = None) -> list[PublicLink]:
        """The live links ``user`` sees, filtered (a filter of None lets all through)."""
        rows = self.store.db.execute(f"SELECT {_COLUMNS} FROM public_links ORDER BY ctime_ns").fetchall()
        found = []
        for row in rows:
            link = _link(row)
            if link.expired:
                continue
            if node_ids is not None and link.node_id not in node_ids:
                continue
            if owners is not None and link.owner not in owners:
                continue
            if creators is not None and link.creator not in creators:
                continue
            if self.visible(user, link):
                found.append(link)
        return found

    # -- changes -------------------------------------------------------------------------
    def _check_permissions(self, user: User, loc: Loc, permissions: frozenset[str]) -> None:
        is_dir = statmod.S_ISDIR(self.store._require(loc).st_mode)
        kind = link_type(permissions, is_dir)
        if kind is None:
            what = "folder" if is_dir else "file"
            raise InvalidArgument(
                f"these permissions are not a public link type for a {what} "
                "(view, upload, edit or createOnly, as oCIS defines them; upload and createOnly are for folders)"
            )
        held = self.store.permissions(user, loc)
        if not permissions <= held:
            raise PermissionDenied("a public link cannot grant more than its creator has")

    @staticmethod
    def _check_texts(display_name: str | None) -> None:
        if display_name is not None and len(display_name.encode("utf-8")) > MAX_DISPLAY_NAME:
            raise InvalidArgument(f"the display name is longer than {MAX_DISPLAY_NAME} bytes")

    def create(self, user: User, loc: Loc, permissions: frozenset[str], *, password_hash: str | None,
               expires_ns: int | None, display_name: str, description: str = "") -> PublicLink:
        """A new link (``password_hash``: :func:`hash_password`'s, made off the store's
        thread, or None)."""
        store = self.store
        store.authorize(user, loc, "add_grant")
        if not loc.rel and store.users.by_id(loc.owner) is not None:
            raise InvalidArgument("a whole home cannot be given a public link: link a folder in it")
        self._check_permissions(user, loc, permissions)
        self._check_texts(display_name)
        now = time.time_ns()
        if expires_ns is not None and expires_ns <= now:
            raise InvalidArgument("the expiration is in the past")
        node_id = store.nodes.row(loc, strict=True)[0]
        link = PublicLink(
            id=str(uuid.uuid4()),
            token=secrets.token_urlsafe(16),
            node_id=node_id,
            owner=loc.owner,
            creator=user.opaque_id,
            permissions=permissions,
            password_hash=password_hash,
            display_name=display_name,
            description=description,
            ctime_ns=now,
            mtime_ns=now,
            expires_ns=expires_ns,
        )
        with store._tx():
            store.db.execute(
                f"INSERT INTO public_links({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (link.id, link.token, link.node_id, link.owner, link.creator, ",".join(sorted(permissions)),
                 link.password_hash, link.display_name, link.description, link.ctime_ns, link.mtime_ns,
                 link.expires_ns),
            )
        return link

    def update(self, user: User, link: PublicLink, *, permissions: frozenset[str] | None = None,
               password_hash: str | None = None, set_password: bool = False, expires_ns: int | None = None,
               set_expiration: bool = False, display_name: str | None = None,
               description: str | None = None) -> PublicLink:
        store = self.store
        loc = self.target(link)
        store.authorize(user, loc, "add_grant")
        self._check_texts(display_name)
        if permissions is not None:
            self._check_permissions(user, loc, permissions)
            link.permissions = permissions
        if set_password:
            link.password_hash = password_hash
        if set_expiration:
            if expires_ns is not None and expires_ns <= time.time_ns():
                raise InvalidArgument("the expiration is in the past")
            link.expires_ns = expires_ns
        if display_name is not None:
            link.display_name = display_name
        if description is not None:
            link.description = description
        link.mtime_ns = time.time_ns()
        with store._tx():
            store.db.execute(
                "UPDATE public_links SET permissions=?, password_hash=?, expires_ns=?, display_name=?, description=?,"
                " mtime_ns=? WHERE id=?",
                (",".join(sorted(link.permissions)), link.password_hash, link.expires_ns, link.display_name,
                 link.description, link.mtime_ns, link.id),
            )
        return link

    def remove(self, user: User, link: PublicLink) -> None:
        store = self.store
        try:
            store.authorize(user, self.target(link), "add_grant")
        except NotFound:
            if user.opaque_id not in (link.creator, link.owner):
                raise
        with store._tx():
            store.db.execute("DELETE FROM public_links WHERE id=?", (link.id,))
