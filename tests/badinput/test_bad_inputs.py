"""Bad input, part 2: what the prompt and the uploads refer to ({{name}}, DataFrames, files, tools).

Each is one line naming the culprit (asserted verbatim), raised before anything is sent, so the
server sees no session and no upload; the user's variables are intact (the `ip` fixture checks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import nb_agents
from nb_agents.errors import FileSyncError, InterpolationError, ToolSetupError


def cell(ip: Any, line: str, body: str) -> Any:
    return ip.run_cell_magic("agent", line, body)


def _sessions(emu: Any) -> int:
    return len(list(emu.client().beta.sessions.list(limit=100)))


def test_unknown_name(ip: Any, emu: Any) -> None:
    ip.user_ns["sales"] = 1
    before = _sessions(emu)
    with pytest.raises(InterpolationError) as info:
        cell(ip, "", "use {{slaes}} here")
    assert str(info.value) == "{{slaes}}: name 'slaes' is not defined (did you mean 'sales'?)"
    assert _sessions(emu) == before  # nothing was sent
    cell(ip, "", "use {{sales}} here")  # the next cell works as if the failed one never ran
    run = ip.user_ns["_agent"]
    assert run.stop_reason == "end_turn" and _sent(run) == "use 1 here"


def _sent(run: Any) -> str:
    """The text of the user message the server received for `run`."""
    users = [e for e in run.events if e.type == "user.message"]
    return "".join(block.text for block in users[-1].content)


def test_json_f_strings_and_templates_are_sent_verbatim(ip: Any) -> None:
    ip.user_ns.update(literal="LEAK", name="Ada")
    body = ('Fix print(f"{{literal}}") and parse {"a":{"b":{"c":{"d":1}}}}; '
            "render {{ user.name }} and {% if x %}{{x}}{% endif %} for {{name}}")
    expected = body.replace("for {{name}}", "for Ada")
    dry = cell(ip, "--dry-run", body)
    assert dry.prompt == expected  # the dry run shows exactly what is sent
    cell(ip, "", body)
    assert _sent(ip.user_ns["_agent"]) == expected


def test_failing_attribute(ip: Any) -> None:
    import pandas as pd

    ip.user_ns["df"] = pd.DataFrame({"a": [1, 2]})
    with pytest.raises(InterpolationError) as info:
        cell(ip, "", "use {{df.nocolumn}}")
    assert (
        str(info.value) == "{{df.nocolumn}}: DataFrame has no attribute 'nocolumn' (did you mean 'columns'?)"
    )


def test_failing_index(ip: Any) -> None:
    ip.user_ns["d"] = {"a": 1}
    with pytest.raises(InterpolationError) as info:
        cell(ip, "", "use {{d['zz']}}")
    assert str(info.value) == "{{d['zz']}}: ['zz'] failed (KeyError)"


def test_a_call_in_braces_is_refused(ip: Any) -> None:
    ip.user_ns["d"] = {"a": 1}
    with pytest.raises(InterpolationError) as info:
        cell(ip, "", "use {{d.clear()}}")
    assert str(info.value) == "{{d.clear()}}: only names, .attributes and [index] are allowed (no calls)"
    assert ip.user_ns["d"] == {"a": 1}  # and of course it did not run


def test_private_attribute_is_refused(ip: Any) -> None:
    ip.user_ns["d"] = {"a": 1}
    with pytest.raises(InterpolationError) as info:
        cell(ip, "", "{{d.__class__}}")
    assert str(info.value) == "{{d.__class__}}: private attribute '__class__' is not allowed"


def test_non_dataframe_in_the_prompt_is_inlined_as_text(ip: Any) -> None:
    class Model:
        def __str__(self) -> str:
            return "Model(depth=3)"

    ip.user_ns["model"] = Model()
    dry = cell(ip, "--dry-run", "tune {{model}}")
    assert dry.prompt == "tune Model(depth=3)" and dry.uploads == ()


def test_non_dataframe_upload(ip: Any) -> None:
    with pytest.raises(FileSyncError) as info:
        nb_agents.session("x").ask("hi", files=[object()], live=False)
    assert str(info.value) == (
        "cannot upload a builtins.object: supported are pandas DataFrame/Series, "
        "polars DataFrame/Series, a file path or a directory path"
    )


def test_missing_file(ip: Any, emu: Any) -> None:
    before = emu.stats["requests:POST /v1/files"]
    with pytest.raises(FileSyncError) as info:
        cell(ip, "--files nothere.csv", "hi")
    assert str(info.value) == "no such file or directory: nothere.csv"
    assert emu.stats["requests:POST /v1/files"] == before


def test_empty_directory(ip: Any, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileSyncError) as info:
        cell(ip, f"--files {tmp_path / 'empty'}", "hi")
    assert str(info.value) == f"directory {tmp_path / 'empty'} has no files to upload"


def test_file_over_the_limit(ip: Any, emu: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nb_agents.files.sync as files

    monkeypatch.setattr(files, "MAX_FILE_BYTES", 10)  # stands for 500 MB: no need to write that much
    big = tmp_path / "big.csv"
    big.write_text("a,b\n1,2\n3,4\n")
    before = emu.stats["requests:POST /v1/files"]
    with pytest.raises(FileSyncError) as info:
        cell(ip, f"--files {big}", "hi")
    assert str(info.value) == f"{big} is 12 B; the Files API limit is 500 MB per file"
    assert emu.stats["requests:POST /v1/files"] == before  # refused before any upload


def test_unknown_tool_name(ip: Any) -> None:
    ip.user_ns["get_weather"] = lambda city: "sunny"
    with pytest.raises(ToolSetupError) as info:
        cell(ip, "--tools get_wether", "hi")
    assert (
        str(info.value)
        == "--tools: no function named 'get_wether' in the notebook; did you mean 'get_weather'?"
    )


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_awkward_dataframes_upload_faithfully_with_a_note(ip: Any, emu: Any, fmt: str) -> None:
    import io

    import pandas as pd

    dup = pd.DataFrame([[1, 2]], columns=["a", "a"])
    mixed = pd.DataFrame({"m": [1, "x", 2.5, None]})
    cplx = pd.DataFrame({"z": [1 + 2j, 3j]})
    ip.user_ns.update(dup=dup, mixed=mixed, cplx=cplx)
    cell(ip, f"--format {fmt}", "profile {{dup}} {{mixed}} {{cplx}}")
    run = ip.user_ns["_agent"]
    assert run.stop_reason == "end_turn"
    sent = _sent(run)
    assert "Duplicate column names were made unique in the file ('a' -> 'a.1')" in sent
    assert "Column 'z' (complex128) is stored as text like '(1+2j)'" in sent
    assert ("Column 'm' mixes float, int, str values: stored as text" in sent) == (fmt == "parquet")
    from nb_agents.files import inputs  # the bytes that were uploaded (uploads are not downloadable)

    data = inputs.expand_inputs({"cplx": cplx}, fmt=fmt)[0].payload()
    back = pd.read_parquet(io.BytesIO(data)) if fmt == "parquet" else pd.read_csv(io.BytesIO(data))
    assert back["z"].astype(complex).tolist() == cplx["z"].tolist()  # faithful once restored as the card says


def test_a_frame_that_cannot_be_written_is_one_line_before_anything_is_sent(
        ip: Any, emu: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    def refuse(self: Any, *a: Any, **k: Any) -> None:
        raise ValueError("Unsupported numpy type 42\nmore detail")

    ip.user_ns["odd"] = pd.DataFrame({"a": [1]})
    before = (_sessions(emu), emu.stats["requests:POST /v1/files"])
    with monkeypatch.context() as patch:
        patch.setattr(pd.DataFrame, "to_parquet", refuse)
        with pytest.raises(FileSyncError) as info:
            cell(ip, "", "profile {{odd}}")
    assert str(info.value) == "cannot write odd as parquet: Unsupported numpy type 42 (try --format csv)"
    assert (_sessions(emu), emu.stats["requests:POST /v1/files"]) == before
    cell(ip, "", "profile {{odd}}")  # the next cell works as if the failed one never ran
    assert ip.user_ns["_agent"].stop_reason == "end_turn"
