"""Three-way merge of notebooks and text files: documents in, a document and a report
out. Pure: no I/O, nothing of the rest of the package.

- ``merge_notebooks(base, ours, theirs)``: nbformat v4 dicts, merged cell by cell
  (see ``notebook``); conflicting cells are kept in both versions and flagged under
  ``metadata[CONFLICT_KEY]``.
- ``merge_text(base, ours, theirs)``: diff3 by lines, conflicts marked git-style.
- ``replay_notebook(ynotebook, target)``: a target notebook replayed granularly onto a
  live YNotebook (a collaboration room), so that concurrent edits survive.
"""

from .diff3 import merge_text
from .notebook import merge_notebooks
from .replay import replay_notebook
from .report import CONFLICT_KEY, Change, Conflict, MergeReport

__all__ = ["CONFLICT_KEY", "Change", "Conflict", "MergeReport", "merge_notebooks", "merge_text", "replay_notebook"]
