"""The InvenioRDM records API of Zenodo (drafts, their files, DOI reservation, publication,
new versions), as a mixin of :class:`~mesh_zenodo.zenodo.client.ZenodoClient`.

Zenodo runs InvenioRDM; its legacy deposit API is a layer over these routes. They are
used with ``Accept: application/vnd.inveniordm.v1+json``: zenodo.org answers
``application/json`` with its "zenodo" serializer, which has another shape and drops the
field errors a draft save reports.

The host class provides ``_json`` / ``_open`` (the requests, with their retry rules: 429
waits and retries everywhere; 5xx and broken connections are retried only for idempotent
requests), ``_rid`` (a record id as it may go into a URL path), ``_stored_md5``
(``"md5:…"`` → hex), ``_backoff``, ``retries``, ``log`` and ``_host``.

Requests that are not idempotent are never repeated blindly when they may have reached
the server: after a 5xx or a broken connection, :meth:`~DraftsMixin.publish_draft` reads
the draft and the record to learn whether the publication happened (a record is never
published twice); :meth:`~DraftsMixin.reserve_doi` and :meth:`~DraftsMixin.import_files`
read the draft likewise; :meth:`~DraftsMixin.create_draft` is not repeated at all.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from . import errors

if TYPE_CHECKING:
    from .client import BodySource

#: the media type of InvenioRDM's own JSON
RDM_JSON = "application/vnd.inveniordm.v1+json"

#: the field error a draft save reports while the draft has no files yet: a state of the
#: draft that publication checks, not a fault of the metadata just sent
MISSING_FILES_FIELD = "files.enabled"


def hashing_body(body: BodySource) -> tuple[Callable[[], AsyncIterable[bytes]], dict[str, Any]]:
    """``(fresh, digest)``: ``fresh()`` gives the body's chunks anew for each attempt
    (bytes, or a callable returning a fresh async iterable) and ``digest["md5"]`` is the
    md5 of the chunks the last attempt sent."""
    digest: dict[str, Any] = {}

    def fresh() -> AsyncIterable[bytes]:
        md5 = hashlib.md5()
        digest["md5"] = md5

        async def chunks() -> AsyncIterator[bytes]:
            if isinstance(body, (bytes, bytearray)):
                md5.update(body)
                yield bytes(body)
                return
            async for chunk in body():
                md5.update(chunk)
                yield chunk

        return chunks()

    return fresh, digest


def check_key(key: str) -> str:
    """A file name Zenodo takes: no ``/`` (Zenodo has no folders), not ``.`` or ``..``."""
    if not isinstance(key, str) or "/" in key or key in ("", ".", "..") or any(ord(c) < 0x20 for c in key):
        raise errors.BadRequest(f"invalid file name for Zenodo: {str(key)[:80]!r}")
    return key


class DraftsMixin:
    """``/api/records`` drafts and versions (see the module doc)."""

    _records_api: bool | None = None

    async def _rdm(self, method: str, path: str, *, action: str, **kwargs) -> Any:
        headers = {"Accept": RDM_JSON, **kwargs.pop("headers", {})}
        return await self._json(method, path, action=action, headers=headers, **kwargs)  # type: ignore[attr-defined]

    def _draft_path(self, record_id: int | str, rest: str = "") -> tuple[str, str]:
        rid = self._rid(record_id)  # type: ignore[attr-defined]
        return rid, f"/api/records/{rid}/draft{rest}"

    # ------------------------------------------------------------------ drafts

    async def has_records_api(self) -> bool:
        """Whether the server has InvenioRDM's records API (asked once: ``GET /api/user/records``)."""
        if self._records_api is None:
            try:
                await self._rdm("GET", "/api/user/records", action="probing the records API", params={"size": 1})
                self._records_api = True
            except (errors.InvalidToken, errors.Forbidden):
                self._records_api = True  # the route exists; it wants a (valid) token
            except errors.ZenodoError as err:
                if err.status not in (404, 405):
                    raise
                self._records_api = False
        return self._records_api

    async def create_draft(self, body: dict) -> dict:
        """``POST /api/records`` → 201, the new draft. Not repeated after a failure that may
        have reached the server (a repeat would make a second draft). The answer's
        ``errors`` (what the draft still lacks) are left in it."""
        return await self._rdm("POST", "/api/records", action="creating a draft", json_body=body, idempotent=False)

    async def get_draft(self, record_id: int | str) -> dict:
        rid, path = self._draft_path(record_id)
        return await self._rdm("GET", path, action=f"reading draft {rid}")

    async def update_draft(self, record_id: int | str, body: dict, *, ignore_missing_files: bool = True) -> dict:
        """``PUT`` the draft (``metadata`` is replaced as a whole; ``access``, ``pids`` when
        given). Zenodo saves the valid parts and answers 200 with the field errors; these
        raise :class:`~errors.ValidationError` (its ``draft`` is the saved draft). The
        "missing uploaded files" error of a draft without files yet is ignored unless
        ``ignore_missing_files`` is false."""
        rid, path = self._draft_path(record_id)
        action = f"updating draft {rid}"
        draft = await self._rdm("PUT", path, action=action, json_body=body)
        reported = (draft or {}).get("errors") or []
        _, fields = errors.parse_error_body(json.dumps({"errors": reported}))
        if ignore_missing_files:
            fields = [f for f in fields if not (f["field"] == MISSING_FILES_FIELD
                                                and all("missing uploaded files" in m.lower() for m in f["messages"]))]
        if fields:
            summary = "; ".join(f"{f['field']}: {' '.join(f['messages'])}" for f in fields)
            error = errors.ValidationError(
                f"{action}: {self._host} saved the draft but refused some fields ({summary[:500]})",  # type: ignore[attr-defined]
                status=200, errors=fields,
            )
            error.draft = draft
            raise self._scrubbed(error)  # type: ignore[attr-defined]
        return draft

    async def delete_draft(self, record_id: int | str) -> None:
        """Delete an unpublished draft (204) or a new version's draft."""
        rid, path = self._draft_path(record_id)
        await self._rdm("DELETE", path, action=f"deleting draft {rid}")

    async def reserve_doi(self, record_id: int | str) -> str:
        """Reserve the draft's DOI (``10.5281/zenodo.<id>``; the sandbox: ``10.5072``) and
        return it; a DOI already reserved is returned as it is."""
        rid, path = self._draft_path(record_id, "/pids/doi")
        doi, draft = await self._once(path, f"reserving a DOI for draft {rid}", lambda: self._reserved_doi(record_id),
                                      settled_by=(errors.ValidationError,))  # (already reserved: a 400)
        return doi if doi is not None else draft["pids"]["doi"]["identifier"]

    async def _reserved_doi(self, record_id: int | str) -> str | None:
        draft = await self.get_draft(record_id)
        return (((draft or {}).get("pids") or {}).get("doi") or {}).get("identifier")

    # ------------------------------------------------------------------ files

    async def list_draft_files(self, record_id: int | str) -> list[dict]:
        rid, path = self._draft_path(record_id, "/files")
        listing = await self._rdm("GET", path, action=f"listing the files of draft {rid}")
        entries = (listing or {}).get("entries") or []
        return list(entries.values()) if isinstance(entries, dict) else entries

    async def start_draft_files(self, record_id: int | str, keys: list[str]) -> list[dict]:
        """Register files (``pending`` until uploaded and committed); the draft's entries."""
        rid, path = self._draft_path(record_id, "/files")
        body = [{"key": check_key(k)} for k in keys]
        listing = await self._rdm("POST", path, action=f"registering files of draft {rid}", json_body=body,
                                  idempotent=False)
        entries = (listing or {}).get("entries") or []
        return list(entries.values()) if isinstance(entries, dict) else entries

    def _file_path(self, record_id: int | str, key: str, rest: str = "") -> tuple[str, str]:
        return self._draft_path(record_id, f"/files/{quote(check_key(key), safe='')}{rest}")

    async def upload_draft_file(
        self, record_id: int | str, key: str, body: BodySource, size: int, md5: str | None = None
    ) -> dict:
        """Register ``key`` (unless it is already, pending), stream its bytes
        (``PUT …/content``; retried on a fresh body after 5xx and broken connections, as
        the content of a pending file is replaced), commit it, and check that the md5
        Zenodo committed is the one of the bytes sent (and ``md5``, when given: a
        difference means the source changed while it was read). Returns the entry."""
        rid, path = self._file_path(record_id, key)
        action = f"uploading {key} to draft {rid}"
        try:
            await self._rdm("POST", self._draft_path(record_id, "/files")[1], action=action,
                            json_body=[{"key": key}], idempotent=True)
        except errors.BadRequest as refused:
            try:  # registered already (by an earlier attempt whose answer was lost)?
                entry = await self._rdm("GET", path, action=action)
            except errors.NotFound:
                raise refused from None
            if entry.get("status") == "completed":
                raise errors.Conflict(f"{action} failed: {key} is already uploaded; delete it first") from None
        fresh, digest = hashing_body(body)
        await self._rdm(
            "PUT", path + "/content", action=action, body=fresh, idempotent=True,
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
        )
        sent = digest["md5"].hexdigest()
        entry = await self._rdm("POST", path + "/commit", action=action, idempotent=True)
        stored = self._stored_md5((entry or {}).get("checksum"))  # type: ignore[attr-defined]
        if stored is not None and stored != sent:
            raise errors.ChecksumMismatch(f"{action} failed: Zenodo committed md5 {stored}, but {sent} was sent")
        if md5 is not None and md5.lower() != sent:
            raise errors.ChecksumMismatch(
                f"{action} failed: the bytes sent have md5 {sent}, not {md5.lower()} (did the file change?)"
            )
        if (entry or {}).get("size") not in (None, size):
            raise errors.ChecksumMismatch(f"{action} failed: Zenodo committed {entry['size']} bytes, not {size}")
        return entry

    async def request_communities(self, record_id: int | str, communities: list[str]) -> list[str]:
        """Ask the communities (slugs or ids) to include a published record (InvenioRDM
        inclusion requests, reviewed by each community's curators). Returns a line per
        community that could not be asked (an unknown community, a request already open)."""
        rid = self._rid(record_id)  # type: ignore[attr-defined]
        body = {"communities": [{"id": c} for c in communities]}
        action = f"asking communities to include record {rid}"
        try:
            answer = await self._rdm("POST", f"/api/records/{rid}/communities", action=action, json_body=body,
                                     idempotent=False)
        except errors.BadRequest as refused:
            return [refused.message]
        return [
            f"{entry.get('community')}: {entry.get('message') or 'refused'}" for entry in (answer or {}).get("errors") or []
        ]

    async def delete_draft_file(self, record_id: int | str, key: str) -> None:
        rid, path = self._file_path(record_id, key)
        await self._rdm("DELETE", path, action=f"deleting {key} from draft {rid}")

    async def import_files(self, record_id: int | str) -> list[dict]:
        """Copy the previous version's files into a new version's draft (201; Zenodo
        refuses a draft that has files already). After a failure that may have reached
        the server, the draft's files are read before trying again."""
        rid, path = self._draft_path(record_id, "/actions/files-import")
        present, listing = await self._once(path, f"importing the previous version's files into draft {rid}",
                                            lambda: self.list_draft_files(record_id))
        if present is not None:
            return present
        entries = (listing or {}).get("entries") or []
        return list(entries.values()) if isinstance(entries, dict) else entries

    # ------------------------------------------------------------------ publish, versions

    async def publish_draft(self, record_id: int | str) -> dict:
        """Publish (202): the published record. After a 5xx or a broken connection the
        draft and the record are read: a publication that happened is returned, never
        repeated; one that did not is tried again (up to ``retries`` times)."""
        rid, path = self._draft_path(record_id, "/actions/publish")
        # (a 404 at a repeat: the draft is gone, perhaps because the first attempt published it)
        published, record = await self._once(path, f"publishing draft {rid}", lambda: self._published(rid),
                                             on_repeat=(errors.NotFound,))
        return published if published is not None else record

    async def _once(self, path: str, action: str, happened, *, settled_by: tuple = (), on_repeat: tuple = ()):
        """POST an action that must not happen twice: ``(None, answer)``. After a failure
        that may have reached Zenodo (5xx, a broken connection; ``on_repeat`` errors from
        the second attempt on), ``happened()`` is asked first: a result other than None
        or empty means the action did happen, and ``(result, None)`` is returned; else it
        is tried again, up to ``retries`` times. ``settled_by`` errors are answered by
        ``happened()`` too, but never retried."""
        attempt = 0
        while True:
            try:
                return None, await self._rdm("POST", path, action=action, idempotent=False)
            except (errors.ServerError, errors.Unreachable, *settled_by, *on_repeat) as err:
                if isinstance(err, on_repeat) and not isinstance(err, (errors.ServerError, errors.Unreachable)) \
                        and attempt == 0:
                    raise
                done = await happened()
                if done:
                    self.log.info("Zenodo: %s: it happened despite the error", action)  # type: ignore[attr-defined]
                    return done, None
                if isinstance(err, settled_by) or attempt >= self.retries:  # type: ignore[attr-defined]
                    raise
                attempt += 1
                await asyncio.sleep(self._backoff(attempt))  # type: ignore[attr-defined]

    async def _published(self, rid: str) -> dict | None:
        """The published record ``rid``, or ``None`` while its draft is still open."""
        try:
            await self.get_draft(rid)
            return None
        except errors.NotFound:
            pass
        try:
            return await self._rdm("GET", f"/api/records/{rid}", action=f"reading record {rid}")
        except errors.NotFound:
            return None

    async def new_version(self, record_id: int | str) -> dict:
        """``POST /api/records/:id/versions`` → 201, the next version's draft: a new one
        (metadata copied, ``version`` cleared, no files: see :meth:`import_files`) or the
        one already open for the concept. Retried after 5xx: Zenodo answers the open draft
        rather than making a second one."""
        rid = self._rid(record_id)  # type: ignore[attr-defined]
        return await self._rdm("POST", f"/api/records/{rid}/versions", action=f"opening a new version of record {rid}",
                               idempotent=True)

    async def latest_version(self, record_id: int | str) -> dict:
        """The latest published version of ``record_id``'s concept (Zenodo redirects
        ``/versions/latest`` to it; the id may be any version's or the concept's)."""
        rid = self._rid(record_id)  # type: ignore[attr-defined]
        return await self._rdm("GET", f"/api/records/{rid}/versions/latest", action=f"reading the latest version of {rid}")
