"""Cell identity across the versions of a notebook.

Cells are matched by their nbformat 4.5 ``id``. Cells without one (older notebooks, or
tools that strip ids) are matched by content, then by position, against the base cells
the other version lacks; what stays unmatched gets an id derived from its content, so
the same inputs always give the same ids. A repeated id is made unique the same way in
every version (its second use becomes ``<id>-2``), so that repeats still match.
"""

from __future__ import annotations

import hashlib
import re
from difflib import SequenceMatcher
from typing import Any

Cell = dict[str, Any]

#: nbformat's cell id: 1 to 64 of these characters
_NOT_ID = re.compile(r"[^a-zA-Z0-9_-]")
MAX_ID = 64


def digest(*parts: str) -> str:
    return hashlib.sha1("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:12]


def fresh_id(stem: str, taken: set[str]) -> str:
    """A valid nbformat id made from ``stem``, not in ``taken`` (and now added to it)."""
    stem = _NOT_ID.sub("-", stem)[: MAX_ID - 4] or "cell"
    candidate, n = stem, 2
    while candidate in taken:
        candidate, n = f"{stem}-{n}", n + 1
    taken.add(candidate)
    return candidate


def source_of(cell: Cell) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def _normalize(cells: list[Cell]) -> tuple[list[Cell], list[bool]]:
    """Shallow copies of ``cells`` with ``source`` a string and repeated ids made unique;
    and for each, whether it came with an id."""
    out: list[Cell] = []
    has: list[bool] = []
    seen: set[str] = set()
    for cell in cells:
        cell = dict(cell)
        source = cell.get("source", "")
        if not isinstance(source, str):
            cell["source"] = "".join(source)
        cid = cell.get("id")
        if isinstance(cid, str) and cid:
            if cid in seen:
                cell["id"] = cid = fresh_id(cid[: MAX_ID - 8], seen)
            seen.add(cid)
            has.append(True)
        else:
            cell.pop("id", None)
            has.append(False)
        out.append(cell)
    return out, has


def _key(cell: Cell) -> tuple[str, str]:
    return (str(cell.get("cell_type", "")), cell["source"])


def identify(base: list[Cell], sides: list[list[Cell]]) -> tuple[list[Cell], list[list[Cell]]]:
    """Copies of the base's and the sides' cells (shallow: each cell dict is new, its
    values are shared), every cell with a unique id, a side's cell carrying the id of the
    base cell it is a version of."""
    base, base_has = _normalize(base)
    normalized = [_normalize(side) for side in sides]
    taken = {c["id"] for c in base if "id" in c}
    for cells, _ in normalized:
        taken.update(c["id"] for c in cells if "id" in c)
    for index, cell in enumerate(base):
        if "id" not in cell:
            cell["id"] = fresh_id("cell-" + digest(str(index), *_key(cell)), taken)
    base_ids = {c["id"] for c in base}
    renamed: set[int] = set()
    for cells, has in normalized:
        if all(has) and all(base_has):
            continue  # the usual case: every cell has its id
        side_ids = {c["id"] for c in cells if "id" in c}
        base_cand = [i for i, c in enumerate(base) if not base_has[i] or (not all(has) and c["id"] not in side_ids)]
        side_cand = [j for j, c in enumerate(cells) if not has[j] or (not all(base_has) and c["id"] not in base_ids)]
        matcher = SequenceMatcher(
            None, [_key(base[i]) for i in base_cand], [_key(cells[j]) for j in side_cand], autojunk=False
        )
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag not in ("equal", "replace"):
                continue
            for bi, sj in zip(base_cand[i1:i2], side_cand[j1:j2]):
                b, s = base[bi], cells[sj]
                if tag == "replace" and b.get("cell_type") != s.get("cell_type"):
                    continue
                if "id" in s and not base_has[bi] and bi not in renamed and s["id"] not in base_ids:
                    # the base had no id: the first side's real id names the cell
                    base_ids.discard(b["id"])
                    b["id"] = s["id"]
                    base_ids.add(b["id"])
                    renamed.add(bi)
                s["id"] = b["id"]
                has[sj] = True
        local = set(taken) | base_ids
        seen: dict[tuple[str, str], int] = {}
        for j, cell in enumerate(cells):
            if not has[j] and "id" not in cell:
                key = _key(cell)
                seen[key] = seen.get(key, 0) + 1
                # the same new cell on both sides gets the same id: one added cell
                cell["id"] = fresh_id("cell-" + digest(str(seen[key]), *key), local)
    return base, [cells for cells, _ in normalized]
