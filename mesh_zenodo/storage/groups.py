"""The groups of the embedded storage: Reva's demo groups, or a JSON file in the shape
of Reva's ``groups.demo.json`` (``--groups FILE``), and the search over users and groups.

A group's members are the users its entry lists (by ``id.opaque_id``) plus the users
whose own entry names the group in ``groups`` (Reva's users file does that too); a
user's groups are the union of both, so that ``User.groups``, ``GetUserGroups``,
``GetMembers`` and ``HasMember`` always agree. The membership is what share grants to a
group reach (:mod:`.shares`).

This module knows users only by their opaque ids (no import of :mod:`.auth`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

#: Reva's examples name this idp for their demo groups (examples/standalone/groups.demo.json)
DEMO_GROUP_IDP = "http://localhost:20080"

_EINSTEIN = "4c510ada-c86b-4815-8820-42cdf82c3d51"
_MARIE = "f7fbf8c8-139b-4376-b307-cf0a8c2d0d9c"
_RICHARD = "932b4540-8d16-481e-8ef4-588e4b6b151c"

# Reva's demo groups (cs3org/reva examples/standalone/groups.demo.json), for its demo users.
DEMO_GROUPS: list[dict[str, Any]] = [
    {"name": "sailing-lovers", "display": "Sailing Lovers", "gid": 123, "members": [_EINSTEIN]},
    {"name": "violin-haters", "display": "Violin Haters", "gid": 456, "members": [_EINSTEIN]},
    {"name": "radium-lovers", "display": "Radium Lovers", "gid": 789, "members": [_MARIE]},
    {"name": "polonium-lovers", "display": "Polonium Lovers", "gid": 987, "members": [_MARIE]},
    {"name": "quantum-lovers", "display": "Quantum Lovers", "gid": 654, "members": [_RICHARD]},
    {"name": "philosophy-haters", "display": "Philosophy Haters", "gid": 321, "members": [_RICHARD]},
    {"name": "physics-lovers", "display": "Physics Lovers", "gid": 101, "members": [_EINSTEIN, _MARIE, _RICHARD]},
]
DEMO_GROUPS_JSON: list[dict[str, Any]] = [
    {
        "id": {"opaque_id": g["name"], "idp": DEMO_GROUP_IDP},
        "group_name": g["name"],
        "mail": f"{g['name']}@example.org",
        "display_name": g["display"],
        "gid_number": g["gid"],
        "members": [{"id": {"opaque_id": m, "idp": DEMO_GROUP_IDP}} for m in g["members"]],
    }
    for g in DEMO_GROUPS
]

_GROUP_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@+ -]{0,127}$")


class GroupsConfigError(Exception):
    """A bad groups file (``auth.ConfigError`` wraps it for the program)."""


@dataclass(frozen=True)
class Group:
    opaque_id: str
    idp: str
    group_name: str
    display_name: str = ""
    mail: str = ""
    gid_number: int = 0
    members: tuple[str, ...] = ()  # user opaque ids


class GroupDirectory:
    """The groups known to this storage (read-only)."""

    def __init__(self, groups: list[Group] | tuple[Group, ...] | None = None):
        self._groups = tuple(groups) if groups is not None else tuple(parse_groups(DEMO_GROUPS_JSON, "demo groups"))
        self._by_id = {g.opaque_id: g for g in self._groups}
        self._by_name = {g.group_name: g for g in self._groups}

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> GroupDirectory:
        return cls(load_groups_file(path))

    def with_members(self, extra: dict[str, set[str]]) -> GroupDirectory:
        """A copy where each group named in ``extra`` (group name -> user ids) also has
        those members."""
        groups = []
        for g in self._groups:
            added = [m for m in sorted(extra.get(g.group_name, ())) if m not in g.members]
            groups.append(Group(**{**g.__dict__, "members": g.members + tuple(added)}))
        return GroupDirectory(groups)

    def __iter__(self):
        return iter(self._groups)

    def by_id(self, opaque_id: str) -> Group | None:
        return self._by_id.get(opaque_id)

    def by_name(self, name: str) -> Group | None:
        return self._by_name.get(name)

    def by_mail(self, mail: str) -> Group | None:
        mail = mail.casefold()
        return next((g for g in self._groups if g.mail and g.mail.casefold() == mail), None)

    def by_gid(self, gid: int) -> Group | None:
        return next((g for g in self._groups if g.gid_number == gid), None)

    def of_user(self, user_id: str) -> list[Group]:
        return [g for g in self._groups if user_id in g.members]

    def find(self, query: str) -> list[Group]:
        """Case-insensitive substring match on group name, mail and display name."""
        q = query.casefold()
        return [
            g
            for g in self._groups
            if q in g.group_name.casefold() or q in g.mail.casefold() or q in g.display_name.casefold()
        ]


def load_groups_file(path: str | os.PathLike[str]) -> list[Group]:
    """Read a groups file in the shape of Reva's ``groups.demo.json``."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise GroupsConfigError(f"groups file {os.fspath(path)!r} does not exist") from None
    except OSError as exc:
        raise GroupsConfigError(f"cannot read groups file {os.fspath(path)!r}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GroupsConfigError(f"groups file {os.fspath(path)!r} is not valid JSON: {exc}") from None
    return parse_groups(data, f"groups file {os.fspath(path)!r}")


def _text(entry: dict[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = entry.get(key)
    if value is None or value == "":
        if required:
            raise GroupsConfigError(f"{where}: missing {key!r}")
        return ""
    if not isinstance(value, str):
        raise GroupsConfigError(f"{where}: {key!r} must be a string")
    return value


def parse_groups(data: Any, source: str) -> list[Group]:
    """Groups from decoded JSON in the groups.demo.json shape (an empty list is allowed)."""
    if not isinstance(data, list):
        raise GroupsConfigError(f"{source} must contain a JSON list of groups")
    groups: list[Group] = []
    seen_ids: set[str] = set()
    seen_names: set[str] = set()
    for index, entry in enumerate(data):
        where = f"{source}, entry {index}"
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), dict):
            raise GroupsConfigError(f"{where}: must be a JSON object with an object 'id'")
        opaque_id = _text(entry["id"], "opaque_id", where + ", id", required=True)
        name = _text(entry, "group_name", where, required=True)
        if not _GROUP_NAME_RE.match(name):
            raise GroupsConfigError(
                f"{where}: group_name {name!r} may only contain letters, digits, spaces and _ . @ + -"
            )
        gid = entry.get("gid_number", 0)
        if isinstance(gid, bool) or not isinstance(gid, int):
            raise GroupsConfigError(f"{where}: 'gid_number' must be a number")
        members = []
        for m_index, member in enumerate(entry.get("members") or []):
            mid = member.get("id") if isinstance(member, dict) else None
            if not isinstance(mid, dict) or not isinstance(mid.get("opaque_id"), str) or not mid["opaque_id"]:
                raise GroupsConfigError(f"{where}, member {m_index}: must be an object with id.opaque_id")
            members.append(mid["opaque_id"])
        if opaque_id in seen_ids or name in seen_names:
            raise GroupsConfigError(f"{where}: duplicate group {name!r}")
        seen_ids.add(opaque_id)
        seen_names.add(name)
        groups.append(
            Group(
                opaque_id=opaque_id,
                idp=_text(entry["id"], "idp", where + ", id") or DEMO_GROUP_IDP,
                group_name=name,
                display_name=_text(entry, "display_name", where),
                mail=_text(entry, "mail", where),
                gid_number=gid,
                members=tuple(dict.fromkeys(members)),
            )
        )
    return groups
