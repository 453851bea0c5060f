"""Live rooms that merge: jupyter-collaboration's document rooms, without "disk wins".

jupyter-collaboration keeps one live Y document (a *room*) per open file and saves it
through the contents manager. When the file changes under it (another Jupyter server
saved it: on a CS3 storage that is the normal case), upstream's ``DocumentRoom`` reloads
the file and *overwrites* the room, silently dropping what was typed and not yet saved.
:class:`MergingDocumentRoom` merges instead:

* the room keeps its **base**: the document the room and the file last agreed on (after
  the room loaded it, and after each save that reached the contents manager, taken from
  the very snapshot that was saved);
* when the file changed elsewhere (the file watcher's ``_on_outofband_change``, or the
  ``OutOfBandChanges`` a save runs into), it loads the file (*theirs*), merges base,
  *ours* (the room now) and theirs with :mod:`mesh_zenodo.merge`, applies the merged
  document to the live room granularly (``replay_notebook``; a character-level edit of
  the text of a text file) on a fork of the room, whose Y update is then applied to the
  room, so that edits typed meanwhile survive too; the base becomes theirs; the room
  saves (it now holds theirs plus the local edits) and the merge is announced
  (``CS3ContentsManager.announce_merge``: the log and the front end);
* when a save's answer carries ``merge`` (the contents manager merged, because another
  server saved between the file watcher's check and the save), it loads the stored
  file and replays it onto the room the same way (base: what the room saved; ours: the
  room now; theirs: the stored file), so the room holds both.

If anything fails, the room stays as it is and the failure is logged: nothing typed in
a room is dropped (the contents manager's own merge still guards the next save).
Notebooks (``json``/``notebook``) and text files (``text``/``file``) merge; other rooms
(``base64`` blobs) keep upstream's behaviour.

Hooks into jupyter_server_ydoc (private, hence the pin ``jupyter-server-ydoc>=3.0.4,<3.1``
and ``jupyter-collaboration>=5.0.4,<5.1`` in ``pyproject.toml``: the names below are not
an API and may change in any minor release; check them before widening the pin):

* the collaboration extension's ``JupyterWebsocketServer`` instance becomes a
  :class:`StoppableWebsocketServer` (its ``clean()`` raised at shutdown when no room
  was ever opened);
* replaced module globals: ``jupyter_server_ydoc.app.DocumentRoom`` (rooms made by
  ``YDocExtension.get_document``) and ``jupyter_server_ydoc.handlers.DocumentRoom``
  (rooms made by ``YDocWebSocketHandler.prepare``); there is no ``room_class`` setting.
  ``isinstance(room, DocumentRoom)`` checks there still hold (a subclass);
* overridden methods of ``DocumentRoom``: ``_on_outofband_change``,
  ``_maybe_save_document`` (its ``OutOfBandChanges`` branch), ``_on_filepath_change``
  (made asynchronous: ``FileLoader.maybe_notify`` awaits it through ``ensure_async``),
  and ``initialize`` (extended);
* private attributes read or used: ``DocumentRoom._file``, ``_file_format``,
  ``_file_type``, ``_document``, ``_update_lock``, ``_save_delay``,
  ``_document_load_progressively``, ``_background_tasks``, ``_emit``, ``_room_id``;
  ``FileLoader._contents_manager``, ``FileLoader._file_id_manager``;
  ``FileLoader.load_content``/``maybe_save_content``/``path``/``file_id`` and their
  ``last_modified`` bookkeeping (a failed check updates it, then raises
  ``OutOfBandChanges``); ``jupyter_server_ydoc.utils.OutOfBandChanges`` and ``LogLevel``.

:func:`install` does the replacing; :class:`~mesh_zenodo.app.MeshZenodoApp` calls it when
Lab's contents manager is the CS3 one and jupyter_server_ydoc is installed. It also hands
the contents manager to :class:`~mesh_zenodo.fileid.CS3FileIdManager` when that is the
file id manager (file ids = CS3 resource ids: a room follows a rename made elsewhere).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import Any

import jupyter_server_ydoc.app as ydoc_app
import jupyter_server_ydoc.handlers as ydoc_handlers
from jupyter_server_ydoc.rooms import DocumentRoom
from jupyter_server_ydoc.utils import LogLevel, OutOfBandChanges
from jupyter_server_ydoc.websocketserver import JupyterWebsocketServer
from jupyter_ydoc import YNotebook, YUnicode
from pycrdt import Doc, Text
from tornado.web import HTTPError

from .contents import CS3ContentsManager
from .cs3 import errors
from .fileid import CS3FileIdManager
from .merge import MergeReport, merge_notebooks, merge_text, replay_notebook
from .merge.replay import set_text
from .services.documents import SAVED_BY_KEY

#: how many times one save merges the file in and tries again before giving up for now
SAVE_ROUNDS = 4
#: the base of a room whose loaded content is unknown (progressive loading): every
#: cell or line then counts as added on both sides, so nothing can be dropped
EMPTY_NOTEBOOK = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _as_room_holds(kind: str, content: Any) -> Any:
    """``content`` as a room's ``get()`` gives it back (a notebook through a YNotebook:
    jupyter_ydoc drops or adds a few fields), so that the three sides of a merge differ
    by edits only."""
    if kind != "notebook":
        return content
    ynotebook = YNotebook(Doc())
    ynotebook.set(content)
    return ynotebook.get()


def _three_way(kind: str, base: Any, ours: Any, theirs: Any, ours_label: str, theirs_label: str):
    """(theirs as the room holds it, the merged document, the report); in a worker thread."""
    theirs = _as_room_holds(kind, theirs)
    if kind == "notebook":
        merged, report = merge_notebooks(base, ours, theirs, ours_label=ours_label, theirs_label=theirs_label)
    else:
        merged, report = merge_text(base, ours, theirs, ours_label=ours_label, theirs_label=theirs_label)
    return theirs, merged, report


class MergingDocumentRoom(DocumentRoom):
    """A ``DocumentRoom`` that merges changes made to its file elsewhere (module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: what the room and the file last agreed on, as the room holds it (None: unknown)
        self._base: Any = None
        #: one save or merge at a time (a save is never cancelled half-way)
        self._save_lock = asyncio.Lock()

    # ------------------------------------------------------------------ what merges

    @property
    def _contents(self) -> Any:
        return self._file._contents_manager

    @property
    def _kind(self) -> str | None:
        """"notebook" or "text" when this room merges; None for upstream's behaviour."""
        if not isinstance(self._contents, CS3ContentsManager):
            return None
        if self._file_format == "json" and isinstance(self._document, YNotebook):
            return "notebook"
        if self._file_format == "text" and isinstance(self._document, YUnicode):
            return "text"
        return None

    def _view(self, doc: Doc) -> Any:
        return type(self._document)(doc)

    async def _snapshot(self) -> tuple[Doc, bytes, Any]:
        """The room now: a fork of its Y document, its state vector, and its content.
        The fork is taken before the first ``await``: it is one consistent instant."""
        state = self.ydoc.get_state()
        fork = Doc()
        fork.apply_update(self.ydoc.get_update())
        view = self._view(fork)
        content = await view.aget() if isinstance(view, YNotebook) else view.get()
        return fork, state, content

    async def _apply(self, fork: Doc, state: bytes, target: Any) -> None:
        """Make the room hold ``target``: replayed granularly on the fork (taken at
        ``state``), whose new Y update is applied to the room, so that edits made to the
        room since the fork was taken are merged by the CRDT, not undone."""
        if self._kind == "notebook":
            replay_notebook(YNotebook(fork), target)
        else:
            with fork.transaction():
                set_text(fork.get("source", type=Text), target)
        delta = fork.get_update(state)
        async with self._update_lock:  # the room's own change handler must not start a save
            self.ydoc.apply_update(delta)

    def _spawn(self, coro: Coroutine) -> asyncio.Task:
        task = asyncio.create_task(coro)
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)
        return task

    # ------------------------------------------------------------------ load

    async def initialize(self) -> None:
        was_ready = self.ready
        await super().initialize()
        if was_ready or not self.ready or self._kind is None:
            return
        if self._document_load_progressively:
            self._base = None  # the room is still filling: its base is unknown
            return
        # nothing can run between the end of super().initialize() and the snapshot
        _, _, self._base = await self._snapshot()

    # ------------------------------------------------------------------ save

    async def _maybe_save_document(self, saving_document: asyncio.Task | None, save_now: bool = False) -> None:
        if self._kind is None:
            return await super()._maybe_save_document(saving_document, save_now)
        if self._save_delay is None and not save_now:
            return None
        if saving_document is not None and not saving_document.done():
            saving_document.cancel()  # a newer change: the save waits for the next pause
        try:
            if not save_now and self._save_delay is not None:
                await asyncio.sleep(self._save_delay)
            # from here on the save and its merge run to the end, even if a newer change
            # cancels this task (the next save then waits for this one)
            await asyncio.shield(self._spawn(self._save()))
        except asyncio.CancelledError:
            return None
        return None

    async def _save(self) -> None:
        async with self._save_lock:
            try:
                await self._save_locked()
            except Exception as e:  # noqa: BLE001 - a background task: log, keep the room
                msg = f"Error saving file: {self._file.path}\n{e!r}"
                self.log.error(msg, exc_info=e)
                self._emit(LogLevel.ERROR, None, msg)

    async def _save_locked(self) -> None:
        followed = False
        for _ in range(SAVE_ROUNDS):
            self.log.info("Saving the content from room %s", self._room_id)
            _, _, content = await self._snapshot()
            try:
                saved = await self._file.maybe_save_content(
                    {"format": self._file_format, "type": self._file_type, "content": content}
                )
            except HTTPError as e:
                # renamed elsewhere a moment ago (the file id manager answers from its cache)
                if e.status_code != 404 or followed or not await self._follow_rename():
                    raise
                followed = True
                continue
            except OutOfBandChanges:
                self.log.info("Out-of-band changes in room %s: merging them in before saving", self._room_id)
                if not await self._merge_file_in():
                    return  # nothing of ours left to save, or the merge failed (logged)
                continue  # the room now holds theirs and ours: save that
            if saved:
                if saved.get("merge"):
                    # the contents manager merged another server's save into ours (and
                    # announced it): take the stored file into the room
                    await self._take_stored(content)
                else:
                    self._base = content
                async with self._update_lock:
                    self._document.dirty = False
                    self._document.hash = saved["hash"]
            self._emit(LogLevel.INFO, "save", "Content saved.")
            return
        self.log.warning("Room %s: the file kept changing during %d saves; saving later", self._room_id, SAVE_ROUNDS)

    # ------------------------------------------------------------------ merge

    async def _on_outofband_change(self) -> None:
        if self._kind is None:
            return await super()._on_outofband_change()
        await asyncio.shield(self._spawn(self._merge_and_save()))
        return None

    async def _merge_and_save(self) -> None:
        async with self._save_lock:
            try:
                if await self._merge_file_in():
                    await self._save_locked()
            except Exception as e:  # noqa: BLE001 - a background task: log, keep the room
                msg = f"Error merging the changes of {self._file.path} into the room\n{e!r}"
                self.log.error(msg, exc_info=e)
                self._emit(LogLevel.ERROR, None, msg)

    async def _load_theirs(self) -> dict | None:
        try:
            return await self._file.load_content(self._file_format, self._file_type)
        except Exception as e:  # noqa: BLE001 - keep the room as it is
            msg = f"Error loading content from file: {self._file.path}\n{e!r}"
            self.log.error(msg, exc_info=e)
            self._emit(LogLevel.ERROR, None, msg)
            return None

    async def _merge(self, base: Any, theirs: Any) -> tuple[Any, Any, MergeReport, dict] | None:
        """Merge ``base``, the room now and ``theirs`` into the room. Returns (ours,
        theirs as the room holds it, report, who saved theirs), or None on failure (logged;
        the room unchanged)."""
        kind = self._kind
        assert kind is not None
        path = self._file.path
        by = await self._saved_by(path)
        fork, state, ours = await self._snapshot()
        if base is None:
            base = json.loads(json.dumps(EMPTY_NOTEBOOK)) if kind == "notebook" else ""
        try:
            theirs, merged, report = await asyncio.to_thread(
                _three_way, kind, base, ours, theirs, self._contents.client.username or "mine", by["name"]
            )
            if merged != ours:
                await self._apply(fork, state, merged)
        except Exception as e:  # noqa: BLE001 - never overwrite: keep the room as it is
            msg = f"Could not merge the changes of {path} into the room; the room is unchanged\n{e!r}"
            self.log.error(msg, exc_info=e)
            self._emit(LogLevel.ERROR, None, msg)
            return None
        return merged, theirs, report, by

    async def _merge_file_in(self) -> bool:
        """The file changed elsewhere: merge it into the room. True when the room now
        holds something the file does not (it must save)."""
        model = await self._load_theirs()
        if model is None:
            return False
        done = await self._merge(self._base, model["content"])
        if done is None:
            return False
        merged, theirs, report, by = done
        self._base = theirs
        if merged == theirs:
            self.log.info("Out-of-band changes loaded into room %s (no local edits)", self._room_id)
            self._emit(LogLevel.INFO, "load", "Out-of-band changes loaded into the room.")
            async with self._update_lock:
                self._document.dirty = False
            return False
        if report.fast_path is None:  # both sides had changes: say what was merged
            self.log.info("Out-of-band changes merged into room %s: %s", self._room_id, report.summary)
            self._emit(LogLevel.INFO, "load", f"Out-of-band changes merged into the room: {report.summary}.")
            self._contents.announce_merge(self._file.path, {"by": by, **report.to_json()})
        return True

    async def _take_stored(self, saved: Any) -> None:
        """A save came back merged: the stored file holds ours (``saved``) and another
        server's edits; replay it onto the room (edits typed since ``saved`` stay)."""
        model = await self._load_theirs()
        if model is None:
            return
        done = await self._merge(saved, model["content"])
        if done is not None:
            self._base = done[1]

    async def _saved_by(self, path: str) -> dict[str, str]:
        """Who saved the file's current version (the label of "theirs")."""
        someone = {"user": "", "name": "someone else"}
        try:
            info = await self._contents.client.stat(await self._contents.cs3_path(path), (SAVED_BY_KEY,))
            data = json.loads(info.arbitrary_metadata.metadata.get(SAVED_BY_KEY) or "{}")
        except (errors.CS3Error, ValueError):
            return someone
        if isinstance(data, dict) and data.get("etag") == info.etag and data.get("user"):
            return {"user": str(data["user"]), "name": str(data.get("name") or data["user"])}
        return someone

    # ------------------------------------------------------------------ rename

    async def _follow_rename(self) -> bool:
        """Look the file's path up again now; True when it moved."""
        file_ids = self._file._file_id_manager
        if not isinstance(file_ids, CS3FileIdManager):
            return False
        old = self._document.path
        new = await file_ids.refresh(self._file.file_id)
        if new is None or new == old:
            return False
        self.log.info("Room %s: %s was moved to %s", self._room_id, old, new)
        return True

    async def _on_filepath_change(self) -> None:  # type: ignore[override]
        """The file was renamed (here or elsewhere): the room follows it, and the contents
        manager's merge bases move with it (the next save still merges against them)."""
        old = self._document.path
        super()._on_filepath_change()
        new = self._document.path
        if self._kind is None or not old or not new or old == new:
            return
        try:
            contents = self._contents
            await contents.documents.renamed(await contents.cs3_path(old), await contents.cs3_path(new))
        except Exception as e:  # noqa: BLE001 - only the next save's merge base
            self.log.debug("Room %s: could not move the merge bases of %s: %r", self._room_id, old, e)


class StoppableWebsocketServer(JupyterWebsocketServer):
    """Upstream's ``clean()`` (at server shutdown) raises "WebsocketServer not running"
    when no room was ever opened: an unretrieved task exception, printed with a traceback
    as Jupyter stops. Nothing to clean then."""

    async def clean(self) -> None:
        if not self.started.is_set():
            return
        await super().clean()


def _quiet_shutdown(serverapp: Any) -> None:
    """Use :class:`StoppableWebsocketServer` for the collaboration extension's server
    (extensions load alphabetically: jupyter_server_ydoc's exists by now)."""
    for app in serverapp.extension_manager.extension_apps.get("jupyter_server_ydoc", ()):
        server = getattr(app, "ywebsocket_server", None)
        if type(server) is JupyterWebsocketServer:
            server.__class__ = StoppableWebsocketServer


def install(serverapp: Any) -> bool:
    """Make jupyter-collaboration create :class:`MergingDocumentRoom` rooms, and hand Lab's
    contents manager to a :class:`~mesh_zenodo.fileid.CS3FileIdManager`. Only for the CS3
    contents manager; returns whether it installed."""
    contents = serverapp.contents_manager
    if not isinstance(contents, CS3ContentsManager):
        return False
    ydoc_app.DocumentRoom = MergingDocumentRoom  # type: ignore[misc]
    ydoc_handlers.DocumentRoom = MergingDocumentRoom  # type: ignore[misc]
    _quiet_shutdown(serverapp)
    file_ids = serverapp.web_app.settings.get("file_id_manager")
    if isinstance(file_ids, CS3FileIdManager):
        file_ids.attach(contents)
    return True
