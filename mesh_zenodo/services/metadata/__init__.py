"""The metadata of a publication: checked, completed and converted (pure functions, no I/O).

The form and the CLI speak the legacy deposit vocabulary, the one users write in
``.zenodo.json`` and developers.zenodo.org documents (``title``, ``upload_type``,
``creators[{name: "Family, Given", affiliation, orcid, gnd}]``, ``license``,
``access_right``, ...). This package

- names the vocabulary, the errors and the identifiers (:mod:`.fields`: :class:`FieldError`,
  :class:`MetadataInvalid`, :func:`detect_scheme`, :func:`orcid_checksum_ok`);
- checks it (:func:`validate`: one :class:`FieldError` per problem, its ``field`` a form
  path such as ``creators[1].orcid``) and completes it (:func:`normalized`: Zenodo's
  defaults, trimmed text, bare ORCIDs and DOIs) in :mod:`.validate`;
- fills a form from the files a folder may carry (:func:`prefill`: ``.zenodo.json``,
  ``CITATION.cff``, ``codemeta.json``) in :mod:`.sources`;
- converts it for the server in :mod:`.rdm`: :func:`to_rdm` (the InvenioRDM records API
  Zenodo runs, following zenodo-rdm's own legacy→RDM transform in
  ``site/zenodo_rdm/legacy/``) and :func:`to_legacy` (the deposit API), and maps the
  server's validation errors back onto form fields (:func:`form_errors`);
- writes the DOI back into ``CITATION.cff`` and a README (:func:`with_doi_in_citation_cff`,
  :func:`with_doi_in_readme`) in :mod:`.cite`.

The modules import one way: ``fields`` <- ``validate`` <- ``rdm``; ``sources`` and ``cite``
use ``fields`` only.

Sources: developers.zenodo.org; invenio-rdm-records (``services/schemas/metadata.py``,
``access.py``, the ``relation_types`` and ``roles`` vocabularies,
``RDM_RECORDS_IDENTIFIERS_SCHEMES``); zenodo-rdm (``legacy/deserializers/schemas.py``,
``legacy/serializers/schemas/common.py``, ``github/schemas.py`` for CITATION.cff); eossr's
``codemeta2zenodo`` for codemeta.json (its mapping, not the package).
"""

from __future__ import annotations

from .cite import with_doi_in_citation_cff, with_doi_in_readme
from .fields import (
    CONTRIBUTOR_TYPES,
    IDENTIFIER_SCHEMES,
    RELATIONS,
    FieldError,
    MetadataInvalid,
    detect_scheme,
    orcid_checksum_ok,
)
from .rdm import form_errors, rdm_access_settings, rdm_communities, to_legacy, to_rdm
from .sources import from_citation_cff, from_codemeta, prefill
from .validate import normalized, validate

__all__ = [
    "CONTRIBUTOR_TYPES", "IDENTIFIER_SCHEMES", "RELATIONS", "FieldError", "MetadataInvalid", "detect_scheme",
    "form_errors", "from_citation_cff", "from_codemeta", "normalized", "orcid_checksum_ok", "prefill",
    "rdm_access_settings", "rdm_communities", "to_legacy", "to_rdm", "validate", "with_doi_in_citation_cff",
    "with_doi_in_readme",
]
