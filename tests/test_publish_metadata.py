"""The metadata of a publication (mesh_zenodo.services.metadata): validation with form
paths, defaults, prefill from .zenodo.json / CITATION.cff / codemeta.json, the
InvenioRDM and deposit bodies, the server's errors back on the form, the DOI written
back. Pure functions: no server."""

from __future__ import annotations

import json
from datetime import date

import pytest
import yaml

from mesh_zenodo.services.errors import ServiceError
from mesh_zenodo.services.metadata import (
    FieldError,
    MetadataInvalid,
    detect_scheme,
    form_errors,
    from_citation_cff,
    from_codemeta,
    normalized,
    orcid_checksum_ok,
    prefill,
    rdm_access_settings,
    rdm_communities,
    to_legacy,
    to_rdm,
    validate,
    with_doi_in_citation_cff,
    with_doi_in_readme,
)

TODAY = date(2025, 6, 1)


def good(**changes) -> dict:
    meta = {
        "title": "Ocean temperatures 2024",
        "upload_type": "dataset",
        "description": "Hourly readings.",
        "creators": [{"name": "Doe, Jane", "affiliation": "CERN", "orcid": "0000-0002-1825-0097"}],
    }
    meta.update(changes)
    return {k: v for k, v in meta.items() if v is not None}


def errors_of(meta: dict, **kwargs) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for error in validate(meta, today=TODAY, **kwargs):
        out.setdefault(error.field, []).append(error.message)
    return out


# ---------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------


def test_valid_metadata_has_no_errors():
    assert validate(good(), today=TODAY) == []


def test_title_is_required_and_at_least_three_characters():
    assert errors_of(good(title=None)) == {"title": ["A title is required."]}
    assert errors_of(good(title="   ")) == {"title": ["A title is required."]}
    assert errors_of(good(title="ab")) == {"title": ["The title must be at least 3 characters long."]}


def test_upload_type_is_required_and_from_the_vocabulary():
    assert errors_of(good(upload_type=None))["upload_type"][0].startswith("Choose a type: publication, poster,")
    message = errors_of(good(upload_type="thesis"))["upload_type"][0]
    assert message.startswith("'thesis' is not a type Zenodo knows; choose one of publication, poster")


def test_publication_needs_a_publication_type():
    errs = errors_of(good(upload_type="publication"))
    assert list(errs) == ["publication_type"]
    assert errs["publication_type"][0].startswith("A publication needs a publication type (annotationcollection, book,")
    errs = errors_of(good(upload_type="publication", publication_type="novel"))
    assert errs["publication_type"][0].startswith("'novel' is not a publication type; choose one of")
    assert errors_of(good(upload_type="publication", publication_type="article")) == {}


def test_image_needs_an_image_type():
    assert errors_of(good(upload_type="image")) == {
        "image_type": ["An image needs an image type (figure, plot, drawing, diagram, photo, other)."]
    }
    assert "image_type" in errors_of(good(upload_type="image", image_type="selfie"))
    assert errors_of(good(upload_type="image", image_type="photo")) == {}


def test_creators_at_least_one():
    assert errors_of(good(creators=None)) == {"creators": ["At least one creator is required."]}
    assert errors_of(good(creators=[])) == {"creators": ["At least one creator is required."]}


def test_creator_names_family_given_or_an_organisation():
    assert errors_of(good(creators=[{"name": "CERN"}, {"name": "European Southern Observatory"}])) == {}
    errs = errors_of(good(creators=[{"name": "Doe, Jane"}, {"name": "Doe,"}, {"name": ", Jane"}, {}]))
    assert errs == {
        "creators[1].name": ["Write the given name after the comma ('Family, Given'), or leave out the comma "
                             "if this is an organisation."],
        "creators[2].name": ["Write the family name before the comma: 'Family, Given'."],
        "creators[3].name": ["A name is required: 'Family, Given' for a person, or an organisation's name "
                             "(without a comma)."],
    }


def test_a_person_with_an_orcid_is_written_family_given():
    errs = errors_of(good(creators=[{"name": "Jane Doe", "orcid": "0000-0002-1825-0097"}]))
    assert errs == {"creators[0].name": ["Write a person's name as 'Family, Given' (a name without a comma is "
                                         "taken for an organisation, which has no ORCID)."]}
    # a person known by one name may have an ORCID
    assert errors_of(good(creators=[{"name": "Plato", "orcid": "0000-0002-1825-0097"}])) == {}


def test_orcid_checksum():
    assert orcid_checksum_ok("0000-0002-1825-0097")
    assert not orcid_checksum_ok("0000-0002-1825-0096")
    assert orcid_checksum_ok("0000-0002-1694-233X")  # a check digit of 10 is written X
    assert orcid_checksum_ok("0000-0001-5109-3700")
    assert not orcid_checksum_ok("0000-0001-5109-370")


@pytest.mark.parametrize("orcid", [
    "0000-0002-1825-0097", "https://orcid.org/0000-0002-1825-0097", "http://orcid.org/0000-0002-1825-0097",
    "orcid.org/0000-0002-1825-0097", "0000000218250097",
])
def test_orcid_forms_accepted(orcid):
    assert errors_of(good(creators=[{"name": "Carberry, Josiah", "orcid": orcid}])) == {}


def test_orcid_errors_name_the_creator_and_the_problem():
    errs = errors_of(good(creators=[
        {"name": "Doe, Jane"},
        {"name": "Carberry, Josiah", "orcid": "0000-0002-1825-0096"},
        {"name": "Roe, Richard", "orcid": "0000-0002-1825"},
    ]))
    assert errs == {
        "creators[1].orcid": ["'0000-0002-1825-0096' is not a valid ORCID iD: its last character (the check digit) "
                              "does not match; check for a typo."],
        "creators[2].orcid": ["'0000-0002-1825' is not an ORCID iD; it looks like 0000-0002-1825-0097 "
                              "(or https://orcid.org/0000-0002-1825-0097)."],
    }


def test_gnd_format():
    assert errors_of(good(creators=[{"name": "Goethe, Johann Wolfgang", "gnd": "118540238"}])) == {}
    assert errors_of(good(creators=[{"name": "Goethe, J.", "gnd": "gnd:4079154-3"}])) == {}
    assert list(errors_of(good(creators=[{"name": "Goethe, J.", "gnd": "abc"}]))) == ["creators[0].gnd"]


def test_contributors_need_a_known_role():
    errs = errors_of(good(contributors=[
        {"name": "Roe, Richard", "type": "Editor"},
        {"name": "Poe, Edgar"},
        {"name": "Moe, Mo", "type": "Boss"},
        {"name": "Lab", "type": "hostinginstitution"},  # case does not matter
    ]))
    assert list(errs) == ["contributors[1].type", "contributors[2].type"]
    assert errs["contributors[1].type"][0].startswith("A contributor needs a role (ContactPerson, DataCollector,")
    assert errs["contributors[2].type"][0].startswith("'Boss' is not a contributor role; choose one of ContactPerson")


def test_open_and_embargoed_need_a_known_license():
    assert errors_of(good(license="cc-by-4.0")) == {}
    assert errors_of(good(license="CC-BY-4.0")) == {}  # ids are case-insensitive
    assert errors_of(good(license="cc-zero")) == {}  # the deposit API's alias of cc0-1.0
    assert errors_of(good(license="wtfpl")) == {
        "license": ["'wtfpl' is not a license Zenodo knows; give its id, such as cc-by-4.0, cc0-1.0 or mit."]
    }
    # the server's list, when given, is the one that counts
    assert errors_of(good(license="wtfpl"), licenses={"wtfpl", "cc-by-4.0"}) == {}
    assert "license" in errors_of(good(license="mit"), licenses={"cc-by-4.0"})
    # none given: Zenodo's default applies (normalized fills it in)
    assert errors_of(good(access_right="open")) == {}


def test_access_right_vocabulary():
    assert errors_of(good(access_right="public")) == {
        "access_right": ["'public' is not an access right; choose one of open, embargoed, restricted, closed."]
    }
    assert errors_of(good(access_right="closed")) == {}


def test_embargo_needs_a_future_date():
    assert errors_of(good(access_right="embargoed")) == {
        "embargo_date": ["An embargoed upload needs the date its embargo ends (YYYY-MM-DD)."]
    }
    assert errors_of(good(access_right="embargoed", embargo_date="2025-06-01")) == {
        "embargo_date": ["The embargo must end in the future (after today)."]
    }
    assert errors_of(good(access_right="embargoed", embargo_date="1 July 2026")) == {
        "embargo_date": ["'1 July 2026' is not a date; write it as YYYY-MM-DD."]
    }
    assert errors_of(good(access_right="embargoed", embargo_date="2025-02-30")) == {
        "embargo_date": ["'2025-02-30' is not a date; write it as YYYY-MM-DD."]
    }
    assert errors_of(good(access_right="embargoed", embargo_date="2025-06-02")) == {}


def test_restricted_needs_access_conditions():
    assert errors_of(good(access_right="restricted")) == {
        "access_conditions": ["Restricted access needs the conditions under which you grant access to the files."]
    }
    assert errors_of(good(access_right="restricted", access_conditions="Academic use only.")) == {}


def test_publication_date_must_be_a_date():
    assert errors_of(good(publication_date="2024-13-01")) == {
        "publication_date": ["'2024-13-01' is not a date; write it as YYYY-MM-DD."]
    }
    assert errors_of(good(publication_date="2024-12-01")) == {}


def test_keywords_are_strings():
    assert errors_of(good(keywords=["ocean", 3, " "])) == {
        "keywords[1]": ["A keyword must be text, not a number."],
        "keywords[2]": ["A keyword cannot be empty."],
    }
    assert errors_of(good(keywords="ocean, sea")) == {"keywords": ["Must be a list of keywords, not text."]}


def test_communities_are_slugs():
    errs = errors_of(good(communities=[{"identifier": "escape2020"}, {"identifier": "My Community"}, "zenodo", {}]))
    assert errs == {
        "communities[1].identifier": ["'My Community' is not a community identifier: use the short name in the "
                                      "community's address (letters, digits, '-' and '_')."],
        "communities[2]": ['A community is given as {"identifier": "<its short name>"}.'],
        "communities[3].identifier": ["Give the community's identifier (the short name in its address, "
                                      "zenodo.org/communities/<identifier>)."],
    }


def test_related_identifiers():
    errs = errors_of(good(related_identifiers=[
        {"identifier": "10.1234/abc", "relation": "isSupplementTo"},
        {"identifier": "https://github.com/x/y", "relation": "issupplementto", "resource_type": "software"},
        {"identifier": "arXiv:2101.00001", "relation": "cites", "resource_type": "publication-preprint"},
        {"identifier": "hdl:20.500.12345/1", "relation": "isCitedBy", "scheme": "handle"},
        {"identifier": "10.1234/abc", "relation": "likes"},
        {"identifier": "foo", "relation": "cites"},
        {"relation": "cites"},
        {"identifier": "not a doi", "relation": "cites", "scheme": "doi"},
        {"identifier": "x", "relation": "cites", "scheme": "isbnx"},
        {"identifier": "10.1234/abc", "relation": "cites", "resource_type": "publication-novel"},
    ]))
    assert sorted(errs) == [
        "related_identifiers[4].relation", "related_identifiers[5].identifier", "related_identifiers[6].identifier",
        "related_identifiers[7].identifier", "related_identifiers[8].scheme", "related_identifiers[9].resource_type",
    ]
    assert errs["related_identifiers[4].relation"][0].startswith("'likes' is not a relation Zenodo knows; choose one "
                                                                 "of isCitedBy, cites, isSupplementTo,")
    assert "isNewVersionOf" in errs["related_identifiers[4].relation"][0]
    assert errs["related_identifiers[5].identifier"] == [
        "Cannot tell what kind of identifier 'foo' is: give a DOI (10.1234/abc), a URL (https://...), an arXiv id, "
        "a handle, ... or set its scheme."]
    assert errs["related_identifiers[6].identifier"] == [
        "The identifier is required (a DOI, URL, arXiv id, handle, ...)."]
    assert errs["related_identifiers[7].identifier"] == ["'not a doi' is not a valid DOI identifier."]


@pytest.mark.parametrize("identifier,scheme", [
    ("10.5281/zenodo.123", "doi"), ("https://doi.org/10.5281/zenodo.123", "doi"), ("doi:10.1000/xyz", "doi"),
    ("https://example.org/x", "url"), ("arXiv:2101.00001v2", "arxiv"), ("hep-th/9901001", "arxiv"),
    ("hdl:20.500.12345/abc", "handle"), ("urn:nbn:de:101:1-2013", "urn"), ("ark:/13030/tf5p30086k", "ark"),
    ("978-3-16-148410-0", "isbn"), ("0317-8471", "issn"), ("pmid:12345678", "pmid"),
    ("https://w3id.org/example", "w3id"), ("https://purl.org/dc/terms/", "purl"), ("hello", None),
])
def test_scheme_detection(identifier, scheme):
    assert detect_scheme(identifier) == scheme


def test_doi_version_grants_language():
    assert errors_of(good(doi="10.1234/my.data")) == {}
    assert errors_of(good(doi="https://doi.org/10.1234/my.data")) == {}
    assert errors_of(good(doi="zenodo.123")) == {
        "doi": ["'zenodo.123' is not a DOI; a DOI looks like 10.1234/abc (leave it empty and Zenodo registers one)."]
    }
    assert errors_of(good(version=1.0)) == {"version": ["Must be text, not a number."]}
    assert errors_of(good(grants=[{"id": "10.13039/501100000780::824064"}, {"id": "824064"}])) == {}
    assert errors_of(good(grants=[{"id": "::824064"}, "824064", {"id": 824064}])) == {
        "grants[0].id": ["'::824064' is not a grant id: write <funder DOI>::<award number>."],
        "grants[1]": ['A grant is given as {"id": "<funder DOI>::<award number>"}.'],
        "grants[2].id": ["Must be text, not a number."],
    }
    assert errors_of(good(language="eng")) == {}
    assert errors_of(good(language="en")) == {}
    assert list(errors_of(good(language="english"))) == ["language"]


def test_malformed_types_are_field_errors_never_exceptions():
    weird = {
        "title": ["x"], "upload_type": 3, "creators": [["Doe"], {"name": {"family": "Doe"}}, "Doe, Jane"],
        "contributors": "nobody", "access_right": None, "license": {"id": "mit"}, "keywords": {"a": 1},
        "communities": "escape2020", "related_identifiers": [None, 5], "version": [1], "grants": {"id": "1"},
        "doi": 10.1234, "publication_date": date(2024, 1, 1), "language": 3, "notes": ["n"], "references": [1],
        "subjects": [{"term": 1}], "description": {"html": "x"},
    }
    errs = errors_of(weird)
    assert errs["title"] == ["Must be text, not a list."]
    assert errs["upload_type"] == ["Must be text, not a number."]
    assert errs["creators[0]"] == ['A person is given as {"name": "Family, Given", "affiliation", "orcid"}.']
    assert errs["creators[1].name"] == ["Must be text, not an object."]
    assert "creators[2]" in errs
    assert errs["contributors"] == ["Must be a list of contributors, not text."]
    assert errs["license"] == ["Must be text, not an object."]
    assert errs["keywords"] == ["Must be a list of keywords, not an object."]
    assert "communities" in errs and "grants" in errs
    assert "related_identifiers[0]" in errs and "related_identifiers[1]" in errs
    assert errs["doi"] == ["Must be text, not a number."]
    assert errs["publication_date"] == ["Must be text, not a date."]
    assert "subjects[0].term" in errs and "subjects[0].identifier" in errs
    assert validate("not a dict", today=TODAY) == [
        FieldError("", "The metadata must be an object of fields, not text.")]
    assert all(isinstance(e, FieldError) for e in validate(weird, today=TODAY))
    with pytest.raises(MetadataInvalid):
        normalized(weird, today=TODAY)


# ---------------------------------------------------------------------------------------
# normalized, MetadataInvalid
# ---------------------------------------------------------------------------------------


def test_normalized_fills_zenodo_defaults():
    out = normalized(good(), today=TODAY)
    assert out["publication_date"] == "2025-06-01"
    assert out["access_right"] == "open"
    assert out["license"] == "cc0-1.0"  # a dataset
    out = normalized(good(upload_type="software"), today=TODAY)
    assert out["license"] == "cc-by-4.0"
    out = normalized(good(access_right="closed"), today=TODAY)
    assert "license" not in out
    out = normalized(good(access_right="embargoed", embargo_date="2026-01-01"), today=TODAY)
    assert out["license"] == "cc0-1.0" and out["embargo_date"] == "2026-01-01"


def test_normalized_trims_and_canonicalises():
    out = normalized(good(
        title="  Ocean temperatures  ",
        creators=[{"name": " Doe ,  Jane ", "orcid": "https://orcid.org/0000-0002-1825-0097", "affiliation": " "},
                  {"name": "Roe, Richard", "orcid": " 0000-0002-1694-233x "}],
        contributors=[{"name": "Lab", "type": "hostinginstitution"}],
        license="CC-BY-4.0", doi="https://doi.org/10.1234/ABC", language="de", keywords=["sea", "sea ", "ocean"],
        related_identifiers=[{"identifier": "https://doi.org/10.1/xyz.1", "relation": "ISSUPPLEMENTTO"}],
        embargo_date="2030-01-01", notes="", version=" 1.2 ",
    ), today=TODAY)
    assert out["title"] == "Ocean temperatures"
    assert out["creators"] == [{"name": "Doe, Jane", "orcid": "0000-0002-1825-0097"},
                               {"name": "Roe, Richard", "orcid": "0000-0002-1694-233X"}]
    assert out["contributors"] == [{"name": "Lab", "type": "HostingInstitution"}]
    assert out["license"] == "cc-by-4.0"
    assert out["doi"] == "10.1234/ABC"
    assert out["language"] == "deu"
    assert out["keywords"] == ["sea", "ocean"]
    assert out["related_identifiers"] == [{"identifier": "https://doi.org/10.1/xyz.1", "relation": "isSupplementTo",
                                           "scheme": "url"}]
    assert "embargo_date" not in out  # open access has no embargo
    assert "notes" not in out
    assert out["version"] == "1.2"


def test_normalized_keeps_a_bare_orcid_bare():
    out = normalized(good(), today=TODAY)
    assert out["creators"][0]["orcid"] == "0000-0002-1825-0097"


def test_normalized_raises_with_every_problem():
    with pytest.raises(MetadataInvalid) as caught:
        normalized(good(title=None, creators=[{"name": "Doe, Jane", "orcid": "0000-0002-1825-0096"}],
                        access_right="embargoed"), today=TODAY)
    err = caught.value
    assert isinstance(err, ServiceError) and err.http_status == 400
    assert [e.field for e in err.errors] == ["title", "creators[0].orcid", "embargo_date"]
    assert str(err) == "The metadata is not valid. Title: A title is required. (and 2 more problems)"
    assert err.details() == {"errors": [
        {"field": "title", "messages": ["A title is required."]},
        {"field": "creators[0].orcid", "messages": ["'0000-0002-1825-0096' is not a valid ORCID iD: its last "
                                                    "character (the check digit) does not match; check for a typo."]},
        {"field": "embargo_date", "messages": ["An embargoed upload needs the date its embargo ends (YYYY-MM-DD)."]},
    ]}


def test_details_groups_messages_of_one_field():
    err = MetadataInvalid([FieldError("title", "a"), FieldError("doi", "b"), FieldError("title", "c")])
    assert err.details() == {"errors": [{"field": "title", "messages": ["a", "c"]},
                                        {"field": "doi", "messages": ["b"]}]}
    assert str(MetadataInvalid([FieldError("", "Broken.")])) == "The metadata is not valid. Broken."


# ---------------------------------------------------------------------------------------
# prefill
# ---------------------------------------------------------------------------------------

CFF = """\
cff-version: 1.2.0
message: If you use this software, please cite it using these metadata.
title: My Research Software
abstract: It does many things.
type: software
authors:
  - family-names: Druskat
    given-names: Stephan
    orcid: "https://orcid.org/0000-0003-4925-7248"
    affiliation: DLR
  - family-names: Rossum
    name-particle: van
    given-names: Guido
  - name: The Research Software Project
keywords:
  - research software
  - citation
version: 0.11
date-released: 2021-07-18
doi: 10.1234/my-software
license: Apache-2.0
repository-code: "https://github.com/citation-file-format/my-research-software"
"""

CODEMETA = {
    "@context": "https://w3id.org/codemeta/3.0",
    "@type": "SoftwareSourceCode",
    "name": "eossr-like",
    "description": "A library.",
    "version": "v2.3.1",
    "keywords": ["zenodo", "metadata"],
    "license": "https://spdx.org/licenses/MIT",
    "datePublished": "2024-03-01",
    "codeRepository": "https://gitlab.com/escape-ossr/eossr",
    "readme": "https://gitlab.com/escape-ossr/eossr/-/blob/master/README.md",
    "releaseNotes": "Fixes.",
    "author": [
        {"@type": "Person", "@id": "https://orcid.org/0000-0002-1825-0097", "givenName": "Josiah",
         "familyName": "Carberry", "affiliation": {"@type": "Organization", "name": "Brown University"}},
        {"@type": "Person", "givenName": "Jane", "familyName": "Doe",
         "affiliation": [{"@type": "Organization", "name": "CNRS"}, {"@type": "Organization", "name": "LAPP"}]},
        {"@type": "Organization", "name": "ESCAPE"},
    ],
    "contributor": [{"@type": "Person", "givenName": "Richard", "familyName": "Roe"}],
    "maintainer": {"@type": "Person", "givenName": "Jane", "familyName": "Doe"},
}


def test_prefill_from_zenodo_json():
    text = json.dumps({"title": "From zenodo.json", "upload_type": "software", "license": {"id": "MIT"},
                       "creators": [{"name": "Doe, Jane"}], "unknown_key": 1})
    meta, source = prefill({".zenodo.json": text})
    assert source == ".zenodo.json"
    assert meta == {"title": "From zenodo.json", "upload_type": "software", "license": "MIT",
                    "creators": [{"name": "Doe, Jane"}]}
    # a deposit-shaped file ({"metadata": {...}}) works too
    meta, _ = prefill({".zenodo.json": json.dumps({"metadata": {"title": "Wrapped"}})})
    assert meta == {"title": "Wrapped"}


def test_prefill_from_citation_cff():
    meta, source = prefill({"CITATION.cff": CFF})
    assert source == "CITATION.cff"
    assert meta == {
        "upload_type": "software",
        "title": "My Research Software",
        "description": "It does many things.",
        "creators": [
            {"name": "Druskat, Stephan", "affiliation": "DLR", "orcid": "0000-0003-4925-7248"},
            {"name": "van Rossum, Guido"},
            {"name": "The Research Software Project"},
        ],
        "keywords": ["research software", "citation"],
        "license": "apache-2.0",
        "version": "0.11",
        "publication_date": "2021-07-18",
        "doi": "10.1234/my-software",
        "related_identifiers": [{"identifier": "https://github.com/citation-file-format/my-research-software",
                                 "relation": "isSupplementTo", "resource_type": "software", "scheme": "url"}],
    }
    # and it passes validation as it is
    assert normalized(meta, today=TODAY)["license"] == "apache-2.0"


def test_citation_cff_zenodo_doi_is_not_taken_as_the_records_doi():
    meta = from_citation_cff(CFF.replace("10.1234/my-software", "10.5281/zenodo.1234"))
    assert "doi" not in meta
    meta = from_citation_cff("title: Data\ntype: dataset\nauthors: []\n")
    assert meta == {"upload_type": "dataset", "title": "Data"}


def test_prefill_from_codemeta():
    meta, source = prefill({"codemeta.json": json.dumps(CODEMETA)})
    assert source == "codemeta.json"
    assert meta == {
        "upload_type": "software",
        "title": "eossr-like",
        "description": "A library.",
        "version": "v2.3.1",
        "keywords": ["zenodo", "metadata"],
        "license": "mit",
        "publication_date": "2024-03-01",
        "notes": "Release Notes: Fixes.",
        "creators": [
            {"name": "Carberry, Josiah", "affiliation": "Brown University", "orcid": "0000-0002-1825-0097"},
            {"name": "Doe, Jane", "affiliation": "CNRS; LAPP"},
            {"name": "ESCAPE"},
        ],
        "contributors": [
            {"name": "Roe, Richard", "type": "Other"},
            {"name": "Doe, Jane", "type": "ContactPerson"},
        ],
        "related_identifiers": [
            {"identifier": "https://gitlab.com/escape-ossr/eossr", "relation": "isDerivedFrom",
             "resource_type": "software", "scheme": "url"},
            {"identifier": "https://gitlab.com/escape-ossr/eossr/-/blob/master/README.md",
             "relation": "isDocumentedBy", "resource_type": "publication-softwaredocumentation", "scheme": "url"},
        ],
    }
    assert validate(meta, today=TODAY) == []


def test_codemeta_license_forms_and_keyword_string():
    assert from_codemeta({"license": "Apache-2.0"})["license"] == "apache-2.0"
    assert from_codemeta({"license": ["https://spdx.org/licenses/GPL-3.0-or-later.html"]})["license"] \
        == "gpl-3.0-or-later"
    assert from_codemeta({"license": {"@type": "CreativeWork", "url": "https://spdx.org/licenses/CC-BY-4.0"}})[
        "license"] == "cc-by-4.0"
    assert from_codemeta({"keywords": "a, b ,c"})["keywords"] == ["a", "b", "c"]
    assert from_codemeta({"softwareVersion": 2})["version"] == "2"


def test_prefill_precedence():
    files = {"codemeta.json": json.dumps(CODEMETA), "CITATION.cff": CFF,
             ".zenodo.json": json.dumps({"title": "Zenodo wins"})}
    assert prefill(files) == ({"title": "Zenodo wins"}, ".zenodo.json")
    del files[".zenodo.json"]
    assert prefill(files)[1] == "CITATION.cff"
    del files["CITATION.cff"]
    assert prefill(files)[1] == "codemeta.json"
    assert prefill({}) == ({}, None)


@pytest.mark.parametrize("files,named", [
    ({".zenodo.json": "{not json"}, ".zenodo.json"),
    ({".zenodo.json": "[1, 2]"}, ".zenodo.json"),
    ({"CITATION.cff": "title: [unclosed\n"}, "CITATION.cff"),
    ({"CITATION.cff": "- just\n- a list\n"}, "CITATION.cff"),
    ({"codemeta.json": "{"}, "codemeta.json"),
])
def test_unreadable_files_are_named(files, named):
    with pytest.raises(MetadataInvalid) as caught:
        prefill(files)
    assert str(caught.value).startswith(f"{named} could not be read: ")
    assert caught.value.details()["errors"][0]["field"] == ""
    assert caught.value.details()["errors"][0]["messages"][0].startswith(f"{named} could not be read")


def test_an_unreadable_preferred_file_is_not_skipped_silently():
    with pytest.raises(MetadataInvalid, match=r"^\.zenodo\.json could not be read"):
        prefill({".zenodo.json": "{", "CITATION.cff": CFF})


# ---------------------------------------------------------------------------------------
# to_rdm, to_legacy
# ---------------------------------------------------------------------------------------

FULL = {
    "title": "Ocean temperatures",
    "upload_type": "publication",
    "publication_type": "article",
    "description": "<p>Readings.</p>",
    "publication_date": "2025-05-01",
    "creators": [
        {"name": "Carberry, Josiah", "affiliation": "Brown University", "orcid": "0000-0002-1825-0097"},
        {"name": "CERN"},
        {"name": "Goethe, Johann", "gnd": "118540238"},
    ],
    "contributors": [{"name": "Roe, Richard", "type": "Editor"}],
    "license": "cc-by-4.0",
    "access_right": "open",
    "keywords": ["ocean", "climate"],
    "communities": [{"identifier": "escape2020"}, {"identifier": "zenodo"}],
    "related_identifiers": [
        {"identifier": "10.1234/prev", "relation": "isNewVersionOf", "scheme": "doi"},
        {"identifier": "https://github.com/x/y", "relation": "isSupplementTo", "resource_type": "software"},
        {"identifier": "arXiv:2101.00001", "relation": "isAlternateIdentifier"},
        {"identifier": "10.1234/paper", "relation": "isCitedBy", "resource_type": "publication-article"},
    ],
    "version": "2.0",
    "grants": [{"id": "10.13039/501100000780::824064"}, {"id": "10.13039/100000001::1234567"}, {"id": "777"}],
    "language": "eng",
    "notes": "Calibrated.",
    "references": ["Doe J (2020) Seas. J Oceans 1:1"],
}


def test_to_rdm_shape():
    body = to_rdm(FULL)
    assert set(body) == {"metadata", "access", "files"}
    assert body["files"] == {"enabled": True}
    assert body["access"] == {"record": "public", "files": "public"}
    md = body["metadata"]
    assert md["resource_type"] == {"id": "publication-article"}
    assert md["title"] == "Ocean temperatures"
    assert md["description"] == "<p>Readings.</p>"
    assert md["publication_date"] == "2025-05-01"
    assert md["publisher"] == "Zenodo"
    assert md["version"] == "2.0"
    assert md["creators"] == [
        {"person_or_org": {"type": "personal", "family_name": "Carberry", "given_name": "Josiah",
                           "identifiers": [{"scheme": "orcid", "identifier": "0000-0002-1825-0097"}]},
         "affiliations": [{"name": "Brown University"}]},
        {"person_or_org": {"type": "organizational", "name": "CERN"}},
        {"person_or_org": {"type": "personal", "family_name": "Goethe", "given_name": "Johann",
                           "identifiers": [{"scheme": "gnd", "identifier": "118540238"}]}},
    ]
    assert md["contributors"] == [
        {"person_or_org": {"type": "personal", "family_name": "Roe", "given_name": "Richard"},
         "role": {"id": "editor"}},
    ]
    assert md["rights"] == [{"id": "cc-by-4.0"}]
    assert md["subjects"] == [{"subject": "ocean"}, {"subject": "climate"}]
    assert md["languages"] == [{"id": "eng"}]
    assert md["related_identifiers"] == [
        {"identifier": "10.1234/prev", "scheme": "doi", "relation_type": {"id": "isnewversionof"}},
        {"identifier": "https://github.com/x/y", "scheme": "url", "relation_type": {"id": "issupplementto"},
         "resource_type": {"id": "software"}},
        {"identifier": "10.1234/paper", "scheme": "doi", "relation_type": {"id": "iscitedby"},
         "resource_type": {"id": "publication-article"}},
    ]
    assert md["identifiers"] == [{"identifier": "arXiv:2101.00001", "scheme": "arxiv"}]
    assert md["funding"] == [
        {"funder": {"id": "00k4n6c32"}, "award": {"id": "00k4n6c32::824064"}},
        {"funder": {"id": "021nxhr62"}, "award": {"id": "021nxhr62::1234567"}},
        {"funder": {"id": "00k4n6c32"}, "award": {"id": "00k4n6c32::777"}},  # a bare id: an EC grant
    ]
    assert md["additional_descriptions"] == [{"description": "Calibrated.", "type": {"id": "other"}}]
    assert md["references"] == [{"reference": "Doe J (2020) Seas. J Oceans 1:1"}]
    # communities are not part of a draft: they are asked for separately
    assert "communities" not in md
    assert rdm_communities(FULL) == ["escape2020", "zenodo"]


def test_to_rdm_fields_are_invenio_rdm_schema_fields():
    # the names InvenioRDM's MetadataSchema declares (invenio_rdm_records/services/schemas/metadata.py)
    rdm_fields = {"resource_type", "creators", "title", "additional_titles", "publisher", "publication_date",
                  "subjects", "contributors", "dates", "languages", "identifiers", "related_identifiers", "sizes",
                  "formats", "version", "rights", "copyright", "description", "additional_descriptions",
                  "locations", "funding", "references"}
    assert set(to_rdm(FULL)["metadata"]) <= rdm_fields


def test_to_rdm_embargo_restricted_closed_doi():
    body = to_rdm(good(access_right="embargoed", embargo_date="2030-01-01"))
    assert body["access"] == {"record": "public", "files": "restricted",
                              "embargo": {"active": True, "until": "2030-01-01"}}
    assert body["metadata"]["rights"] == [{"id": "cc0-1.0"}]  # the dataset default
    restricted = good(access_right="restricted", access_conditions="Academic use only.")
    body = to_rdm(restricted)
    assert body["access"] == {"record": "public", "files": "restricted"}
    assert "rights" not in body["metadata"]
    assert rdm_access_settings(restricted) == {"allow_user_requests": True, "allow_guest_requests": False,
                                               "accept_conditions_text": "Academic use only."}
    assert rdm_access_settings(good()) is None
    assert to_rdm(good(access_right="closed"))["access"] == {"record": "public", "files": "restricted"}
    assert to_rdm(good(doi="https://doi.org/10.1234/own"))["pids"] == {
        "doi": {"identifier": "10.1234/own", "provider": "external"}}
    assert to_rdm(good(doi="10.5281/zenodo.42"))["pids"] == {
        "doi": {"identifier": "10.5281/zenodo.42", "provider": "datacite"}}
    assert "pids" not in to_rdm(good())


def test_to_rdm_license_aliases_become_rdm_ids():
    assert to_rdm(good(license="cc-zero"))["metadata"]["rights"] == [{"id": "cc0-1.0"}]
    assert to_rdm(good(license="CC-BY"))["metadata"]["rights"] == [{"id": "cc-by-4.0"}]


def test_to_legacy():
    body = to_legacy({**FULL, "unknown": 1, "keywords": ["ocean"]})
    assert set(body) == {"metadata"}
    md = body["metadata"]
    assert "unknown" not in md
    assert md["upload_type"] == "publication" and md["publication_type"] == "article"
    assert md["creators"][0] == {"name": "Carberry, Josiah", "affiliation": "Brown University",
                                 "orcid": "0000-0002-1825-0097"}
    assert md["communities"] == [{"identifier": "escape2020"}, {"identifier": "zenodo"}]
    assert md["grants"] == [{"id": "10.13039/501100000780::824064"}, {"id": "10.13039/100000001::1234567"},
                            {"id": "10.13039/501100000780::777"}]
    assert md["license"] == "cc-by-4.0"
    assert md["related_identifiers"][1] == {"identifier": "https://github.com/x/y", "relation": "isSupplementTo",
                                            "resource_type": "software", "scheme": "url"}
    assert to_legacy(good())["metadata"]["access_right"] == "open"


# ---------------------------------------------------------------------------------------
# form_errors
# ---------------------------------------------------------------------------------------


def test_form_errors_server_form_messages_list():
    errors = [
        {"field": "metadata.title", "messages": ["Missing data for required field."]},
        {"field": "metadata.creators.0.person_or_org.family_name", "messages": ["Family name must be filled."]},
        {"field": "metadata.creators.1.person_or_org.identifiers.0.identifier", "messages": ["Invalid ORCID."]},
        {"field": "metadata.creators.2.affiliations.0.name", "messages": ["Bad."]},
        {"field": "metadata.contributors.0.role", "messages": ["Missing."]},
        {"field": "metadata.rights", "messages": ["Invalid license.", "Another."]},
        {"field": "metadata.rights.0.id", "messages": ["Unknown."]},
        {"field": "access.embargo.until", "messages": ["Embargo end date must be set to a future date."]},
        {"field": "access.files", "messages": ["'files' must be either 'public' or 'restricted'"]},
        {"field": "metadata.resource_type", "messages": ["Invalid."]},
        {"field": "metadata.related_identifiers.1.relation_type", "messages": ["Invalid relation type."]},
        {"field": "metadata.funding.2.award", "messages": ["Unknown award."]},
        {"field": "metadata.subjects.1.subject", "messages": ["Too long."]},
        {"field": "metadata.languages.0.id", "messages": ["Unknown language."]},
        {"field": "metadata.additional_descriptions.0.description", "messages": ["Too short."]},
        {"field": "pids.doi", "messages": ["DOI already exists."]},
        {"field": "parent.access.settings.accept_conditions_text", "messages": ["Empty."]},
        {"field": "custom_fields.journal:journal", "messages": ["?"]},
        {"field": "files.enabled", "messages": ["Please remove all files first."]},
        {"field": None, "messages": ["Something broke."]},
    ]
    assert [(e.field, e.message) for e in form_errors(errors)] == [
        ("title", "Missing data for required field."),
        ("creators[0].name", "Family name must be filled."),
        ("creators[1].orcid", "Invalid ORCID."),
        ("creators[2].affiliation", "Bad."),
        ("contributors[0].type", "Missing."),
        ("license", "Invalid license."), ("license", "Another."),
        ("license", "Unknown."),
        ("embargo_date", "Embargo end date must be set to a future date."),
        ("access_right", "'files' must be either 'public' or 'restricted'"),
        ("upload_type", "Invalid."),
        ("related_identifiers[1].relation", "Invalid relation type."),
        ("grants[2].id", "Unknown award."),
        ("keywords[1]", "Too long."),
        ("language", "Unknown language."),
        ("notes", "Too short."),
        ("doi", "DOI already exists."),
        ("access_conditions", "Empty."),
        ("", "?"),
        ("", "Please remove all files first."),
        ("", "Something broke."),
    ]


def test_form_errors_documented_form_single_message_and_legacy_paths():
    errors = [
        {"field": "metadata.creators.0.name", "message": "Name is required."},
        {"field": "metadata.creators.0.orcid", "message": "Invalid ORCID."},
        {"field": "metadata.license", "message": "Invalid license."},
        {"field": "metadata.embargo_date", "message": "Must be in the future."},
        {"field": "metadata.upload_type", "message": "Invalid."},
        {"field": "metadata.publication_type", "message": "Required."},
        {"field": "metadata.keywords.3", "message": "Bad keyword."},
        {"field": "metadata.related_identifiers.0.relation", "message": "Bad relation."},
        {"field": "metadata.grants.0.id", "message": "Unknown grant."},
        {"field": "communities", "message": "Must be a list of objects."},
        {"field": "metadata.communities.1.identifier", "message": "No such community."},
        {"field": "metadata.doi", "message": "Bad DOI."},
        {"field": "metadata.something_new", "message": "?"},
        {"message": "No field."},
    ]
    assert [(e.field, e.message) for e in form_errors(errors)] == [
        ("creators[0].name", "Name is required."),
        ("creators[0].orcid", "Invalid ORCID."),
        ("license", "Invalid license."),
        ("embargo_date", "Must be in the future."),
        ("upload_type", "Invalid."),
        ("publication_type", "Required."),
        ("keywords[3]", "Bad keyword."),
        ("related_identifiers[0].relation", "Bad relation."),
        ("grants[0].id", "Unknown grant."),
        ("communities", "Must be a list of objects."),
        ("communities[1].identifier", "No such community."),
        ("doi", "Bad DOI."),
        ("", "?"),
        ("", "No field."),
    ]


def test_form_errors_nested_messages_and_shifted_indices():
    # marshmallow may nest the messages of an item under its keys
    nested = [{"field": "metadata.creators", "messages": {"1": {"person_or_org": {"family_name": ["Required."]}}}}]
    assert form_errors(nested) == [FieldError("creators[1].name", "Required.")]
    # the metadata that was sent puts indices the conversion shifted back in place
    meta = {
        "keywords": ["a", "b"],
        "subjects": [{"term": "Astronomy", "identifier": "http://id.loc.gov/x"}],
        "related_identifiers": [
            {"identifier": "arXiv:2101.00001", "relation": "isAlternateIdentifier"},
            {"identifier": "10.1234/x", "relation": "cites"},
        ],
        "creators": [{"name": "Goethe, J.", "gnd": "118540238"}],
    }
    errors = [
        {"field": "metadata.subjects.2.subject", "messages": ["Bad."]},
        {"field": "metadata.related_identifiers.0.identifier", "messages": ["Bad related."]},
        {"field": "metadata.identifiers.0.identifier", "messages": ["Bad alternate."]},
        {"field": "metadata.creators.0.person_or_org.identifiers", "messages": ["Bad GND."]},
    ]
    assert form_errors(errors, meta) == [
        FieldError("subjects[0]", "Bad."),
        FieldError("related_identifiers[1].identifier", "Bad related."),
        FieldError("related_identifiers[0].identifier", "Bad alternate."),
        FieldError("creators[0].gnd", "Bad GND."),
    ]
    assert form_errors("not a list") == []  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# the DOI, written back
# ---------------------------------------------------------------------------------------


def test_doi_added_to_citation_cff_keeps_the_rest():
    text = "cff-version: 1.2.0\r\ntitle: X  # the title\r\nauthors:\r\n  - name: Y\r\n"
    out = with_doi_in_citation_cff(text, "10.5281/zenodo.42")
    assert out == text + 'doi: "10.5281/zenodo.42"\r\n'
    assert with_doi_in_citation_cff(out, "10.5281/zenodo.42") == out
    assert yaml.safe_load(out)["doi"] == "10.5281/zenodo.42"
    assert with_doi_in_citation_cff("title: X", "10.1234/xyzw") == 'title: X\ndoi: "10.1234/xyzw"\n'


def test_doi_replaced_in_citation_cff_only_at_top_level():
    text = (
        "cff-version: 1.2.0\n"
        "doi: 10.5281/zenodo.1   # old\n"
        "title: X\n"
        "references:\n"
        "  - type: article\n"
        "    doi: 10.1234/ref\n"
    )
    out = with_doi_in_citation_cff(text, "https://doi.org/10.5281/zenodo.2")
    assert out == text.replace("doi: 10.5281/zenodo.1   # old\n", 'doi: "10.5281/zenodo.2"\n')
    assert with_doi_in_citation_cff(out, "10.5281/zenodo.2") == out
    # the same DOI already there, in whatever form: nothing changes, byte for byte
    assert with_doi_in_citation_cff(text, "10.5281/zenodo.1") == text
    assert yaml.safe_load(out)["references"][0]["doi"] == "10.1234/ref"
    with pytest.raises(MetadataInvalid):
        with_doi_in_citation_cff(text, "not-a-doi")


def test_doi_badge_in_markdown_readme():
    badge = "[![DOI](https://zenodo.org/badge/DOI/10.5281/zenodo.42.svg)](https://doi.org/10.5281/zenodo.42)"
    text = "# My project\n\nSome words.\n"
    out = with_doi_in_readme(text, "10.5281/zenodo.42")
    assert out == f"# My project\n\n{badge}\n\nSome words.\n"
    assert with_doi_in_readme(out, "10.5281/zenodo.42") == out
    # a new version's DOI replaces the badge in place
    newer = with_doi_in_readme(out, "10.5281/zenodo.43")
    assert newer == out.replace("zenodo.42", "zenodo.43")
    # no heading: at the top
    assert with_doi_in_readme("Words.\n", "10.5281/zenodo.42") == f"{badge}\n\nWords.\n"
    assert with_doi_in_readme("", "10.5281/zenodo.42") == f"{badge}\n"
    # a setext heading
    assert with_doi_in_readme("Title\n=====\nText\n", "10.5281/zenodo.42") == f"Title\n=====\n\n{badge}\n\nText\n"
    # another badge (GitHub integration's) is left alone
    other = "# P\n[![DOI](https://zenodo.org/badge/12345.svg)](https://zenodo.org/badge/latestdoi/12345)\n"
    assert "badge/12345.svg" in with_doi_in_readme(other, "10.5281/zenodo.42")


def test_doi_line_in_plain_readme():
    text = "My project\n\nSome words.\n"
    out = with_doi_in_readme(text, "10.5281/zenodo.42", markdown=False)
    assert out == "DOI: https://doi.org/10.5281/zenodo.42\n\nMy project\n\nSome words.\n"
    assert with_doi_in_readme(out, "10.5281/zenodo.42", markdown=False) == out
    assert with_doi_in_readme(out, "10.5281/zenodo.43", markdown=False) == out.replace("zenodo.42", "zenodo.43")
