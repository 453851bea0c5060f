"""Three-way merge of Jupyter notebooks (nbformat v4 dicts).

How it goes:

1. Cells are identified across the three versions (``ids.identify``).
2. The cell order is merged with a diff3 over the cell ids: an insertion, deletion or
   move on one side is taken; where both sides changed the order around the same
   place, mine's cells come first, then theirs. A cell both sides moved stays where
   mine put it.
3. Each cell is merged three-way, field by field. A field changed on one side takes
   that side; changed identically on both is taken once. Changed differently on both:
   - ``source``: a line-level diff3 decides. Changes to the same or adjacent lines
     conflict (as in git and nbdime): the merged notebook holds mine's cell (its id,
     mine's source) followed by theirs as a new cell, both flagged under
     ``metadata[CONFLICT_KEY]["conflict"]``. Otherwise the source is merged through
     pycrdt (``replay.crdt_merge_sources``: the base in a YNotebook of
     ``Doc(client_id=0)``, each side replayed character-granularly on a fork, the
     forks' updates merged); diff3's clean result checks it (the CRDT would apply a
     change made identically on both sides twice; then diff3's result stands).
   - ``outputs`` with ``execution_count`` (one unit: a run): mine's, noted.
   - ``metadata``: key by key; a key changed differently on both: mine's, noted.
   - any other field: mine's, noted.
4. A cell deleted on one side and edited on the other is kept (edited) and flagged;
   deleted on one side and only moved, re-run (new outputs) or untouched on the
   other, it goes.
5. Notebook metadata merges key by key (mine wins a key both changed);
   ``nbformat``/``nbformat_minor`` are the highest of the three.

Only the sources both sides changed without conflict go through Y documents: building
the whole notebook as Y documents costs more than the merge itself (a 2,000-cell
YNotebook takes ~70 ms to build and ~80 ms to read back) and a CRDT merge of anything
else would be overruled by the rules above anyway.
"""

from __future__ import annotations

from typing import Any

from .diff3 import OURS_ONLY, SAME, STABLE, THEIRS_ONLY, diff3, matches, merge_clean
from .ids import Cell, digest, fresh_id, identify
from .replay import crdt_merge_sources
from .report import BOTH, BOTH_CHANGED, CONFLICT_KEY, DELETED_EDITED, MINE, THEIRS, Change, Conflict, MergeReport

_MISSING: Any = object()
_RUN = ("outputs", "execution_count")
_OWN = ("id", "source", "metadata", *_RUN)


def _copy(value: Any) -> Any:
    """A plain-dict deep copy of JSON-like data (faster than ``copy.deepcopy``)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _three_way(b: Any, o: Any, t: Any) -> tuple[Any, str | None]:
    """One value merged: ``(value, who)`` where who is None (unchanged), mine, theirs,
    both (same change), or "kept" (both changed it differently: mine's)."""
    if o == t:
        return o, (None if o == b else BOTH)
    if o == b:
        return t, THEIRS
    if t == b:
        return o, MINE
    return o, "kept"


def _merge_dict(b: dict, o: dict, t: dict) -> tuple[dict, dict[str, list[str]]]:
    """A dict merged key by key; and the keys by who they came from."""
    out: dict = {}
    who: dict[str, list[str]] = {}
    for key in {**o, **t, **b}:
        value, side = _three_way(b.get(key, _MISSING), o.get(key, _MISSING), t.get(key, _MISSING))
        if value is not _MISSING:
            out[key] = value
        if side is not None:
            who.setdefault(side, []).append(key)
    # keep mine's key order, then theirs' new keys
    order = [k for k in o if k in out]
    order += [k for k in t if k in out and k not in o]
    order += [k for k in out if k not in o and k not in t]
    return {k: out[k] for k in order}, who


def _fit(cell: Cell) -> Cell:
    """Make a merged cell's fields match its type (nbformat v4)."""
    if cell.get("cell_type") == "code":
        cell.setdefault("outputs", [])
        cell.setdefault("execution_count", None)
        cell.pop("attachments", None)
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    cell.setdefault("metadata", {})
    return cell


def _flag(cell: Cell, flag: dict) -> Cell:
    cell = dict(cell)
    metadata = dict(cell.get("metadata") or {})
    mine = metadata.get(CONFLICT_KEY)
    metadata[CONFLICT_KEY] = {**(mine if isinstance(mine, dict) else {}), "conflict": flag}
    cell["metadata"] = metadata
    return cell


def _edited(b: Cell, c: Cell) -> bool:
    """Whether ``c`` is an edit of ``b``: anything but its outputs (a re-run) changed."""
    return any(b.get(k, _MISSING) != c.get(k, _MISSING) for k in {**b, **c} if k not in _RUN)


def _fields(b: Cell | None, c: Cell) -> str:
    """What differs between two versions of a cell, as a phrase."""
    if b is None:
        return "added"
    names = []
    for key in {**c, **b}:
        if key != "id" and b.get(key, _MISSING) != c.get(key, _MISSING):
            names.append("outputs" if key == "execution_count" else key)
    names = sorted(set(names), key=lambda n: (n != "source", n != "cell_type", n))
    return (", ".join(names) or "cell") + " changed"


class _Merge:
    def __init__(self, base: dict, ours: dict, theirs: dict, ours_label: str, theirs_label: str):
        self.labels = {MINE: ours_label, THEIRS: theirs_label}
        self.report = MergeReport("notebook", ours_label=ours_label, theirs_label=theirs_label)
        b, (o, t) = identify(
            list(base.get("cells") or []), [list(ours.get("cells") or []), list(theirs.get("cells") or [])]
        )
        self.b_ids, self.o_ids, self.t_ids = [c["id"] for c in b], [c["id"] for c in o], [c["id"] for c in t]
        self.B = {c["id"]: c for c in b}
        self.O = {c["id"]: c for c in o}
        self.T = {c["id"]: c for c in t}
        self.taken = set(self.B) | set(self.O) | set(self.T)
        self.notes: list[tuple[str, str, str | None, str]] = []  # side, kind, cell, description
        self.nb = (base, ours, theirs)

    # -- the order of the cells
    def order(self) -> tuple[list[str], dict[str, str]]:
        """The merged cell ids in order, and the cells kept though deleted on one side
        (id -> "mine"/"theirs": who deleted it)."""
        B, O, T = self.B, self.O, self.T
        mo, mt = matches(self.b_ids, self.o_ids), matches(self.b_ids, self.t_ids)
        moved = {
            MINE: {x for i, x in enumerate(self.b_ids) if mo[i] is None and x in O},
            THEIRS: {x for i, x in enumerate(self.b_ids) if mt[i] is None and x in T},
        }
        self.moved = moved
        survivors: set[str] = set()
        deleted_by: dict[str, str] = {}
        for x in self.b_ids:
            o, t, b = O.get(x), T.get(x), B[x]
            if o is not None and t is not None:
                survivors.add(x)
            elif o is not None or t is not None:
                deleter = THEIRS if o is not None else MINE
                kept = o if o is not None else t
                if _edited(b, kept):
                    survivors.add(x)
                    deleted_by[x] = deleter
                elif kept != b:
                    self.notes.append((deleter, "deleted", x, "cell deleted (the other side only re-ran it)"))
                else:
                    self.notes.append((deleter, "deleted", x, "cell deleted"))
            else:
                self.notes.append((BOTH, "deleted", x, "cell deleted"))
        survivors.update(x for x in self.o_ids if x not in B)
        survivors.update(x for x in self.t_ids if x not in B)

        seq: list[tuple[str, str]] = []
        for ch in diff3(self.b_ids, self.o_ids, self.t_ids, mo, mt):
            if ch.kind == STABLE:
                seq.extend((x, BOTH) for x in self.b_ids[ch.base[0]:ch.base[1]])
            elif ch.kind in (OURS_ONLY, SAME):
                seq.extend((x, MINE if ch.kind == OURS_ONLY else BOTH) for x in self.o_ids[ch.ours[0]:ch.ours[1]])
            elif ch.kind == THEIRS_ONLY:
                seq.extend((x, THEIRS) for x in self.t_ids[ch.theirs[0]:ch.theirs[1]])
            else:
                seq.extend((x, MINE) for x in self.o_ids[ch.ours[0]:ch.ours[1]])
                seq.extend((x, THEIRS) for x in self.t_ids[ch.theirs[0]:ch.theirs[1]])

        def placed_by(x: str) -> str | None:
            if x in moved[MINE] or (x in O and x not in B):
                return MINE
            if x in moved[THEIRS] or (x in T and x not in B):
                return THEIRS
            return None

        chosen: dict[str, int] = {}
        for at, (x, origin) in enumerate(seq):
            if x not in survivors:
                continue
            if x not in chosen:
                chosen[x] = at
            else:
                by = placed_by(x)
                if by is not None and origin == by and seq[chosen[x]][1] != by:
                    chosen[x] = at
        order = [x for at, (x, _) in enumerate(seq) if chosen.get(x) == at]
        # kept though deleted on one side: after its predecessor on the side that kept it
        for side_ids, keeper in ((self.o_ids, MINE), (self.t_ids, THEIRS)):
            missing = [x for x in side_ids if x in survivors and x not in chosen]
            if not missing:
                continue
            where = {x: n for n, x in enumerate(side_ids)}
            for x in missing:
                at = 0
                for prev in reversed(side_ids[: where[x]]):
                    if prev in chosen:
                        at = order.index(prev) + 1
                        break
                order.insert(at, x)
                chosen[x] = -1
        for x in order:
            by = placed_by(x) if x in B else None
            if x in moved[MINE] and x in moved[THEIRS]:
                self.notes.append((MINE, "kept", x, "moved on both sides; mine's position kept"))
            elif by is not None:
                self.notes.append((by, "moved", x, "cell moved"))
        return order, deleted_by

    # -- the cells
    def conflict_id(self, kind: str, cell: str) -> str:
        return f"{'cf' if kind == BOTH_CHANGED else 'de'}-{digest(kind, cell)}"

    def both_versions(self, x: str, mine: Cell, theirs: Cell) -> list[Cell]:
        cid = self.conflict_id(BOTH_CHANGED, x)
        copy = dict(theirs)
        copy["id"] = fresh_id(f"{x[:48]}-theirs", self.taken)
        first = _flag(mine, {"id": cid, "side": MINE, "label": self.labels[MINE]})
        second = _flag(copy, {"id": cid, "side": THEIRS, "label": self.labels[THEIRS]})
        self.conflicts.append((cid, BOTH_CHANGED, (x, copy["id"]), None,
                               f"{self.labels[MINE]} and {self.labels[THEIRS]} changed the same lines of this cell"))
        return [first, second]

    def merge_cell(self, x: str, b: Cell, o: Cell, t: Cell) -> list[Cell]:
        if o == t:
            if o != b:
                self.notes.append((BOTH, "changed", x, _fields(b, o)))
            return [o]
        if o == b:
            self.notes.append((THEIRS, "changed", x, _fields(b, t)))
            return [t]
        if t == b:
            self.notes.append((MINE, "changed", x, _fields(b, o)))
            return [o]
        merged: Cell = {"id": x}
        who: dict[str, list[str]] = {}
        for key in {**o, **t, **b}:
            if key in _OWN:
                continue
            value, side = _three_way(b.get(key, _MISSING), o.get(key, _MISSING), t.get(key, _MISSING))
            if value is not _MISSING:
                merged[key] = value
            if side is not None:
                who.setdefault(side, []).append(key)
        run, side = _three_way(*(tuple(c.get(k, _MISSING) for k in _RUN) for c in (b, o, t)))
        for key, value in zip(_RUN, run):
            if value is not _MISSING:
                merged[key] = value
        if side is not None:
            who.setdefault(side, []).append("outputs")
        metadata, by_key = _merge_dict(b.get("metadata") or {}, o.get("metadata") or {}, t.get("metadata") or {})
        merged["metadata"] = metadata
        for side, keys in by_key.items():
            who.setdefault(side, []).append("metadata (" + ", ".join(sorted(keys)) + ")")
        sb, so, st = b.get("source", ""), o.get("source", ""), t.get("source", "")
        source, side = _three_way(sb, so, st)
        result = [merged]
        if side == "kept":
            clean, _ = merge_clean(sb, so, st)
            if clean is None:
                merged["source"] = so
                result = self.both_versions(x, _fit(merged), t)
            else:
                merged["source"] = clean
                self.crdt.append((merged, str(merged.get("cell_type", "code")), sb, so, st))
                who.setdefault(MINE, []).append("source")
                who.setdefault(THEIRS, []).append("source")
        else:
            merged["source"] = source
            if side is not None:
                who.setdefault(side, []).append("source")
        for side in (THEIRS, MINE, BOTH):
            if who.get(side):
                self.notes.append((side, "changed", x, ", ".join(who[side]) + " changed"))
        if who.get("kept"):
            self.notes.append((MINE, "kept", x, ", ".join(who["kept"]) + " changed on both sides; mine kept"))
        _fit(merged)
        return result

    def run(self) -> tuple[dict, MergeReport]:
        self.conflicts: list[tuple[str, str, tuple[str, ...], str | None, str]] = []
        self.crdt: list[tuple[Cell, str, str, str, str]] = []
        order, deleted_by = self.order()
        cells: list[Cell] = []
        for x in order:
            b, o, t = self.B.get(x), self.O.get(x), self.T.get(x)
            if b is None:
                if o is not None and t is not None and o != t:
                    cells.extend(self.both_versions(x, o, t))
                elif o is not None:
                    self.notes.append((BOTH if t is not None else MINE, "added", x, "cell added"))
                    cells.append(o)
                else:
                    assert t is not None
                    self.notes.append((THEIRS, "added", x, "cell added"))
                    cells.append(t)
            elif x in deleted_by:
                deleter = deleted_by[x]
                editor = THEIRS if deleter == MINE else MINE
                kept = o if o is not None else t
                assert kept is not None
                cid = self.conflict_id(DELETED_EDITED, x)
                cells.append(_flag(kept, {
                    "id": cid, "side": "edited", "deleted_by": deleter, "label": self.labels[editor],
                    "deleted_by_label": self.labels[deleter],
                }))
                self.conflicts.append((cid, DELETED_EDITED, (x,), deleter,
                                       f"deleted by {self.labels[deleter]} but edited by {self.labels[editor]}; kept"))
            else:
                assert o is not None and t is not None
                cells.extend(self.merge_cell(x, b, o, t))
        if self.crdt:
            merged_sources = crdt_merge_sources([job[1:] for job in self.crdt])
            for (cell, *_), text in zip(self.crdt, merged_sources):
                if text != cell["source"]:
                    # the CRDT disagrees with diff3 (e.g. the same change made on both
                    # sides, applied twice): diff3's clean merge stands
                    continue
                cell["source"] = text
        return self.finish(cells)

    def finish(self, cells: list[Cell]) -> tuple[dict, MergeReport]:
        base, ours, theirs = self.nb
        metadata, by_key = _merge_dict(
            base.get("metadata") or {}, ours.get("metadata") or {}, theirs.get("metadata") or {}
        )
        for side, keys in by_key.items():
            text = ", ".join(sorted(keys))
            if side == "kept":
                description = f"notebook metadata ({text}) changed on both sides; mine kept"
                self.report.changes.append(Change(MINE, "kept", description))
            else:
                self.report.changes.append(Change(side, "metadata", f"notebook metadata ({text}) changed"))
        versions = [(int(nb.get("nbformat", 4)), int(nb.get("nbformat_minor", 0))) for nb in self.nb]
        major = max(v[0] for v in versions)
        minor = max(v[1] for v in versions if v[0] == major)
        with_ids = (major, minor) >= (4, 5)
        out_cells = []
        for cell in cells:
            cell = _copy(cell)
            if not with_ids:
                cell.pop("id", None)
            out_cells.append(cell)
        index = {c["id"]: n for n, c in enumerate(cells)}
        for side, kind, cell_id, description in self.notes:
            self.report.changes.append(Change(side, kind, description, cell=cell_id, index=index.get(cell_id)))
        for cid, kind, ids, deleted_by, label in self.conflicts:
            self.report.conflicts.append(Conflict(
                id=cid, kind=kind, label=label, cells=ids, index=index.get(ids[0]), deleted_by=deleted_by,
            ))
        merged = {"cells": out_cells, "metadata": _copy(metadata), "nbformat": major, "nbformat_minor": minor}
        return merged, self.report


def merge_notebooks(
    base: dict, ours: dict, theirs: dict, *, ours_label: str = "mine", theirs_label: str = "theirs"
) -> tuple[dict, MergeReport]:
    """Merge two versions of a notebook with their common ancestor.

    Args:
        base: the common ancestor, an nbformat v4 dict (e.g. ``nbformat.reads``'s result
            or jupyter_server's ``model["content"]``).
        ours, theirs: the two versions.
        ours_label, theirs_label: the sides' names in the report and conflict flags.

    Returns:
        The merged notebook (a new plain dict, sharing nothing with the inputs; it
        passes ``nbformat.validate``) and the report. See the module's documentation
        for the rules. If one side equals the base (or both sides are equal), the
        result is the other side as given.
    """
    merged, report = _Merge(base, ours, theirs, ours_label, theirs_label).run()
    if ours == base or ours == theirs:
        report.fast_path = THEIRS if ours == base else MINE
        merged = _copy(theirs if ours == base else ours)
    elif theirs == base:
        report.fast_path = MINE
        merged = _copy(ours)
    return merged, report
