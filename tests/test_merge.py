"""Three-way merge of notebooks and text files (mesh_zenodo.merge), as a user sees it:
what ends up in the merged document, what is flagged, what the report says."""

from __future__ import annotations

import ast
import copy
import json
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_ydoc import YNotebook
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from pycrdt import Doc

from mesh_zenodo.merge import CONFLICT_KEY, Conflict, MergeReport, merge_notebooks, merge_text, replay_notebook

ID = re.compile(r"^[a-zA-Z0-9-_]+$")


def notebook(*cells, **metadata) -> dict:
    """A notebook as jupyter_server hands it over (through JSON: plain, nbformat 4.5)."""
    return nbformat.reads(nbformat.writes(new_notebook(cells=list(cells), metadata=metadata)), as_version=4)


def code(source: str, id: str, **kw) -> dict:
    return new_code_cell(source, id=id, **kw)


def md(source: str, id: str) -> dict:
    return new_markdown_cell(source, id=id)


def fork(nb: dict) -> dict:
    return copy.deepcopy(nb)


def cell(nb: dict, cell_id: str) -> dict:
    return next(c for c in nb["cells"] if c["id"] == cell_id)


def merge(base, ours, theirs, **kw) -> tuple[dict, MergeReport]:
    """merge_notebooks, checking what every merge must give: a valid notebook with unique
    valid ids, a JSON report, inputs untouched, the same result twice."""
    before = [copy.deepcopy(nb) for nb in (base, ours, theirs)]
    merged, report = merge_notebooks(base, ours, theirs, **kw)
    assert [base, ours, theirs] == before, "the inputs changed"
    nbformat.validate(copy.deepcopy(merged))
    ids = [c["id"] for c in merged["cells"] if "id" in c]
    assert len(ids) == len(set(ids)) and all(ID.match(i) and len(i) <= 64 for i in ids)
    json.dumps(report.to_json())
    again, report2 = merge_notebooks(base, ours, theirs, **kw)
    assert again == merged and report2.to_json() == report.to_json(), "not deterministic"
    return merged, report


def sources(nb: dict) -> list[str]:
    return [c["source"] for c in nb["cells"]]


def flag(c: dict) -> dict | None:
    return c["metadata"].get(CONFLICT_KEY, {}).get("conflict")


BASE_SRC = "x = 1\ny = 20\nz = 3\nw = 4\n"


@pytest.fixture
def base() -> dict:
    return notebook(md("# Title", "intro"), code(BASE_SRC, "calc"), code("print(x)", "show"), md("The end.", "outro"))


# -- notebooks: clean merges
def test_edits_to_different_cells_both_arrive(base):
    ours, theirs = fork(base), fork(base)
    cell(ours, "intro")["source"] = "# A better title"
    cell(theirs, "show")["source"] = "print(x, y)"
    merged, report = merge(base, ours, theirs)
    assert sources(merged) == ["# A better title", BASE_SRC, "print(x, y)", "The end."]
    assert not report.conflicted and report.to_json()["merged"] is True
    assert {(c.side, c.kind, c.cell) for c in report.changes} == {("mine", "changed", "intro"), ("theirs", "changed", "show")}
    assert report.summary == "1 cell from theirs merged, 1 cell from mine kept"


def test_edits_to_different_lines_of_one_cell_both_arrive(base):
    ours, theirs = fork(base), fork(base)
    cell(ours, "calc")["source"] = "x = 10\ny = 20\nz = 3\nw = 4\n"
    cell(theirs, "calc")["source"] = "x = 1\ny = 20\nz = 3\nw = 40\n"
    merged, report = merge(base, ours, theirs)
    assert cell(merged, "calc")["source"] == "x = 10\ny = 20\nz = 3\nw = 40\n"
    assert len(merged["cells"]) == 4 and not report.conflicted


def test_non_ascii_lines_merge_through_the_crdt():
    base = notebook(code("α = 1\nπ = 3\nβ = 2\n", "c"))
    ours, theirs = fork(base), fork(base)
    cell(ours, "c")["source"] = "α = 1.5  # ünïcode\nπ = 3\nβ = 2\n"
    cell(theirs, "c")["source"] = "α = 1\nπ = 3\nβ = 2.5  # 日本\n"
    merged, report = merge(base, ours, theirs)
    assert cell(merged, "c")["source"] == "α = 1.5  # ünïcode\nπ = 3\nβ = 2.5  # 日本\n"


def test_the_same_change_on_both_sides_is_taken_once(base):
    ours, theirs = fork(base), fork(base)
    # both fix line 1 the same way (a CRDT alone would apply it twice); mine also edits line 4
    cell(ours, "calc")["source"] = "x = 2\ny = 20\nz = 3\nw = 5\n"
    cell(theirs, "calc")["source"] = "x = 2\ny = 20\nz = 3\nw = 4\n"
    merged, report = merge(base, ours, theirs)
    assert cell(merged, "calc")["source"] == "x = 2\ny = 20\nz = 3\nw = 5\n"
    assert not report.conflicted


# -- notebooks: conflicts
def test_the_same_line_changed_on_both_sides_keeps_both_versions(base):
    ours, theirs = fork(base), fork(base)
    cell(ours, "calc")["source"] = BASE_SRC.replace("y = 20", "y = 99")
    cell(theirs, "calc")["source"] = BASE_SRC.replace("y = 20", "y = 42")
    merged, report = merge(base, ours, theirs, ours_label="Ada", theirs_label="Grace")
    assert [c["id"] for c in merged["cells"]][:3] == ["intro", "calc", "calc-theirs"]
    mine, theirs_copy = merged["cells"][1], merged["cells"][2]
    assert "y = 99" in mine["source"] and "y = 42" not in mine["source"]
    assert "y = 42" in theirs_copy["source"] and "y = 99" not in theirs_copy["source"]
    assert not any("499" in s or "942" in s for s in sources(merged)), "characters interleaved"
    assert flag(mine) == {"id": flag(mine)["id"], "side": "mine", "label": "Ada"}
    assert flag(theirs_copy) == {"id": flag(mine)["id"], "side": "theirs", "label": "Grace"}
    assert report.conflicted and report.to_json()["merged"] is False
    (conflict,) = report.conflicts
    assert isinstance(conflict, Conflict)
    assert (conflict.kind, conflict.cells, conflict.index, conflict.id) == ("both-changed", ("calc", "calc-theirs"), 1, flag(mine)["id"])
    assert report.summary == "1 cell needs review"


def test_changes_to_adjacent_lines_conflict_like_git(base):
    ours, theirs = fork(base), fork(base)
    cell(ours, "calc")["source"] = "x = 1\ny = 21\nz = 3\nw = 4\n"
    cell(theirs, "calc")["source"] = "x = 1\ny = 20\nz = 31\nw = 4\n"
    merged, report = merge(base, ours, theirs)
    assert sources(merged)[1:3] == ["x = 1\ny = 21\nz = 3\nw = 4\n", "x = 1\ny = 20\nz = 31\nw = 4\n"]
    assert [c.kind for c in report.conflicts] == ["both-changed"]


@pytest.mark.parametrize("deleter", ["mine", "theirs"])
def test_a_cell_deleted_on_one_side_and_edited_on_the_other_is_kept_and_flagged(base, deleter):
    ours, theirs = fork(base), fork(base)
    deleting, editing = (ours, theirs) if deleter == "mine" else (theirs, ours)
    deleting["cells"] = [c for c in deleting["cells"] if c["id"] != "show"]
    cell(editing, "show")["source"] = "print(x * 2)"
    cell(editing, "intro")["source"] = "# Edited too"
    merged, report = merge(base, ours, theirs)
    assert [c["id"] for c in merged["cells"]] == ["intro", "calc", "show", "outro"]
    kept = cell(merged, "show")
    assert kept["source"] == "print(x * 2)"
    editor = "theirs" if deleter == "mine" else "mine"
    assert flag(kept) == {"id": flag(kept)["id"], "side": "edited", "deleted_by": deleter, "label": editor,
                          "deleted_by_label": deleter}
    (conflict,) = report.conflicts
    assert (conflict.kind, conflict.cells, conflict.deleted_by) == ("deleted-edited", ("show",), deleter)


def test_a_deletion_of_an_untouched_cell_wins_and_a_double_deletion_too(base):
    ours, theirs = fork(base), fork(base)
    ours["cells"] = [c for c in ours["cells"] if c["id"] not in ("show", "outro")]
    theirs["cells"] = [c for c in theirs["cells"] if c["id"] != "outro"]
    cell(theirs, "calc")["source"] = "x = 5\n"
    merged, report = merge(base, ours, theirs)
    assert [c["id"] for c in merged["cells"]] == ["intro", "calc"]
    assert {(c.side, c.kind, c.cell) for c in report.changes} >= {("mine", "deleted", "show"), ("both", "deleted", "outro")}
    assert not report.conflicted


def test_a_deleted_cell_the_other_side_only_re_ran_stays_deleted(base):
    ours, theirs = fork(base), fork(base)
    ours["cells"] = [c for c in ours["cells"] if c["id"] != "show"]
    cell(theirs, "show").update(outputs=[new_output("stream", name="stdout", text="1\n")], execution_count=7)
    merged, report = merge(base, ours, theirs)
    assert [c["id"] for c in merged["cells"]] == ["intro", "calc", "outro"]
    assert not report.conflicted
    assert [(c.side, c.kind) for c in report.changes if c.cell == "show"] == [("mine", "deleted")]


def test_cells_added_at_the_same_place_on_both_sides_are_all_kept_mine_first(base):
    ours, theirs = fork(base), fork(base)
    ours["cells"].insert(2, code("mine_1()", "m1"))
    ours["cells"].insert(3, code("mine_2()", "m2"))
    theirs["cells"].insert(2, code("theirs_1()", "t1"))
    theirs["cells"].append(md("Appendix", "t2"))
    merged, report = merge(base, ours, theirs)
    assert [c["id"] for c in merged["cells"]] == ["intro", "calc", "m1", "m2", "t1", "show", "outro", "t2"]
    assert not report.conflicted
    assert {(c.side, c.cell) for c in report.changes if c.kind == "added"} == {("mine", "m1"), ("mine", "m2"), ("theirs", "t1"), ("theirs", "t2")}


def test_a_cell_added_identically_on_both_sides_appears_once(base):
    ours, theirs = fork(base), fork(base)
    ours["cells"].append(code("same()", "same"))
    theirs["cells"].append(code("same()", "same"))
    cell(theirs, "intro")["source"] = "# T"
    merged, _ = merge(base, ours, theirs)
    assert [c["id"] for c in merged["cells"]] == ["intro", "calc", "show", "outro", "same"]


@pytest.mark.parametrize("mover", ["mine", "theirs"])
def test_a_move_on_one_side_keeps_the_other_sides_edit(base, mover):
    ours, theirs = fork(base), fork(base)
    moving, editing = (ours, theirs) if mover == "mine" else (theirs, ours)
    moved = cell(moving, "outro")
    moving["cells"] = [moved] + [c for c in moving["cells"] if c["id"] != "outro"]
    cell(editing, "outro")["source"] = "The very end."
    cell(editing, "calc")["source"] = BASE_SRC + "v = 5\n"
    merged, report = merge(base, ours, theirs)
    assert [c["id"] for c in merged["cells"]] == ["outro", "intro", "calc", "show"]
    assert cell(merged, "outro")["source"] == "The very end."
    assert cell(merged, "calc")["source"].endswith("v = 5\n")
    assert (mover, "moved", "outro") in {(c.side, c.kind, c.cell) for c in report.changes}


def test_a_stream_output_on_one_side_and_a_source_edit_on_the_other_both_survive(base):
    ours, theirs = fork(base), fork(base)
    cell(ours, "show")["source"] = "print(x)\nprint(y)"
    out = cell(theirs, "show")
    out["outputs"] = [new_output("stream", name="stdout", text="1\n")]
    out["execution_count"] = 3
    merged, report = merge(base, ours, theirs)
    result = cell(merged, "show")
    assert result["source"] == "print(x)\nprint(y)"
    assert result["outputs"] == [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
    assert result["execution_count"] == 3
    assert not report.conflicted and len(merged["cells"]) == 4


def test_outputs_changed_differently_on_both_sides_keep_mine_and_say_so(base):
    ours, theirs = fork(base), fork(base)
    cell(ours, "show").update(outputs=[new_output("stream", name="stdout", text="mine\n")], execution_count=1)
    cell(theirs, "show").update(outputs=[new_output("stream", name="stdout", text="theirs\n")], execution_count=2)
    cell(theirs, "show")["source"] = "print(x)  # checked"
    merged, report = merge(base, ours, theirs)
    result = cell(merged, "show")
    assert result["outputs"][0]["text"] == "mine\n" and result["execution_count"] == 1
    assert result["source"] == "print(x)  # checked"
    assert len(merged["cells"]) == 4 and not report.conflicted
    assert any(c.kind == "kept" and c.cell == "show" and "outputs" in c.description for c in report.changes)


def test_cell_metadata_merges_key_by_key_and_mine_wins_a_key_both_changed(base):
    base["cells"][1]["metadata"] = {"tags": ["a"], "collapsed": False}
    ours, theirs = fork(base), fork(base)
    cell(ours, "calc")["metadata"].update(tags=["a", "mine"], editable=False)
    cell(theirs, "calc")["metadata"].update(tags=["a", "theirs"], collapsed=True)
    del cell(theirs, "calc")["metadata"]["collapsed"]
    cell(theirs, "calc")["metadata"]["scrolled"] = True
    merged, report = merge(base, ours, theirs)
    assert cell(merged, "calc")["metadata"] == {"tags": ["a", "mine"], "editable": False, "scrolled": True}
    assert any(c.kind == "kept" and "tags" in c.description for c in report.changes)
    assert not report.conflicted


def test_notebook_metadata_merges_key_by_key_and_the_format_is_the_highest(base):
    base["metadata"] = {"kernelspec": {"name": "python3", "display_name": "Python 3"}, "title": "T"}
    ours, theirs = fork(base), fork(base)
    ours["metadata"]["authors"] = [{"name": "Ada"}]
    theirs["metadata"]["kernelspec"] = {"name": "julia", "display_name": "Julia"}
    theirs["nbformat_minor"] = 5
    base["nbformat_minor"] = ours["nbformat_minor"] = 5
    merged, report = merge(base, ours, theirs)
    assert merged["metadata"] == {"kernelspec": {"name": "julia", "display_name": "Julia"}, "title": "T", "authors": [{"name": "Ada"}]}
    assert (merged["nbformat"], merged["nbformat_minor"]) == (4, 5)
    assert "the notebook metadata" in report.summary


def test_a_cell_type_change_on_one_side_and_a_source_edit_on_the_other(base):
    ours, theirs = fork(base), fork(base)
    show = cell(ours, "show")
    show.update(cell_type="markdown", source="print(x)\n\nas text")
    del show["outputs"], show["execution_count"]
    cell(theirs, "show")["source"] = "print(x)"
    cell(theirs, "show")["metadata"]["tags"] = ["t"]
    merged, _ = merge(base, ours, theirs)
    assert cell(merged, "show") == {"id": "show", "cell_type": "markdown", "source": "print(x)\n\nas text", "metadata": {"tags": ["t"]}}


# -- notebooks without ids, and repeated ids
def old_notebook(*sources: str) -> dict:
    nb = {"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None} for s in sources
    ]}
    nbformat.validate(nb)
    return nb


def test_cells_without_ids_are_matched_by_content_and_position():
    base = old_notebook("a = 1", "b = 2", "c = 3", "d = 4")
    ours, theirs = fork(base), fork(base)
    ours["cells"][0]["source"] = "a = 10"          # edited: matched by position
    theirs["cells"][2]["source"] = "c = 30"
    del theirs["cells"][3]
    theirs["cells"].insert(0, {"cell_type": "markdown", "metadata": {}, "source": "# New"})
    merged, report = merge(base, ours, theirs)
    assert sources(merged) == ["# New", "a = 10", "b = 2", "c = 30"]
    assert merged["nbformat_minor"] == 4 and all("id" not in c for c in merged["cells"])
    assert not report.conflicted


def test_cells_without_ids_in_the_base_match_a_side_that_has_them():
    base = old_notebook("a = 1", "b = 2")
    ours = fork(base)
    ours["nbformat_minor"] = 5
    for n, c in enumerate(ours["cells"]):
        c["id"] = f"real-{n}"
    ours["cells"][1]["source"] = "b = 20"
    theirs = fork(base)
    theirs["cells"][0]["source"] = "a = 10"
    merged, report = merge(base, ours, theirs)
    assert [(c["id"], c["source"]) for c in merged["cells"]] == [("real-0", "a = 10"), ("real-1", "b = 20")]
    assert merged["nbformat_minor"] == 5 and not report.conflicted


def test_repeated_ids_are_made_unique_and_still_match(base):
    base["cells"][2]["id"] = "calc"  # "show" now repeats "calc"
    ours, theirs = fork(base), fork(base)
    ours["cells"][2]["source"] = "print('mine')"
    theirs["cells"][1]["source"] = "x = 0\n"
    merged, report = merge(base, ours, theirs)
    assert sources(merged) == ["# Title", "x = 0\n", "print('mine')", "The end."]
    assert [c["id"] for c in merged["cells"]][1:3] == ["calc", "calc-2"]


def test_list_sources_are_read_as_text(base):
    ours, theirs = fork(base), fork(base)
    cell(ours, "calc")["source"] = ["x = 1\n", "y = 21\n", "z = 3\n", "w = 4\n"]
    cell(theirs, "intro")["source"] = ["# Title", " 2"]
    merged, _ = merge(base, ours, theirs)
    assert sources(merged)[:2] == ["# Title 2", "x = 1\ny = 21\nz = 3\nw = 4\n"]


# -- fast paths
def test_fast_paths_return_a_side_as_it_is(base):
    theirs = fork(base)
    cell(theirs, "show")["source"] = "print(1)"
    merged, report = merge_notebooks(base, fork(base), theirs)
    assert merged == theirs and merged is not theirs and report.fast_path == "theirs" and not report.conflicted
    assert report.summary == "1 cell from theirs merged"
    merged, report = merge_notebooks(base, theirs, fork(base))
    assert merged == theirs and report.fast_path == "mine"
    merged, report = merge_notebooks(base, theirs, fork(theirs))
    assert merged == theirs and report.fast_path == "mine" and not report.conflicted
    merged, report = merge_notebooks(base, fork(base), fork(base))
    assert merged == base and report.summary == "nothing to merge"


# -- text
def test_text_edits_to_different_lines_merge_cleanly():
    base = "one\ntwo\nthree\nfour\nfive\n"
    merged, report = merge_text(base, "ONE\ntwo\nthree\nfour\nfive\n", "one\ntwo\nthree\nfour\nFIVE\nsix\n")
    assert merged == "ONE\ntwo\nthree\nfour\nFIVE\nsix\n"
    assert not report.conflicted and report.kind == "text"
    assert [(c.side, c.lines) for c in report.changes] == [("mine", (1, 1)), ("theirs", (5, 6))]
    assert report.summary == "1 change from theirs merged, 1 change from mine kept"


def test_text_conflicts_are_marked_with_the_labels_and_their_lines_reported():
    base = "a\nb\nc\nd\n"
    merged, report = merge_text(base, "a\nB mine\nc\nd\n", "a\nB theirs\nc\nd\n", ours_label="laptop", theirs_label="server")
    assert merged == "a\n<<<<<<< laptop\nB mine\n=======\nB theirs\n>>>>>>> server\nc\nd\n"
    (conflict,) = report.conflicts
    assert (conflict.kind, conflict.lines) == ("both-changed", (2, 6))
    assert report.to_json()["conflicts"][0]["lines"] == [2, 6]
    assert report.summary == "1 conflict needs review"


def test_text_identical_changes_are_not_conflicts_and_the_trailing_newline_stays():
    merged, report = merge_text("a\nb", "a\nB", "a\nB")
    assert merged == "a\nB" and not report.conflicted
    merged, report = merge_text("a\nb\nc", "A\nb\nc", "a\nb\nC")
    assert merged == "A\nb\nC" and not report.conflicted
    merged, report = merge_text("x\n", "x\ny", "x\nz")
    assert merged == "x\n<<<<<<< mine\ny\n=======\nz\n>>>>>>> theirs\n" and report.conflicted


def test_text_common_lines_at_the_edges_of_a_conflict_stay_outside_the_markers():
    merged, _ = merge_text("a\nb\n", "a\nnew\nb1\n", "a\nnew\nb2\n")
    assert merged == "a\nnew\n<<<<<<< mine\nb1\n=======\nb2\n>>>>>>> theirs\n"


def test_text_a_long_file_of_repeated_lines_merges_fast():
    lines = [f"{n % 31}\n" if n % 7 else "\n" for n in range(50_000)]
    ours, theirs, expected = lines[:], lines[:], lines[:]
    for n in range(100, 50_000, 500):
        ours[n] = expected[n] = f"mine {n}\n"
        theirs[n + 250] = expected[n + 250] = f"theirs {n}\n"
    started = time.perf_counter()
    merged, report = merge_text("".join(lines), "".join(ours), "".join(theirs))
    assert time.perf_counter() - started < 5
    assert merged == "".join(expected) and not report.conflicted and len(report.changes) == 200


def test_text_fast_paths():
    assert merge_text("a\n", "a\n", "b\n")[0] == "b\n"
    assert merge_text("a\n", "b\n", "a\n")[0] == "b\n"
    merged, report = merge_text("a\n", "b\n", "b\n")
    assert merged == "b\n" and not report.conflicted


# -- live rooms
def sync(a: Doc, b: Doc) -> None:
    """Exchange what each Doc lacks, as a room's websocket would."""
    ua, ub = a.get_update(b.get_state()), b.get_update(a.get_state())
    b.apply_update(ua)
    a.apply_update(ub)


def test_replay_onto_a_live_notebook_keeps_a_concurrent_edit_from_another_client(base):
    room = YNotebook(Doc())
    room.set(base)
    client = YNotebook(Doc())
    client.ydoc.apply_update(room.ydoc.get_update())
    # a browser types in "calc" (not yet synced) while the file changed on the storage
    client.set_cell(1, source=BASE_SRC.replace("x = 1\n", "x = 1  # typed live\n"))
    target = fork(base)
    cell(target, "calc")["source"] = BASE_SRC.replace("w = 4\n", "w = 44\n")
    cell(target, "calc")["outputs"] = [new_output("stream", name="stdout", text="ran\n")]
    cell(target, "intro")["source"] = "# Renamed"
    target["cells"].insert(3, code("added()", "added"))
    target["cells"] = [c for c in target["cells"] if c["id"] != "outro"]
    replay_notebook(room, target)
    sync(room.ydoc, client.ydoc)
    for nb in (room.get(), client.get()):
        assert [c["id"] for c in nb["cells"]] == ["intro", "calc", "show", "added"]
        assert cell(nb, "calc")["source"] == "x = 1  # typed live\ny = 20\nz = 3\nw = 44\n"
        assert cell(nb, "calc")["outputs"] == [{"output_type": "stream", "name": "stdout", "text": "ran\n"}]
        assert cell(nb, "intro")["source"] == "# Renamed"


def test_replay_changes_only_what_differs(base):
    room = YNotebook(Doc())
    room.set(base)
    before = room.ydoc.get_state()
    replay_notebook(room, fork(base))
    assert room.ydoc.get_state() == before  # nothing to do: no update at all
    target = fork(base)
    target["cells"] = [target["cells"][3]] + target["cells"][:3]  # a move
    cell(target, "show")["source"] = "print(x)\nprint('more')"
    replay_notebook(room, target)
    got = room.get()
    assert [c["id"] for c in got["cells"]] == ["outro", "intro", "calc", "show"]
    assert cell(got, "show")["source"] == "print(x)\nprint('more')"
    assert got == nbformat.from_dict(target) or [c["source"] for c in got["cells"]] == sources(target)


# -- the package stays pure
def test_the_merge_package_imports_only_the_standard_library_pycrdt_and_jupyter_ydoc():
    allowed = set(sys.stdlib_module_names) | {"pycrdt", "jupyter_ydoc", "__future__"}
    package = Path(__file__).resolve().parent.parent / "mesh_zenodo" / "merge"
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            assert {n.split(".")[0] for n in names} <= allowed, f"{path.name} imports {names}"
