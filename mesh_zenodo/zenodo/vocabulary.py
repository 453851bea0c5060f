"""Zenodo's vocabulary: the names both our client and the local stand-in use.

The one copy in Python of the resource types, subtypes, access rights, licenses, sort
options and limits that Zenodo names. The client (:mod:`.client`, :mod:`.records`) and
the stand-in (:mod:`mesh_zenodo.standin`, a separate program) import from here; this
module imports nothing, so the stand-in loads only this file of the plugin.

Sources: developers.zenodo.org (the deposit API's metadata, limits), InvenioRDM's REST
API reference (communities) and zenodo-rdm's own data (``invenio.cfg``:
``RDM_SORT_OPTIONS``, ``LEGACY_SORT_OPTIONS``, ``COMMUNITIES_SEARCH``;
``app_data/vocabularies/licenses.csv``; ``resource_types.yaml`` as it was in
``app_data/vocabularies/``; ``legacy/zenodo_legacy/licenses.py``). See
``docs/zenodo-standin.md``. The front end's search form gets its choices from it too
(``GET /mesh-zenodo/zenodo/vocabulary``).
"""

from __future__ import annotations

# ---------------------------------------------------------------------------------------
# resource types
# ---------------------------------------------------------------------------------------

#: the legacy deposit API's ``upload_type`` values (developers.zenodo.org)
UPLOAD_TYPES = (
    "publication", "poster", "presentation", "dataset", "image", "video", "software", "lesson", "physicalobject",
    "other",
)

#: English titles of every top-level resource type Zenodo serves: the upload types plus
#: the InvenioRDM-only ones (``event``, ``model``, ``workflow``, ``computationalnotebook``)
#: records found by a search may carry
RESOURCE_TITLES = {
    "publication": "Publication",
    "poster": "Poster",
    "presentation": "Presentation",
    "dataset": "Dataset",
    "image": "Image",
    "video": "Video/Audio",
    "software": "Software",
    "lesson": "Lesson",
    "physicalobject": "Physical object",
    "event": "Event",
    "model": "Model",
    "workflow": "Workflow",
    "computationalnotebook": "Computational notebook",
    "other": "Other",
}

#: ``publication_type``, required when ``upload_type`` is ``publication`` (developers.zenodo.org)
PUBLICATION_TYPES = (
    "annotationcollection", "book", "section", "conferencepaper", "datamanagementplan", "article", "patent",
    "preprint", "deliverable", "milestone", "proposal", "report", "softwaredocumentation", "taxonomictreatment",
    "technicalnote", "thesis", "workingpaper", "other",
)

#: ``image_type``, required when ``upload_type`` is ``image`` (developers.zenodo.org)
IMAGE_TYPES = ("figure", "plot", "drawing", "diagram", "photo", "other")

#: ``access_right`` (developers.zenodo.org); ``open`` is the default
ACCESS_RIGHTS = ("open", "embargoed", "restricted", "closed")
DEFAULT_ACCESS_RIGHT = "open"

# ---------------------------------------------------------------------------------------
# licenses
# ---------------------------------------------------------------------------------------

#: id (as ``/api/licenses`` and records name it) -> (title, URL); ids and titles as in
#: zenodo-rdm's ``licenses.csv``, a small selection of the ~500 Zenodo knows
LICENSES = {
    "cc-by-4.0": ("Creative Commons Attribution 4.0 International", "https://creativecommons.org/licenses/by/4.0/legalcode"),
    "cc-by-sa-4.0": ("Creative Commons Attribution Share Alike 4.0 International", "https://creativecommons.org/licenses/by-sa/4.0/legalcode"),
    "cc-by-nc-4.0": ("Creative Commons Attribution Non Commercial 4.0 International", "https://creativecommons.org/licenses/by-nc/4.0/legalcode"),
    "cc0-1.0": ("Creative Commons Zero v1.0 Universal", "https://creativecommons.org/publicdomain/zero/1.0/legalcode"),
    "mit": ("MIT License", "https://opensource.org/licenses/MIT"),
    "apache-2.0": ("Apache License 2.0", "https://www.apache.org/licenses/LICENSE-2.0"),
    "bsd-3-clause": ('BSD 3-Clause "New" or "Revised" License', "https://opensource.org/licenses/BSD-3-Clause"),
    "gpl-3.0-or-later": ("GNU General Public License v3.0 or later", "https://www.gnu.org/licenses/gpl-3.0-standalone.html"),
    "gpl-3.0-only": ("GNU General Public License v3.0 only", "https://www.gnu.org/licenses/gpl-3.0-standalone.html"),
}

#: legacy license ids the deposit API still accepts, and the id they stand for
LICENSE_ALIASES = {"cc-zero": "cc0-1.0", "cc-by": "cc-by-4.0", "cc-by-sa": "cc-by-sa-4.0"}

#: :data:`LICENSES` plus the aliases (for showing a license whichever id it came with)
LICENSES_WITH_ALIASES = {**LICENSES, **{alias: LICENSES[target] for alias, target in LICENSE_ALIASES.items()}}


def default_license(upload_type: str | None) -> str:
    """The license Zenodo gives an open deposit without one: CC0 for datasets, else CC BY (developers.zenodo.org)."""
    return "cc0-1.0" if upload_type == "dataset" else "cc-by-4.0"


# ---------------------------------------------------------------------------------------
# search
# ---------------------------------------------------------------------------------------

#: record sorts we offer (``GET /api/records?sort=``): ``mostrecent`` / ``-mostrecent`` are
#: Zenodo's legacy REST-only options (newest / oldest first by creation), ``newest`` and
#: ``oldest`` InvenioRDM's; a ``-`` prefix exists only where Zenodo defines it
RECORD_SORTS = ("bestmatch", "mostrecent", "-mostrecent", "newest", "oldest")
#: every record sort the stand-in serves: the above plus ``-bestmatch`` (least relevant first)
RECORD_SORTS_SERVED = (*RECORD_SORTS, "-bestmatch")
#: community sorts (InvenioRDM's communities API; zenodo.org's UI offers the first three)
COMMUNITY_SORTS = ("bestmatch", "newest", "oldest", "updated-desc", "updated-asc")

#: the sort when none is given: by relevance with a query, newest first without one
SORT_WITH_QUERY = "bestmatch"
RECORD_SORT_WITHOUT_QUERY = "mostrecent"
COMMUNITY_SORT_WITHOUT_QUERY = "newest"

#: page-size caps of the search endpoints (Zenodo answers 400 above them)
ANONYMOUS_PAGE_SIZE = 25
AUTHENTICATED_PAGE_SIZE = 100
#: Elasticsearch refuses to page beyond this many hits
MAX_RESULT_WINDOW = 10_000

# ---------------------------------------------------------------------------------------
# accounts, limits
# ---------------------------------------------------------------------------------------

#: the scopes a personal access token needs to create (``deposit:write``) and publish,
#: edit, discard or version (``deposit:actions``)
DEPOSIT_SCOPES = ("deposit:write", "deposit:actions")

#: documented requests per minute: guests, signed-in users, search endpoints (developers.zenodo.org)
RATE_LIMITS_PER_MINUTE = (60, 100, 30)

#: files per record, and bytes per record (total and per file) (developers.zenodo.org)
MAX_FILES_PER_RECORD = 100
MAX_RECORD_BYTES = 50 * 10**9

#: DOIs Zenodo mints: ``10.5281/zenodo.<recid>`` (the sandbox: ``10.5072``)
DOI_PREFIX = "10.5281/zenodo."
