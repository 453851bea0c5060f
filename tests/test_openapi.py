"""docs/openapi.yaml documents every route and method the extension registers, and
nothing that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from tornado.web import RequestHandler

from mesh_zenodo import rest

SPEC = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"
METHODS = ("get", "post", "put", "patch", "delete")


def registered() -> set[tuple[str, str]]:
    found = set()
    for pattern, handler, _ in rest.routes():
        template = re.sub(r"\((?:\?P<(\w+)>)?[^)]*\)", lambda m: "{%s}" % (m.group(1) or "_"), pattern)
        for method in METHODS:
            if getattr(handler, method) is not getattr(RequestHandler, method):
                found.add((re.sub(r"\{\w+\}", "{_}", template), method))
    return found


def documented() -> set[tuple[str, str]]:
    spec = yaml.safe_load(SPEC.read_text())
    assert spec["openapi"].startswith("3.")
    return {(re.sub(r"\{\w+\}", "{_}", path), method)
            for path, operations in spec["paths"].items() for method in operations if method in METHODS}


def test_every_route_and_method_is_documented_and_nothing_else():
    assert registered() - documented() == set(), "routes missing from docs/openapi.yaml"
    assert documented() - registered() == set(), "docs/openapi.yaml documents routes that do not exist"


def test_every_operation_says_what_it_does_and_documents_its_path_parameters():
    spec = yaml.safe_load(SPEC.read_text())
    for path, operations in spec["paths"].items():
        wanted = set(re.findall(r"\{(\w+)\}", path))
        for method, operation in operations.items():
            assert operation["summary"], (path, method)
            params = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"}
            assert params == wanted, (path, method, params)
