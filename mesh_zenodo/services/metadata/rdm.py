"""Metadata for the server, and the server's errors back on the form.

:func:`to_rdm` builds the body of the InvenioRDM records API Zenodo runs (following
zenodo-rdm's own legacy→RDM transform in ``site/zenodo_rdm/legacy/``), with
:func:`rdm_communities` and :func:`rdm_access_settings` for what a draft does not hold;
:func:`to_legacy` builds the deposit API's body. :func:`form_errors` maps the server's
validation errors (RDM or legacy paths) onto the form's fields.

Sources: invenio-rdm-records (``services/schemas/metadata.py``, ``access.py``);
zenodo-rdm (``legacy/serializers/schemas/common.py``).
"""

from __future__ import annotations

import re
from typing import Any

from ...zenodo.vocabulary import LICENSE_ALIASES
from .fields import (
    _FUNDER_DOI_TO_ROR,
    EC_FUNDER_DOI,
    LEGACY_KEYS,
    FieldError,
    _is_zenodo_doi,
    detect_scheme,
)
from .validate import _prepared

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
