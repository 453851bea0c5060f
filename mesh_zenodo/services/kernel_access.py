"""Kernels and terminals on the CS3 storage.

The server mounts the user's CS3 space (the file browser's root: the home with
``Shares/`` and ``Projects/``) with FUSE (the program :mod:`mesh_zenodo.fs.mount`) while
it runs; kernels start in the mount's folder of their notebook, terminals in the mount
(or the folder they were opened on). Where FUSE is not available (a container without
``/dev/fuse``, no ``fusermount3``) that is said once, in the log and in the ScienceMesh
panel, and kernels start in the scratch folder; ``cs3://`` works either way.

Credentials: the mount, each kernel and the terminals get a short-lived CS3 access token
of their own (a fresh sign-in: the gateway's token lifetime, an hour on the embedded
storage), in a private file named by ``MESH_ZENODO_CS3_TOKEN_FILE``; the server rewrites
the file before the token expires, for as long as its kernel lives, and deletes it when
the kernel ends. The password never reaches them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

from jupyter_core.paths import jupyter_data_dir, jupyter_runtime_dir
from traitlets import Bool, Float, Instance, Unicode
from traitlets.config import LoggingConfigurable

from ..cs3 import errors as cs3_errors
from ..cs3.client import (
    BEARER_FILE_ENV, GATEWAY_ENV, ROOT_CERTIFICATES_ENV, SECRET_ENVS, TLS_ENV, TOKEN_FILE_ENV, CS3Client,
)
from .private_files import unlink_quietly, write_private

#: a token is renewed when less than this share of its lifetime is left
RENEW_WHEN_LEFT = 1 / 3
#: the server's own credentials in its environment, never handed on
SERVER_OWN_ENVS = frozenset((*SECRET_ENVS, TOKEN_FILE_ENV, BEARER_FILE_ENV, TLS_ENV, ROOT_CERTIFICATES_ENV))


class KernelAccess(LoggingConfigurable):
    """The FUSE mount, where kernels and terminals start, and their tokens."""

    mount = Bool(True, config=True, help="Mount the user's CS3 space with FUSE for kernels and terminals.")
    mount_path = Unicode(
        "", config=True,
        help="Where to mount it. Default: <Jupyter runtime dir>/mesh-zenodo/<user>-<server pid>/cs3.",
    )
    mount_timeout = Float(20.0, config=True, help="Seconds to wait for the mount to come up.")
    renew_interval = Float(20.0, config=True, help="Seconds between checks of the tokens' expiry.")

    cs3 = Instance(CS3Client)

    def __init__(self, *, cs3: CS3Client, root: Callable[[], Awaitable[str]], scratch: str,
                 preexec_fn: Callable[[], None] | None = None,
                 on_mount: Callable[[str, str], Awaitable[None]] | None = None, **kwargs) -> None:
        super().__init__(cs3=cs3, **kwargs)
        self._root = root  # the CS3 folder the file browser shows as its root (async)
        self.scratch = scratch
        self._preexec_fn = preexec_fn  # the mount program dies (and unmounts) with the server
        self._on_mount = on_mount  # (mount path, a token file for terminals): set the terminals up
        self._starting: asyncio.Future | None = None
        self.mount_root: str | None = None  # the local folder, once mounted
        self.reason: str | None = None  # why there is no mount
        self._process: subprocess.Popen | None = None
        self._tokens: dict[str, tuple[str, float, float]] = {}  # name -> (file, issued, expires)
        self._renewer: asyncio.Task | None = None
        base = os.path.join(jupyter_runtime_dir(), "mesh-zenodo", f"{_safe(cs3.username)}-{os.getpid()}")
        self._base = base
        self._token_dir = os.path.join(base, "tokens")

    # ------------------------------------------------------------------ life cycle

    async def ensure_started(self) -> None:
        """Mount (or say why not), once: the server's start, the first kernel or the
        ScienceMesh panel's first look, whichever comes first; the others wait for it."""
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start())
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._starting), self.mount_timeout + 10)

    async def _start(self) -> None:
        try:
            problem = fuse_problem() if self.mount else "mounting is turned off (c.KernelAccess.mount)"
            if problem:
                self._without_mount(problem)
                return
            try:
                root = await self._root()
            except Exception as err:  # noqa: BLE001 - the storage is unreachable at start: say so, go on
                self._without_mount(f"the storage's root folder could not be read ({err})")
                return
            await self._mount(root)
        except cs3_errors.CS3Error as err:
            self._without_mount(f"the storage refused a token for the mount: {err}")
        finally:
            if self._renewer is None:
                self._renewer = asyncio.create_task(self._renew_loop())
        if self.mount_root is not None and self._on_mount is not None:
            await self._on_mount(self.mount_root, await self.issue("terminals"))

    async def stop(self) -> None:
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        await asyncio.to_thread(self._unmount)
        for name in list(self._tokens):
            self.drop(name)
        shutil.rmtree(self._base, ignore_errors=True)

    def _without_mount(self, reason: str) -> None:
        self.reason = reason
        self.log.warning("mesh-zenodo: kernels and terminals start in the scratch folder %s, not on the storage: %s"
                         " (cs3:// works in kernels all the same)", self.scratch, reason)

    async def _mount(self, root: str) -> None:
        path = self.mount_path or os.path.join(self._base, "cs3")
        os.makedirs(path, mode=0o700, exist_ok=True)
        if os.path.ismount(path) or os.listdir(path):
            self._without_mount(f"{path} is in use (mounted, or not empty)")
            return
        token_file = await self.issue("mount")
        spool = os.path.join(self._base, "spool")
        os.makedirs(spool, mode=0o700, exist_ok=True)
        # (kept files outlive the server: under Jupyter's data dir, not the runtime dir)
        kept = os.path.join(jupyter_data_dir(), "mesh-zenodo", "kept", _safe(self.cs3.username))
        command = [sys.executable, "-m", "mesh_zenodo.fs.mount", path, "--root", root,
                   "--spool-dir", spool, "--kept-dir", kept]
        self._process = subprocess.Popen(
            command, env=self.environment(token_file), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, preexec_fn=self._preexec_fn, start_new_session=True,
        )
        deadline = time.monotonic() + self.mount_timeout
        while not await asyncio.to_thread(os.path.ismount, path):
            if self._process.poll() is not None or time.monotonic() > deadline:
                message = self._stop_process() or "it did not come up in time"
                self._without_mount(f"the FUSE mount failed: {message}")
                return
            await asyncio.sleep(0.05)
        self.mount_root = path
        self.log.info("mesh-zenodo: kernels and terminals see the storage's %s at %s", root, path)

    def _stop_process(self) -> str:
        """Stop the mount program; what it said on stderr, if it failed."""
        process, self._process = self._process, None
        if process is None:
            return ""
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        said = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
        if process.stderr:
            process.stderr.close()
        lines = [line.removeprefix("mesh-zenodo mount: ") for line in said.splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def _unmount(self) -> None:
        path, self.mount_root = self.mount_root, None
        self._stop_process()
        if path and os.path.ismount(path):  # the program was killed before it could unmount
            subprocess.run(["fusermount3", "-u", "-z", path], check=False, capture_output=True)

    # ------------------------------------------------------------------ where things start

    def cwd(self, api_path: str | None) -> str | None:
        """The mount's folder for a kernel of ``api_path`` (the nearest existing one), or
        None without a mount."""
        root = self.mount_root
        if root is None:
            return None
        parts = [p for p in (api_path or "").strip("/").split("/") if p not in ("", ".", "..")]
        while parts:
            candidate = os.path.join(root, *parts)
            if os.path.isdir(candidate):
                return candidate
            parts.pop()
        return root

    def status(self) -> dict:
        return {"mounted": self.mount_root is not None, "path": self.mount_root, "reason": self.reason,
                "scratch": None if self.mount_root else self.scratch}

    # ------------------------------------------------------------------ tokens

    def environment(self, token_file: str, base: dict[str, str] | None = None) -> dict[str, str]:
        """The environment of a kernel, a terminal or the mount: ``base`` (the server's by
        default) without any secret or the server's own credentials (not even the path of
        its token files), plus the gateway, TLS and the token file."""
        env = {k: v for k, v in (os.environ if base is None else base).items() if k not in SERVER_OWN_ENVS}
        env[GATEWAY_ENV] = self.cs3.gateway
        env[TOKEN_FILE_ENV] = token_file
        if self.cs3.tls:
            env[TLS_ENV] = "1"
        if self.cs3.root_certificates:
            env[ROOT_CERTIFICATES_ENV] = os.path.abspath(self.cs3.root_certificates)
        return env

    async def issue(self, name: str) -> str:
        """A private file holding a fresh short-lived token for ``name`` (renewed until
        :meth:`drop`)."""
        os.makedirs(self._token_dir, mode=0o700, exist_ok=True)
        path = os.path.join(self._token_dir, f"{_safe(name)}.token")
        token, expires = await self.cs3.new_token()
        write_private(path, token.encode())
        self._tokens[name] = (path, time.time(), expires)
        return path

    def drop(self, name: str) -> None:
        entry = self._tokens.pop(name, None)
        if entry is not None:
            unlink_quietly(entry[0])

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.renew_interval)
            now = time.time()
            for name, (_, issued, expires) in list(self._tokens.items()):
                if expires - now < max(self.renew_interval * 3, (expires - issued) * RENEW_WHEN_LEFT):
                    try:
                        await self.issue(name)
                    except cs3_errors.CS3Error as err:
                        self.log.warning("mesh-zenodo: renewing the token of %s failed: %s", name, err)


def fuse_problem() -> str | None:
    """Why a FUSE mount cannot work here, or None."""
    if not sys.platform.startswith("linux"):
        return "FUSE mounts are made on Linux only"
    if not os.path.exists("/dev/fuse"):
        return "/dev/fuse is missing (a container needs --device /dev/fuse --cap-add SYS_ADMIN)"
    if not os.access("/dev/fuse", os.R_OK | os.W_OK):
        return "/dev/fuse is not accessible to this user"
    if shutil.which("fusermount3") is None:
        return "fusermount3 is missing (install Debian's fuse3)"
    return None


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "_"


__all__ = ["KernelAccess", "fuse_problem"]
