"""File downloads: the ``Content-Disposition`` of a file the gateway hands over (RFC 6266)."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def attachment(filename: str) -> str:
    """``attachment; filename="…"`` with an ASCII fallback (diacritics dropped, anything else but letters,
    digits, ``.``, ``_`` and ``-`` replaced), plus ``filename*`` (RFC 8187) when the name is not plain ASCII.
    A name from a service never breaks the header: no quotes, no line breaks, no path separators."""
    name = filename.replace("/", "_").replace("\\", "_").strip() or "download"
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = _UNSAFE.sub("_", ascii_name).strip("_") or "download"
    header = f'attachment; filename="{fallback}"'
    if fallback != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header
