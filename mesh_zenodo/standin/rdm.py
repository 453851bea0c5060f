"""InvenioRDM's rules for the stand-in's records API: what a draft's metadata and access
must look like (the checks of invenio-rdm-records' service schemas, with their messages),
and the translation between the RDM metadata and the legacy metadata the records routes
and the search serve.

Sources (docs/zenodo-standin.md lists what is a guess): invenio-rdm-records
``services/schemas/metadata.py`` and ``access.py``, marshmallow-utils' EDTF validator,
invenio-records' relation check ("Invalid value <id>."), zenodo-rdm's ``invenio.cfg``
(``RDM_ALLOW_RESTRICTED_RECORDS = False``) and its legacy serializer (``resource_type``
``type-subtype`` ids split at the dash).
"""

from __future__ import annotations

import copy
import re
from datetime import date, datetime, timezone
from typing import Any

from mesh_zenodo.zenodo.vocabulary import (
    IMAGE_TYPES,
    LICENSE_ALIASES,
    LICENSES,
    PUBLICATION_TYPES,
    RESOURCE_TITLES,
)

REQUIRED = "Missing data for required field."

#: publication subtypes InvenioRDM's Zenodo vocabulary has beyond the legacy ones
RDM_ONLY_PUBLICATION_TYPES = ("conferenceproceeding", "journal", "peerreview", "datapaper", "dissertation", "standard")

#: every ``metadata.resource_type.id`` Zenodo knows (zenodo-rdm's resource_types.yaml):
#: the top-level types (``publication`` and ``image`` alone are valid too) and
#: ``publication-<subtype>``, ``image-<subtype>``
RESOURCE_TYPE_IDS = frozenset(
    [*RESOURCE_TITLES]
    + [f"publication-{t}" for t in (*PUBLICATION_TYPES, *RDM_ONLY_PUBLICATION_TYPES)]
    + [f"image-{t}" for t in IMAGE_TYPES]
)

#: the fields of InvenioRDM's ``MetadataSchema`` (anything else: "Unknown field.")
METADATA_FIELDS = frozenset(
    (
        "resource_type", "creators", "title", "additional_titles", "publisher", "publication_date", "subjects",
        "contributors", "dates", "languages", "identifiers", "related_identifiers", "sizes", "formats", "version",
        "rights", "copyright", "description", "additional_descriptions", "locations", "funding", "references",
    )
)

PERSON_TYPES = ["organizational", "personal"]
PERSON_TYPE_MESSAGE = f"Invalid value. Choose one of {PERSON_TYPES}."

_EDTF_DAY = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


class RelationError(Exception):
    """A vocabulary id that does not exist: invenio-records refuses the whole save (400,
    ``{"message": "Invalid value <id>."}``, no ``errors`` list)."""


def _edtf_ok(value: Any) -> bool:
    """A date (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``) or a chronological interval ``a/b``."""
    if not isinstance(value, str):
        return False

    def one(text: str) -> tuple[int, ...] | None:
        if not _EDTF_DAY.fullmatch(text):
            return None
        parts = tuple(int(p) for p in text.split("-"))
        try:
            date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
        except ValueError:
            return None
        return parts

    if "/" in value:
        start, _, end = value.partition("/")
        a, b = one(start), one(end)
        return a is not None and b is not None and a <= b
    return one(value) is not None


def _length(errors: list, field: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> None:
    if not isinstance(value, str):
        errors.append({"field": field, "messages": ["Not a valid string."]})
    elif minimum is not None and len(value.strip()) < minimum:
        errors.append({"field": field, "messages": [f"Shorter than minimum length {minimum}."]})
    elif maximum is not None and len(value) > maximum:
        errors.append({"field": field, "messages": [f"Longer than maximum length {maximum}."]})


def _people(errors: list, field: str, people: Any, *, required: bool) -> None:
    if people is None:
        if required:
            errors.append({"field": field, "messages": [REQUIRED]})
        return
    if not isinstance(people, list):
        errors.append({"field": field, "messages": ["Not a valid list."]})
        return
    if required and not people:
        errors.append({"field": field, "messages": [REQUIRED]})
    for i, person in enumerate(people):
        here = f"{field}.{i}"
        if not isinstance(person, dict):
            errors.append({"field": f"{here}._schema", "messages": ["Invalid input type."]})
            continue
        po = person.get("person_or_org")
        if not isinstance(po, dict):
            errors.append({"field": f"{here}.person_or_org", "messages": [REQUIRED if po is None else "Invalid input type."]})
            continue
        kind = po.get("type")
        if kind not in PERSON_TYPES:
            errors.append({"field": f"{here}.person_or_org.type", "messages": [PERSON_TYPE_MESSAGE]})
        elif kind == "personal" and not str(po.get("family_name") or "").strip():
            errors.append({"field": f"{here}.person_or_org.family_name", "messages": ["Family name cannot be blank."]})
        elif kind == "organizational" and not str(po.get("name") or "").strip():
            errors.append({"field": f"{here}.person_or_org.name", "messages": ["Name cannot be blank."]})
        affiliations = person.get("affiliations")
        if affiliations is not None and not isinstance(affiliations, list):
            errors.append({"field": f"{here}.affiliations", "messages": ["Not a valid list."]})


def check_metadata(metadata: Any) -> list[dict]:
    """The field errors InvenioRDM's schema reports for ``metadata`` (draft save and publish
    alike); raises :class:`RelationError` for an unknown resource type or license id."""
    if not isinstance(metadata, dict):
        return [{"field": "metadata", "messages": ["Invalid input type."]}]
    errors: list[dict] = []
    for name in metadata:
        if name not in METADATA_FIELDS:
            errors.append({"field": f"metadata.{name}", "messages": ["Unknown field."]})
    rtype = metadata.get("resource_type")
    if rtype is None:
        errors.append({"field": "metadata.resource_type", "messages": [REQUIRED]})
    elif not isinstance(rtype, dict):
        errors.append({"field": "metadata.resource_type", "messages": ["Invalid input type."]})
    elif not rtype.get("id"):
        errors.append({"field": "metadata.resource_type.id", "messages": [REQUIRED]})
    elif rtype["id"] not in RESOURCE_TYPE_IDS:
        raise RelationError(f"Invalid value {rtype['id']}.")
    _people(errors, "metadata.creators", metadata.get("creators"), required=True)
    _people(errors, "metadata.contributors", metadata.get("contributors"), required=False)
    if "title" not in metadata:
        errors.append({"field": "metadata.title", "messages": [REQUIRED]})
    else:
        _length(errors, "metadata.title", metadata["title"], minimum=3)
    if "publication_date" not in metadata:
        errors.append({"field": "metadata.publication_date", "messages": [REQUIRED]})
    elif not _edtf_ok(metadata["publication_date"]):
        errors.append({"field": "metadata.publication_date", "messages": ["Please provide a valid date or interval."]})
    if "description" in metadata:
        _length(errors, "metadata.description", metadata["description"], minimum=3)
    if "version" in metadata:
        _length(errors, "metadata.version", metadata["version"], maximum=191)
    rights = metadata.get("rights")
    if rights is not None:
        if not isinstance(rights, list):
            errors.append({"field": "metadata.rights", "messages": ["Not a valid list."]})
        else:
            for i, right in enumerate(rights):
                if not isinstance(right, dict):
                    errors.append({"field": f"metadata.rights.{i}._schema", "messages": ["Invalid input type."]})
                elif right.get("id"):
                    if str(right["id"]).lower() not in LICENSES:
                        raise RelationError(f"Invalid value {right['id']}.")
                elif not right.get("title"):
                    errors.append({"field": f"metadata.rights.{i}.title", "messages": [REQUIRED]})
    subjects = metadata.get("subjects")
    if subjects is not None and not (
        isinstance(subjects, list) and all(isinstance(s, dict) and (s.get("subject") or s.get("id")) for s in subjects)
    ):
        errors.append({"field": "metadata.subjects", "messages": ["Not a valid list of subjects."]})
    return errors


def normalized(metadata: dict) -> dict:
    """``metadata`` as InvenioRDM stores it: a person's ``name`` made of the family and
    given names, an organization without them (``PersonOrOrganizationSchema.update_names``)."""
    md = copy.deepcopy(metadata)
    for field in ("creators", "contributors"):
        for person in md.get(field) or []:
            po = person.get("person_or_org") if isinstance(person, dict) else None
            if not isinstance(po, dict):
                continue
            if po.get("type") == "personal":
                po["name"] = ", ".join(n for n in (po.get("family_name"), po.get("given_name")) if n)
            elif po.get("type") == "organizational":
                po.pop("family_name", None)
                po.pop("given_name", None)
    return md


def check_access(access: Any) -> tuple[list[dict], list[dict]]:
    """``(errors, refusals)``: schema errors of ``access`` (reported, like the metadata's)
    and what InvenioRDM's access component refuses outright (400 on save)."""
    if not isinstance(access, dict):
        return [{"field": "access", "messages": ["Invalid input type."]}], []
    errors: list[dict] = []
    for name in ("record", "files"):
        value = access.get(name)
        if value is None:
            errors.append({"field": f"access.{name}", "messages": [REQUIRED]})
        elif value not in ("public", "restricted"):
            errors.append({"field": f"access.{name}", "messages": [f"'{name}' must be either 'public' or 'restricted'"]})
    embargo = access.get("embargo") or {}
    if not isinstance(embargo, dict):
        errors.append({"field": "access.embargo", "messages": ["Invalid input type."]})
    else:
        until = embargo.get("until")
        try:
            until_day = date.fromisoformat(str(until)[:10]) if until else None
        except ValueError:
            errors.append({"field": "access.embargo.until", "messages": ["Not a valid date."]})
            until_day = None
        today = datetime.now(timezone.utc).date()
        if embargo.get("active"):
            if until_day is None or until_day < today:
                errors.append({"field": "access.embargo.until", "messages": ["Embargo end date must be set to a future date."]})
        elif embargo.get("active") is not None and until_day is not None and until_day > today:
            errors.append({"field": "access.embargo.until", "messages": ["Embargo end date must be unset or in the past."]})
    refusals = []
    # zenodo.org: RDM_ALLOW_RESTRICTED_RECORDS = False, so nobody may make a record restricted
    if access.get("record") == "restricted":
        refusals.append({"field": "access", "messages": ["You don't have permissions to manage record access."]})
    return errors, refusals


def default_access() -> dict:
    return {"record": "public", "files": "public", "embargo": {"active": False, "reason": None}, "status": "open"}


def access_status(access: dict) -> str:
    embargo = access.get("embargo") or {}
    if embargo.get("active"):
        return "embargoed"
    if access.get("files") == "restricted":
        return "restricted"
    return "open"


# ---------------------------------------------------------------------------------------
# RDM <-> legacy metadata
# ---------------------------------------------------------------------------------------


def to_legacy(metadata: dict, access: dict, communities: list[str] | None = None) -> dict:
    """The legacy metadata (as ``/api/records/:id`` serves it) of a published RDM record."""
    md: dict[str, Any] = {
        "title": metadata.get("title", ""),
        "publication_date": metadata.get("publication_date", ""),
        "description": metadata.get("description", ""),
    }
    creators = []
    for person in metadata.get("creators", []):
        po = person.get("person_or_org", {})
        name = po.get("name") or ", ".join(n for n in (po.get("family_name"), po.get("given_name")) if n)
        entry: dict[str, Any] = {"name": name}
        affiliations = person.get("affiliations") or []
        if affiliations and affiliations[0].get("name"):
            entry["affiliation"] = affiliations[0]["name"]
        for ident in po.get("identifiers") or []:
            if ident.get("scheme") == "orcid":
                entry["orcid"] = ident.get("identifier")
        creators.append(entry)
    md["creators"] = creators
    type_id = (metadata.get("resource_type") or {}).get("id", "other")
    kind, _, subtype = type_id.partition("-")
    md["resource_type"] = {"type": kind, **({"subtype": subtype} if subtype else {})}
    rights = metadata.get("rights") or []
    if rights and rights[0].get("id"):
        md["license"] = {"id": str(rights[0]["id"]).lower()}
    keywords = [s.get("subject") for s in metadata.get("subjects") or [] if s.get("subject")]
    if keywords:
        md["keywords"] = keywords
    if metadata.get("version"):
        md["version"] = metadata["version"]
    md["communities"] = [{"id": c} for c in communities or []]
    md["access_right"] = access_status(access)
    if md["access_right"] == "embargoed":
        md["embargo_date"] = (access.get("embargo") or {}).get("until")
    return md


def from_legacy(md: dict) -> tuple[dict, dict]:
    """``(metadata, access)`` in RDM form from a legacy record's metadata."""
    creators = []
    for c in md.get("creators", []):
        family, _, given = c.get("name", "").partition(", ")
        po: dict[str, Any] = {"type": "personal", "name": c.get("name", ""), "family_name": family, "given_name": given}
        if c.get("orcid"):
            po["identifiers"] = [{"scheme": "orcid", "identifier": c["orcid"]}]
        entry: dict[str, Any] = {"person_or_org": po}
        if c.get("affiliation"):
            entry["affiliations"] = [{"name": c["affiliation"]}]
        creators.append(entry)
    rtype = md.get("resource_type") or {}
    metadata: dict[str, Any] = {
        "resource_type": {"id": rtype.get("type", "other") + (f"-{rtype['subtype']}" if rtype.get("subtype") else "")},
        "creators": creators,
        "title": md.get("title", ""),
        "publication_date": md.get("publication_date", ""),
    }
    if md.get("description"):
        metadata["description"] = md["description"]
    if md.get("version"):
        metadata["version"] = md["version"]
    license_id = (md.get("license") or {}).get("id") if isinstance(md.get("license"), dict) else md.get("license")
    if license_id:
        metadata["rights"] = [{"id": LICENSE_ALIASES.get(str(license_id).lower(), str(license_id).lower())}]
    if md.get("keywords"):
        metadata["subjects"] = [{"subject": k} for k in md["keywords"]]
    access = default_access()
    if md.get("access_right") == "embargoed":
        access.update(embargo={"active": True, "until": md.get("embargo_date"), "reason": None}, files="restricted",
                      status="embargoed")
    return metadata, access


def new_version_metadata(metadata: dict) -> dict:
    """A new version's metadata: the previous one's without ``version``, and with today's
    ``publication_date`` (invenio-rdm-records' MetadataComponent.new_version)."""
    md = copy.deepcopy(metadata)
    md.pop("version", None)
    md["publication_date"] = datetime.now(timezone.utc).date().isoformat()
    return md
