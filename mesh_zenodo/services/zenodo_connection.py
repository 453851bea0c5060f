"""Who is signed in to Zenodo: the access token, held by the Jupyter server.

The token lives in this object's memory, and, only when the user asks to be remembered,
in a file that only they can read (``jupyter_data_dir()/mesh-zenodo/zenodo-token.json``,
mode 0600 in a 0700 folder), read back at start-up. It is never put in ``os.environ``
(so kernels and terminals never inherit it), never logged, never part of a message or a
URL. Signing out forgets it in memory and deletes the file.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import time
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir
from traitlets import Bool, List, Unicode, default
from traitlets.config import LoggingConfigurable

from ..zenodo import errors
from .errors import LocalFailure
from .private_files import write_private
from ..zenodo.client import ENVIRONMENTS, Account, ZenodoClient, environment_of, normalize_base_url

#: what a personal access token may look like (printable ASCII, no spaces): anything else
#: would be refused by Zenodo anyway, or break the Authorization header
TOKEN_RE = re.compile(r"[\x21-\x7e]{8,1024}")


def _safe(name: str) -> str:
    """A file name for a gateway address or a user name."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "_"


class TokenStore:
    """The "remember me" file: ``{"base_url", "token", "saved"}``, readable by its owner only."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def exists(self) -> bool:
        return self.path.exists()

    def load(self, log=None) -> tuple[str, str] | None:
        """``(base_url, token)``, or None when there is no usable file. A file that other
        users could read is not trusted (and not used)."""
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return None
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            if log:
                log.warning(
                    "mesh-zenodo: not using the remembered Zenodo token in %s: other users can read the file; "
                    "sign in again", self.path,
                )
            return None
        try:
            data = json.loads(self.path.read_text("utf-8"))
            base_url, token = normalize_base_url(data["base_url"]), data["token"]
        except (OSError, ValueError, KeyError, TypeError, errors.ZenodoError):
            if log:
                log.warning("mesh-zenodo: ignoring the unreadable Zenodo token file %s", self.path)
            return None
        if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
            return None
        return base_url, token

    def save(self, base_url: str, token: str) -> None:
        """Write the file atomically with mode 0600 (never readable by others, even briefly)."""
        write_private(self.path, json.dumps({"base_url": base_url, "token": token, "saved": int(time.time())}).encode())

    def delete(self) -> bool:
        try:
            self.path.unlink()
            return True
        except FileNotFoundError:
            return False


class ZenodoConnection(LoggingConfigurable):
    """The signed-in Zenodo account of this Jupyter server (one at a time)."""

    allow_remember = Bool(
        True, config=True, help="Allow users to keep their Zenodo token in a file (mode 0600) across restarts."
    )
    token_file = Unicode(
        config=True, help="The file a remembered Zenodo token is kept in (default: in Jupyter's data directory)."
    )
    allowed_base_urls = List(
        Unicode(),
        config=True,
        help="Zenodo or InvenioRDM servers, besides zenodo.org, its sandbox and c.ZenodoClient.base_url, that "
        "users may search and pull from without signing in to them. A server a user signed in to is allowed "
        "while they are signed in. Any other base URL is refused before it is contacted.",
    )

    cs3_account = Unicode(
        "",
        help="Whose Lab this is on which storage (``GATEWAY/USERNAME``), set by the extension when Lab's files "
        "are on CS3: each CS3 user on each storage remembers their own Zenodo token.",
    )

    @default("token_file")
    def _default_token_file(self) -> str:
        base = os.path.join(jupyter_data_dir(), "mesh-zenodo")
        if not self.cs3_account:
            return os.path.join(base, "zenodo-token.json")
        gateway, _, user = self.cs3_account.rpartition("/")
        return os.path.join(base, "zenodo-tokens", _safe(gateway), f"{_safe(user)}.json")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.store = TokenStore(self.token_file)
        self._client: ZenodoClient | None = None  # signed in
        self._account: Account | None = None
        self._verified = False
        self._remembered = False
        self._message: str | None = None
        self._anonymous: dict[str, ZenodoClient] = {}
        self._check_lock: asyncio.Lock | None = None
        self._closing: set[asyncio.Future] = set()
        self.default_base_url = ZenodoClient(parent=self).base_url  # c.ZenodoClient.base_url

    def __repr__(self) -> str:
        return f"<ZenodoConnection {'signed in to ' + self._client.base_url if self._client else 'signed out'}>"

    # ------------------------------------------------------------------ start-up

    def load_remembered(self) -> bool:
        """Read the remembered token, if any (at start-up; it is checked on first use)."""
        if not self.allow_remember:
            return False
        found = self.store.load(self.log)
        if found is None:
            return False
        base_url, token = found
        self._client = ZenodoClient(parent=self, base_url=base_url, token=token)
        self._account = None
        self._verified = False
        self._remembered = True
        self.log.info("mesh-zenodo: using the remembered Zenodo sign-in for %s", base_url)
        return True

    # ------------------------------------------------------------------ state

    @property
    def signed_in(self) -> bool:
        return self._client is not None

    @property
    def base_url(self) -> str:
        return self._client.base_url if self._client else self.default_base_url

    def status(self) -> dict[str, Any]:
        """The login panel's model (no secrets in it)."""
        base_url = self.base_url
        return {
            "connected": self._client is not None,
            "verified": self._verified,
            "base_url": base_url,
            "environment": environment_of(base_url),
            "account": {"user_id": self._account.user_id} if self._account and self._account.user_id else None,
            "deposit": bool(self._account and self._account.deposit),
            "remembered": self._remembered,
            "message": self._message,
            "environments": dict(ENVIRONMENTS),
            "default_base_url": self.default_base_url,
            "remember_allowed": self.allow_remember,
        }

    async def verify(self) -> dict[str, Any]:
        """Check a token not yet checked (a remembered one) and return :meth:`status`.
        A refused token is forgotten (and its file deleted); an unreachable server
        leaves it in place, unverified."""
        if self._check_lock is None:
            self._check_lock = asyncio.Lock()
        async with self._check_lock:
            client = self._client
            if client is None or self._verified:
                return self.status()
            try:
                self._account = await client.check_token()
                self._verified = True
                self._message = None
            except (errors.InvalidToken, errors.MissingScope) as err:
                await self._sign_out(forget_file=True)
                self._message = f"the remembered Zenodo sign-in was refused: {err.message}"
            except errors.ZenodoError as err:
                self._message = f"could not check the Zenodo sign-in: {err.message}"
            return self.status()

    # ------------------------------------------------------------------ sign in / out

    @staticmethod
    def resolve_base_url(base_url: str | None = None, environment: str | None = None) -> str | None:
        """The base URL named by ``environment`` (zenodo, sandbox) or given as ``base_url``."""
        if environment:
            if environment not in ENVIRONMENTS:
                raise errors.InvalidBaseURL(
                    f"unknown Zenodo environment {environment[:40]!r}; use {', '.join(ENVIRONMENTS)} or a base_url"
                )
            return ENVIRONMENTS[environment]
        if base_url:
            return normalize_base_url(base_url)
        return None

    async def sign_in(self, token: str, base_url: str, remember: bool = False) -> dict[str, Any]:
        """Check ``token`` against ``base_url``'s deposit API; on success it replaces the
        current sign-in. On failure the current sign-in is left as it was."""
        if not isinstance(token, str) or not TOKEN_RE.fullmatch(token.strip()):
            raise errors.BadRequest("that is not a Zenodo personal access token (8 to 1024 printable characters)")
        token = token.strip()
        base_url = normalize_base_url(base_url)
        if remember and not self.allow_remember:
            raise errors.BadRequest("remembering the Zenodo token is disabled on this server")
        client = ZenodoClient(parent=self, base_url=base_url, token=token)
        try:
            account = await client.check_token()
        except BaseException:
            await client.close()
            raise
        try:  # the token file first: a disk error leaves the current sign-in as it was
            if remember:
                await asyncio.to_thread(self.store.save, base_url, token)
            else:
                # an older "remember me" must not bring back another token at the next start
                await asyncio.to_thread(self.store.delete)
        except OSError as err:
            await client.close()
            raise LocalFailure(f"could not {'remember' if remember else 'forget'} the Zenodo token: {err.strerror}") from None
        previous = self._client
        self._client, self._account, self._verified, self._message = client, account, True, None
        self._remembered = remember
        if previous is not None and previous is not client:
            await self._retire(previous)
        self.log.info("mesh-zenodo: signed in to Zenodo at %s", base_url)
        return self.status()

    async def sign_out(self) -> dict[str, Any]:
        await self._sign_out(forget_file=True)
        self._message = None
        self.log.info("mesh-zenodo: signed out of Zenodo")
        return self.status()

    async def _sign_out(self, forget_file: bool) -> None:
        client, self._client = self._client, None
        self._account, self._verified, self._remembered = None, False, False
        if forget_file:
            await asyncio.to_thread(self.store.delete)
        if client is not None:
            await self._retire(client)

    async def _retire(self, client: ZenodoClient) -> None:
        # jobs still holding this client go on anonymously (public files still download)
        client.forget_token()
        await client.close()

    # ------------------------------------------------------------------ clients

    def allowed(self, base_url: str) -> bool:
        """May this server contact ``base_url`` for a request that did not come with the
        user's sign-in (a search, a record, a pull)? Only the well-known servers, the
        configured ones and the one the user signed in to: a page on another site must
        not be able to make the Jupyter server fetch an internal URL."""
        known = {*ENVIRONMENTS.values(), self.default_base_url}
        known.update(self._allowed_configured())
        if self._client is not None:
            known.add(self._client.base_url)
        return base_url in known

    def _allowed_configured(self) -> set[str]:
        allowed = set()
        for url in self.allowed_base_urls:
            try:
                allowed.add(normalize_base_url(url))
            except errors.ZenodoError:
                self.log.warning("mesh-zenodo: ignoring the invalid c.ZenodoConnection.allowed_base_urls entry %r", url[:200])
        return allowed

    def client(self, base_url: str | None = None) -> ZenodoClient:
        """The client for a request: the signed-in one when ``base_url`` is its server (or
        not given), else an anonymous one for ``base_url`` (or the default server), if
        that server is :meth:`allowed`."""
        if self._client is not None and (base_url is None or base_url == self._client.base_url):
            return self._client
        base_url = base_url or self.default_base_url
        if not self.allowed(base_url):
            raise errors.InvalidBaseURL(
                f"{base_url[:200]} is not a Zenodo server this Jupyter server contacts: sign in to it first, "
                "or ask the administrator to add it to c.ZenodoConnection.allowed_base_urls"
            )
        anonymous = self._anonymous.get(base_url)
        if anonymous is None:
            if len(self._anonymous) >= 8:  # a few environments, not a cache of every URL typed
                oldest = next(iter(self._anonymous))
                stale = self._anonymous.pop(oldest)
                closing = asyncio.ensure_future(stale.close())  # keep a reference until done
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)
            anonymous = self._anonymous[base_url] = ZenodoClient(parent=self, base_url=base_url)
        return anonymous

    async def close(self) -> None:
        if self._closing:
            await asyncio.wait(set(self._closing))
        for client in [self._client, *self._anonymous.values()]:
            if client is not None:
                await client.close()
        self._anonymous.clear()
