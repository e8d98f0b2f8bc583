"""Tool return values -> content blocks; exceptions -> scrubbed one-line errors."""

from __future__ import annotations

import base64
import json

import pytest

from nb_agents.scrub import scrub_text
from nb_agents.tools.results import MAX_TABLE_ROWS, MAX_TEXT_CHARS, REDACTED, error_content, to_content


def _text(blocks):
    assert len(blocks) == 1 and blocks[0]["type"] == "text"
    return blocks[0]["text"]


def _png(blocks):
    assert len(blocks) == 1 and blocks[0]["type"] == "image"
    src = blocks[0]["source"]
    assert src["type"] == "base64" and src["media_type"] == "image/png"
    data = base64.b64decode(src["data"])
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return data


def test_text_numbers_and_json():
    assert _text(to_content("hello")) == "hello"
    assert _text(to_content(42)) == "42"
    assert _text(to_content(2.5)) == "2.5"
    assert _text(to_content(True)) == "true"
    assert json.loads(_text(to_content({"a": [1, 2], "b": None}))) == {"a": [1, 2], "b": None}
    assert _text(to_content(None)) == "(no return value)"


def test_numpy_and_unserialisable_values():
    np = pytest.importorskip("numpy")
    assert json.loads(_text(to_content(np.arange(3)))) == [0, 1, 2]
    assert _text(to_content(object())).startswith('"<object object at')


def test_long_text_is_bounded():
    text = _text(to_content("x" * (MAX_TEXT_CHARS * 2)))
    assert len(text) <= MAX_TEXT_CHARS and text.endswith(f"[truncated, {MAX_TEXT_CHARS * 2} chars in total]")


def test_content_blocks_pass_through():
    blocks = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    assert to_content(blocks) == blocks


def test_dataframe_is_a_compact_bounded_csv_table():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"month": range(1, 201), "revenue": [i * 1.5 for i in range(200)]})
    text = _text(to_content(df))
    lines = text.splitlines()
    assert lines[0] == f"DataFrame: 200 rows x 2 columns (first {MAX_TABLE_ROWS} rows shown) (CSV)"
    assert lines[1] == "month,revenue"  # default RangeIndex is left out
    assert lines[2] == "1,0.0"
    assert len(lines) == 2 + MAX_TABLE_ROWS
    small = _text(to_content(df.set_index("month").head(2)))
    assert small.splitlines()[1:] == ["month,revenue", "1,0.0", "2,1.5"]
    series = _text(to_content(df["revenue"].head(2)))
    assert "revenue" in series and "1.5" in series


def test_matplotlib_figure_and_axes_are_png_images():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([1, 2, 3])
    try:
        _png(to_content(fig))
        _png(to_content(ax))
    finally:
        plt.close(fig)


def test_pil_image_is_a_png_image():
    Image = pytest.importorskip("PIL.Image")
    data = _png(to_content(Image.new("RGB", (4, 3), "red")))
    import io

    assert Image.open(io.BytesIO(data)).size == (4, 3)
    _png(to_content(Image.new("CMYK", (2, 2))))


def test_error_is_type_and_message_only():
    try:
        raise ValueError("month must be 1-12")
    except ValueError as exc:
        text = _text(error_content(exc))
    assert text == "ValueError: month must be 1-12"
    assert "Traceback" not in text
    assert _text(error_content(RuntimeError())) == "RuntimeError"


def test_error_scrubs_secrets(monkeypatch):
    monkeypatch.setenv("MY_SERVICE_TOKEN", "s3cr3t-value-123")
    exc = RuntimeError(
        "auth failed for sk-ant-api03-AbCdEf123456789 with s3cr3t-value-123 and password=hunter22"
    )
    text = _text(error_content(exc))
    assert "sk-ant" not in text and "s3cr3t" not in text and "hunter22" not in text
    assert text.count("[redacted]") == 3
    # the one scrubber (nb_agents.scrub), with the model's marker; the header's scheme word is kept
    header = "Authorization: Bearer abcdefghijklmnop123"
    assert scrub_text(header, marker=REDACTED) == "Authorization: Bearer [redacted]"
    assert scrub_text("nothing to hide", marker=REDACTED) == "nothing to hide"


def test_tool_results_are_scrubbed_too():
    # a tool that prints a config file or the environment: the model never sees the values
    text = _text(to_content("DB_PASSWORD=hunter22x\nGITHUB_TOKEN=ghp_" + "a1" * 18 + "\nrows=12"))
    assert text == "DB_PASSWORD=[redacted]\nGITHUB_TOKEN=[redacted]\nrows=12"
    blocks = to_content([{"type": "text", "text": "key sk-ant-api03-abcdefgh"}])
    assert blocks == [{"type": "text", "text": "key [redacted]"}]


def test_tool_error_content_is_used_as_is():
    from anthropic.lib.tools import ToolError

    assert _text(error_content(ToolError("month out of range"))) == "month out of range"
    blocks = error_content(ToolError([{"type": "text", "text": "key sk-ant-xyz12345678"}]))
    assert blocks == [{"type": "text", "text": "key [redacted]"}]


def test_invalid_arguments_are_summarised():
    from nb_agents.tools.custom import as_tool

    def f(month: int) -> int:
        return month

    try:
        as_tool(f).sdk_tool.call({"month": "soon"})
    except ValueError as exc:
        text = _text(error_content(exc))
    assert text.startswith("ValueError: Invalid arguments for function f: month:")
    assert "integer" in text
