"""Who else has a document open, and from which Jupyter server.

Presence, not lock-out: while a document is open in Lab, the front end calls
:meth:`PresenceService.heartbeat` every ``interval`` seconds; the server writes one
arbitrary-metadata key per Jupyter server on the file (``mesh-zenodo.open.<server id>``:
who, their display name, the server's name, and when it expires). Every server reads the
others' keys, drops expired ones, and the document shows "also open by marie". Closing
the document removes the key; a server that dies lets it expire after ``ttl`` seconds.

Arbitrary metadata needs write access: a viewer's presence is not advertised (they can
read who else is there). Metadata does not change the file's etag, so presence never
looks like an edit.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from typing import Any

from traitlets import Int, Unicode, default
from traitlets.config import LoggingConfigurable

from ..cs3 import errors
from ..cs3.client import CS3Client

#: the prefix of presence keys in a file's arbitrary metadata
PRESENCE_PREFIX = "mesh-zenodo.open."


class PresenceService(LoggingConfigurable):
    """Advertises which documents this server's user has open."""

    ttl = Int(90, config=True, help="Seconds a presence entry stays without a heartbeat.")
    interval = Int(30, config=True, help="Seconds between the front end's heartbeats (sent to it).")
    server_name = Unicode(
        config=True, help="How other users see this Jupyter server in 'also open by' (default: the host name)."
    )

    @default("server_name")
    def _default_server_name(self) -> str:
        return socket.gethostname()

    def __init__(self, client: CS3Client, **kwargs) -> None:
        super().__init__(**kwargs)
        self.client = client
        self.server_id = uuid.uuid4().hex[:16]

    @property
    def key(self) -> str:
        return PRESENCE_PREFIX + self.server_id

    async def heartbeat(self, cs3: str, lock_id: str = "") -> list[dict[str, Any]]:
        """Advertise that ``cs3`` is open here; return the others who have it open."""
        user = self.client.user
        entry = {
            "user": self.client.username,
            "name": (user.display_name if user is not None else "") or self.client.username,
            "server": self.server_name,
            "expires": int(time.time() + self.ttl),
        }
        try:
            await self.client.set_arbitrary_metadata(cs3, {self.key: json.dumps(entry)}, lock_id=lock_id)
        except errors.NotFound:
            raise
        except errors.CS3Error as err:
            # a viewer, a save holding the file this instant, a full disk: presence is
            # best effort (the next heartbeat tries again); who else is there is still read
            self.log.debug("presence on %s not advertised: %s", cs3, err)
        return await self.others(cs3)

    async def others(self, cs3: str) -> list[dict[str, Any]]:
        info = await self.client.stat(cs3, ("*",))
        now = time.time()
        present = []
        for key, raw in info.arbitrary_metadata.metadata.items():
            if not key.startswith(PRESENCE_PREFIX) or key == self.key:
                continue
            try:
                entry = json.loads(raw)
                expires = float(entry["expires"])
            except (ValueError, KeyError, TypeError):
                continue
            if expires < now:
                continue
            present.append({
                "user": str(entry.get("user", "")),
                "name": str(entry.get("name") or entry.get("user", "")),
                "server": str(entry.get("server", "")),
                "same_user": entry.get("user") == self.client.username,
            })
        present.sort(key=lambda e: (e["name"], e["server"]))
        return present

    async def leave(self, cs3: str) -> None:
        try:
            await self.client.unset_arbitrary_metadata(cs3, [self.key])
        except errors.CS3Error as err:
            self.log.debug("presence on %s not removed: %s", cs3, err)
