"""A local Zenodo: a real HTTP server (aiohttp.web) that behaves as zenodo.org does, for
the tests and for offline demos. ``mesh-zenodo zenodo-standin --port N`` (or
``python -m mesh_zenodo.standin``).

It is a separate program: the plugin never imports it, and it imports nothing of the
plugin but Zenodo's vocabulary (:mod:`mesh_zenodo.zenodo.vocabulary`). What it serves,
how to drive its faults, and which of its behaviours are documented by Zenodo and which
are guesses: ``docs/zenodo-standin.md``.

What it reproduces:

* records search ``GET /api/records`` with a subset of the query-string syntax (free
  words, ``"phrases"``, ``field:value`` for title, doi, creators(.name), description,
  keywords, communities, resource_type.type, ``AND``/``OR``/``NOT``/``-``, parentheses,
  trailing ``*``), ``type``, ``communities``, ``sort`` (bestmatch, -bestmatch,
  mostrecent, -mostrecent, newest, oldest), ``all_versions``, paging with
  ``links.next`` and ``hits.total``; page size capped at 25 anonymous / 100
  authenticated (400 above); only the latest version of each concept unless
  ``all_versions``;
* ``GET /api/records/:id``, ``/versions``, ``/files``, ``/files/:key``,
  ``/files/:key/content`` with ``Content-Length``, ``Content-MD5``, ``ETag: "md5:..."``,
  ``Range`` (206/416) and ``If-Range``; file content is generated deterministically (no
  disk needed, even for ``--big-record 20:50``);
* communities: ``GET /api/communities``, ``/api/communities/:slug``,
  ``/api/communities/:slug/records`` (InvenioRDM shape), ``GET /api/user/communities``;
  ``GET /api/licenses``;
* the deposit API with the codes the real server answers: 201 create with
  ``metadata.prereserve_doi``, bucket ``PUT`` 201 with ``checksum: "md5:..."`` (411
  without ``Content-Length``), 202 publish, 404 for PUT/DELETE/publish after
  publication, ``newversion`` returning the new draft (``links.latest_draft``), 204
  draft deletion (404 when repeated), edit/discard, 415 for non-JSON bodies, both
  validation-error body forms (``errors[].message`` from ``PUT`` metadata checks,
  ``errors[].messages[]`` from publish checks);
* the InvenioRDM records API zenodo.org runs under the deposit API: drafts
  (``POST /api/records``, ``…/draft``) saved with their field ``errors`` reported, files
  registered / uploaded / committed (``md5:`` checksums, 100 files and 50 GB per record),
  DOI reservation, publication (400 with ``errors[].messages[]`` when invalid), new
  versions with ``files-import``, the 301 of ``…/versions/latest``; RDM JSON for
  ``Accept: application/vnd.inveniordm.v1+json``, zenodo.org's own shape otherwise; and
  the legacy ``newversion`` failing as zenodo.org's does while the next draft holds files;
* auth: ``Authorization: Bearer`` (and ``?access_token=``); anonymous, bad or
  scope-less tokens get 403 on the deposit API; a bad token gets 401 elsewhere;
* ``X-RateLimit-Limit/Remaining/Reset`` on every API response, 429 with ``Retry-After``
  when over the (configurable) per-minute and per-hour limits; 500 pages without a JSON
  body.

Test control (no auth: keep the stand-in on loopback) under ``/_standin/``:

* ``POST /_standin/faults`` ``{"path_regex": "...", "method": "GET", "times": 1, ...}``
  arms a fault for the next matching requests (the first armed fault that matches is
  used): ``"status": 429|500|503`` (with ``"retry_after": s`` or ``"rate_limit_reset": s``
  and an optional JSON ``"body"``), ``"delay": s``, ``"drop": true`` (close without an
  answer), ``"drop_after_bytes": n`` (cut a download after n bytes), ``"rate": bytes/s``
  (a slow link: a download sent, or an upload's body received, no faster than that), ``"corrupt_at": n`` (flip byte n of a download), ``"ignore_range":
  true`` (answer 200 with the whole file), ``"hold": true`` (keep the request waiting
  until ``POST /_standin/release``). ``"times": null`` keeps it armed; ``"skip": n``
  lets n matching requests through first; ``"after_handler": true`` lets the request do
  its work and then replaces (or drops) the answer. ``GET`` lists them, ``DELETE``
  clears them.
* ``GET /_standin/requests`` (``DELETE`` clears): the requests seen (method, path, raw
  query, status, Range, how the caller authenticated), never the token itself.
* ``POST /_standin/config`` ``{"rate_limit": {"guest": n, "authenticated": n, "search": n}}``,
  ``rate_limit_hour``, ``limits`` (``max_files``, ``max_file_size``, ``quota_size``),
  ``sandbox``, ``legacy_newversion_quirk``.
* ``POST /_standin/reset``: faults, request log and rate-limit windows cleared; settings
  other than the per-minute limits back to the startup values.
* ``GET /_standin/info``: URL, record ids (seeded and ``--big-record``), tokens' users.

Modules: :mod:`.model` (the in-memory store), :mod:`.seed`, :mod:`.query` (the query
syntax), :mod:`.serializers` (JSON shapes), :mod:`.common` (errors, auth, paging, file
streaming), :mod:`.records_api`, :mod:`.deposit_api`, :mod:`.drafts_api` and :mod:`.rdm`
(the records API and InvenioRDM's checks), :mod:`.faults` (request log, rate limits,
faults, ``/_standin/``), :mod:`.app` (assembly), :mod:`.main` (command line).
"""
