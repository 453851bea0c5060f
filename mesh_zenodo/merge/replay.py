"""Granular replay onto Y documents, and the CRDT merge of cell sources.

A replay changes only what differs: a cell's source by line- then character-level text
edits, its metadata key by key, its outputs from the first one that differs (a stream
that grew is appended to), scalars in place. Cells are inserted and deleted by explicit
array operations; a moved cell is deleted and re-created (Yjs 13 clients cannot read a
Y move). Edits made concurrently elsewhere (other cells, other lines, the outputs of a
cell whose source is replayed) survive the merge of the Y updates.

pycrdt indexes text by UTF-8 bytes, so offsets are converted from characters.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import Array, Doc, Map, Text, merge_updates

from .diff3 import matches, split_lines
from .ids import Cell, identify

#: keys of a Y cell that exist only in the Y document
_Y_ONLY = ("execution_state",)
#: below this similarity a replaced block is rewritten whole, not char by char
_SIMILAR = 0.6
_MISSING = object()


def _nbytes(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def set_text(ytext: Text, new: str) -> None:
    """Make ``ytext`` read ``new`` with small edits: lines inserted, deleted or replaced,
    and within replaced lines only the characters that differ."""
    old = str(ytext)
    if old == new:
        return
    a, b = split_lines(old), split_lines(new)
    starts = [0]
    for line in a:
        starts.append(starts[-1] + _nbytes(line))
    # from the end backwards, so that the offsets before each edit stay valid
    for tag, i1, i2, j1, j2 in reversed(SequenceMatcher(None, a, b, autojunk=False).get_opcodes()):
        if tag == "equal":
            continue
        start, end = starts[i1], starts[i2]
        new_part = "".join(b[j1:j2])
        if tag == "delete":
            del ytext[start:end]
        elif tag == "insert":
            ytext.insert(start, new_part)
        else:
            _replace(ytext, start, "".join(a[i1:i2]), new_part)


def _replace(ytext: Text, start: int, old: str, new: str) -> None:
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    if matcher.quick_ratio() < _SIMILAR or matcher.ratio() < _SIMILAR:
        del ytext[start:start + _nbytes(old)]
        ytext.insert(start, new)
        return
    for tag, i1, i2, j1, j2 in reversed(matcher.get_opcodes()):
        if tag == "equal":
            continue
        at = start + _nbytes(old[:i1])
        if i2 > i1:
            del ytext[at:at + _nbytes(old[i1:i2])]
        if j2 > j1:
            ytext.insert(at, new[j1:j2])


def _youtput(output: dict[str, Any]) -> Map:
    output = dict(output)
    if output.get("output_type") == "stream":
        text = output.get("text", "")
        output["text"] = Text(text if isinstance(text, str) else "".join(text))
    return Map(output)


def _replay_outputs(ycell: Map, current: list, outputs: list) -> None:
    youtputs = ycell.get("outputs")
    if not isinstance(youtputs, Array):
        ycell["outputs"] = Array([_youtput(o) for o in outputs])
        return
    n = 0
    while n < min(len(current), len(outputs)) and current[n] == outputs[n]:
        n += 1
    if n < len(current) and n < len(outputs):
        cur, new = current[n], outputs[n]
        cur_text, new_text = cur.get("text", ""), new.get("text", "")
        new_text = new_text if isinstance(new_text, str) else "".join(new_text)
        ytext = youtputs[n].get("text") if isinstance(youtputs[n], Map) else None
        if (
            cur.get("output_type") == new.get("output_type") == "stream"
            and {k: v for k, v in cur.items() if k != "text"} == {k: v for k, v in new.items() if k != "text"}
            and isinstance(ytext, Text)
            and isinstance(cur_text, str)
            and new_text.startswith(cur_text)
        ):
            ytext.insert(_nbytes(cur_text), new_text[len(cur_text):])  # a stream that grew
            n += 1
    if n < len(youtputs):
        del youtputs[n:]
    if n < len(outputs):
        youtputs.extend([_youtput(o) for o in outputs[n:]])


def _replay_map(ymap: Map, current: dict, target: dict) -> None:
    for key, value in target.items():
        if current.get(key, _MISSING) != value:
            ymap[key] = value
    for key in current:
        if key not in target:
            del ymap[key]


def _replay_cell(ynotebook: YNotebook, index: int, current: Cell, target: Cell) -> None:
    ycells = ynotebook.ycells
    if current.get("cell_type") != target.get("cell_type"):
        ycells[index] = ynotebook.create_ycell(target)
        return
    ycell: Map = ycells[index]
    for key, value in target.items():
        if current.get(key, _MISSING) == value:
            continue
        old = ycell.get(key)
        if key == "source" and isinstance(old, Text):
            set_text(old, value)
        elif key == "metadata" and isinstance(old, Map) and isinstance(value, dict):
            _replay_map(old, current.get(key) or {}, value)
        elif key == "outputs" and isinstance(value, list):
            _replay_outputs(ycell, current.get(key) or [], value)
        elif key == "source":
            ycell[key] = Text(value)
        elif key == "metadata":
            ycell[key] = Map(value)
        else:
            ycell[key] = value
    for key in current:
        if key not in target and key not in _Y_ONLY:
            del ycell[key]


def _replay_meta(ymeta: Map, target: dict) -> None:
    current = ymeta.to_py() or {}
    for key in ("nbformat", "nbformat_minor"):
        if key in target and current.get(key) != target[key]:
            ymeta[key] = target[key]
    metadata = target.get("metadata")
    if metadata is None or current.get("metadata") == metadata:
        return
    ymetadata = ymeta.get("metadata")
    if isinstance(ymetadata, Map):
        _replay_map(ymetadata, current.get("metadata") or {}, metadata)
    else:
        ymeta["metadata"] = Map(metadata)


def replay_notebook(ynotebook: YNotebook, target: dict) -> None:
    """Make a live ``ynotebook`` hold the nbformat dict ``target``, changing only what
    differs (in one transaction), so that edits other clients make concurrently to
    other cells, other lines, or other fields of the same cell survive.

    Cells are matched by id (cells without one by content, then position). A cell
    whose position changed relative to the others is deleted and re-created; a cell
    whose type changed is re-created.
    """
    doc: Doc = ynotebook.ydoc
    ycells = ynotebook.ycells
    live = [ycells[i].to_py() for i in range(len(ycells))]
    live, (cells,) = identify(live, [list(target.get("cells") or [])])
    cells = [{k: v for k, v in c.items() if k not in _Y_ONLY} for c in cells]
    wanted = {c["id"] for c in cells}
    with doc.transaction():
        _replay_meta(doc.get("meta", type=Map), target)
        # deleted cells go, then those whose order changed (they are re-created below)
        for i in reversed(range(len(live))):
            if live[i]["id"] not in wanted:
                del ycells[i]
                del live[i]
        live_ids = [c["id"] for c in live]
        present = set(live_ids)
        kept = matches(live_ids, [c["id"] for c in cells if c["id"] in present])
        for i in reversed(range(len(live))):
            if kept[i] is None:
                del ycells[i]
                del live[i]
        # now the live cells are in target order: update them, insert the others
        p = 0
        for n, cell in enumerate(cells):
            if p < len(live) and live[p]["id"] == cell["id"]:
                _replay_cell(ynotebook, n, live[p], cell)
                p += 1
            else:
                ycells.insert(n, ynotebook.create_ycell(cell))


def crdt_merge_sources(jobs: list[tuple[str, str, str, str]]) -> list[str]:
    """Merge cell sources through Y documents: for each ``(cell_type, base, ours,
    theirs)``, the base as a YNotebook cell in a ``Doc(client_id=0)``, each side replayed
    granularly on a fork of it, the forks' updates merged against the base state."""
    if not jobs:
        return []
    base = Doc(client_id=0)
    ynotebook = YNotebook(base)
    with base.transaction():
        for n, (cell_type, source, _, _) in enumerate(jobs):
            ynotebook.append_cell({"id": f"m{n}", "cell_type": cell_type, "source": source, "metadata": {}})
    state, update = base.get_state(), base.get_update()
    updates = [update]
    for client, side in ((1, 2), (2, 3)):
        fork = Doc(client_id=client)
        fork.apply_update(update)
        ycells = fork.get("cells", type=Array)
        with fork.transaction():
            for n, job in enumerate(jobs):
                set_text(ycells[n]["source"], job[side])
        updates.append(fork.get_update(state))
    merged = Doc(client_id=3)
    merged.apply_update(merge_updates(*updates))
    ycells = merged.get("cells", type=Array)
    return [str(ycells[n]["source"]) for n in range(len(jobs))]

