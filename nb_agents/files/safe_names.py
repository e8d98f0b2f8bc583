"""Untrusted server file names -> safe relative paths inside one outputs folder.

Output names come from the API (the agent chose them), so they are treated as hostile:
absolute paths, `..`, either path separator, control and bidi/zero-width characters,
Windows reserved names and characters, look-alike unicode (NFKC folds the fullwidth
solidus and friends into real ones *before* splitting), over-long names and empty names
all turn into a plain relative path. `contain()` is the last check before any write: the
resolved target must stay inside the folder, whatever symlinks the folder holds.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

__all__ = ["clean_component", "clean_relpath", "contain", "with_suffix_number", "collision_key"]

_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{p}{i}" for p in ("COM", "LPT") for i in range(10)
} | {f"{p}{d}" for p in ("COM", "LPT") for d in "¹²³"}
# Characters Windows refuses in names; replaced so a folder synced to Windows still works.
_BAD_CHARS = re.compile(r'[<>:"|?*]')
_MAX_COMPONENT_BYTES = 200  # below every common filesystem limit (255), room for a suffix
_MAX_DEPTH = 16


def _drop_invisible(text: str) -> str:
    # Cc: control (newline, NUL, ESC...); Cf: format (RTL override, zero-width joiners);
    # Co/Cs/Cn: private, surrogates, unassigned - none belong in a file name.
    return "".join(ch for ch in text if unicodedata.category(ch) not in {"Cc", "Cf", "Co", "Cs", "Cn"})


def _truncate(name: str) -> str:
    if len(name.encode("utf-8")) <= _MAX_COMPONENT_BYTES:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 16:
        stem, ext = name, ""
    ext_part = f".{ext}" if ext else ""
    budget = _MAX_COMPONENT_BYTES - len(ext_part.encode("utf-8"))
    cut = stem.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return cut + ext_part


def clean_component(part: str) -> str:
    """One path component made safe; "" when nothing usable is left (`.`, `..`, blanks)."""
    part = _drop_invisible(part)
    part = _BAD_CHARS.sub("_", part)
    # Windows strips trailing dots and spaces, which would alias `a.` to `a`.
    part = part.strip().rstrip(". ")
    if part in {"", ".", ".."} or set(part) <= {"."}:
        return ""
    if part.startswith("."):
        # Hidden names would be easy to miss and could shadow our own manifest file.
        part = "_" + part.lstrip(".")
    stem = part.split(".", 1)[0].rstrip(" ").upper()
    if stem in _WINDOWS_RESERVED:
        part = "_" + part
    return _truncate(part)


def clean_relpath(name: str, *, fallback: str = "unnamed") -> str:
    """A POSIX relative path (`a/b.csv`) built only from cleaned components.

    `..` components are dropped rather than resolved, so `a/../../b` becomes `a/b`: the
    server never gets to choose a parent of the outputs folder.
    """
    text = unicodedata.normalize("NFKC", name or "")
    parts = [clean_component(p) for p in re.split(r"[\\/]+", text)]
    parts = [p for p in parts if p][-_MAX_DEPTH:]
    if not parts:
        return clean_component(fallback) or "unnamed"
    return "/".join(parts)


def collision_key(relpath: str) -> str:
    """Key under which two paths collide on case-insensitive or normalizing filesystems."""
    return unicodedata.normalize("NFC", relpath).casefold()


def with_suffix_number(relpath: str, n: int) -> str:
    """`dir/chart.png`, 2 -> `dir/chart~2.png` (before the first dot, so `.tar.gz` stays whole)."""
    head, _, leaf = relpath.rpartition("/")
    stem, dot, ext = leaf.partition(".")
    leaf = f"{stem}~{n}{dot}{ext}"
    return f"{head}/{leaf}" if head else leaf


def contain(root: Path, relpath: str) -> Path:
    """The absolute target for `relpath` under `root`; ValueError if it would land elsewhere.

    Resolving follows symlinks already present in the folder, so a planted `outputs/x -> /etc`
    cannot redirect a write.
    """
    base = Path(os.path.realpath(root))
    target = Path(os.path.realpath(base / relpath))
    if target == base or base not in target.parents:
        raise ValueError(f"{relpath!r} escapes {base}")
    return target
