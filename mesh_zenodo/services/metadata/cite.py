"""The DOI of a publication written back into the folder's files.

:func:`with_doi_in_citation_cff` sets the top-level ``doi:`` of a ``CITATION.cff``
(every other byte kept); :func:`with_doi_in_readme` puts a DOI badge (Markdown) or a
``DOI:`` line (plain text) under a README's title. The same DOI again changes nothing.
"""

from __future__ import annotations

import json
import re

import yaml

from .fields import _DOI, FieldError, MetadataInvalid, _bare_doi

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
