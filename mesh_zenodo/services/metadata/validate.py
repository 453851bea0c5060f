"""Checking and completing metadata in the legacy deposit vocabulary.

:func:`validate` reports every problem as its own :class:`~.fields.FieldError`, its
``field`` a form path such as ``creators[1].orcid``; :func:`normalized` completes the
metadata as Zenodo would (its defaults, trimmed text, bare ORCIDs and DOIs, canonical
spellings) and raises :class:`~.fields.MetadataInvalid` if it is still not valid.
``_prepared`` is the completion without the check, for the conversions in :mod:`.rdm`.

Sources: developers.zenodo.org; invenio-rdm-records (``services/schemas/metadata.py``,
``access.py``); zenodo-rdm (``legacy/deserializers/schemas.py``).
"""

from __future__ import annotations

import copy
import re
from datetime import date, datetime
from typing import Any

from ...zenodo.vocabulary import (
    ACCESS_RIGHTS,
    DEFAULT_ACCESS_RIGHT,
    IMAGE_TYPES,
    PUBLICATION_TYPES,
    UPLOAD_TYPES,
    default_license,
)
from .fields import (
    _CONTRIBUTOR_TYPE_BY_LOWER,
    _GND,
    _GND_PREFIXED,
    _LANGUAGES_639_1,
    _ORCID,
    _RELATION_BY_LOWER,
    _SCHEME_ALIASES,
    _SCHEME_TITLES,
    _SLUG,
    CONTRIBUTOR_TYPES,
    IDENTIFIER_SCHEMES,
    RELATIONS,
    FieldError,
    MetadataInvalid,
    _bare_doi,
    _bare_orcid,
    _fits_scheme,
    _is_doi,
    _known_licenses,
    _parse_day,
    _valid_resource_type,
    detect_scheme,
    orcid_checksum_ok,
)

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
