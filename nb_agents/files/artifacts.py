"""`Artifact`: one output file pulled from a session, and the loaders behind `.load()`.

The loader is chosen by the file extension (the server's MIME type is informative only):
csv/tsv/parquet/feather -> pandas.DataFrame, json -> Python object, png/jpg/gif/webp ->
`IPython.display.Image`, svg -> `IPython.display.SVG`, txt/md -> str, anything else ->
bytes. Text is decoded as UTF-8 with `errors="replace"`, so a badly encoded file still loads.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import FileSyncError
from ..view import fmt_size

__all__ = ["Artifact", "load_path", "IMAGE_EXTENSIONS", "file_sha256", "guess_mime"]

IMAGE_EXTENSIONS = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                    ".gif": "image/gif", ".webp": "image/webp"}


def guess_mime(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return IMAGE_EXTENSIONS[suffix]
    extra = {".parquet": "application/vnd.apache.parquet", ".feather": "application/vnd.apache.arrow.file",
             ".md": "text/markdown", ".tsv": "text/tab-separated-values", ".svg": "image/svg+xml"}
    return extra.get(suffix) or mimetypes.guess_type(str(path))[0] or "application/octet-stream"


def _text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def _csv(sep: str) -> Callable[[Path], Any]:
    def load(path: Path) -> Any:
        import pandas as pd

        return pd.read_csv(path, sep=sep, encoding_errors="replace")

    return load


def _parquet(path: Path) -> Any:
    import pandas as pd

    return pd.read_parquet(path)


def _feather(path: Path) -> Any:
    import pandas as pd

    return pd.read_feather(path)


def _json(path: Path) -> Any:
    try:
        return json.loads(_text(path))
    except json.JSONDecodeError as exc:
        raise FileSyncError(f"{path.name} is not valid JSON ({exc.msg} at line {exc.lineno})") from None


def _image(path: Path) -> Any:
    from IPython.display import Image

    return Image(data=path.read_bytes(), format=path.suffix.lower().lstrip(".").replace("jpg", "jpeg"))


def _svg(path: Path) -> Any:
    from IPython.display import SVG

    return SVG(data=_text(path))


_LOADERS: dict[str, Callable[[Path], Any]] = {
    ".csv": _csv(","), ".tsv": _csv("\t"), ".parquet": _parquet, ".feather": _feather,
    ".json": _json, ".svg": _svg, ".txt": _text, ".md": _text,
    **dict.fromkeys(IMAGE_EXTENSIONS, _image),
}


def load_path(path: str | Path) -> Any:
    """Load a file by its extension; unknown kinds come back as bytes."""
    path = Path(path)
    if not path.is_file():
        raise FileSyncError(f"output file {path} no longer exists; run `%agent pull` to fetch it again")
    loader = _LOADERS.get(path.suffix.lower())
    if loader is None:
        return path.read_bytes()
    try:
        return loader(path)
    except FileSyncError:
        raise
    except Exception as exc:  # a corrupt table or image: one line, not a parser traceback
        raise FileSyncError(f"could not load {path.name}: {type(exc).__name__}: {exc}") from None


VERSIONS = ".nb_agents_versions"


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read 1 MiB at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def version_path(folder: Path, sha256: str, suffix: str) -> Path:
    """Where an outputs folder keeps a superseded copy: by content (`<sha256><suffix>`)."""
    return folder / VERSIONS / f"{sha256}{suffix.lower()}"


@dataclass(frozen=True, init=False)
class Artifact:
    """A file the agent produced in one turn, saved locally. `name` is its path relative to the
    outputs folder; `.path` is where this turn's bytes are: the file of that name while it still
    holds them, the folder's kept copy (`versions`) once a later turn rewrote it."""

    name: str
    home: Path
    mime: str
    size: int
    sha256: str
    file_id: str
    created_at: str | None = None
    versions: Path | None = None  # the outputs folder whose VERSIONS keeps superseded copies

    def __init__(self, name: str, path: Path, mime: str, size: int, sha256: str, file_id: str,
                 created_at: str | None = None, versions: Path | None = None) -> None:
        for key, value in (("name", name), ("home", Path(path)), ("mime", mime), ("size", size),
                           ("sha256", sha256), ("file_id", file_id), ("created_at", created_at),
                           ("versions", versions)):
            object.__setattr__(self, key, value)

    @property
    def path(self) -> Path:
        if self.versions is not None:
            kept = version_path(self.versions, self.sha256, self.home.suffix)
            if kept.is_file():
                return kept
        return self.home

    def load(self) -> Any:
        """This turn's content, even after a later turn rewrote the file of the same name."""
        path = self.path
        if path.is_file() and path.stat().st_size != self.size:
            raise FileSyncError(f"{self.name} changed on disk since it was pulled ({fmt_size(self.size)} then, "
                                f"{fmt_size(path.stat().st_size)} now); `%agent pull` fetches the agent's copy again")
        return load_path(path)

    @property
    def is_image(self) -> bool:
        return self.path.suffix.lower() in IMAGE_EXTENSIONS or self.path.suffix.lower() == ".svg"

    def __repr__(self) -> str:
        return f"Artifact({self.name!r}, {self.mime}, {fmt_size(self.size)}, path={str(self.path)!r})"

    def _repr_html_(self) -> str:
        label = html.escape(f"{self.name} ({self.mime}, {fmt_size(self.size)})")
        if self.path.suffix.lower() in IMAGE_EXTENSIONS and self.path.is_file():
            data = base64.b64encode(self.path.read_bytes()).decode("ascii")
            return (f'<figure style="margin:0"><img src="data:{self.mime};base64,{data}" '
                    f'alt="{html.escape(self.name)}" style="max-width:100%"/>'
                    f"<figcaption><code>{label}</code></figcaption></figure>")
        return f"<code>{label}</code>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/plain": repr(self), "text/html": self._repr_html_()}
        suffix = self.path.suffix.lower()
        if self.path.is_file() and suffix in {".png", ".jpg", ".jpeg", ".svg"}:
            # Native image types too, so nbconvert/terminal front-ends that skip HTML still show it.
            if suffix == ".svg":
                bundle["image/svg+xml"] = _text(self.path)
            else:
                bundle[self.mime] = base64.b64encode(self.path.read_bytes()).decode("ascii")
        return bundle


