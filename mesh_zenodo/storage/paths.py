"""Places in the storage's namespace: :class:`Loc` (owner + path relative to the home),
the checks every name and path goes through, and the SQL for "this path or below"."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import InvalidArgument

STORAGE_ID = "mesh-zenodo"
HOME = "/home"
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4096
#: the ``rel`` of a user's virtual ``/home/Shares`` folder (the mounts of the shares they
#: accepted, see :mod:`.shares`): a NUL byte, so that no real file can have it
SHARES_REL = "\x00shares"
SHARES_PATH = HOME + "/Shares"
#: the ``rel`` of a user's virtual ``/home/Projects`` folder (the project spaces they are
#: a member of, see :mod:`.spaces`), a NUL byte too
PROJECTS_REL = "\x00projects"
PROJECTS_PATH = HOME + "/Projects"
#: where each project space appears to its members (space id -> "/home/Projects/<name>";
#: kept by :mod:`.spaces`): the places of a space are named from there in every answer
SPACE_MOUNTS: dict[str, str] = {}


@dataclass(frozen=True)
class Loc:
    """A place in a home: the owner's opaque id and a path relative to the home root
    ("" is the home itself, no leading or trailing slash).

    ``view`` (not part of the identity) is how a recipient sees a place reached through
    one of their share mounts: ``(base rel, the path shown for it)``, for example
    ``("analysis", "/home/Shares/analysis (1)")``; :attr:`path` and :attr:`name` then
    speak the recipient's namespace."""

    owner: str
    rel: str
    view: tuple[str, str] | None = field(default=None, compare=False, repr=False)

    @property
    def path(self) -> str:
        if self.view is not None:
            base, shown = self.view
            if self.rel == base:
                return shown
            if self.rel.startswith(base + "/"):
                return shown + self.rel[len(base) :]
        if self.owner in SPACE_MOUNTS:
            return SPACE_MOUNTS[self.owner] + ("/" + self.rel if self.rel else "")
        return HOME + ("/" + self.rel if self.rel else "")

    @property
    def name(self) -> str:
        if self.view is not None or (not self.rel and self.owner in SPACE_MOUNTS):
            return self.path.rsplit("/", 1)[-1]
        return self.rel.rsplit("/", 1)[-1] if self.rel else "home"

    @property
    def parent(self) -> Loc:
        if not self.rel:
            raise InvalidArgument("the home folder has no parent")
        rel = self.rel.rsplit("/", 1)[0] if "/" in self.rel else ""
        view = self.view if self.view is not None and self.rel != self.view[0] else None
        return Loc(self.owner, rel, view)

    def child(self, name: str) -> Loc:
        return Loc(self.owner, f"{self.rel}/{name}" if self.rel else name, self.view)


def check_name(name: str) -> None:
    """Raise :class:`InvalidArgument` unless ``name`` is a valid single path segment."""
    if "\x00" in name:
        raise InvalidArgument("path contains a NUL byte")
    if name == "..":
        raise InvalidArgument("path must not contain '..' segments")
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise InvalidArgument(f"name longer than {MAX_NAME_BYTES} bytes: {name[:40]}...")


def split_segments(path: str) -> list[str]:
    """The checked segments of a slash-separated path ("" and "." segments dropped)."""
    if "\x00" in path:
        raise InvalidArgument("path contains a NUL byte")
    if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise InvalidArgument(f"path longer than {MAX_PATH_BYTES} bytes")
    segments = []
    for seg in path.split("/"):
        if seg in ("", "."):
            continue
        check_name(seg)
        segments.append(seg)
    return segments


def parse_home_path(path: str) -> str:
    """Validate an absolute CS3 path and return it relative to /home."""
    if not path.startswith("/"):
        raise InvalidArgument(f"path must be absolute (start with {HOME}): {path[:200]!r}")
    segments = split_segments(path)
    if not segments or segments[0] != "home":
        raise InvalidArgument(f"path is outside {HOME}: {path[:200]!r}")
    return "/".join(segments[1:])


def join_relative(base_rel: str, relative: str) -> str:
    """Append a relative reference path ("./a/b", "a/b", "." or "") to ``base_rel``."""
    if relative.startswith("/"):
        raise InvalidArgument("a path relative to a resource id must not start with '/'")
    segments = split_segments(relative)
    rel = "/".join([base_rel, *segments] if base_rel else segments)
    if len((HOME + "/" + rel).encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise InvalidArgument(f"path longer than {MAX_PATH_BYTES} bytes")
    return rel


def normalize_etag(etag: str) -> str:
    etag = etag.strip()
    if etag.startswith("W/"):
        etag = etag[2:]
    return etag.strip('"')


def is_descendant_sql(column: str = "path") -> str:
    """SQL for "``column`` is the path or below it" (parameters: :func:`desc_params`)."""
    # "path = ? OR path starts with ?/" without LIKE (names may contain % and _).
    return f"({column} = ? OR substr({column}, 1, ?) = ?)"


def desc_params(rel: str) -> tuple[str, int, str]:
    return (rel, len(rel) + 1, rel + "/")
