"""The subset of Elasticsearch's query-string syntax the stand-in understands: free
words, ``"phrases"``, ``field:value`` (see :data:`FIELD_ALIASES`), ``AND``/``OR``/``NOT``/
``-``, parentheses and trailing ``*``; records and communities become flat documents
(:func:`record_doc`, :func:`community_doc`) that a parsed query scores."""

from __future__ import annotations

import fnmatch
import html
import re
from typing import Any

from .model import Community, Record


class QuerySyntaxError(ValueError):
    pass


FIELD_ALIASES = {
    "title": "title", "metadata.title": "title", "titles": "title",
    "description": "description", "metadata.description": "description",
    "creators": "creators.name", "creators.name": "creators.name", "creator": "creators.name",
    "metadata.creators.name": "creators.name", "metadata.creators.person_or_org.name": "creators.name",
    "creators.affiliation": "creators.affiliation", "metadata.creators.affiliations.name": "creators.affiliation",
    "keywords": "keywords", "metadata.keywords": "keywords", "metadata.subjects.subject": "keywords",
    "doi": "doi", "pids.doi.identifier": "doi", "conceptdoi": "conceptdoi",
    "communities": "communities", "communities.id": "communities", "communities.slug": "communities",
    "parent.communities.entries.slug": "communities",
    "resource_type.type": "resource_type.type", "resource_type": "resource_type.type", "type": "resource_type.type",
    "metadata.resource_type.id": "resource_type.type", "upload_type": "resource_type.type",
    "resource_type.subtype": "resource_type.subtype",
    "publication_date": "publication_date", "metadata.publication_date": "publication_date",
    "version": "version", "metadata.version": "version",
    "recid": "recid", "id": "recid", "conceptrecid": "conceptrecid",
    "license": "license", "license.id": "license", "access_right": "access_right",
    "filename": "filename", "files.key": "filename",
}
WEIGHTS = {"title": 3.0, "creators.name": 2.0, "keywords": 2.0}
EXACT_FIELDS = {"doi", "conceptdoi", "recid", "conceptrecid", "communities", "resource_type.type", "license"}
WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _words(value: str) -> list[str]:
    return WORD.findall(value.lower())


def tokenize(query: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
            continue
        if c == "(":
            tokens.append(("(", None))
            i += 1
            continue
        if c == ")":
            tokens.append((")", None))
            i += 1
            continue
        neg = False
        if c in "+-!" and i + 1 < n and not query[i + 1].isspace():
            neg = c in "-!"
            i += 1
        fieldname = None
        m = re.match(r"([A-Za-z_][\w.]*):(?!/)", query[i:])
        if m:
            fieldname = m.group(1)
            i += m.end()
            if i < n and query[i] == "(":
                tokens.append(("fieldgroup", (fieldname, neg)))
                i += 1
                continue
        if i < n and query[i] == '"':
            j = i + 1
            buf = []
            while j < n and query[j] != '"':
                if query[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(query[j])
                j += 1
            if j >= n:
                raise QuerySyntaxError("unbalanced quotes")
            tokens.append(("term", (fieldname, "".join(buf), True, neg)))
            i = j + 1
            continue
        buf = []
        while i < n and not query[i].isspace() and query[i] not in "()":
            if query[i] == "\\" and i + 1 < n:
                i += 1
            elif query[i] == '"':
                raise QuerySyntaxError("a quote inside a word")
            buf.append(query[i])
            i += 1
        word = "".join(buf)
        if not word:
            if fieldname:
                raise QuerySyntaxError(f"{fieldname}: has no value")
            continue
        if fieldname is None and not neg and word in ("AND", "OR", "NOT", "&&", "||"):
            tokens.append(("op", {"&&": "AND", "||": "OR"}.get(word, word)))
            continue
        tokens.append(("term", (fieldname, word, False, neg)))
    return tokens


class Parser:
    """``or := and (OR and)*``, ``and := unary ([AND] unary)*``, ``unary := NOT unary | primary``."""

    def __init__(self, tokens) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def take(self):
        token = self.peek()
        self.pos += 1
        return token

    def parse(self):
        if not self.tokens:
            return ("all",)
        node = self.parse_or(None)
        if self.pos != len(self.tokens):
            raise QuerySyntaxError("unexpected closing parenthesis")
        return node

    def parse_or(self, fieldname):
        nodes = [self.parse_and(fieldname)]
        while self.peek() == ("op", "OR"):
            self.take()
            nodes.append(self.parse_and(fieldname))
        return nodes[0] if len(nodes) == 1 else ("or", nodes)

    def parse_and(self, fieldname):
        nodes = [self.parse_unary(fieldname)]
        while True:
            kind, value = self.peek()
            if kind is None or kind == ")" or (kind, value) == ("op", "OR"):
                break
            if (kind, value) == ("op", "AND"):
                self.take()
            nodes.append(self.parse_unary(fieldname))
        return nodes[0] if len(nodes) == 1 else ("and", nodes)

    def parse_unary(self, fieldname):
        kind, value = self.peek()
        if (kind, value) == ("op", "NOT"):
            self.take()
            return ("not", self.parse_unary(fieldname))
        return self.parse_primary(fieldname)

    def parse_primary(self, fieldname):
        kind, value = self.take()
        if kind == "(":
            node = self.parse_or(fieldname)
            if self.take()[0] != ")":
                raise QuerySyntaxError("unbalanced parentheses")
            return node
        if kind == "fieldgroup":
            name, neg = value
            node = self.parse_or(name)
            if self.take()[0] != ")":
                raise QuerySyntaxError("unbalanced parentheses")
            return ("not", node) if neg else node
        if kind == "term":
            name, text, phrase, neg = value
            node = ("term", name or fieldname, text, phrase)
            return ("not", node) if neg else node
        raise QuerySyntaxError("a query cannot end with an operator or start with one")


def parse_query(query: str):
    return Parser(tokenize(query or "")).parse()


def _match_term(doc: dict[str, list[str]], fieldname: str | None, text: str, phrase: bool) -> float:
    if fieldname is not None:
        key = FIELD_ALIASES.get(fieldname.lower())
        if key is None:
            return 0.0  # Elasticsearch: a field no record has matches nothing
        fields = [key]
    else:
        fields = [k for k in doc if not k.startswith("_")]
    score = 0.0
    lowered = text.lower().strip()
    for key in fields:
        values = doc.get(key, [])
        weight = WEIGHTS.get(key, 1.0)
        if key in EXACT_FIELDS and fieldname is not None:
            if any(v.lower() == lowered for v in values):
                score += weight * 2
                continue
        for value in values:
            words = _words(value)
            if "*" in text or "?" in text:
                pattern = lowered
                score += weight * sum(1 for w in words if fnmatch.fnmatchcase(w, pattern))
                continue
            wanted = _words(text)
            if not wanted:
                continue
            if len(wanted) == 1:
                score += weight * words.count(wanted[0])
                continue
            # a phrase (or a value like a DOI that splits into several words)
            for start in range(len(words) - len(wanted) + 1):
                if words[start : start + len(wanted)] == wanted:
                    score += weight * len(wanted)
    return score


def evaluate(node, doc) -> tuple[bool, float]:
    kind = node[0]
    if kind == "all":
        return True, 1.0
    if kind == "term":
        score = _match_term(doc, node[1], node[2], node[3])
        return score > 0, score
    if kind == "not":
        matched, _ = evaluate(node[1], doc)
        return (not matched), 0.0
    results = [evaluate(child, doc) for child in node[1]]
    if kind == "and":
        return all(m for m, _ in results), sum(s for _, s in results)
    return any(m for m, _ in results), sum(s for m, s in results if m)


def strip_html(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", text or ""))


def record_doc(record: Record) -> dict[str, list[str]]:
    md = record.metadata
    return {
        "title": [md.get("title", "")],
        "description": [strip_html(md.get("description", ""))],
        "creators.name": [c.get("name", "") for c in md.get("creators", [])],
        "creators.affiliation": [c.get("affiliation", "") or "" for c in md.get("creators", [])],
        "keywords": list(md.get("keywords", [])),
        "doi": [record.doi],
        "conceptdoi": [record.conceptdoi],
        "communities": [c.get("id", "") for c in md.get("communities", [])],
        "resource_type.type": [md.get("resource_type", {}).get("type", "")],
        "resource_type.subtype": [md.get("resource_type", {}).get("subtype", "") or ""],
        "publication_date": [md.get("publication_date", "")],
        "version": [md.get("version", "") or ""],
        "recid": [str(record.recid)],
        "conceptrecid": [str(record.conceptrecid)],
        "license": [(md.get("license") or {}).get("id", "")],
        "access_right": [md.get("access_right", "open")],
        "filename": [f.key for f in record.files],
    }


def community_doc(community: Community) -> dict[str, list[str]]:
    return {
        "title": [community.title],
        "description": [community.description],
        "slug": [community.slug],
        "type": [community.type],
    }
