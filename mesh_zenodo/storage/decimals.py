"""The one parser of decimal numbers that arrive from outside (HTTP headers, the opaque
``Upload-Length`` of ``InitiateFileUpload``, page tokens, ports).

``str.isdigit()`` and ``int()`` accept far more than a header may hold (``"²"`` is a
digit to the one and not a number to the other, ``int`` also takes ``"1_000"`` and
``" +7"``): only ASCII digits are numbers here, and at most 19 of them."""

from __future__ import annotations

import re

from .errors import InvalidArgument, TooLarge

MAX_DIGITS = 19
MAX_VALUE = 2**63 - 1  # the largest length any file system or HTTP peer of ours handles
_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def parse_decimal(text: str, what: str, *, max_value: int = MAX_VALUE) -> int:
    """``text`` (surrounding blanks allowed) as a non-negative integer.

    Raises :class:`InvalidArgument` (400) unless it is ASCII digits only, and
    :class:`TooLarge` (413) for a number above ``max_value``."""
    value = text.strip(" \t")
    if not _DIGITS.fullmatch(value):
        shown = value[:40].encode("ascii", "backslashreplace").decode("ascii")
        raise InvalidArgument(f"{what} must be a non-negative integer in ASCII digits, not {shown!r}")
    digits = value.lstrip("0") or "0"  # (int() refuses more than 4300 digits: never ask it)
    if len(digits) > MAX_DIGITS or int(digits) > max_value:
        raise TooLarge(f"{what} is too large (at most {max_value})")
    return int(digits)

