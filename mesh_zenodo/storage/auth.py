"""Users and tokens of the embedded storage.

* :class:`User` and :class:`UserDirectory`: the demo users Reva ships, or a JSON file in
  the shape of Reva's ``users.demo.json``.
* :class:`TokenManager`: HS256 JWT access tokens (``x-access-token``) and transfer tokens
  (``X-Reva-Transfer``), signed with a secret generated once and kept in the storage root.

Nothing here ever logs a token or a password.
"""

from __future__ import annotations

import hmac
import json
import os
import re
import secrets
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jwt

from .groups import GroupDirectory, GroupsConfigError

ISSUER_AUDIENCE = "reva"
ACCESS_TOKEN_LIFETIME = 3600
TRANSFER_TOKEN_LIFETIME = 6000

# cs3.identity.user.v1beta1.UserType, by name (the numbers are the wire values).
USER_TYPES = {
    "USER_TYPE_INVALID": 0,
    "USER_TYPE_PRIMARY": 1,
    "USER_TYPE_SECONDARY": 2,
    "USER_TYPE_SERVICE": 3,
    "USER_TYPE_APPLICATION": 4,
    "USER_TYPE_GUEST": 5,
    "USER_TYPE_FEDERATED": 6,
    "USER_TYPE_LIGHTWEIGHT": 7,
    "USER_TYPE_SPACE_OWNER": 8,
}
USER_TYPE_PRIMARY = USER_TYPES["USER_TYPE_PRIMARY"]

# A username names the user's home folder on disk, so keep it to a safe alphabet.
_USERNAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,127}$")


class ConfigError(Exception):
    """A start-up configuration problem (bad users file, unusable root, ...)."""


class TokenError(Exception):
    """A token that is malformed, forged, expired or meant for something else."""


@dataclass(frozen=True)
class User:
    opaque_id: str
    idp: str
    username: str
    secret: str = field(repr=False)
    mail: str = ""
    display_name: str = ""
    groups: tuple[str, ...] = ()
    type: int = USER_TYPE_PRIMARY

    def claims(self) -> dict[str, Any]:
        """The ``user`` claim of an access token (never the secret)."""
        return {
            "id": {"idp": self.idp, "opaque_id": self.opaque_id, "type": self.type},
            "username": self.username,
            "mail": self.mail,
            "display_name": self.display_name,
            "groups": list(self.groups),
        }

    def check_password(self, password: str) -> bool:
        return hmac.compare_digest(self.secret.encode("utf-8"), password.encode("utf-8"))


# Reva's demo users, in the shape of Reva's users.demo.json (and of a --users file), with
# the idps of Reva's two-server example setup.
DEMO_USERS: list[dict[str, Any]] = [
    {
        "id": {
            "opaque_id": "4c510ada-c86b-4815-8820-42cdf82c3d51",
            "idp": "cernbox.cern.ch",
            "type": "USER_TYPE_PRIMARY",
        },
        "username": "einstein",
        "secret": "relativity",
        "mail": "einstein@example.org",
        "display_name": "Albert Einstein",
        "groups": ["sailing-lovers", "violin-haters", "physics-lovers"],
    },
    {
        "id": {"opaque_id": "f7fbf8c8-139b-4376-b307-cf0a8c2d0d9c", "idp": "cesnet.cz", "type": "USER_TYPE_PRIMARY"},
        "username": "marie",
        "secret": "radioactivity",
        "mail": "marie@example.org",
        "display_name": "Marie Curie",
        "groups": ["radium-lovers", "polonium-lovers", "physics-lovers"],
    },
    {
        "id": {"opaque_id": "932b4540-8d16-481e-8ef4-588e4b6b151c", "idp": "example.org", "type": "USER_TYPE_PRIMARY"},
        "username": "richard",
        "secret": "superfluidity",
        "mail": "richard@example.org",
        "display_name": "Richard Feynman",
        "groups": ["quantum-lovers", "philosophy-haters", "physics-lovers"],
    },
]


class UserDirectory:
    """The users known to this storage and their groups (read-only; ``.groups`` is the
    :class:`~.groups.GroupDirectory`). Each user's ``groups`` are the groups their entry
    names plus those whose entry lists them (see :mod:`.groups`)."""

    def __init__(
        self, users: tuple[User, ...] | list[User] | None = None, groups: GroupDirectory | None = None
    ):
        users = tuple(users) if users is not None else tuple(parse_users(DEMO_USERS, "demo users"))
        groups = groups if groups is not None else GroupDirectory()
        named: dict[str, set[str]] = {}
        for u in users:
            for name in u.groups:
                named.setdefault(name, set()).add(u.opaque_id)
        self.groups = groups.with_members(named)
        self._users = tuple(
            replace(
                u,
                groups=tuple(dict.fromkeys([*u.groups, *(g.group_name for g in self.groups.of_user(u.opaque_id))])),
            )
            for u in users
        )
        self._by_id = {u.opaque_id: u for u in self._users}
        self._by_name = {u.username: u for u in self._users}
        self._group_ids = {u.opaque_id: frozenset(g.opaque_id for g in self.groups.of_user(u.opaque_id)) for u in users}

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str] | None, groups_path: str | os.PathLike[str] | None = None
    ) -> UserDirectory:
        """The users of ``path`` (None: Reva's demo users) and the groups of
        ``groups_path`` (None: Reva's demo groups)."""
        try:
            groups = GroupDirectory.from_file(groups_path) if groups_path else None
        except GroupsConfigError as exc:
            raise ConfigError(str(exc)) from None
        return cls(load_users_file(path) if path else None, groups)

    def group_ids(self, user: User) -> frozenset[str]:
        """The opaque ids of the groups ``user`` belongs to."""
        return self._group_ids.get(user.opaque_id, frozenset())

    def __iter__(self):
        return iter(self._users)

    def by_id(self, opaque_id: str) -> User | None:
        return self._by_id.get(opaque_id)

    def by_username(self, username: str) -> User | None:
        return self._by_name.get(username)

    def by_mail(self, mail: str) -> User | None:
        mail = mail.casefold()
        for user in self._users:
            if user.mail and user.mail.casefold() == mail:
                return user
        return None

    def authenticate(self, username: str, password: str) -> User | None:
        user = self._by_name.get(username)
        if user is None:
            # Spend about the same time as a real comparison.
            hmac.compare_digest(b"x" * 16, password.encode("utf-8"))
            return None
        return user if user.check_password(password) else None

    def find(self, query: str) -> list[User]:
        """Case-insensitive substring match on username, mail and display name."""
        q = query.casefold()
        return [
            u
            for u in self._users
            if q in u.username.casefold() or q in u.mail.casefold() or q in u.display_name.casefold()
        ]


def _parse_user_type(value: Any, where: str) -> int:
    if value is None or value == "":
        return USER_TYPE_PRIMARY
    if isinstance(value, bool):
        raise ConfigError(f"{where}: id.type must be a UserType name or number")
    if isinstance(value, int):
        if value not in USER_TYPES.values():
            raise ConfigError(f"{where}: id.type {value} is not a valid UserType")
        return value
    if isinstance(value, str):
        name = value.upper()
        if not name.startswith("USER_TYPE_"):
            name = "USER_TYPE_" + name
        if name in USER_TYPES:
            return USER_TYPES[name]
        raise ConfigError(f"{where}: id.type {value!r} is not a valid UserType")
    raise ConfigError(f"{where}: id.type must be a UserType name or number")


def _string(entry: dict[str, Any], key: str, where: str, *, required: bool) -> str:
    value = entry.get(key)
    if value is None:
        if required:
            raise ConfigError(f"{where}: missing {key!r}")
        return ""
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key!r} must be a string")
    if required and not value:
        raise ConfigError(f"{where}: {key!r} must not be empty")
    return value


def load_users_file(path: str | os.PathLike[str]) -> list[User]:
    """Read a users file in the shape of Reva's ``users.demo.json``.

    Raises :class:`ConfigError` with a readable message on any problem.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"users file {os.fspath(path)!r} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot read users file {os.fspath(path)!r}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"users file {os.fspath(path)!r} is not valid JSON: {exc}") from None
    return parse_users(data, f"users file {os.fspath(path)!r}")


def parse_users(data: Any, source: str) -> list[User]:
    """Users from decoded JSON in the users.demo.json shape; :class:`ConfigError` if invalid."""
    if not isinstance(data, list) or not data:
        raise ConfigError(f"{source} must contain a non-empty JSON list of users")
    users: list[User] = []
    seen_ids: set[str] = set()
    seen_names: set[str] = set()
    for index, entry in enumerate(data):
        where = f"{source}, entry {index}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: must be a JSON object")
        ident = entry.get("id")
        if not isinstance(ident, dict):
            raise ConfigError(f"{where}: missing object 'id' with 'opaque_id' and 'idp'")
        opaque_id = _string(ident, "opaque_id", where + ", id", required=True)
        idp = _string(ident, "idp", where + ", id", required=True)
        utype = _parse_user_type(ident.get("type"), where)
        username = _string(entry, "username", where, required=True)
        if not _USERNAME_RE.match(username):
            raise ConfigError(
                f"{where}: username {username!r} may only contain letters, digits and _ . @ + - "
                "(and must not start with a dot or a dash)"
            )
        secret = _string(entry, "secret", where, required=True)
        groups = entry.get("groups", [])
        if groups is None:
            groups = []
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise ConfigError(f"{where}: 'groups' must be a list of strings")
        if opaque_id in seen_ids:
            raise ConfigError(f"{where}: duplicate id.opaque_id {opaque_id!r}")
        if username in seen_names:
            raise ConfigError(f"{where}: duplicate username {username!r}")
        seen_ids.add(opaque_id)
        seen_names.add(username)
        users.append(
            User(
                opaque_id=opaque_id,
                idp=idp,
                username=username,
                secret=secret,
                mail=_string(entry, "mail", where, required=False),
                display_name=_string(entry, "display_name", where, required=False),
                groups=tuple(groups),
                type=utype,
            )
        )
    return users


def load_or_create_secret(path: Path) -> bytes:
    """The JWT signing secret: created once (mode 0600), then reused across restarts."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        secret = path.read_text(encoding="ascii").strip()
        if len(secret) < 32:
            raise ConfigError(f"JWT secret file {str(path)!r} is corrupt; delete it to generate a new one") from None
        return secret.encode("ascii")
    secret = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secret + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return secret.encode("ascii")


class TokenManager:
    """Mints and verifies access and transfer tokens (HS256)."""

    def __init__(self, secret: bytes, users: UserDirectory, access_lifetime: int = ACCESS_TOKEN_LIFETIME):
        self._secret = secret
        self._users = users
        self.access_lifetime = access_lifetime

    # -- access tokens ---------------------------------------------------------------
    def mint_access(self, user: User) -> str:
        now = int(time.time())
        payload = {
            "iat": now,
            "exp": now + self.access_lifetime,
            "iss": user.idp,
            "aud": [ISSUER_AUDIENCE],
            "user": user.claims(),
            # Reva's "user" scope: full access for the owner of the token.
            "scope": {"user": {"resource": {"decoder": "json", "value": "eyJwYXRoIjoiLyJ9"}, "role": 1}},
        }
        return jwt.encode(payload, self._secret, algorithm="HS256")

    def verify_access(self, token: str) -> User:
        """The user of a valid access token; raises :class:`TokenError` otherwise."""
        claims = self._decode(token)
        user_claim = claims.get("user")
        if not isinstance(user_claim, dict) or not isinstance(user_claim.get("id"), dict):
            raise TokenError("not an access token")
        user = self._users.by_id(str(user_claim["id"].get("opaque_id", "")))
        if user is None or user.idp != claims.get("iss"):
            raise TokenError("the token's user does not exist here")
        return user

    # -- transfer tokens -------------------------------------------------------------
    def mint_transfer(
        self, target: str, kind: str, lifetime: int = TRANSFER_TOKEN_LIFETIME, **details: str
    ) -> tuple[str, int]:
        """A transfer token for ``target`` (the transfer's id); ``details`` go into it as
        claims (a download's file, owner and user: it needs no session row)."""
        now = int(time.time())
        exp = now + lifetime
        payload = {**details, "iat": now, "exp": exp, "aud": ISSUER_AUDIENCE, "target": target, "kind": kind}
        return jwt.encode(payload, self._secret, algorithm="HS256"), exp

    def verify_transfer(self, token: str) -> dict[str, Any]:
        claims = self._decode(token)
        if not isinstance(claims.get("target"), str) or claims.get("kind") not in ("upload", "download"):
            raise TokenError("not a transfer token")
        return claims

    # -- shared ----------------------------------------------------------------------
    def _decode(self, token: str) -> dict[str, Any]:
        if not token:
            raise TokenError("empty token")
        try:
            return jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=ISSUER_AUDIENCE,
                options={"require": ["exp", "iat", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("token expired") from None
        except jwt.InvalidTokenError:
            raise TokenError("invalid token") from None
