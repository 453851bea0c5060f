"""The Zenodo stand-in as a program: its command line, its tokens, its control API."""

from __future__ import annotations

import ast
import subprocess
import sys

import requests

from mesh_zenodo.standin.query import evaluate, parse_query, record_doc, tokenize
from mesh_zenodo.zenodo import errors
from mesh_zenodo.zenodo.client import ZenodoClient
from mesh_zenodo.pytest_plugin import FULL_TOKEN, REPO_ROOT, source_tree_env, start_standin


def test_help_names_the_options():
    out = subprocess.run(
        [sys.executable, "-m", "mesh_zenodo.standin", "--help"],
        capture_output=True, text=True, env=source_tree_env(), cwd=REPO_ROOT, timeout=60,
    )
    assert out.returncode == 0
    for option in ("--port", "--host", "--data", "--token", "--readonly-token", "--big-record", "--rate-limit"):
        assert option in out.stdout


async def test_tokens_from_the_command_line_and_a_big_record(tmp_path):
    standin = start_standin(
        tmp_path,
        ["--no-default-tokens", "--token", "alice=alice-secret-token-1", "--readonly-token", "bob=bob-readonly-token-1",
         "--big-record", "3:0.5"],
    )
    try:
        async with ZenodoClient(base_url=standin.url, token="alice-secret-token-1") as c:
            assert (await c.check_token()).deposit
        async with ZenodoClient(base_url=standin.url, token="bob-readonly-token-1") as c:
            try:
                await c.check_token()
                raise AssertionError("a read-only token passed")
            except errors.MissingScope:
                pass
        async with ZenodoClient(base_url=standin.url, token=FULL_TOKEN) as c:  # not known with --no-default-tokens
            try:
                await c.check_token()
                raise AssertionError("a default token passed")
            except errors.InvalidToken:
                pass
        info = standin.info()
        assert len(info["big_records"]) == 1 and info["users"] == ["alice", "bob"]
        record = standin.get(f"/api/records/{info['big_records'][0]}").json()
        assert [f["size"] for f in record["files"]] == [512 * 1024] * 3
        assert "alice-secret-token-1" not in standin.output
    finally:
        standin.stop()


def test_control_api_refuses_bad_faults_and_serves_pages(tmp_path):
    standin = start_standin(tmp_path)
    try:
        bad = requests.post(f"{standin.url}/_standin/faults", json={"pathregex": "x"}, timeout=10)
        assert bad.status_code == 400 and "unknown fault fields" in bad.json()["message"]
        bad = requests.post(f"{standin.url}/_standin/faults", json={"path_regex": "("}, timeout=10)
        assert bad.status_code == 400
        armed = standin.arm(path_regex="^/api/records$", status=503, times=2)
        assert standin.faults()[0]["id"] == armed["id"]
        assert standin.get("/api/records").status_code == 503
        assert standin.get("/api/records").status_code == 503
        assert standin.get("/api/records").status_code == 200
        page = standin.get(f"/records/{standin.info()['records'][0]}")
        assert page.status_code == 200 and "DOI: 10.5281/zenodo." in page.text
        assert standin.get("/communities/cern").status_code == 200
        missing = standin.get("/api/nothing-here")
        assert missing.status_code == 404 and missing.json()["status"] == 404
    finally:
        standin.stop()


def test_query_parser():
    assert tokenize('title:"a b" OR -c') == [("term", ("title", "a b", True, False)), ("op", "OR"), ("term", (None, "c", False, True))]
    assert parse_query("") == ("all",)
    assert parse_query("a b") == ("and", [("term", None, "a", False), ("term", None, "b", False)])
    assert parse_query("a OR b c") == ("or", [("term", None, "a", False), ("and", [("term", None, "b", False), ("term", None, "c", False)])])
    assert parse_query("title:(x OR y)") == ("or", [("term", "title", "x", False), ("term", "title", "y", False)])
    for bad in ('"open', "(a", "a)", "AND", "title:"):
        try:
            parse_query(bad)
            raise AssertionError(bad)
        except ValueError:
            pass

    class Rec:
        recid, conceptrecid, doi, conceptdoi, files = 5, 4, "10.5281/zenodo.5", "10.5281/zenodo.4", []
        metadata = {"title": "Ocean heat", "creators": [{"name": "Doe, Jane", "affiliation": "CERN"}],
                    "description": "<p>Data</p>", "resource_type": {"type": "dataset"}, "communities": [{"id": "cern"}]}

    doc = record_doc(Rec())
    assert evaluate(parse_query("oce*"), doc)[0]
    assert evaluate(parse_query("creators:jane AND communities:cern"), doc)[0]
    assert not evaluate(parse_query("-ocean"), doc)[0]
    assert evaluate(parse_query('doi:"10.5281/zenodo.5"'), doc)[0]
    assert not evaluate(parse_query("unknownfield:ocean"), doc)[0]


def imported_modules(path) -> list[str]:
    """Absolute names of what ``path`` imports (relative imports resolved in its package)."""
    package = ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts[:-1])
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package if node.level else ""
            names.append(".".join(filter(None, [base, node.module])))
    return names


def test_the_standin_imports_nothing_of_the_plugin_but_the_vocabulary():
    files = sorted((REPO_ROOT / "mesh_zenodo" / "standin").glob("*.py"))
    assert files
    for path in files:
        for name in imported_modules(path):
            if name == "mesh_zenodo" or name.startswith("mesh_zenodo."):
                assert name.startswith("mesh_zenodo.standin") or name == "mesh_zenodo.zenodo.vocabulary", (path, name)
    vocabulary = REPO_ROOT / "mesh_zenodo" / "zenodo" / "vocabulary.py"
    assert imported_modules(vocabulary) == ["__future__"]


def test_the_standin_program_loads_only_the_vocabulary_of_the_plugin():
    code = "import sys, mesh_zenodo.standin.main; print(*sorted(m for m in sys.modules if m.startswith('mesh_zenodo')))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=source_tree_env(), cwd=REPO_ROOT, timeout=60
    )
    assert out.returncode == 0, out.stderr
    loaded = {name for name in out.stdout.split() if not name.startswith("mesh_zenodo.standin")}
    assert loaded <= {"mesh_zenodo", "mesh_zenodo._version", "mesh_zenodo.zenodo", "mesh_zenodo.zenodo.vocabulary"}, loaded
