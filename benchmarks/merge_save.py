"""A save that merges, against a plain save, through the REST API, in one run.

einstein's Jupyter server (``PUT /api/contents/<nb>``) on the embedded storage saves a
notebook of ``--cells`` cells:

* plain: the file did not change since this server loaded it (lock, etag check, upload,
  unlock);
* merging: marie's server saved another version in between (each side changed
  ``--edits`` cells, some the same), so the save reads theirs, merges three-way, uploads.

Both are timed through the same server and storage; the ratio merging / plain is the
price of not losing marie's work.

    python benchmarks/merge_save.py [--cells 2000] [--edits 100] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import requests

from measure import start_jupyter
from mesh_zenodo.launcher import spawn_storage
from mesh_zenodo.pytest_plugin import StorageUser


def make_notebook(cells: int) -> dict:
    rng = random.Random(1)
    nb = nbformat.v4.new_notebook()
    for i in range(cells):
        if i % 4 == 3:
            cell = nbformat.v4.new_markdown_cell(f"## Section {i}\n\nSome words about step {i}.")
        else:
            cell = nbformat.v4.new_code_cell(
                "\n".join(f"x{i}_{j} = {rng.randint(0, 999)}" for j in range(5)),
                outputs=[nbformat.v4.new_output("stream", name="stdout", text=f"{i}\n")] if i % 3 == 0 else [],
            )
        cell["id"] = f"c{i:05d}"
        nb.cells.append(cell)
    return json.loads(nbformat.writes(nb))


def edit(nb: dict, who: str, picks: list[int]) -> dict:
    nb = json.loads(json.dumps(nb))
    for i in picks:
        cell = nb["cells"][i]
        src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        cell["source"] = f"# {who} was here\n{src}"
    return nb


def put(session: requests.Session, base: str, path: str, nb: dict) -> dict:
    response = session.put(f"{base}/api/contents/{path}", json={"type": "notebook", "format": "json", "content": nb},
                           timeout=600)
    response.raise_for_status()
    return response.json()


def get(session: requests.Session, base: str, path: str) -> dict:
    response = session.get(f"{base}/api/contents/{path}?content=1", timeout=600)
    response.raise_for_status()
    return response.json()["content"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", type=int, default=2000)
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mz-bench-") as tmp:
        tmp = Path(tmp)
        storage = spawn_storage(tmp / "storage")
        einstein = StorageUser(storage.grpc_addr, "einstein")
        marie = StorageUser(storage.grpc_addr, "marie")
        servers = []
        try:
            einstein.mkdir("/home/bench")
            share = einstein.share_ok("/home/bench", StorageUser.grantee(marie.user.id), "editor")
            marie.accept(share.id.opaque_id)
            ein_proc, ein_base, ein_token = start_jupyter(storage, tmp, "einstein")
            mar_proc, mar_base, mar_token = start_jupyter(storage, tmp, "marie")
            servers = [ein_proc, mar_proc]
            ein, mar = requests.Session(), requests.Session()
            ein.headers["Authorization"] = f"token {ein_token}"
            mar.headers["Authorization"] = f"token {mar_token}"
            print(f"merging save benchmark: a {args.cells}-cell notebook, {args.edits} edits per side", flush=True)

            nb = make_notebook(args.cells)
            path, theirs_path = "bench/nb.ipynb", "Shares/bench/nb.ipynb"
            put(ein, ein_base, path, nb)
            rng = random.Random(2)
            plain_times, merge_times = [], []
            for r in range(args.rounds):
                # plain: nobody else saved since einstein loaded it
                mine = edit(get(ein, ein_base, path), f"einstein-plain-{r}", rng.sample(range(args.cells), args.edits))
                started = time.perf_counter()
                answer = put(ein, ein_base, path, mine)
                plain_times.append(time.perf_counter() - started)
                assert "merge" not in answer, answer.get("merge")

                # merging: marie saved in between; a tenth of the edited cells are the same
                loaded = get(ein, ein_base, path)
                theirs_base = get(mar, mar_base, theirs_path)
                picks = rng.sample(range(args.cells), 2 * args.edits)
                shared_picks = picks[: args.edits // 10]
                put(mar, mar_base, theirs_path, edit(theirs_base, f"marie-{r}", picks[args.edits:] + shared_picks))
                mine = edit(loaded, f"einstein-{r}", picks[: args.edits])
                started = time.perf_counter()
                answer = put(ein, ein_base, path, mine)
                merge_times.append(time.perf_counter() - started)
                assert answer.get("merge"), "the save did not merge"

            plain, merging = statistics.median(plain_times), statistics.median(merge_times)
            size = len(json.dumps(nb)) / (1 << 20)
            print(f"  notebook size                        {size:8.2f} MiB")
            print(f"  plain save (median of {args.rounds})            {plain * 1000:8.1f} ms")
            print(f"  merging save (median of {args.rounds})          {merging * 1000:8.1f} ms")
            print("\nratio (same run)")
            print(f"  merging save / plain save            {merging / plain:8.2f}")
        finally:
            for process in servers:
                process.terminate()
                process.wait(timeout=30)
            einstein.close()
            marie.close()
            storage.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
