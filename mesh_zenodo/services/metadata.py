"""The metadata of a publication: checked, completed and converted (pure functions, no I/O).

The form and the CLI speak the legacy deposit vocabulary, the one users write in
``.zenodo.json`` and developers.zenodo.org documents (``title``, ``upload_type``,
``creators[{name: "Family, Given", affiliation, orcid, gnd}]``, ``license``,
``access_right``, ...). This module

- checks it (:func:`validate`: one :class:`FieldError` per problem, its ``field`` a form
  path such as ``creators[1].orcid``) and completes it (:func:`normalized`: Zenodo's
  defaults, trimmed text, bare ORCIDs and DOIs);
- fills a form from the files a folder may carry (:func:`prefill`: ``.zenodo.json``,
  ``CITATION.cff``, ``codemeta.json``);
- converts it for the server: :func:`to_rdm` (the InvenioRDM records API Zenodo runs,
  following zenodo-rdm's own legacy→RDM transform in ``site/zenodo_rdm/legacy/``) and
  :func:`to_legacy` (the deposit API);
- maps the server's validation errors back onto form fields (:func:`form_errors`);
- writes the DOI back into ``CITATION.cff`` and a README (:func:`with_doi_in_citation_cff`,
  :func:`with_doi_in_readme`).

Sources: developers.zenodo.org; invenio-rdm-records (``services/schemas/metadata.py``,
``access.py``, the ``relation_types`` and ``roles`` vocabularies,
``RDM_RECORDS_IDENTIFIERS_SCHEMES``); zenodo-rdm (``legacy/deserializers/schemas.py``,
``legacy/serializers/schemas/common.py``, ``github/schemas.py`` for CITATION.cff); eossr's
``codemeta2zenodo`` for codemeta.json (its mapping, not the package).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import yaml

from ..zenodo.vocabulary import (
    ACCESS_RIGHTS,
    DEFAULT_ACCESS_RIGHT,
    DOI_PREFIX,
    IMAGE_TYPES,
    LICENSE_ALIASES,
    LICENSES_WITH_ALIASES,
    PUBLICATION_TYPES,
    RESOURCE_TITLES,
    UPLOAD_TYPES,
    default_license,
)
from .errors import ServiceError

__all__ = [
    "CONTRIBUTOR_TYPES", "IDENTIFIER_SCHEMES", "RELATIONS", "FieldError", "MetadataInvalid", "detect_scheme",
    "form_errors", "from_citation_cff", "from_codemeta", "normalized", "orcid_checksum_ok", "prefill",
    "rdm_access_settings", "rdm_communities", "to_legacy", "to_rdm", "validate", "with_doi_in_citation_cff",
    "with_doi_in_readme",
]

# ---------------------------------------------------------------------------------------
# vocabularies
# ---------------------------------------------------------------------------------------

#: related-identifier relations, as the deposit API writes them (zenodo-rdm's
#: ``RELATION_TYPE_MAPPING``: InvenioRDM's ``relation_types`` vocabulary, DataCite's list,
#: plus ``isAlternateIdentifier``, which InvenioRDM keeps apart as ``metadata.identifiers``)
RELATIONS = (
    "isCitedBy", "cites", "isSupplementTo", "isSupplementedBy", "isContinuedBy", "continues", "isDescribedBy",
    "describes", "hasMetadata", "isMetadataFor", "hasVersion", "isVersionOf", "isNewVersionOf",
    "isPreviousVersionOf", "isPartOf", "hasPart", "isPublishedIn", "isReferencedBy", "references",
    "isDocumentedBy", "documents", "isCompiledBy", "compiles", "isVariantFormOf", "isOriginalFormOf",
    "isIdenticalTo", "isReviewedBy", "reviews", "isDerivedFrom", "isSourceOf", "isRequiredBy", "requires",
    "isObsoletedBy", "obsoletes", "isAlternateIdentifier",
)
_RELATION_BY_LOWER = {r.lower(): r for r in RELATIONS}
#: legacy Zenodo's misspelling, still found in old .zenodo.json files (zenodo/zenodo#1366)
_RELATION_BY_LOWER["isorignialformof"] = "isOriginalFormOf"

#: identifier schemes InvenioRDM accepts for related identifiers (``RDM_RECORDS_IDENTIFIERS_SCHEMES``)
IDENTIFIER_SCHEMES = (
    "ark", "arxiv", "ads", "crossreffunderid", "doi", "ean13", "eissn", "grid", "handle", "igsn", "isbn", "isni",
    "issn", "istc", "lissn", "lsid", "pmid", "purl", "upc", "url", "urn", "w3id", "other",
)
#: older names of a scheme
_SCHEME_ALIASES = {"bibcode": "ads"}

#: contributor types (DataCite's contributorType, InvenioRDM's ``roles`` vocabulary, whose
#: ids are these lower-cased)
CONTRIBUTOR_TYPES = (
    "ContactPerson", "DataCollector", "DataCurator", "DataManager", "Distributor", "Editor", "HostingInstitution",
    "Producer", "ProjectLeader", "ProjectManager", "ProjectMember", "RegistrationAgency", "RegistrationAuthority",
    "RelatedPerson", "Researcher", "ResearchGroup", "RightsHolder", "Sponsor", "Supervisor", "Translator",
    "WorkPackageLeader", "Other",
)
_CONTRIBUTOR_TYPE_BY_LOWER = {t.lower(): t for t in CONTRIBUTOR_TYPES}

#: ISO 639-1 codes people write, and the ISO 639-3 code Zenodo stores
_LANGUAGES_639_1 = {
    "ar": "ara", "ca": "cat", "cs": "ces", "da": "dan", "de": "deu", "el": "ell", "en": "eng", "es": "spa",
    "et": "est", "eu": "eus", "fa": "fas", "fi": "fin", "fr": "fra", "ga": "gle", "he": "heb", "hi": "hin",
    "hr": "hrv", "hu": "hun", "id": "ind", "is": "isl", "it": "ita", "ja": "jpn", "ko": "kor", "la": "lat",
    "lt": "lit", "lv": "lav", "nl": "nld", "no": "nor", "pl": "pol", "pt": "por", "ro": "ron", "ru": "rus",
    "sk": "slk", "sl": "slv", "sr": "srp", "sv": "swe", "tr": "tur", "uk": "ukr", "zh": "zho",
}

#: a grant id without a funder names a European Commission grant (legacy Zenodo's rule)
EC_FUNDER_DOI = "10.13039/501100000780"
#: funder DOIs (as legacy grant ids start) -> the ROR id InvenioRDM's funders vocabulary
#: uses (a selection of zenodo-rdm's ``FUNDER_DOI_TO_ROR``; other funders keep their DOI)
_FUNDER_DOI_TO_ROR = {
    "10.13039/501100000780": "00k4n6c32",  # European Commission
    "10.13039/501100000923": "05mmh0f86",  # Australian Research Council
    "10.13039/501100001665": "00rbzpz17",  # Agence Nationale de la Recherche
    "10.13039/501100001711": "00yjd3n13",  # Swiss National Science Foundation
    "10.13039/501100000925": "011kf5r70",  # NHMRC
    "10.13039/501100002341": "05k73zm37",  # Academy of Finland
    "10.13039/501100002428": "013tf3c58",  # FWF
    "10.13039/501100001602": "0271asj38",  # Science Foundation Ireland
    "10.13039/501100003246": "04jsz6e67",  # NWO
    "10.13039/501100000690": "001aqnf71",  # Research Councils UK
    "10.13039/100014013": "001aqnf71",  # UKRI
    "10.13039/100000001": "021nxhr62",  # NSF
    "10.13039/100000002": "01cwqze88",  # NIH
    "10.13039/100004440": "029chgv08",  # Wellcome Trust
}

#: DOIs Zenodo mints itself (production and sandbox): never an *external* DOI
ZENODO_DOI_PREFIXES = (DOI_PREFIX, "10.5072/zenodo.")

#: the deposit API's metadata keys this module knows (anything else is dropped on output)
LEGACY_KEYS = (
    "upload_type", "publication_type", "image_type", "publication_date", "title", "creators", "description",
    "access_right", "license", "embargo_date", "access_conditions", "doi", "keywords", "notes",
    "related_identifiers", "contributors", "references", "communities", "grants", "version", "language",
    "subjects",
)

_FIELD_LABELS = {
    "title": "Title", "upload_type": "Type", "publication_type": "Publication type", "image_type": "Image type",
    "description": "Description", "creators": "Creators", "contributors": "Contributors", "license": "License",
    "access_right": "Access", "embargo_date": "Embargo date", "access_conditions": "Access conditions",
    "keywords": "Keywords", "communities": "Communities", "related_identifiers": "Related identifiers",
    "version": "Version", "grants": "Grants", "doi": "DOI", "publication_date": "Publication date",
    "language": "Language", "notes": "Notes", "references": "References", "subjects": "Subjects",
}

# ---------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldError:
    """One problem with one field. ``field`` is a form path (``title``,
    ``creators[1].orcid``, ``embargo_date``); ``""`` is the form as a whole."""

    field: str
    message: str

    def to_dict(self) -> dict:
        return {"field": self.field, "message": self.message}


class MetadataInvalid(ServiceError):
    """The metadata cannot be published as it is; ``errors`` says where and why."""

    http_status = 400

    def __init__(self, errors: list[FieldError], message: str | None = None) -> None:
        self.errors = list(errors)
        super().__init__(message or _summary(self.errors))

    def details(self) -> dict:
        grouped: dict[str, list[str]] = {}
        for error in self.errors:
            grouped.setdefault(error.field, []).append(error.message)
        return {"errors": [{"field": field, "messages": messages} for field, messages in grouped.items()]}


def _summary(errors: list[FieldError]) -> str:
    if not errors:
        return "The metadata is not valid."
    first = errors[0]
    base = first.field.split("[", 1)[0].split(".", 1)[0]
    where = f"{_FIELD_LABELS.get(base, first.field)}: " if first.field else ""
    more = len(errors) - 1
    tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"The metadata is not valid. {where}{first.message}{tail}"


# ---------------------------------------------------------------------------------------
# identifiers
# ---------------------------------------------------------------------------------------

_ORCID_URL = re.compile(r"^(?:https?://)?(?:www\.)?(?:sandbox\.)?orcid\.org/", re.IGNORECASE)
_ORCID = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_DOI_PREFIXED = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)", re.IGNORECASE)
_GND = re.compile(r"^(?:(?:1|10)\d{7}[\dX]|[47]\d{6}-\d|[1-9]\d{0,7}-[\dX]|3\d{7}[\dX])$")
_GND_PREFIXED = re.compile(r"^(?:gnd:|https?://d-nb\.info/gnd/)", re.IGNORECASE)
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _bare_orcid(value: str) -> str:
    """``https://orcid.org/0000-0002-1825-0097`` (or the bare id, or its 16 digits
    without hyphens) -> ``0000-0002-1825-0097``; anything else comes back unchanged."""
    text = _ORCID_URL.sub("", value.strip()).strip("/").upper()
    if text.startswith("ORCID:"):
        text = text[6:].strip()
    if re.fullmatch(r"\d{15}[\dX]", text):
        text = "-".join(text[i:i + 4] for i in range(0, 16, 4))
    return text if _ORCID.match(text) else value.strip()


def orcid_checksum_ok(orcid: str) -> bool:
    """The ISO 7064 MOD 11-2 check digit of a bare ORCID iD is right."""
    digits = orcid.replace("-", "")
    if not re.fullmatch(r"\d{15}[\dX]", digits):
        return False
    total = 0
    for char in digits[:15]:
        total = (total + int(char)) * 2
    result = (12 - total % 11) % 11
    return digits[15] == ("X" if result == 10 else str(result))


def _bare_doi(value: str) -> str:
    """``https://doi.org/10.1234/x`` or ``doi:10.1234/x`` -> ``10.1234/x`` (else unchanged but trimmed)."""
    return _DOI_PREFIXED.sub("", value.strip()).strip()


def _is_doi(value: str) -> bool:
    return bool(_DOI.match(_bare_doi(value)))


def _is_zenodo_doi(doi: str) -> bool:
    return _bare_doi(doi).lower().startswith(ZENODO_DOI_PREFIXES)


def _isbn_ok(text: str) -> bool:
    digits = re.sub(r"[\s-]", "", text).upper()
    if re.fullmatch(r"\d{9}[\dX]", digits):
        total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(digits))
        return total % 11 == 0
    if re.fullmatch(r"97[89]\d{10}", digits):
        total = sum((1 if i % 2 == 0 else 3) * int(c) for i, c in enumerate(digits))
        return total % 10 == 0
    return False


def detect_scheme(identifier: str) -> str | None:
    """The scheme an identifier is written in (as InvenioRDM names it), or ``None``.

    Recognised: DOIs (bare, ``doi:`` or ``https://doi.org/``), arXiv ids, handles, URNs,
    LSIDs, ARKs, ISBNs, ISSNs, PubMed ids (``pmid:``), ADS bibcodes, and URLs (``purl``
    and ``w3id`` for theirs).
    """
    text = identifier.strip()
    lowered = text.lower()
    if _is_doi(text):
        return "doi"
    if re.fullmatch(r"(?:arxiv:)?\d{4}\.\d{4,5}(?:v\d+)?", lowered) or re.fullmatch(
        r"(?:arxiv:)?[a-z-]+(?:\.[a-z]{2})?/\d{7}(?:v\d+)?", lowered
    ):
        return "arxiv"
    if lowered.startswith("urn:lsid:"):
        return "lsid"
    if re.fullmatch(r"urn:[a-z0-9][a-z0-9-]{0,31}:\S+", lowered):
        return "urn"
    if re.fullmatch(r"ark:/?\d+/\S+", lowered):
        return "ark"
    if re.fullmatch(r"pmid:\s*\d+", lowered):
        return "pmid"
    if re.fullmatch(r"https?://(?:www\.)?w3id\.org/\S+", lowered):
        return "w3id"
    if re.fullmatch(r"https?://(?:www\.)?purl\.(?:org|oclc\.org|net|com)/\S+", lowered):
        return "purl"
    if re.fullmatch(r"(?:https?|ftp)://[^\s/$.?#][^\s]*", lowered):
        return "url"
    if re.fullmatch(r"(?:hdl:)?\d[\d.]*/\S+", lowered):
        return "handle"
    if re.fullmatch(r"\d{4}-\d{3}[\dx]", lowered):
        return "issn"
    if re.fullmatch(r"(?:isbn:?\s*)?[\d\s-]{9,17}[\dx]", lowered) and _isbn_ok(re.sub(r"^isbn:?\s*", "", lowered)):
        return "isbn"
    if re.fullmatch(r"\d{4}[a-z.&]{5}[\w.]{4}[elpq-z.][\d.]{4}[a-z]", lowered) and len(text) == 19:
        return "ads"
    return None


_SCHEME_TITLES = {"doi": "DOI", "url": "URL", "arxiv": "arXiv", "urn": "URN", "ark": "ARK", "lsid": "LSID"}


def _fits_scheme(identifier: str, scheme: str) -> bool:
    """``identifier`` is written as ``scheme`` wants (checked for the schemes one can tell
    apart by their look; others are taken as given)."""
    if scheme == "doi":
        return _is_doi(identifier)
    if scheme in ("url", "purl", "w3id"):
        return bool(re.fullmatch(r"(?:https?|ftp)://[^\s/$.?#]\S*", identifier.strip(), re.IGNORECASE))
    if scheme in ("arxiv", "urn", "ark", "lsid"):
        detected = detect_scheme(identifier)
        return detected == scheme or (scheme == "urn" and detected == "lsid")
    return True


def _valid_resource_type(value: str) -> bool:
    base, _, sub = value.partition("-")
    if base not in RESOURCE_TITLES:
        return False
    if not sub:
        return True
    if base == "publication":
        return sub in PUBLICATION_TYPES
    if base == "image":
        return sub in IMAGE_TYPES
    return False


def _parse_day(value: str) -> date | None:
    if not _DAY.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _known_licenses(licenses: set[str] | None) -> set[str]:
    known = {str(x).lower() for x in (licenses if licenses is not None else LICENSES_WITH_ALIASES)}
    # an alias is known where what it stands for is
    known |= {alias for alias, target in LICENSE_ALIASES.items() if target in known}
    return known


# ---------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, (date, datetime)):
        return "a date"
    return "text" if isinstance(value, str) else type(value).__name__


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == [] or value == {}


class _Checker:
    def __init__(self, licenses: set[str] | None, today: date) -> None:
        self.errors: list[FieldError] = []
        self.licenses = _known_licenses(licenses)
        self.today = today

    def add(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))

    def text(self, meta: dict, key: str, field: str | None = None, *, required: str | None = None) -> str | None:
        """The trimmed text at ``meta[key]``; ``None`` (with an error if required or of the wrong type) otherwise."""
        field = field or key
        value = meta.get(key)
        if _blank(value):
            if required:
                self.add(field, required)
            return None
        if not isinstance(value, str):
            self.add(field, f"Must be text, not {_type_name(value)}.")
            return None
        return value.strip()

    def items(self, meta: dict, key: str, what: str) -> list:
        """The list at ``meta[key]`` (empty if absent; an error if it is not a list)."""
        value = meta.get(key)
        if _blank(value):
            return []
        if not isinstance(value, list):
            self.add(key, f"Must be a list of {what}, not {_type_name(value)}.")
            return []
        return value


def validate(meta: dict, *, licenses: set[str] | None = None, today: date | None = None) -> list[FieldError]:
    """Every problem of ``meta`` (legacy deposit vocabulary), each its own :class:`FieldError`.

    Absent values that Zenodo (and :func:`normalized`) fills in are not problems:
    ``access_right`` (open), ``publication_date`` (today) and, for open or embargoed
    access, ``license`` (CC0 for datasets, else CC BY 4.0). ``licenses`` are the license
    ids the server knows (default: those of :mod:`mesh_zenodo.zenodo.vocabulary`).
    Malformed values (a number where text goes, an object where a list goes) are
    reported, never raised.
    """
    today = today or date.today()
    if not isinstance(meta, dict):
        return [FieldError("", f"The metadata must be an object of fields, not {_type_name(meta)}.")]
    check = _Checker(licenses, today)

    title = check.text(meta, "title", required="A title is required.")
    if title is not None and len(title) < 3:
        check.add("title", "The title must be at least 3 characters long.")

    upload_type = check.text(meta, "upload_type", required=f"Choose a type: {', '.join(UPLOAD_TYPES)}.")
    if upload_type is not None and upload_type not in UPLOAD_TYPES:
        check.add("upload_type", f"'{upload_type}' is not a type Zenodo knows; choose one of "
                  f"{', '.join(UPLOAD_TYPES)}.")
    if upload_type == "publication":
        sub = check.text(meta, "publication_type", required="A publication needs a publication type "
                         f"({', '.join(PUBLICATION_TYPES)}).")
        if sub is not None and sub not in PUBLICATION_TYPES:
            check.add("publication_type", f"'{sub}' is not a publication type; choose one of "
                      f"{', '.join(PUBLICATION_TYPES)}.")
    if upload_type == "image":
        sub = check.text(meta, "image_type", required=f"An image needs an image type ({', '.join(IMAGE_TYPES)}).")
        if sub is not None and sub not in IMAGE_TYPES:
            check.add("image_type", f"'{sub}' is not an image type; choose one of {', '.join(IMAGE_TYPES)}.")

    description = check.text(meta, "description")
    if description is not None and len(description) < 3:
        check.add("description", "The description must be at least 3 characters long (or left empty).")

    creators = meta.get("creators")
    if _blank(creators):
        check.add("creators", "At least one creator is required.")
    elif not isinstance(creators, list):
        check.add("creators", f"Must be a list of creators, not {_type_name(creators)}.")
    else:
        for index, person in enumerate(creators):
            _check_person(check, person, f"creators[{index}]", contributor=False)
    for index, person in enumerate(check.items(meta, "contributors", "contributors")):
        _check_person(check, person, f"contributors[{index}]", contributor=True)

    access = check.text(meta, "access_right") or DEFAULT_ACCESS_RIGHT
    if access not in ACCESS_RIGHTS:
        check.add("access_right", f"'{access}' is not an access right; choose one of {', '.join(ACCESS_RIGHTS)}.")
    license_id = check.text(meta, "license")
    if license_id is not None and license_id.lower() not in check.licenses:
        check.add("license", f"'{license_id}' is not a license Zenodo knows; give its id, such as cc-by-4.0, "
                  "cc0-1.0 or mit.")
    if access == "embargoed":
        until = check.text(meta, "embargo_date", required="An embargoed upload needs the date its embargo ends "
                           "(YYYY-MM-DD).")
        if until is not None:
            day = _parse_day(until)
            if day is None:
                check.add("embargo_date", f"'{until}' is not a date; write it as YYYY-MM-DD.")
            elif day <= today:
                check.add("embargo_date", "The embargo must end in the future (after today).")
    if access == "restricted":
        check.text(meta, "access_conditions", required="Restricted access needs the conditions under which "
                   "you grant access to the files.")
    else:
        check.text(meta, "access_conditions")

    published = check.text(meta, "publication_date")
    if published is not None and _parse_day(published) is None:
        check.add("publication_date", f"'{published}' is not a date; write it as YYYY-MM-DD.")

    for index, keyword in enumerate(check.items(meta, "keywords", "keywords")):
        if not isinstance(keyword, str):
            check.add(f"keywords[{index}]", f"A keyword must be text, not {_type_name(keyword)}.")
        elif not keyword.strip():
            check.add(f"keywords[{index}]", "A keyword cannot be empty.")

    for index, community in enumerate(check.items(meta, "communities", "communities ({\"identifier\": ...})")):
        field = f"communities[{index}].identifier"
        if not isinstance(community, dict):
            check.add(f"communities[{index}]", "A community is given as {\"identifier\": \"<its short name>\"}.")
            continue
        slug = check.text(community, "identifier", field, required="Give the community's identifier (the short "
                          "name in its address, zenodo.org/communities/<identifier>).")
        if slug is not None and not _SLUG.match(slug):
            check.add(field, f"'{slug}' is not a community identifier: use the short name in the community's "
                      "address (letters, digits, '-' and '_').")

    for index, related in enumerate(check.items(meta, "related_identifiers", "related identifiers")):
        _check_related(check, related, f"related_identifiers[{index}]")

    check.text(meta, "version")

    for index, grant in enumerate(check.items(meta, "grants", "grants ({\"id\": ...})")):
        field = f"grants[{index}].id"
        if not isinstance(grant, dict):
            check.add(f"grants[{index}]", "A grant is given as {\"id\": \"<funder DOI>::<award number>\"}.")
            continue
        grant_id = check.text(grant, "id", field, required="Give the grant's id (<funder DOI>::<award number>, "
                              "or the award number of a European Commission grant).")
        if grant_id is not None and "::" in grant_id:
            funder, _, award = grant_id.partition("::")
            if not funder.strip() or not award.strip():
                check.add(field, f"'{grant_id}' is not a grant id: write <funder DOI>::<award number>.")

    doi = check.text(meta, "doi")
    if doi is not None and not _is_doi(doi):
        check.add("doi", f"'{doi}' is not a DOI; a DOI looks like 10.1234/abc (leave it empty and Zenodo "
                  "registers one).")

    language = check.text(meta, "language")
    if language is not None and not (re.fullmatch(r"[a-z]{3}", language.lower())
                                     or language.lower() in _LANGUAGES_639_1):
        check.add("language", f"'{language}' is not a language code; use the three-letter ISO 639 code, "
                  "such as eng, deu or fra.")

    check.text(meta, "notes")
    for index, reference in enumerate(check.items(meta, "references", "references")):
        if not isinstance(reference, str) or not reference.strip():
            check.add(f"references[{index}]", "A reference is the citation as text.")

    for index, subject in enumerate(check.items(meta, "subjects", "subjects")):
        field = f"subjects[{index}]"
        if not isinstance(subject, dict):
            check.add(field, "A subject is given as {\"term\", \"identifier\", \"scheme\"}.")
            continue
        check.text(subject, "term", f"{field}.term", required="A subject needs its term.")
        check.text(subject, "identifier", f"{field}.identifier", required="A subject needs its identifier "
                   "(the term's URL in its vocabulary).")
        check.text(subject, "scheme", f"{field}.scheme")
    return check.errors


def _check_person(check: _Checker, person: Any, field: str, *, contributor: bool) -> None:
    if not isinstance(person, dict):
        check.add(field, "A person is given as {\"name\": \"Family, Given\", \"affiliation\", \"orcid\"}.")
        return
    name = check.text(person, "name", f"{field}.name", required="A name is required: 'Family, Given' for a "
                      "person, or an organisation's name (without a comma).")
    orcid = check.text(person, "orcid", f"{field}.orcid")
    gnd = check.text(person, "gnd", f"{field}.gnd")
    if name is not None and "," in name:
        family, _, given = name.partition(",")
        if not family.strip():
            check.add(f"{field}.name", "Write the family name before the comma: 'Family, Given'.")
        elif not given.strip():
            check.add(f"{field}.name", "Write the given name after the comma ('Family, Given'), or leave out "
                      "the comma if this is an organisation.")
    elif name is not None and (orcid or gnd) and len(name.split()) > 1:
        check.add(f"{field}.name", "Write a person's name as 'Family, Given' (a name without a comma is taken "
                  "for an organisation, which has no ORCID).")
    if orcid is not None:
        bare = _bare_orcid(orcid)
        if not _ORCID.match(bare):
            check.add(f"{field}.orcid", f"'{orcid}' is not an ORCID iD; it looks like 0000-0002-1825-0097 "
                      "(or https://orcid.org/0000-0002-1825-0097).")
        elif not orcid_checksum_ok(bare):
            check.add(f"{field}.orcid", f"'{orcid}' is not a valid ORCID iD: its last character (the check "
                      "digit) does not match; check for a typo.")
    if gnd is not None and not _GND.match(_GND_PREFIXED.sub("", gnd)):
        check.add(f"{field}.gnd", f"'{gnd}' is not a GND identifier (such as 118540238 or 4079154-3).")
    check.text(person, "affiliation", f"{field}.affiliation")
    if contributor:
        kind = check.text(person, "type", f"{field}.type", required="A contributor needs a role "
                          f"({', '.join(CONTRIBUTOR_TYPES)}).")
        if kind is not None and kind.lower() not in _CONTRIBUTOR_TYPE_BY_LOWER:
            check.add(f"{field}.type", f"'{kind}' is not a contributor role; choose one of "
                      f"{', '.join(CONTRIBUTOR_TYPES)}.")


def _check_related(check: _Checker, related: Any, field: str) -> None:
    if not isinstance(related, dict):
        check.add(field, "A related identifier is given as {\"identifier\", \"relation\", \"resource_type\"?, "
                  "\"scheme\"?}.")
        return
    identifier = check.text(related, "identifier", f"{field}.identifier", required="The identifier is required "
                            "(a DOI, URL, arXiv id, handle, ...).")
    relation = check.text(related, "relation", f"{field}.relation", required="Say how it relates (for example "
                          "isSupplementTo, cites, isNewVersionOf).")
    if relation is not None and relation.lower() not in _RELATION_BY_LOWER:
        check.add(f"{field}.relation", f"'{relation}' is not a relation Zenodo knows; choose one of "
                  f"{', '.join(RELATIONS)}.")
    scheme = check.text(related, "scheme", f"{field}.scheme")
    if scheme is not None:
        scheme = _SCHEME_ALIASES.get(scheme.lower(), scheme.lower())
        if scheme not in IDENTIFIER_SCHEMES:
            check.add(f"{field}.scheme", f"'{related['scheme']}' is not an identifier scheme Zenodo knows; choose "
                      f"one of {', '.join(IDENTIFIER_SCHEMES)}.")
        elif identifier is not None and not _fits_scheme(identifier, scheme):
            check.add(f"{field}.identifier", f"'{identifier}' is not a valid {_SCHEME_TITLES.get(scheme, scheme)} "
                      "identifier.")
    elif identifier is not None and detect_scheme(identifier) is None:
        check.add(f"{field}.identifier", f"Cannot tell what kind of identifier '{identifier}' is: give a DOI "
                  "(10.1234/abc), a URL (https://...), an arXiv id, a handle, ... or set its scheme.")
    resource_type = check.text(related, "resource_type", f"{field}.resource_type")
    if resource_type is not None and not _valid_resource_type(resource_type):
        check.add(f"{field}.resource_type", f"'{resource_type}' is not a resource type: use a type "
                  "(dataset, software, ...) or type-subtype (publication-article, image-figure, ...).")


# ---------------------------------------------------------------------------------------
# normalising
# ---------------------------------------------------------------------------------------


def _trimmed(value: Any) -> Any:
    """Strings trimmed; empty strings, ``None`` and empty lists/objects dropped from objects
    and lists (they mean "not given"); dates as YYYY-MM-DD."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            item = _trimmed(item)
            if not _blank(item):
                out[key] = item
        return out
    if isinstance(value, list):
        return [item for item in (_trimmed(item) for item in value) if not _blank(item)]
    return value


def _prepared(meta: dict, today: date | None) -> dict:
    """:func:`normalized` without the validation (for converting metadata of unknown
    pedigree): defaults filled and values in their canonical spelling where recognisable."""
    today = today or date.today()
    out = _trimmed(copy.deepcopy(meta)) if isinstance(meta, dict) else {}
    if not isinstance(out.get("publication_date"), str):
        out.setdefault("publication_date", today.isoformat())
    out.setdefault("access_right", DEFAULT_ACCESS_RIGHT)
    if isinstance(out.get("license"), dict) and isinstance(out["license"].get("id"), str):
        out["license"] = out["license"]["id"]  # {"id": ...}, as the deposit API also took it
    if isinstance(out.get("license"), str):
        out["license"] = out["license"].lower()
    elif "license" not in out and out["access_right"] in ("open", "embargoed"):
        upload_type = out.get("upload_type")
        out["license"] = default_license(upload_type if isinstance(upload_type, str) else None)
    if out["access_right"] != "embargoed":
        out.pop("embargo_date", None)
    if out["access_right"] != "restricted":
        out.pop("access_conditions", None)
    if isinstance(out.get("upload_type"), str):
        if out["upload_type"] != "publication":
            out.pop("publication_type", None)
        if out["upload_type"] != "image":
            out.pop("image_type", None)
    for key in ("creators", "contributors"):
        for person in out.get(key) or [] if isinstance(out.get(key), list) else []:
            if not isinstance(person, dict):
                continue
            if isinstance(person.get("orcid"), str):
                person["orcid"] = _bare_orcid(person["orcid"])
            if isinstance(person.get("gnd"), str):
                person["gnd"] = _GND_PREFIXED.sub("", person["gnd"])
            if isinstance(person.get("name"), str) and "," in person["name"]:
                family, _, given = person["name"].partition(",")
                person["name"] = f"{family.strip()}, {given.strip()}" if given.strip() else person["name"]
            if key == "contributors" and isinstance(person.get("type"), str):
                person["type"] = _CONTRIBUTOR_TYPE_BY_LOWER.get(person["type"].lower(), person["type"])
    if isinstance(out.get("doi"), str):
        out["doi"] = _bare_doi(out["doi"])
    if isinstance(out.get("language"), str):
        code = out["language"].lower()
        out["language"] = _LANGUAGES_639_1.get(code, code)
    if isinstance(out.get("keywords"), list):
        seen: set = set()
        out["keywords"] = [k for k in out["keywords"] if not (isinstance(k, str) and (k in seen or seen.add(k)))]
    for related in out.get("related_identifiers") or [] if isinstance(out.get("related_identifiers"), list) else []:
        if not isinstance(related, dict):
            continue
        if isinstance(related.get("relation"), str):
            related["relation"] = _RELATION_BY_LOWER.get(related["relation"].lower(), related["relation"])
        if isinstance(related.get("scheme"), str):
            scheme = related["scheme"].lower()
            related["scheme"] = _SCHEME_ALIASES.get(scheme, scheme)
        if isinstance(related.get("identifier"), str):
            scheme = related.get("scheme") or detect_scheme(related["identifier"])
            if scheme == "doi":
                related["identifier"] = _bare_doi(related["identifier"])
            if scheme and "scheme" not in related:
                related["scheme"] = scheme
    return out


def normalized(meta: dict, *, today: date | None = None, licenses: set[str] | None = None) -> dict:
    """``meta`` completed as Zenodo would and checked; raises :class:`MetadataInvalid`.

    Filled in: ``publication_date`` (today), ``access_right`` (open), and for open or
    embargoed access without a license ``license`` (``cc0-1.0`` for datasets, else
    ``cc-by-4.0``). Text is trimmed and empty values dropped; ORCIDs become bare
    (``0000-0002-1825-0097``: a bare one stays bare, a URL loses its prefix); DOIs
    become bare (``10.1234/x``); license ids, relation and role names get their
    canonical spelling; a related identifier gets the scheme it was recognised by;
    fields another access right or type does not use (an ``embargo_date`` for open
    access) are dropped.
    """
    if not isinstance(meta, dict):
        raise MetadataInvalid(validate(meta))
    out = _prepared(meta, today)
    errors = validate(out, licenses=licenses, today=today)
    if errors:
        raise MetadataInvalid(errors)
    return out


# ---------------------------------------------------------------------------------------
# prefill from files
# ---------------------------------------------------------------------------------------

#: the files :func:`prefill` reads, in order of precedence
PREFILL_FILES = (".zenodo.json", "CITATION.cff", "codemeta.json")


def prefill(files: dict[str, str]) -> tuple[dict, str | None]:
    """The metadata the folder's own files give, and the file it came from.

    ``files`` maps names (``.zenodo.json``, ``CITATION.cff``, ``codemeta.json``) to their
    text; the first present in that order wins. The result is a form's starting point,
    not checked. A file that cannot be read raises :class:`MetadataInvalid` naming it.
    Nothing found: ``({}, None)``.
    """
    for name in PREFILL_FILES:
        text = files.get(name)
        if text is None:
            continue
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise _unreadable(name, "it is not UTF-8 text") from None
        text = text.lstrip("\ufeff")
        if name == "CITATION.cff":
            return from_citation_cff(text), name
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise _unreadable(name, f"it is not valid JSON ({exc})") from None
        if not isinstance(doc, dict):
            raise _unreadable(name, "it does not hold a JSON object")
        if name == ".zenodo.json":
            if set(doc) == {"metadata"} and isinstance(doc["metadata"], dict):
                doc = doc["metadata"]
            meta = {key: doc[key] for key in LEGACY_KEYS if key in doc}
            if isinstance(meta.get("license"), dict) and isinstance(meta["license"].get("id"), str):
                meta["license"] = meta["license"]["id"]
            return meta, name
        return from_codemeta(doc), name
    return {}, None


def _unreadable(name: str, why: str) -> MetadataInvalid:
    message = f"{name} could not be read: {why}."
    return MetadataInvalid([FieldError("", message)], message)


def _join_names(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v).strip() for v in value if isinstance(v, (str, int)) and str(v).strip())
    return value.strip() if isinstance(value, str) else ""


def _license_id(value: Any) -> str | None:
    """A license as an SPDX id, an SPDX or other license URL, or a CreativeWork -> an id
    Zenodo knows (ids are lower-case SPDX ids: ``Apache-2.0`` -> ``apache-2.0``)."""
    if isinstance(value, list):
        value = next((v for v in value if _license_id(v)), None)
    if isinstance(value, dict):
        value = value.get("identifier") or value.get("@id") or value.get("url") or value.get("name")
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().rstrip("/")
    if "://" in text:
        text = text.rsplit("/", 1)[-1]
        text = re.sub(r"\.(html|json|txt)$", "", text)
    return text.lower() or None


def _creator_from_cff(person: Any) -> dict | None:
    if not isinstance(person, dict):
        return None
    entity = _join_names(person.get("name"))
    particle, family = _join_names(person.get("name-particle")), _join_names(person.get("family-names"))
    family = f"{particle} {family}" if particle and family else family
    given = _join_names(person.get("given-names"))
    suffix = _join_names(person.get("name-suffix"))
    if entity:
        name = entity
    elif family and given:
        name = f"{family}, {given}" + (f", {suffix}" if suffix else "")
    else:
        name = family or given
    if not name:
        return None
    out = {"name": name}
    if isinstance(person.get("affiliation"), str) and person["affiliation"].strip():
        out["affiliation"] = person["affiliation"].strip()
    if isinstance(person.get("orcid"), str) and person["orcid"].strip():
        out["orcid"] = _bare_orcid(person["orcid"])
    return out


def from_citation_cff(text: str) -> dict:
    """Deposit metadata from a ``CITATION.cff`` (YAML; schema 1.2.0).

    Zenodo's own mapping (zenodo-rdm ``github/schemas.py``: ``title``, ``abstract`` ->
    description, ``authors`` -> creators as "Family, Given" or an entity's ``name``,
    ``keywords``, ``license``) plus ``version``, ``date-released`` -> publication_date,
    ``doi``, ``type`` (software or dataset) and ``repository-code`` -> a related
    identifier (``isSupplementTo``, as Zenodo's GitHub integration links a release to its
    repository). Not taken: ``message`` (Zenodo puts it in notes; it is the
    "please cite" boilerplate), and a ``doi`` Zenodo minted (``10.5281/zenodo.*``, such as
    the one :func:`with_doi_in_citation_cff` wrote after an earlier publication): Zenodo
    registers the new version's own DOI; sending the old one as external would be wrong.
    """
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _unreadable("CITATION.cff", f"it is not valid YAML ({_yaml_problem(exc)})") from None
    if not isinstance(doc, dict):
        raise _unreadable("CITATION.cff", "it does not hold a YAML mapping of fields")
    meta: dict[str, Any] = {}
    kind = doc.get("type")
    meta["upload_type"] = "dataset" if kind == "dataset" else "software"
    if isinstance(doc.get("title"), (str, int, float)):
        meta["title"] = str(doc["title"]).strip()
    if isinstance(doc.get("abstract"), str):
        meta["description"] = doc["abstract"].strip()
    authors = doc.get("authors") if isinstance(doc.get("authors"), list) else []
    creators = [c for c in (_creator_from_cff(p) for p in authors) if c]
    if creators:
        meta["creators"] = creators
    keywords = doc.get("keywords")
    if isinstance(keywords, list):
        meta["keywords"] = [str(k).strip() for k in keywords if isinstance(k, (str, int, float)) and str(k).strip()]
    license_id = _license_id(doc.get("license") or doc.get("license-url"))
    if license_id:
        meta["license"] = license_id
    if isinstance(doc.get("version"), (str, int, float)) and not isinstance(doc.get("version"), bool):
        meta["version"] = str(doc["version"]).strip()
    released = doc.get("date-released")
    if isinstance(released, (date, datetime)):
        meta["publication_date"] = (released.date() if isinstance(released, datetime) else released).isoformat()
    elif isinstance(released, str) and released.strip():
        meta["publication_date"] = released.strip()
    doi = doc.get("doi")
    if isinstance(doi, str) and doi.strip() and not _is_zenodo_doi(doi):
        meta["doi"] = _bare_doi(doi)
    repository = doc.get("repository-code")
    if isinstance(repository, str) and repository.strip():
        meta["related_identifiers"] = [{
            "identifier": repository.strip(), "relation": "isSupplementTo", "resource_type": "software",
            "scheme": "url",
        }]
    return meta


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{problem} at line {mark.line + 1}" if mark is not None else problem


# codemeta person properties -> (where they go, the contributor type) after eossr's mapping
_CODEMETA_CREATORS = ("author", "creator")
_CODEMETA_CONTRIBUTORS = {
    "contributor": "Other", "maintainer": "ContactPerson", "editor": "Editor", "producer": "Producer",
    "sponsor": "Sponsor", "copyrightHolder": "RightsHolder",
}


def _person_from_codemeta(person: Any) -> dict | None:
    if isinstance(person, str):
        return {"name": person.strip()} if person.strip() else None
    if not isinstance(person, dict):
        return None
    kind = person.get("@type")
    family = _join_names(person.get("familyName"))
    given = _join_names(person.get("givenName"))
    if kind == "Organization" or (not family and not given):
        name = _join_names(person.get("name")) or _join_names(person.get("legalName"))
    elif family and given:
        name = f"{family}, {given}"
    else:
        name = family or given
    if not name:
        return None
    out: dict[str, Any] = {"name": name}
    affiliation = person.get("affiliation")
    names = []
    for org in affiliation if isinstance(affiliation, list) else [affiliation]:
        if isinstance(org, dict):
            org = org.get("name") or org.get("legalName")
        if isinstance(org, str) and org.strip():
            names.append(org.strip())
    if names:
        out["affiliation"] = "; ".join(names)
    for key in ("@id", "identifier"):
        value = person.get(key)
        if isinstance(value, str) and "orcid.org/" in value.lower():
            out["orcid"] = _bare_orcid(value)
            break
        if isinstance(value, str) and _ORCID.match(value.strip().upper()):
            out["orcid"] = value.strip().upper()
            break
    return out


def from_codemeta(doc: dict) -> dict:
    """Deposit metadata from a ``codemeta.json`` (CodeMeta 2 or 3), following eossr's
    ``codemeta2zenodo`` mapping.

    ``@type`` SoftwareSourceCode (or none) -> software, Dataset -> dataset; ``name`` ->
    title; ``description``; ``softwareVersion``/``version``; ``keywords`` (a list, or one
    string split at commas); ``license`` (SPDX URL or id -> the lower-case id);
    ``datePublished``; ``releaseNotes`` -> notes; ``citation`` -> references;
    ``author``/``creator`` -> creators ("Family, Given" from familyName/givenName, an
    Organization's name, ORCID from ``@id``, affiliations joined with "; ");
    ``contributor`` (Other), ``maintainer`` (ContactPerson), ``editor``, ``producer``,
    ``sponsor``, ``copyrightHolder`` (RightsHolder) -> contributors; ``codeRepository`` ->
    related identifier isDerivedFrom (software); ``readme`` -> isDocumentedBy.
    """
    if not isinstance(doc, dict):
        raise _unreadable("codemeta.json", "it does not hold a JSON object")
    meta: dict[str, Any] = {}
    kind = doc.get("@type")
    if kind in (None, "SoftwareSourceCode", "schema:SoftwareSourceCode"):
        meta["upload_type"] = "software"
    elif kind in ("Dataset", "schema:Dataset"):
        meta["upload_type"] = "dataset"
    if isinstance(doc.get("name"), str) and doc["name"].strip():
        meta["title"] = doc["name"].strip()
    if isinstance(doc.get("description"), str) and doc["description"].strip():
        meta["description"] = doc["description"].strip()
    for key in ("softwareVersion", "version"):
        value = doc.get(key)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value).strip():
            meta["version"] = str(value).strip()
            break
    keywords = doc.get("keywords")
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    if isinstance(keywords, list):
        words = [k.strip() for k in keywords if isinstance(k, str) and k.strip()]
        if words:
            meta["keywords"] = words
    license_id = _license_id(doc.get("license"))
    if license_id:
        meta["license"] = license_id
    published = doc.get("datePublished")
    if isinstance(published, str) and published.strip():
        meta["publication_date"] = published.strip()[:10]
    if isinstance(doc.get("releaseNotes"), str) and doc["releaseNotes"].strip():
        meta["notes"] = "Release Notes: " + doc["releaseNotes"].strip()
    citation = doc.get("citation")
    references = [c.strip() for c in (citation if isinstance(citation, list) else [citation])
                  if isinstance(c, str) and c.strip()]
    if references:
        meta["references"] = references

    def people(key: str) -> list[dict]:
        value = doc.get(key)
        found = [_person_from_codemeta(p) for p in (value if isinstance(value, list) else [value]) if p]
        return [p for p in found if p]

    creators: list[dict] = []
    for key in _CODEMETA_CREATORS:
        creators += [p for p in people(key) if p not in creators]
    if creators:
        meta["creators"] = creators
    contributors: list[dict] = []
    for key, role in _CODEMETA_CONTRIBUTORS.items():
        for person in people(key):
            if person in creators and key != "maintainer":
                continue
            entry = {**person, "type": role}
            if entry not in contributors:
                contributors.append(entry)
    if contributors:
        meta["contributors"] = contributors
    related = []
    if isinstance(doc.get("codeRepository"), str) and doc["codeRepository"].strip():
        related.append({"identifier": doc["codeRepository"].strip(), "relation": "isDerivedFrom",
                        "resource_type": "software", "scheme": "url"})
    if isinstance(doc.get("readme"), str) and doc["readme"].strip():
        related.append({"identifier": doc["readme"].strip(), "relation": "isDocumentedBy",
                        "resource_type": "publication-softwaredocumentation", "scheme": "url"})
    if related:
        meta["related_identifiers"] = related
    return meta


# ---------------------------------------------------------------------------------------
# conversion for the server
# ---------------------------------------------------------------------------------------


def _rdm_person(person: dict) -> dict:
    name = person.get("name") if isinstance(person.get("name"), str) else ""
    identifiers = []
    if person.get("orcid"):
        identifiers.append({"scheme": "orcid", "identifier": person["orcid"]})
    if person.get("gnd"):
        identifiers.append({"scheme": "gnd", "identifier": person["gnd"]})
    if "," in name:
        family, _, given = name.partition(",")
        entity: dict[str, Any] = {"type": "personal", "family_name": family.strip()}
        if given.strip():
            entity["given_name"] = given.strip()
    elif identifiers:  # a one-word name with an ORCID: a person known by one name
        entity = {"type": "personal", "family_name": name}
    else:
        entity = {"type": "organizational", "name": name}
    if identifiers:
        entity["identifiers"] = identifiers
    out: dict[str, Any] = {"person_or_org": entity}
    if person.get("affiliation"):
        out["affiliations"] = [{"name": person["affiliation"]}]
    return out


def _rdm_license(license_id: str) -> str:
    license_id = license_id.lower()
    return LICENSE_ALIASES.get(license_id, license_id)


def _grant_parts(grant_id: str) -> tuple[str, str]:
    funder, sep, award = grant_id.partition("::")
    return (funder.strip(), award.strip()) if sep else (EC_FUNDER_DOI, grant_id.strip())


def _resource_type_id(meta: dict) -> str | None:
    kind = meta.get("upload_type")
    if not isinstance(kind, str):
        return None
    sub = meta.get(f"{kind}_type") if kind in ("publication", "image") else None
    return f"{kind}-{sub}" if isinstance(sub, str) and sub else kind


def to_rdm(meta: dict) -> dict:
    """The body of ``POST /api/records`` or ``PUT /api/records/{id}/draft``.

    ``{"metadata": {...}, "access": {...}, "files": {"enabled": True}}`` and, with a
    ``doi``, ``"pids": {"doi": {"identifier", "provider"}}`` (``external``; ``datacite``
    for a DOI Zenodo minted). The mapping is zenodo-rdm's legacy→RDM transform:
    ``upload_type``/``publication_type`` -> ``resource_type.id`` (``publication-article``);
    creators ``"Family, Given"`` -> ``person_or_org`` personal (``family_name``,
    ``given_name``, ``identifiers [{scheme: orcid}]``), a name without a comma ->
    organizational; ``affiliation`` -> ``affiliations [{name}]``; contributors' ``type`` ->
    ``role.id``; ``license`` -> ``rights [{id}]``; ``keywords`` and ``subjects`` ->
    ``subjects [{subject}]``; ``grants`` -> ``funding [{funder: {id}, award: {id}}]``;
    related identifiers -> ``related_identifiers [{identifier, scheme, relation_type: {id},
    resource_type: {id}}]`` (``isAlternateIdentifier`` ones -> ``identifiers``);
    ``language`` -> ``languages [{id}]``; ``notes`` -> ``additional_descriptions`` (other);
    ``references`` -> ``[{reference}]``; publisher Zenodo. Access: open -> record and files
    public; embargoed -> files restricted with ``embargo {active, until}``; restricted and
    closed -> files restricted (the record's metadata stays public).

    Communities and restricted access's conditions are not part of a draft: see
    :func:`rdm_communities` and :func:`rdm_access_settings`.
    """
    meta = _prepared(meta, None)
    md: dict[str, Any] = {}
    resource_type = _resource_type_id(meta)
    if resource_type:
        md["resource_type"] = {"id": resource_type}
    for key in ("title", "description", "publication_date", "version"):
        if isinstance(meta.get(key), str):
            md[key] = meta[key]
    md["publisher"] = "Zenodo"
    md["creators"] = [_rdm_person(p) for p in meta.get("creators") or [] if isinstance(p, dict)]
    contributors = []
    for person in meta.get("contributors") or []:
        if isinstance(person, dict):
            entry = _rdm_person(person)
            if isinstance(person.get("type"), str):
                entry["role"] = {"id": person["type"].lower()}
            contributors.append(entry)
    if contributors:
        md["contributors"] = contributors
    if isinstance(meta.get("license"), str):
        md["rights"] = [{"id": _rdm_license(meta["license"])}]
    subjects = [{"subject": k} for k in meta.get("keywords") or [] if isinstance(k, str)]
    subjects += [{"subject": s["term"]} for s in meta.get("subjects") or [] if isinstance(s, dict) and s.get("term")]
    if subjects:
        md["subjects"] = subjects
    if isinstance(meta.get("language"), str):
        md["languages"] = [{"id": meta["language"]}]
    related, alternate = [], []
    for item in meta.get("related_identifiers") or []:
        if not isinstance(item, dict) or not isinstance(item.get("identifier"), str):
            continue
        scheme = item.get("scheme") or detect_scheme(item["identifier"]) or "other"
        relation = item.get("relation") if isinstance(item.get("relation"), str) else ""
        if relation == "isAlternateIdentifier":
            alternate.append({"identifier": item["identifier"], "scheme": scheme})
            continue
        entry: dict[str, Any] = {"identifier": item["identifier"], "scheme": scheme,
                                 "relation_type": {"id": relation.lower()}}
        if isinstance(item.get("resource_type"), str):
            entry["resource_type"] = {"id": item["resource_type"]}
        related.append(entry)
    if related:
        md["related_identifiers"] = related
    if alternate:
        md["identifiers"] = alternate
    funding = []
    for grant in meta.get("grants") or []:
        if isinstance(grant, dict) and isinstance(grant.get("id"), str):
            funder, award = _grant_parts(grant["id"])
            funder_id = _FUNDER_DOI_TO_ROR.get(funder, funder)
            funding.append({"funder": {"id": funder_id}, "award": {"id": f"{funder_id}::{award}"}})
    if funding:
        md["funding"] = funding
    if isinstance(meta.get("notes"), str):
        md["additional_descriptions"] = [{"description": meta["notes"], "type": {"id": "other"}}]
    references = [{"reference": r} for r in meta.get("references") or [] if isinstance(r, str)]
    if references:
        md["references"] = references

    access_right = meta.get("access_right")
    if access_right == "embargoed":
        access: dict[str, Any] = {"record": "public", "files": "restricted",
                                  "embargo": {"active": True, "until": meta.get("embargo_date")}}
    elif access_right in ("restricted", "closed"):
        access = {"record": "public", "files": "restricted"}
    else:
        access = {"record": "public", "files": "public"}
    body: dict[str, Any] = {"metadata": md, "access": access, "files": {"enabled": True}}
    if isinstance(meta.get("doi"), str):
        provider = "datacite" if _is_zenodo_doi(meta["doi"]) else "external"
        body["pids"] = {"doi": {"identifier": meta["doi"], "provider": provider}}
    return body


def rdm_communities(meta: dict) -> list[str]:
    """The communities the record asks to join (their slugs): with the records API a
    separate request (``POST /api/records/{id}/communities``
    ``{"communities": [{"id": slug}]}`` once published, or a draft review request)."""
    out = []
    for community in meta.get("communities") or [] if isinstance(meta.get("communities"), list) else []:
        if isinstance(community, dict) and isinstance(community.get("identifier"), str):
            slug = community["identifier"].strip()
            if slug and slug not in out:
                out.append(slug)
    return out


def rdm_access_settings(meta: dict) -> dict | None:
    """For restricted access, the record's access settings (InvenioRDM keeps them on the
    parent record: ``parent.access.settings``): users may ask for access, and are shown
    the conditions. ``None`` for other access rights."""
    if meta.get("access_right") != "restricted":
        return None
    conditions = meta.get("access_conditions")
    return {"allow_user_requests": True, "allow_guest_requests": False,
            "accept_conditions_text": conditions.strip() if isinstance(conditions, str) else None}


def to_legacy(meta: dict) -> dict:
    """The deposit API's body, ``{"metadata": {...}}``, for a server without the records API:
    the known fields only, defaults filled, and a grant without a funder given the
    European Commission's (which the deposit API assumed and zenodo-rdm now requires)."""
    meta = _prepared(meta, None)
    out = {key: meta[key] for key in LEGACY_KEYS if key in meta}
    if isinstance(out.get("grants"), list):
        out["grants"] = [
            {**g, "id": "::".join(_grant_parts(g["id"]))} if isinstance(g, dict) and isinstance(g.get("id"), str) else g
            for g in out["grants"]
        ]
    return {"metadata": out}


# ---------------------------------------------------------------------------------------
# the server's errors, back on the form
# ---------------------------------------------------------------------------------------

_SIMPLE_FIELDS = {
    "title": "title", "description": "description", "publication_date": "publication_date",
    "version": "version", "upload_type": "upload_type", "resource_type": "upload_type",
    "publication_type": "publication_type", "image_type": "image_type", "license": "license",
    "rights": "license", "access_right": "access_right", "embargo_date": "embargo_date",
    "access_conditions": "access_conditions", "doi": "doi", "language": "language", "languages": "language",
    "notes": "notes", "additional_descriptions": "notes", "keywords": "keywords", "subjects": "keywords",
    "creators": "creators", "contributors": "contributors", "related_identifiers": "related_identifiers",
    "identifiers": "related_identifiers", "grants": "grants", "funding": "grants", "references": "references",
    "communities": "communities", "prereserve_doi": "doi", "publisher": "",
}
_PERSON_PARTS = {
    "name": "name", "family_name": "name", "given_name": "name", "type": "name", "person_or_org": "name",
    "identifiers": "orcid", "orcid": "orcid", "gnd": "gnd", "affiliations": "affiliation",
    "affiliation": "affiliation", "role": "type",
}
_RELATED_PARTS = {
    "identifier": "identifier", "scheme": "identifier", "relation_type": "relation", "relation": "relation",
    "resource_type": "resource_type",
}


def _index_in(meta: dict | None, key: str, rdm_index: int, match) -> int:
    """The position in ``meta[key]`` of the ``rdm_index``-th item that ``match`` accepts."""
    items = meta.get(key) if isinstance(meta, dict) else None
    if not isinstance(items, list):
        return rdm_index
    seen = -1
    for position, item in enumerate(items):
        if match(item):
            seen += 1
            if seen == rdm_index:
                return position
    return rdm_index


def _form_field(path: str, meta: dict | None) -> str:
    parts = [p for p in re.split(r"[.\[\]]+", path or "") if p]
    if not parts:
        return ""
    head = parts[0]
    if head == "access":
        return "embargo_date" if parts[1:2] == ["embargo"] else "access_right"
    if head == "pids":
        return "doi"
    if head == "parent":
        if "settings" in parts or "accept_conditions_text" in parts:
            return "access_conditions"
        return "communities" if "communities" in parts else ""
    if head == "metadata":
        parts = parts[1:]
    if not parts or parts[0] not in _SIMPLE_FIELDS:
        return ""
    key, rest = parts[0], parts[1:]
    field = _SIMPLE_FIELDS[key]
    index = int(rest[0]) if rest and rest[0].isdigit() else None
    sub = rest[1:] if index is not None else rest
    if field in ("creators", "contributors"):
        if index is None:
            return field
        part = next((_PERSON_PARTS[s] for s in reversed(sub) if s in _PERSON_PARTS), None)
        if "identifiers" in sub:
            part = "orcid"
            people = meta.get(field) if isinstance(meta, dict) else None
            person = people[index] if isinstance(people, list) and index < len(people) else None
            if isinstance(person, dict) and person.get("gnd") and not person.get("orcid"):
                part = "gnd"
        elif "affiliations" in sub:
            part = "affiliation"
        elif "role" in sub:
            part = "type" if field == "contributors" else None
        return f"{field}[{index}].{part}" if part else f"{field}[{index}]"
    if field == "related_identifiers":
        if index is None:
            return field
        alternate = key == "identifiers"

        def is_alternate(item: Any) -> bool:
            return isinstance(item, dict) and str(item.get("relation", "")).lower() == "isalternateidentifier"

        index = _index_in(meta, "related_identifiers", index,
                          is_alternate if alternate else (lambda item: not is_alternate(item)))
        part = next((_RELATED_PARTS[s] for s in sub if s in _RELATED_PARTS), None)
        if alternate and part == "relation":
            part = None
        return f"{field}[{index}].{part}" if part else f"{field}[{index}]"
    if key == "subjects":
        if index is None:
            return "keywords"
        keywords = meta.get("keywords") if isinstance(meta, dict) else None
        count = len(keywords) if isinstance(keywords, list) else None
        if count is not None and index >= count:
            return f"subjects[{index - count}]"
        return f"keywords[{index}]"
    if field == "grants":
        return f"grants[{index}].id" if index is not None else "grants"
    if field == "communities":
        return f"communities[{index}].identifier" if index is not None else "communities"
    if field in ("keywords", "references") and index is not None:
        return f"{field}[{index}]"
    return field


def _messages(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [m for item in value for m in _messages(item)]
    if isinstance(value, dict):
        return [m for item in value.values() for m in _messages(item)]
    return [str(value)]


def _flatten(path: str, value: Any) -> list[tuple[str, str]]:
    """(field path, message) pairs of a ``messages`` value that may nest objects (marshmallow's shape)."""
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in _flatten(f"{path}.{key}" if path else str(key), item)]
    return [(path, message) for message in _messages(value)]


def form_errors(zenodo_errors: list[dict], meta: dict | None = None) -> list[FieldError]:
    """Zenodo's (or InvenioRDM's) validation errors on the form's fields.

    Both error forms: ``{"field", "messages": [...]}`` (the server) and ``{"field",
    "message"}`` (the docs). RDM paths and legacy paths both map:
    ``metadata.creators.0.person_or_org.family_name`` and ``metadata.creators.0.name`` ->
    ``creators[0].name``; ``metadata.rights`` -> ``license``; ``access.embargo.until`` ->
    ``embargo_date``; ``metadata.subjects.N`` -> ``keywords[N]``; ``metadata.funding.N`` ->
    ``grants[N].id``; ``pids.doi`` -> ``doi``; anything unknown -> ``""`` (the form).
    ``meta``, the metadata that was sent (legacy vocabulary), lets indices that the
    conversion shifted (alternate identifiers, subjects after keywords) point at the
    right item.
    """
    out: list[FieldError] = []
    if not isinstance(zenodo_errors, list):
        return out
    for error in zenodo_errors:
        if not isinstance(error, dict):
            if isinstance(error, str):
                out.append(FieldError("", error))
            continue
        path = error.get("field") if isinstance(error.get("field"), str) else ""
        value = error.get("messages") if error.get("messages") is not None else error.get("message")
        pairs = _flatten(path, value) or [(path, "Zenodo did not accept this value.")]
        for where, message in pairs:
            out.append(FieldError(_form_field(where, meta), message))
    return out


# ---------------------------------------------------------------------------------------
# the DOI, written back
# ---------------------------------------------------------------------------------------

_CFF_DOI_LINE = re.compile(r"""^(["']?)doi\1[ \t]*:(?P<value>[^\r\n]*)(?P<eol>\r?\n|$)""", re.MULTILINE)


def _checked_doi(doi: str) -> str:
    bare = _bare_doi(doi) if isinstance(doi, str) else ""
    if not _DOI.match(bare):
        raise MetadataInvalid([FieldError("doi", f"'{doi}' is not a DOI; a DOI looks like 10.1234/abc.")])
    return bare


def _yaml_scalar(text: str) -> str | None:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return value if isinstance(value, str) else None


def with_doi_in_citation_cff(text: str, doi: str) -> str:
    """``text`` with its top-level ``doi:`` set to ``doi`` (replaced in place, or added at
    the end); every other byte kept. The same DOI again changes nothing."""
    doi = _checked_doi(doi)
    line = f"doi: {json.dumps(doi)}"
    for match in _CFF_DOI_LINE.finditer(text):
        raw = match.group("value")
        current = _yaml_scalar(raw.split(" #", 1)[0]) if raw.strip() else None
        if current is not None and _bare_doi(current) == doi:
            return text
        return text[:match.start()] + line + match.group("eol") + text[match.end():]
    if text and not text.endswith("\n"):
        newline = "\r\n" if "\r\n" in text else "\n"
        return f"{text}{newline}{line}{newline}"
    newline = "\r\n" if "\r\n" in text else "\n"
    return f"{text}{line}{newline}"


_MD_BADGE = re.compile(
    r"\[!\[DOI\]\(https?://(?:sandbox\.)?zenodo\.org/badge/DOI/[^)\s]+\.svg\)\]\(https?://(?:dx\.)?doi\.org/[^)\s]+\)"
)
_TEXT_DOI = re.compile(r"^DOI: https?://(?:dx\.)?doi\.org/\S+[ \t]*$", re.MULTILINE)


def with_doi_in_readme(text: str, doi: str, markdown: bool = True) -> str:
    """``text`` with a DOI badge (Markdown:
    ``[![DOI](https://zenodo.org/badge/DOI/<doi>.svg)](https://doi.org/<doi>)``) or a line
    ``DOI: https://doi.org/<doi>`` (plain text). An existing badge or line is replaced;
    otherwise it goes under the first heading (or at the top). The same DOI again changes
    nothing."""
    doi = _checked_doi(doi)
    newline = "\r\n" if "\r\n" in text else "\n"
    if markdown:
        badge = f"[![DOI](https://zenodo.org/badge/DOI/{doi}.svg)](https://doi.org/{doi})"
        if _MD_BADGE.search(text):
            return _MD_BADGE.sub(lambda _: badge, text, count=1)
        return _insert_after_title(text, badge, newline, markdown=True)
    line = f"DOI: https://doi.org/{doi}"
    if _TEXT_DOI.search(text):
        return _TEXT_DOI.sub(lambda _: line, text, count=1)
    return _insert_after_title(text, line, newline, markdown=False)


def _insert_after_title(text: str, block: str, newline: str, *, markdown: bool) -> str:
    lines = text.splitlines(keepends=True)
    at = None
    for index, raw in enumerate(lines[:20]):
        stripped = raw.strip()
        if not stripped:
            continue
        if markdown and re.match(r"^#\s+\S", stripped):
            at = index + 1
        elif index + 1 < len(lines) and re.fullmatch(r"(=+|-+)", lines[index + 1].strip()) \
                and len(lines[index + 1].strip()) >= 3:
            at = index + 2  # a setext (Markdown) or reStructuredText-style title
        break
    if at is None:
        return f"{block}{newline}{newline}{text}" if text else f"{block}{newline}"
    head = "".join(lines[:at])
    if not head.endswith(("\n", "\r")):
        head += newline
    tail = "".join(lines[at:])
    tail = tail.lstrip("\r\n")
    return f"{head}{newline}{block}{newline}" + (f"{newline}{tail}" if tail else "")
