"""Artifact loaders and rich display, on local files (no server)."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from IPython.display import SVG, Image
from PIL import Image as PILImage

from nb_agents.errors import FileSyncError
from nb_agents.files.artifacts import Artifact, guess_mime, load_path


def art(path: Path) -> Artifact:
    data = path.read_bytes()
    return Artifact(path.name, path, guess_mime(path), len(data), hashlib.sha256(data).hexdigest(), "file_x")


def png_bytes() -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", (3, 2), "red").save(buf, format="PNG")
    return buf.getvalue()


def test_tables_load_as_dataframes(tmp_path: Path) -> None:
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    df.to_csv(tmp_path / "t.csv", index=False)
    df.to_csv(tmp_path / "t.tsv", index=False, sep="\t")
    df.to_parquet(tmp_path / "t.parquet")
    df.to_feather(tmp_path / "t.feather")
    for name in ["t.csv", "t.tsv", "t.parquet", "t.feather"]:
        pd.testing.assert_frame_equal(art(tmp_path / name).load(), df, check_dtype=False)


def test_json_text_bytes(tmp_path: Path) -> None:
    (tmp_path / "d.json").write_text(json.dumps({"k": [1, 2]}))
    (tmp_path / "n.md").write_text("# Title\n")
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01")
    assert art(tmp_path / "d.json").load() == {"k": [1, 2]}
    assert art(tmp_path / "n.md").load() == "# Title\n"
    assert art(tmp_path / "blob.bin").load() == b"\x00\x01"


def test_non_utf8_text_loads_safely(tmp_path: Path) -> None:
    (tmp_path / "latin.txt").write_bytes("café".encode("latin-1"))
    (tmp_path / "latin.csv").write_bytes("name\ncafé\n".encode("latin-1"))
    assert art(tmp_path / "latin.txt").load() == "caf\ufffd"
    assert art(tmp_path / "latin.csv").load()["name"].tolist() == ["caf\ufffd"]
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(FileSyncError, match="bad.json is not valid JSON"):
        art(tmp_path / "bad.json").load()


def test_images_load_and_display(tmp_path: Path) -> None:
    (tmp_path / "c.png").write_bytes(png_bytes())
    (tmp_path / "c.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>')
    png = art(tmp_path / "c.png")
    assert png.mime == "image/png" and png.is_image
    image = png.load()
    assert isinstance(image, Image) and image.data == png_bytes()
    bundle = png._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", "image/png"}
    assert "data:image/png;base64," in bundle["text/html"]
    svg = art(tmp_path / "c.svg").load()
    assert isinstance(svg, SVG) and "<svg" in svg.data
    assert "image/svg+xml" in art(tmp_path / "c.svg")._repr_mimebundle_()


def test_missing_and_corrupt_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(FileSyncError, match="no longer exists"):
        load_path(tmp_path / "gone.csv")
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    with pytest.raises(FileSyncError, match="could not load broken.parquet"):
        load_path(tmp_path / "broken.parquet")
