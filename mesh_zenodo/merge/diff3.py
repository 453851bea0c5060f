"""Three-way merge of sequences (diff3), and of text files by lines.

The classic diff3: match base with each side (difflib), walk the three sequences, and
cut them into *stable* chunks (all three agree) and *unstable* ones in between. An
unstable chunk changed on one side only takes that side; changed identically on both
takes it once; changed differently on both is a conflict. Changes on adjacent lines of
the base fall into one unstable chunk, so they conflict, as in git and nbdime.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from .report import BOTH, BOTH_CHANGED, MINE, THEIRS, Change, Conflict, MergeReport

STABLE, OURS_ONLY, THEIRS_ONLY, SAME, CONFLICT = "stable", "ours", "theirs", "same", "conflict"


@dataclass(frozen=True)
class Chunk:
    """One region of a diff3: its kind and its ``[start, end)`` in base, ours, theirs."""

    kind: str
    base: tuple[int, int]
    ours: tuple[int, int]
    theirs: tuple[int, int]


#: Myers' budget (edit distance) for a region without unique elements; beyond it difflib
#: takes the region (ignoring very frequent elements in a long one, to stay fast)
MAX_EDITS = 1000
_LONG = 5000


def matches(a: Sequence, b: Sequence) -> list[int | None]:
    """For each index of ``a``: the index of ``b`` it is matched with, or None.

    A patience diff: common leading and trailing elements match; elements that occur
    once in each match along their longest increasing run (for cell ids, all unique,
    this is the whole answer: the cells not moved); the regions between are solved the
    same way, and those without unique elements by Myers' algorithm (up to
    ``MAX_EDITS`` edits) or else difflib. Fast on long files with few changes and many
    repeated lines.
    """
    out: list[int | None] = [None] * len(a)
    stack = [(0, len(a), 0, len(b))]
    while stack:
        a0, a1, b0, b1 = stack.pop()
        while a0 < a1 and b0 < b1 and a[a0] == b[b0]:
            out[a0] = b0
            a0, b0 = a0 + 1, b0 + 1
        while a0 < a1 and b0 < b1 and a[a1 - 1] == b[b1 - 1]:
            a1, b1 = a1 - 1, b1 - 1
            out[a1] = b1
        if a0 == a1 or b0 == b1:
            continue
        anchors = _unique_anchors(a, a0, a1, b, b0, b1)
        if anchors is None:
            continue  # nothing in common
        if anchors:
            i0, j0 = a0, b0
            for i, j in anchors:
                out[i] = j
                stack.append((i0, i, j0, j))
                i0, j0 = i + 1, j + 1
            stack.append((i0, a1, j0, b1))
        elif not _myers(a, a0, a1, b, b0, b1, out):
            junk = a1 - a0 + b1 - b0 > _LONG
            for i, j, n in SequenceMatcher(None, a[a0:a1], b[b0:b1], autojunk=junk).get_matching_blocks():
                out[a0 + i:a0 + i + n] = range(b0 + j, b0 + j + n)
    return out


def _unique_anchors(a: Sequence, a0: int, a1: int, b: Sequence, b0: int, b1: int) -> list[tuple[int, int]] | None:
    """The longest run of pairs ``(i, j)``, increasing in both, of elements found once in
    ``a[a0:a1]`` and once in ``b[b0:b1]``; None if the two share no element at all."""
    in_a: dict = {}
    for i in range(a0, a1):
        in_a[a[i]] = -1 if a[i] in in_a else i
    in_b: dict = {}
    common = False
    for j in range(b0, b1):
        x = b[j]
        if x in in_a:
            common = True
            in_b[x] = -1 if x in in_b else j
    if not common:
        return None
    pairs = [(i, in_b[x]) for x, i in in_a.items() if i >= 0 and in_b.get(x, -1) >= 0]
    pairs.sort()
    # longest increasing subsequence of the j's (patience sorting)
    tails: list[int] = []
    tail_at: list[int] = []
    back: list[int] = []
    for n, (_, j) in enumerate(pairs):
        at = bisect_left(tails, j)
        back.append(tail_at[at - 1] if at else -1)
        if at == len(tails):
            tails.append(j)
            tail_at.append(n)
        else:
            tails[at], tail_at[at] = j, n
    run = []
    n = tail_at[-1] if tail_at else -1
    while n >= 0:
        run.append(pairs[n])
        n = back[n]
    return run[::-1]


def _myers(a: Sequence, a0: int, a1: int, b: Sequence, b0: int, b1: int, out: list[int | None]) -> bool:
    """Match ``a[a0:a1]`` with ``b[b0:b1]`` by Myers' O(ND) diff into ``out``; False if
    their edit distance exceeds ``MAX_EDITS`` (nothing written)."""
    n, m = a1 - a0, b1 - b0
    limit = min(n + m, MAX_EDITS)
    off = limit + 1
    v = [0] * (2 * limit + 3)
    trace = []
    for d in range(limit + 1):
        trace.append(v[:])
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and v[off + k - 1] < v[off + k + 1]):
                x = v[off + k + 1]
            else:
                x = v[off + k - 1] + 1
            y = x - k
            while x < n and y < m and a[a0 + x] == b[b0 + y]:
                x, y = x + 1, y + 1
            v[off + k] = x
            if x >= n and y >= m:
                _backtrack(trace, off, n, m, a0, b0, out)
                return True
    return False


def _backtrack(trace: list[list[int]], off: int, x: int, y: int, a0: int, b0: int, out: list[int | None]) -> None:
    for d in range(len(trace) - 1, -1, -1):
        v = trace[d]
        k = x - y
        prev_k = k + 1 if k == -d or (k != d and v[off + k - 1] < v[off + k + 1]) else k - 1
        prev_x = v[off + prev_k]
        prev_y = prev_x - prev_k
        while x > prev_x and y > prev_y:
            x, y = x - 1, y - 1
            out[a0 + x] = b0 + y
        if d > 0:
            x, y = prev_x, prev_y


def diff3(
    base: Sequence, ours: Sequence, theirs: Sequence,
    mo: list[int | None] | None = None, mt: list[int | None] | None = None,
) -> list[Chunk]:
    """The chunks of a three-way comparison, in order, covering all three sequences
    (``mo``, ``mt``: ``matches(base, ours)`` and ``matches(base, theirs)`` if known)."""
    mo = matches(base, ours) if mo is None else mo
    mt = matches(base, theirs) if mt is None else mt
    nb, no, nt = len(base), len(ours), len(theirs)
    chunks: list[Chunk] = []
    i = j = k = 0
    while i < nb or j < no or k < nt:
        i0, j0, k0 = i, j, k
        while i < nb and mo[i] == j and mt[i] == k:
            i, j, k = i + 1, j + 1, k + 1
        if i > i0:
            chunks.append(Chunk(STABLE, (i0, i), (j0, j), (k0, k)))
        i2 = i
        while i2 < nb and (mo[i2] is None or mt[i2] is None):
            i2 += 1
        j2, k2 = (no, nt) if i2 == nb else (mo[i2], mt[i2])
        assert j2 is not None and k2 is not None
        if (i2, j2, k2) == (i, j, k):
            continue
        b, o, t = base[i:i2], ours[j:j2], theirs[k:k2]
        if o == b and t == b:
            kind = STABLE
        elif o == b:
            kind = THEIRS_ONLY
        elif t == b:
            kind = OURS_ONLY
        elif o == t:
            kind = SAME
        else:
            kind = CONFLICT
        chunks.append(Chunk(kind, (i, i2), (j, j2), (k, k2)))
        i, j, k = i2, j2, k2
    return chunks


def split_lines(text: str) -> list[str]:
    """The lines of ``text``, each with its ``\\n`` (the last one may lack it). Only
    ``\\n`` ends a line (a ``\\r`` before it stays part of the line)."""
    if not text:
        return []
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def merge_clean(base: str, ours: str, theirs: str) -> tuple[str | None, bool]:
    """Merge three texts by lines: ``(merged, same)`` where ``merged`` is None when the
    sides changed the same (or adjacent) lines differently, and ``same`` tells whether
    both sides made some change identically (which a CRDT would apply twice)."""
    b, o, t = split_lines(base), split_lines(ours), split_lines(theirs)
    out: list[str] = []
    same = False
    for ch in diff3(b, o, t):
        if ch.kind == CONFLICT:
            return None, same
        if ch.kind == THEIRS_ONLY:
            out.extend(t[ch.theirs[0]:ch.theirs[1]])
        else:
            same = same or ch.kind == SAME
            out.extend(o[ch.ours[0]:ch.ours[1]])
    return "".join(out), same


def _describe(first: int, last: int, count_base: int) -> tuple[str, str]:
    where = f"line {first}" if last == first else f"lines {first}-{last}"
    return ("added", f"{where} added") if count_base == 0 else ("changed", f"{where} changed")


def merge_text(
    base: str, ours: str, theirs: str, *, ours_label: str = "mine", theirs_label: str = "theirs"
) -> tuple[str, MergeReport]:
    """Merge a text file by lines (diff3).

    Args:
        base: the common ancestor.
        ours, theirs: the two sides.
        ours_label, theirs_label: the names in conflict markers and in the report.

    Returns:
        The merged text and its report. Conflicting regions are marked git-style
        (``<<<<<<< mine`` / ``=======`` / ``>>>>>>> theirs``); lines both sides share
        at the start or end of a conflicting region stay outside the markers. Identical
        changes on both sides are taken once, not conflicts.
    """
    report = MergeReport("text", ours_label=ours_label, theirs_label=theirs_label)
    b, o, t = split_lines(base), split_lines(ours), split_lines(theirs)
    nl = "\r\n" if "\r\n" in (ours or base or theirs) else "\n"
    out: list[str] = []

    def note(side: str, base_range: tuple[int, int], lines: list[str], label: str) -> None:
        if lines:
            first, last = len(out) + 1, len(out) + len(lines)
            kind, text = _describe(first, last, base_range[1] - base_range[0])
            report.changes.append(Change(side, kind, f"{text} by {label}", lines=(first, last)))
        else:
            n = base_range[1] - base_range[0]
            what = f"line {base_range[0] + 1}" if n == 1 else f"lines {base_range[0] + 1}-{base_range[1]}"
            report.changes.append(Change(side, "deleted", f"{what} of the base deleted by {label}"))
        out.extend(lines)

    for ch in diff3(b, o, t):
        if ch.kind == STABLE:
            out.extend(b[ch.base[0]:ch.base[1]])
        elif ch.kind == OURS_ONLY:
            note(MINE, ch.base, o[ch.ours[0]:ch.ours[1]], ours_label)
        elif ch.kind == THEIRS_ONLY:
            note(THEIRS, ch.base, t[ch.theirs[0]:ch.theirs[1]], theirs_label)
        elif ch.kind == SAME:
            note(BOTH, ch.base, o[ch.ours[0]:ch.ours[1]], f"{ours_label} and {theirs_label}")
        else:
            op, tp = o[ch.ours[0]:ch.ours[1]], t[ch.theirs[0]:ch.theirs[1]]
            p = 0
            while p < min(len(op), len(tp)) and op[p] == tp[p]:
                p += 1
            s = 0
            while s < min(len(op), len(tp)) - p and op[-1 - s] == tp[-1 - s]:
                s += 1
            out.extend(op[:p])
            first = len(out) + 1
            out.append(f"<<<<<<< {ours_label}{nl}")
            out.extend(_terminated(op[p:len(op) - s], nl))
            out.append(f"======={nl}")
            out.extend(_terminated(tp[p:len(tp) - s], nl))
            out.append(f">>>>>>> {theirs_label}{nl}")
            last = len(out)
            n = len(report.conflicts) + 1
            report.conflicts.append(Conflict(
                id=f"conflict-{n}", kind=BOTH_CHANGED, lines=(first, last),
                label=f"lines {first}-{last}: {ours_label} and {theirs_label} changed the same lines",
            ))
            out.extend(op[len(op) - s:])
    merged = "".join(out)
    if ours == base or ours == theirs:
        report.fast_path = THEIRS if ours == base else MINE
        merged = theirs if ours == base else ours
    elif theirs == base:
        report.fast_path = MINE
        merged = ours
    return merged, report


def _terminated(lines: list[str], nl: str) -> list[str]:
    if lines and not lines[-1].endswith("\n"):
        return lines[:-1] + [lines[-1] + nl]
    return lines
