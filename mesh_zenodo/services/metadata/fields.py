"""The vocabulary of publication metadata and the parts every other module of the package uses.

- the lists a field is checked against (:data:`RELATIONS`, :data:`IDENTIFIER_SCHEMES`,
  :data:`CONTRIBUTOR_TYPES`, ISO 639-1 language codes, funder DOIs and their ROR ids,
  Zenodo's own DOI prefixes, the deposit API's keys :data:`LEGACY_KEYS`);
- the errors: :class:`FieldError` (one problem with one form field) and
  :class:`MetadataInvalid` (the service error carrying them);
- identifiers: ORCID iDs (:func:`orcid_checksum_ok`), DOIs (bare, recognised, Zenodo's
  own), GND ids, ISBNs, :func:`detect_scheme` for a related identifier, and the checks of
  resource types, dates and license ids.

Sources: developers.zenodo.org; invenio-rdm-records (the ``relation_types`` and ``roles``
vocabularies, ``RDM_RECORDS_IDENTIFIERS_SCHEMES``); zenodo-rdm (``RELATION_TYPE_MAPPING``,
``FUNDER_DOI_TO_ROR``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from ...zenodo.vocabulary import (
    DOI_PREFIX,
    IMAGE_TYPES,
    LICENSE_ALIASES,
    LICENSES_WITH_ALIASES,
    PUBLICATION_TYPES,
    RESOURCE_TITLES,
)
from ..errors import ServiceError

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
