"""The stand-in's read side: records search (``/api/records``), one record, its versions
and files (with streamed content), communities and their records, the user's
communities, licenses, and the two HTML pages (``/records/:id``, ``/communities/:slug``)."""

from __future__ import annotations

import html

from aiohttp import web

from mesh_zenodo.zenodo.vocabulary import (
    COMMUNITY_SORT_WITHOUT_QUERY,
    COMMUNITY_SORTS,
    LICENSES,
    RECORD_SORT_WITHOUT_QUERY,
    RECORD_SORTS_SERVED,
    RESOURCE_TITLES,
    SORT_WITH_QUERY,
)

from .common import PERMISSION_MESSAGE, PID_MISSING, UNAUTHORIZED_MESSAGE, Problem, Routes, problem
from .model import INVALID, Community, Record, StoredFile, iso
from .query import QuerySyntaxError, community_doc, evaluate, parse_query, record_doc, strip_html
from .serializers import base_of, community_json, draft_json, file_links, record_json, record_rdm_json, wants_rdm


class RecordsAPI(Routes):
    """``GET`` routes over published records and communities (no deposit scope needed)."""

    def add_routes(self, router: web.UrlDispatcher) -> None:
        for prefix in ("/api/records", "/api/records/"):
            router.add_get(prefix, self.records)
        router.add_get("/api/records/{recid}", self.record)
        router.add_get("/api/records/{recid}/versions", self.record_versions)
        router.add_get("/api/records/{recid}/files", self.record_files)
        router.add_get("/api/records/{recid}/files/{key}/content", self.record_file_content)
        router.add_get("/api/records/{recid}/files/{key}", self.record_file_meta)
        router.add_get("/api/communities", self.communities)
        router.add_get("/api/communities/", self.communities)
        router.add_get("/api/communities/{slug}", self.community)
        router.add_get("/api/communities/{slug}/records", self.community_records)
        router.add_get("/api/user/communities", self.user_communities)
        router.add_get("/api/licenses", self.licenses)
        router.add_get("/records/{recid}", self.record_page)
        router.add_get("/communities/{slug}", self.community_page)

    def record_or_404(self, request: web.Request) -> Record:
        recid = request.match_info["recid"]
        if not recid.isdigit() or int(recid) not in self.store.records:
            raise problem(404, PID_MISSING)
        return self.store.records[int(recid)]

    # ------------------------------------------------------------------ records

    def search(self, request: web.Request, community: str | None = None) -> tuple[list[Record], dict]:
        q = request.query.get("q", "")
        try:
            tree = parse_query(q)
        except QuerySyntaxError:
            raise problem(400, "Invalid query string syntax.") from None
        all_versions = request.query.get("all_versions", "").lower() in ("1", "true", "yes", "on")
        community = community or request.query.get("communities") or None
        rtype = request.query.get("type") or None
        subtype = request.query.get("subtype") or None
        scored = []
        type_counts: dict[str, int] = {}
        for record in self.store.records.values():
            if not all_versions and not self.store.is_latest(record):
                continue
            md = record.metadata
            if community and community not in [c.get("id") for c in md.get("communities", [])]:
                continue
            matched, score = evaluate(tree, record_doc(record))
            if not matched:
                continue
            rt = md.get("resource_type", {})
            type_counts[rt.get("type", "other")] = type_counts.get(rt.get("type", "other"), 0) + 1
            if rtype and rt.get("type") != rtype:
                continue
            if subtype and rt.get("subtype") != subtype:
                continue
            scored.append((score, record))
        sort = request.query.get("sort") or (SORT_WITH_QUERY if q.strip() else RECORD_SORT_WITHOUT_QUERY)
        if sort not in RECORD_SORTS_SERVED:
            raise problem(400, f"Invalid sort option: {sort}.")
        key_recent = lambda item: (item[1].created, item[1].recid)  # noqa: E731
        if sort in ("mostrecent", "newest"):
            scored.sort(key=key_recent, reverse=True)
        elif sort in ("-mostrecent", "oldest"):
            scored.sort(key=key_recent)
        else:  # bestmatch, -bestmatch
            scored.sort(key=lambda item: (item[0], item[1].created, item[1].recid), reverse=sort == "bestmatch")
        aggregations = {
            "resource_type": {
                "buckets": [
                    {"key": key, "doc_count": count, "label": RESOURCE_TITLES.get(key, key)}
                    for key, count in sorted(type_counts.items(), key=lambda kv: (-kv[1], kv[0]))
                ]
            }
        }
        return [r for _, r in scored], aggregations

    async def records(self, request: web.Request) -> web.Response:
        self.check_bad_token(request)
        page, size = self.page_args(request)
        found, aggregations = self.search(request)
        base = base_of(request)
        hits = [record_json(self.store, r, base) for r in found[(page - 1) * size : page * size]]
        return web.json_response(
            {
                "aggregations": aggregations,
                "hits": {"hits": hits, "total": len(found)},
                "links": self.links(request, page, size, len(found)),
            }
        )

    def record_body(self, request: web.Request, record: Record) -> dict:
        """The legacy shape (zenodo.org's answer to ``application/json``), or InvenioRDM's
        for ``Accept: application/vnd.inveniordm.v1+json``."""
        base = base_of(request)
        if not wants_rdm(request):
            return record_json(self.store, record, base)
        published = self.store.drafts.get(record.recid)
        if published is not None and published.published:
            return draft_json(self.store, published, base)
        return record_rdm_json(self.store, record, base)

    async def record(self, request: web.Request) -> web.Response:
        self.check_bad_token(request)
        record = self.record_or_404(request)
        return web.json_response(self.record_body(request, record))

    async def record_versions(self, request: web.Request) -> web.Response:
        self.check_bad_token(request)
        record = self.record_or_404(request)
        page, size = self.page_args(request)
        versions = [self.store.records[i] for i in reversed(self.store.versions(record)) if i in self.store.records]
        return web.json_response(
            {
                "hits": {"hits": [self.record_body(request, r) for r in versions[(page - 1) * size : page * size]],
                         "total": len(versions)},
                "links": self.links(request, page, size, len(versions)),
            }
        )

    async def record_files(self, request: web.Request) -> web.Response:
        self.check_bad_token(request)
        record = self.record_or_404(request)
        base = base_of(request)
        entries = [
            {
                "key": f.key,
                "size": f.size,
                "checksum": f"md5:{f.md5}",
                "mimetype": f.mimetype,
                "file_id": f.id,
                "status": "completed",
                "storage_class": "L",
                "created": iso(f.created),
                "updated": iso(f.created),
                "metadata": None,
                "links": file_links(base, record.recid, f.key),
            }
            for f in record.files
        ]
        return web.json_response(
            {
                "enabled": True,
                "entries": entries,
                "order": [],
                "default_preview": None,
                "links": {"self": f"{base}/api/records/{record.recid}/files"},
            }
        )

    def record_file(self, request: web.Request) -> tuple[Record, StoredFile]:
        record = self.record_or_404(request)
        key = request.match_info["key"]
        for f in record.files:
            if f.key == key:
                return record, f
        raise problem(404, "The file does not exist.")

    async def record_file_meta(self, request: web.Request) -> web.Response:
        self.check_bad_token(request)
        record, f = self.record_file(request)
        return web.json_response(
            {"key": f.key, "size": f.size, "checksum": f"md5:{f.md5}", "mimetype": f.mimetype,
             "links": file_links(base_of(request), record.recid, f.key)}
        )

    async def record_file_content(self, request: web.Request) -> web.StreamResponse:
        self.check_bad_token(request)
        _, f = self.record_file(request)
        return await self.send_file(request, f)

    # ------------------------------------------------------------------ communities

    async def communities(self, request: web.Request) -> web.Response:
        self.check_bad_token(request)
        page, size = self.page_args(request)
        q = request.query.get("q", "")
        try:
            tree = parse_query(q)
        except QuerySyntaxError:
            raise problem(400, "Invalid query string syntax.") from None
        ctype = request.query.get("type") or None
        found = []
        for community in self.store.communities.values():
            if ctype and community.type != ctype:
                continue
            doc = community_doc(community)
            matched, score = evaluate(tree, {**doc, "title": doc["title"]})
            if matched:
                found.append((score, community))
        sort = request.query.get("sort") or (SORT_WITH_QUERY if q.strip() else COMMUNITY_SORT_WITHOUT_QUERY)
        if sort not in COMMUNITY_SORTS:
            raise problem(400, f"Invalid sort option: {sort}.")
        if sort in ("newest", "updated-desc"):  # a community's updated is its created here
            found.sort(key=lambda item: item[1].created, reverse=True)
        elif sort in ("oldest", "updated-asc"):
            found.sort(key=lambda item: item[1].created)
        else:  # bestmatch
            found.sort(key=lambda item: (item[0], item[1].created), reverse=True)
        base = base_of(request)
        hits = [community_json(c, base) for _, c in found[(page - 1) * size : page * size]]
        return web.json_response(
            {"hits": {"hits": hits, "total": len(found)}, "sortBy": sort, "links": self.links(request, page, size, len(found)),
             "aggregations": {}}
        )

    def community_or_404(self, request: web.Request) -> Community:
        ident = request.match_info["slug"]
        for community in self.store.communities.values():
            if ident in (community.slug, community.id):
                return community
        raise problem(404, "The community does not exist.")

    async def community(self, request: web.Request) -> web.Response:
        self.check_bad_token(request)
        return web.json_response(community_json(self.community_or_404(request), base_of(request)))

    async def community_records(self, request: web.Request) -> web.Response:
        self.check_bad_token(request)
        community = self.community_or_404(request)
        page, size = self.page_args(request)
        found, aggregations = self.search(request, community=community.slug)
        base = base_of(request)
        hits = [record_rdm_json(self.store, r, base) for r in found[(page - 1) * size : page * size]]
        return web.json_response(
            {"hits": {"hits": hits, "total": len(found)}, "aggregations": aggregations,
             "links": self.links(request, page, size, len(found)), "sortBy": request.query.get("sort", "newest")}
        )

    async def user_communities(self, request: web.Request) -> web.Response:
        user = self.user(request)
        if user is None:
            raise problem(403, PERMISSION_MESSAGE)
        if user is INVALID:
            raise problem(401, UNAUTHORIZED_MESSAGE)
        return web.json_response({"hits": {"hits": [], "total": 0}, "links": {}})

    async def licenses(self, request: web.Request) -> web.Response:
        q = request.query.get("q", "").lower()
        hits = [
            {"id": lid, "title": {"en": title}, "props": {"url": url}}
            for lid, (title, url) in LICENSES.items()
            if not q or q in lid or q in title.lower()
        ]
        return web.json_response({"hits": {"hits": hits, "total": len(hits)}})

    # ------------------------------------------------------------------ HTML

    async def record_page(self, request: web.Request) -> web.Response:
        recid = request.match_info["recid"]
        record = self.store.records.get(int(recid)) if recid.isdigit() else None
        if record is None:
            return web.Response(status=404, text="<h1>Not found</h1>", content_type="text/html")
        md = record.metadata
        esc = html.escape
        files = "".join(
            f'<li><a href="{esc(file_links(base_of(request), record.recid, f.key)["content"])}">{esc(f.key)}</a> '
            f"({f.size} bytes, md5:{f.md5})</li>"
            for f in record.files
        )
        page = (
            f"<!DOCTYPE html><html><head><title>{esc(md['title'])} | Zenodo stand-in</title></head><body>"
            f"<h1>{esc(md['title'])}</h1><p>DOI: {esc(record.doi)} &middot; {esc(md.get('publication_date', ''))}"
            f" &middot; {esc(md.get('version') or '')}</p>"
            f"<p>{esc(', '.join(c['name'] for c in md.get('creators', [])))}</p>"
            f"<div>{strip_html(md.get('description', ''))}</div><ul>{files}</ul></body></html>"
        )
        return web.Response(text=page, content_type="text/html")

    async def community_page(self, request: web.Request) -> web.Response:
        try:
            community = self.community_or_404(request)
        except Problem:
            return web.Response(status=404, text="<h1>Not found</h1>", content_type="text/html")
        return web.Response(
            text=f"<!DOCTYPE html><html><body><h1>{html.escape(community.title)}</h1>"
            f"<p>{html.escape(community.description)}</p></body></html>",
            content_type="text/html",
        )
