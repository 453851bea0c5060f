"""Names CERNBox gives to files it makes: conflict copies."""

from __future__ import annotations

import posixpath
import time
from datetime import datetime, timezone


def conflict_copy_name(name: str, user: str, when: float | None = None) -> str:
    """``<name>.<user>.<YYYY-MM-DD_HH_MM_SS>.conflict<ext>``, as the seed talk names
    them: ``visualization.ipynb.marcin.2022-01-25_19_35_50.conflict.ipynb``."""
    stamp = datetime.fromtimestamp(time.time() if when is None else when, tz=timezone.utc)
    ext = posixpath.splitext(name)[1]
    safe_user = "".join(c if c.isalnum() or c in "-_" else "_" for c in user) or "user"
    return f"{name}.{safe_user}.{stamp.strftime('%Y-%m-%d_%H_%M_%S')}.conflict{ext}"
