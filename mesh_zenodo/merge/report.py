"""What a merge tells its caller: the changes it took from each side, the conflicts it
left for a person to review, and a one-line summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: the key under a cell's metadata where a merge flags the cell for review
CONFLICT_KEY = "mesh_zenodo"

MINE, THEIRS, BOTH = "mine", "theirs", "both"
BOTH_CHANGED, DELETED_EDITED = "both-changed", "deleted-edited"


@dataclass(frozen=True)
class Change:
    """One change a merge took (or, for ``kind="kept"``, a choice it made).

    Attributes:
        side: ``"mine"``, ``"theirs"`` or ``"both"`` (the same change on both sides).
        kind: ``"added"``, ``"deleted"``, ``"changed"``, ``"moved"`` or ``"kept"`` (both
            sides changed one thing differently and mine was kept), or ``"metadata"`` (the
            notebook's metadata).
        description: a short human phrase.
        cell: the cell's id in the merged notebook (notebooks).
        index: the cell's position in the merged notebook, if it is there.
        lines: the 1-based inclusive line range in the merged text (text files; ``None``
            for a deletion, which leaves no lines).
    """

    side: str
    kind: str
    description: str
    cell: str | None = None
    index: int | None = None
    lines: tuple[int, int] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"side": self.side, "kind": self.kind, "description": self.description}
        if self.cell is not None:
            out["cell"] = self.cell
        if self.index is not None:
            out["index"] = self.index
        if self.lines is not None:
            out["lines"] = list(self.lines)
        return out


@dataclass(frozen=True)
class Conflict:
    """A place where the merge could not decide and kept both sides for review.

    Attributes:
        id: the conflict's id (also in the flagged cells' metadata), stable for the
            same inputs.
        kind: ``"both-changed"`` (both sides changed the same lines) or
            ``"deleted-edited"`` (one side deleted what the other edited).
        label: a short human description.
        cells: notebooks: the merged cell ids involved (mine, then theirs; or the one
            kept cell of a deleted-edited conflict).
        index: notebooks: the position of the first of those cells.
        lines: text: the 1-based inclusive line range of the conflict block (markers
            included) in the merged text.
        deleted_by: deleted-edited: ``"mine"`` or ``"theirs"``.
    """

    id: str
    kind: str
    label: str
    cells: tuple[str, ...] = ()
    index: int | None = None
    lines: tuple[int, int] | None = None
    deleted_by: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "label": self.label}
        if self.cells:
            out["cells"] = list(self.cells)
        if self.index is not None:
            out["index"] = self.index
        if self.lines is not None:
            out["lines"] = list(self.lines)
        if self.deleted_by is not None:
            out["deleted_by"] = self.deleted_by
        return out


@dataclass
class MergeReport:
    """The outcome of one merge.

    Attributes:
        kind: ``"notebook"`` or ``"text"``.
        changes: what came from each side.
        conflicts: what needs review.
        ours_label, theirs_label: the sides' names, as the caller gave them.
        fast_path: ``"mine"`` or ``"theirs"`` when the result is that side unchanged
            because the other side changed nothing (or both made the same changes).
    """

    kind: str
    changes: list[Change] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    ours_label: str = "mine"
    theirs_label: str = "theirs"
    fast_path: str | None = None

    @property
    def conflicted(self) -> bool:
        """Whether anything needs review."""
        return bool(self.conflicts)

    @property
    def summary(self) -> str:
        """A short sentence, e.g. "2 cells from theirs merged, 1 cell needs review"."""
        parts = []
        for side, label, verb in ((THEIRS, self.theirs_label, "merged"), (MINE, self.ours_label, "kept")):
            what = self._what(side)
            if what:
                parts.append(f"{what} from {label} {verb}")
        if self.conflicts:
            n = len(self.conflicts)
            what = _plural(n, "cell" if self.kind == "notebook" else "conflict")
            parts.append(f"{what} {'needs' if n == 1 else 'need'} review")
        return ", ".join(parts) if parts else "nothing to merge"

    def _what(self, side: str) -> str:
        picked = [c for c in self.changes if c.side == side and c.kind != "kept"]
        if self.kind == "text":
            return _plural(len(picked), "change") if picked else ""
        cells = len({c.cell for c in picked if c.cell is not None})
        meta = any(c.cell is None for c in picked)
        if cells and meta:
            return f"{_plural(cells, 'cell')} and the notebook metadata"
        return _plural(cells, "cell") if cells else ("the notebook metadata" if meta else "")

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict: kind, merged (true when nothing needs review),
        conflicted, fast_path, changes, conflicts, summary."""
        return {
            "kind": self.kind,
            "merged": not self.conflicted,
            "conflicted": self.conflicted,
            "fast_path": self.fast_path,
            "labels": {MINE: self.ours_label, THEIRS: self.theirs_label},
            "changes": [c.to_json() for c in self.changes],
            "conflicts": [c.to_json() for c in self.conflicts],
            "summary": self.summary,
        }


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"
