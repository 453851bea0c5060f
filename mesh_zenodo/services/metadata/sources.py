"""Metadata from the files a folder may carry, to start a form with.

:func:`prefill` takes the first of ``.zenodo.json`` (the deposit vocabulary itself),
``CITATION.cff`` (:func:`from_citation_cff`, after zenodo-rdm's ``github/schemas.py``)
and ``codemeta.json`` (:func:`from_codemeta`, after eossr's ``codemeta2zenodo``
mapping, not the package). The results are not checked; a file that cannot be read
raises :class:`~.fields.MetadataInvalid` naming it.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

import yaml

from .fields import (
    _ORCID,
    LEGACY_KEYS,
    FieldError,
    MetadataInvalid,
    _bare_doi,
    _bare_orcid,
    _is_zenodo_doi,
)

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
