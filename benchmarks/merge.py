"""Notebook merge benchmark: mesh_zenodo.merge.merge_notebooks against nbdime's
merge_notebooks on the same three notebooks, in the same run.

The base is a 2,000-cell notebook (code and markdown, some cells with outputs); each
side makes 100 edits: source lines changed, some on the cells the other side edits too
(different lines, and the same line: conflicts), cells inserted, deleted and moved,
outputs and metadata changed. Prints the median of 5 runs of each, the ratio, and each
one's peak memory (tracemalloc, a separate run). Usage:

    pip install -e ".[bench]"
    python benchmarks/merge.py [--cells 2000] [--edits 100] [--runs 5]
"""

from __future__ import annotations

import argparse
import copy
import random
import time
import tracemalloc

import nbformat
from nbdime.args import process_diff_flags
from nbdime.merging import merge_notebooks as nbdime_merge
from nbdime.nbmergeapp import _build_arg_parser
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from measure import percentile
from mesh_zenodo.merge import merge_notebooks


def make_base(cells: int, rnd: random.Random) -> dict:
    out = []
    for i in range(cells):
        if i % 3 == 0:
            out.append(new_markdown_cell(f"## Step {i}\n\nWhat step {i} does,\nand why.\n", id=f"cell-{i}"))
            continue
        lines = [f"v{i}_{k} = compute({i}, {k})" for k in range(rnd.randint(3, 12))]
        cell = new_code_cell("\n".join(lines), id=f"cell-{i}")
        if i % 4 == 1:
            cell.execution_count = i
            cell.outputs = [
                new_output("stream", name="stdout", text=f"step {i}\n" * 3),
                new_output("execute_result", data={"text/plain": f"{i * 7}"}, execution_count=i),
            ]
        out.append(cell)
    nb = new_notebook(cells=out, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    return nbformat.reads(nbformat.writes(nb), as_version=4)


def edit(nb: dict, side: str, edits: int, shared: list[int], rnd: random.Random) -> dict:
    """``edits`` edits on a copy of ``nb``: on the ``shared`` cells (edited by both
    sides) a line of their own and, for every fifth, the first line (a conflict); the
    rest spread over other cells: source lines, outputs, metadata, inserts, deletes,
    moves."""
    nb = copy.deepcopy(nb)
    cells = nb["cells"]
    code = [n for n, c in enumerate(cells) if c["cell_type"] == "code"]
    own = rnd.sample([n for n in code if n not in shared], edits)
    first_line_of = {}
    for n, index in enumerate(shared):
        lines = cells[index]["source"].split("\n")
        if n % 5 == 0:
            first_line_of[index] = lines[0]
            lines[0] = f"{lines[0]}  # {side}"  # the same line on both sides: a conflict
        else:
            at = 1 if side == "mine" else len(lines) - 1  # different lines: both kept
            lines[at] = f"{lines[at]} + 1  # {side}"
        cells[index]["source"] = "\n".join(lines)
    kinds = ["source"] * 4 + ["outputs", "metadata", "insert", "delete", "move"]
    deleted, moved, inserts = set(), [], []
    for n, index in enumerate(own[: edits - len(shared)]):
        kind = kinds[n % len(kinds)]
        cell = cells[index]
        if kind == "source":
            lines = cell["source"].split("\n")
            lines.insert(rnd.randrange(len(lines) + 1), f"checked_{side}_{n} = True")
            cell["source"] = "\n".join(lines)
        elif kind == "outputs":
            cell["outputs"] = [new_output("stream", name="stdout", text=f"{side} ran it\n")]
            cell["execution_count"] = 1000 + n
        elif kind == "metadata":
            cell["metadata"]["tags"] = [f"{side}-{n}"]
        elif kind == "insert":
            inserts.append((index, new_code_cell(f"extra_{side}_{n} = {n}", id=f"{side}-new-{n}")))
        elif kind == "delete":
            deleted.add(cell["id"])
        else:
            moved.append(cell["id"])
    for index, cell in sorted(inserts, key=lambda pair: -pair[0]):
        cells.insert(index, nbformat.from_dict(cell))
    by_id = {c["id"]: c for c in cells}
    keep = [c for c in cells if c["id"] not in deleted and c["id"] not in moved]
    for cell_id in moved:
        keep.insert(rnd.randrange(len(keep)), by_id[cell_id])
    nb["cells"] = keep
    return nb


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return percentile(times, 0.5), result


def peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", type=int, default=2000)
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    opts = parser.parse_args()
    rnd = random.Random(20240601)
    base = make_base(opts.cells, rnd)
    code = [n for n, c in enumerate(base["cells"]) if c["cell_type"] == "code"]
    shared = rnd.sample(code, opts.edits // 5)  # a fifth of the edits land on cells both sides edit
    ours = edit(base, "mine", opts.edits, shared, random.Random(1))
    theirs = edit(base, "theirs", opts.edits, shared, random.Random(2))

    args = _build_arg_parser().parse_args(["base.ipynb", "local.ipynb", "remote.ipynb"])  # as nbdime's CLI
    process_diff_flags(args)

    ours_run = lambda: merge_notebooks(base, ours, theirs)  # noqa: E731
    nbdime_run = lambda: nbdime_merge(base, ours, theirs, args)  # noqa: E731

    ours_time, (merged, report) = timed(ours_run, opts.runs)
    nbdime_time, (nbdime_merged, decisions) = timed(nbdime_run, opts.runs)
    ours_peak, nbdime_peak = peak(ours_run), peak(nbdime_run)
    nbformat.validate(copy.deepcopy(merged))

    print(f"notebook: {opts.cells} cells, {opts.edits} edits per side "
          f"({len(shared)} cells edited on both sides, {len(shared) // 5 + (len(shared) % 5 > 0)} on the same line)")
    print(f"mesh_zenodo.merge: {ours_time * 1000:8.1f} ms (median of {opts.runs})   peak {ours_peak / 2**20:6.1f} MiB")
    print(f"nbdime:            {nbdime_time * 1000:8.1f} ms (median of {opts.runs})   peak {nbdime_peak / 2**20:6.1f} MiB")
    print(f"ratio nbdime / mesh_zenodo.merge: {nbdime_time / ours_time:.1f}x")
    print(f"mesh_zenodo.merge: {report.summary}; {len(merged['cells'])} cells")
    conflicted = sum(1 for d in decisions if d.conflict)
    print(f"nbdime: {conflicted} conflicted decisions of {len(decisions)}")


if __name__ == "__main__":
    main()
