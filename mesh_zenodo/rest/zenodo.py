"""The Zenodo routes under ``/mesh-zenodo/zenodo/``: sign in, search records and
communities, record details. Described in ``mesh_zenodo/rest/README.md``."""

from __future__ import annotations

import re

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..http_errors import http_errors
from ..services import records
from ..zenodo import vocabulary
from ..zenodo.client import ZenodoClient
from .base import MeshHandler

RECORD_ID_RE = re.compile(r"[0-9]{1,20}")
SLUG_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
TYPE_RE = re.compile(r"[a-z][a-z0-9_-]{0,39}")
MAX_QUERY = 2000


class ZenodoHandler(MeshHandler):
    """Base of the Zenodo routes: the Zenodo client for a request."""

    def query_argument(self) -> str:
        q = self.get_query_argument("q", "") or ""
        if len(q) > MAX_QUERY:
            raise self.bad_request(f"the query is longer than {MAX_QUERY} characters")
        return q

    def zenodo_client(self, base_url: str | None = None, environment: str | None = None) -> ZenodoClient:
        """The client for this request: the signed-in one, or an anonymous one for the
        ``environment`` / ``base_url`` given (by default: the query arguments), so that
        searches work signed out."""
        if base_url is None and environment is None:
            base_url = self.get_query_argument("base_url", None)
            environment = self.get_query_argument("environment", None)
        with http_errors():
            return self.connection.client(self.connection.resolve_base_url(base_url, environment))


# ---------------------------------------------------------------------------------------
# sign in
# ---------------------------------------------------------------------------------------


class LoginHandler(ZenodoHandler):
    """``GET`` status, ``POST`` sign in, ``DELETE`` sign out."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.send(await self.connection.verify())

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_object()
        token = body.get("token")
        if not isinstance(token, str) or not token.strip():
            raise self.bad_request("token is required: paste a Zenodo personal access token")
        remember = body.get("remember", False)
        if not isinstance(remember, bool):
            raise self.bad_request("remember must be true or false")
        base_url, environment = body.get("base_url"), body.get("environment")
        if base_url is not None and not isinstance(base_url, str):
            raise self.bad_request("base_url must be a string")
        if environment is not None and not isinstance(environment, str):
            raise self.bad_request("environment must be a string")
        connection = self.connection
        with http_errors():
            resolved = connection.resolve_base_url(base_url, environment) or connection.default_base_url
            status = await connection.sign_in(token, resolved, remember=remember)
        self.send(status)

    @web.authenticated
    @authorized
    async def delete(self) -> None:
        self.send(await self.connection.sign_out())


# ---------------------------------------------------------------------------------------
# search and details
# ---------------------------------------------------------------------------------------


class RecordsHandler(ZenodoHandler):
    """``GET ?q=&type=&sort=&page=&size=&community=&all_versions=``"""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        await self.search(self.get_query_argument("community", None) or None)

    async def search(self, community: str | None) -> None:
        q = self.query_argument()
        rtype = self.get_query_argument("type", None) or None
        if rtype is not None and not TYPE_RE.fullmatch(rtype):
            raise self.bad_request("type must be a resource type such as dataset, software or publication")
        sort = self.choice_argument("sort", vocabulary.RECORD_SORTS)
        page = self.int_argument("page", 1, 1, 10_000)
        size = self.int_argument("size", 10, 1, 100)
        all_versions = self.bool_argument("all_versions")
        if community is not None and not SLUG_RE.fullmatch(community):
            raise self.bad_request("invalid community identifier")
        client = self.zenodo_client()
        size = client.clamp_size(size)
        with http_errors():
            raw = await client.search_records(
                q, type=rtype, sort=sort, page=page, size=size, communities=community, all_versions=all_versions
            )
        result = records.page(raw, client.clamp_page(page, size), size, records.record_summary, client.base_url)
        result["base_url"] = client.base_url
        if community:
            result["community"] = community
        self.send(result)


class RecordHandler(ZenodoHandler):
    @web.authenticated
    @authorized
    async def get(self, record_id: str) -> None:
        if not RECORD_ID_RE.fullmatch(record_id):
            raise self.bad_request("a Zenodo record id is a number")
        client = self.zenodo_client()
        with http_errors():
            raw = await records.fetch_record(client, record_id)
        details = records.record_details(raw, client.base_url)
        details["base_url"] = client.base_url
        self.send(details)


class CommunitiesHandler(ZenodoHandler):
    """``GET ?q=&sort=&page=&size=&type=``"""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        q = self.query_argument()
        sort = self.choice_argument("sort", vocabulary.COMMUNITY_SORTS)
        ctype = self.get_query_argument("type", None) or None
        if ctype is not None and not TYPE_RE.fullmatch(ctype):
            raise self.bad_request("type must be a community type such as project, organization, event or topic")
        page = self.int_argument("page", 1, 1, 10_000)
        size = self.int_argument("size", 10, 1, 100)
        client = self.zenodo_client()
        size = client.clamp_size(size)
        with http_errors():
            raw = await client.search_communities(q, sort=sort, page=page, size=size, type=ctype)
        result = records.page(raw, client.clamp_page(page, size), size, records.community_summary, client.base_url)
        result["base_url"] = client.base_url
        self.send(result)


class CommunityHandler(ZenodoHandler):
    @web.authenticated
    @authorized
    async def get(self, slug: str) -> None:
        if not SLUG_RE.fullmatch(slug):
            raise self.bad_request("invalid community identifier")
        client = self.zenodo_client()
        with http_errors():
            raw = await client.get_community(slug)
        self.send(records.community_summary(raw, client.base_url))


class VocabularyHandler(ZenodoHandler):
    """``GET`` → ``{resource_types: [{id, title}], record_sorts, community_sorts,
    upload_types, publication_types, image_types, access_rights, licenses: [{id, title,
    url}]}``: the choices the search and publish forms offer, from the one Zenodo vocabulary."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.send(
            {
                "resource_types": records.RESOURCE_TYPES,
                "record_sorts": list(vocabulary.RECORD_SORTS),
                "community_sorts": list(vocabulary.COMMUNITY_SORTS),
                "upload_types": list(vocabulary.UPLOAD_TYPES),
                "publication_types": list(vocabulary.PUBLICATION_TYPES),
                "image_types": list(vocabulary.IMAGE_TYPES),
                "access_rights": list(vocabulary.ACCESS_RIGHTS),
                "licenses": [{"id": k, "title": t, "url": u} for k, (t, u) in vocabulary.LICENSES.items()],
            }
        )


class CommunityRecordsHandler(RecordsHandler):
    """``GET communities/<slug>/records?q=&type=&sort=&page=&size=``"""

    @web.authenticated
    @authorized
    async def get(self, slug: str) -> None:
        await self.search(slug)


def routes() -> list[tuple[str, type]]:
    """The URL patterns (relative to the server's base URL) and their handlers."""
    prefix = r"/mesh-zenodo/zenodo"
    return [
        (rf"{prefix}/login", LoginHandler),
        (rf"{prefix}/vocabulary", VocabularyHandler),
        (rf"{prefix}/records", RecordsHandler),
        (rf"{prefix}/records/([^/]+)", RecordHandler),
        (rf"{prefix}/communities", CommunitiesHandler),
        (rf"{prefix}/communities/([^/]+)", CommunityHandler),
        (rf"{prefix}/communities/([^/]+)/records", CommunityRecordsHandler),
    ]
