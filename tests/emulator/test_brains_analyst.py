"""The analyst, echo and brain selection, driven directly on a SessionRuntime."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from runtime_kit import answer_text, make_agent, make_runtime, text_message, validate_event, wait_idle

from nb_agents.emulator.brains import parse_directive
from nb_agents.emulator.brains.analyst import NO_FILES_TEXT, plausible_args

pytestmark = pytest.mark.anyio

CSV = (b"region,revenue,units,when,flag\n"
       b"north,10.5,3,2024-01-01,true\nsouth,,4,2024-02-01,false\neast,7.25,,2024-03-01,true\n"
       b"west,100,9,2024-04-01,false\nnorth,-2.5,1,2024-05-01,true\n")


def assert_profile_matches(profile: pd.DataFrame, df: pd.DataFrame) -> None:
    assert list(profile.columns) == ["name", "dtype", "count", "nulls", "mean", "std", "min", "max"]
    assert list(profile["name"]) == [str(c) for c in df.columns]
    numeric = df.select_dtypes("number")
    for _, row in profile.iterrows():
        col = df[row["name"]]
        assert row["dtype"] == str(col.dtype)
        assert row["count"] == col.count() and row["nulls"] == col.isna().sum()
        if row["name"] in numeric.columns:
            for stat in ("mean", "std", "min", "max"):
                assert row[stat] == pytest.approx(float(getattr(col, stat)()), rel=1e-9)
        else:
            assert all(pd.isna(row[s]) for s in ("mean", "std", "min", "max"))


async def test_analyst_profiles_a_mounted_csv_with_real_pandas(tmp_path):
    rt = make_runtime(tmp_path)
    meta = rt.store.add_file("sales 2024.csv", CSV, "text/csv")
    await rt.mount_file(meta, "/mnt/session/uploads/sales 2024.csv")
    await rt.send([text_message("Profile my table")])
    await wait_idle(rt)
    for event in rt.events:
        validate_event(event)
    [use] = [e for e in rt.events if e["type"] == "agent.tool_use"]
    assert use["name"] == "bash" and "python3" in use["input"]["command"]
    outputs = {f["filename"]: f for f in rt.store.files_for_scope(rt.sid) if f["downloadable"]}
    assert set(outputs) == {"sales_2024_profile.csv", "sales_2024_hist.png"}
    assert rt.store.file_bytes(outputs["sales_2024_hist.png"]["id"]).startswith(b"\x89PNG")
    profile = pd.read_csv(io.BytesIO(rt.store.file_bytes(outputs["sales_2024_profile.csv"]["id"])))
    assert_profile_matches(profile, pd.read_csv(io.BytesIO(CSV)))
    answer = answer_text(rt)
    assert "5 rows × 5 columns" in answer and "`revenue` 1" in answer and "not by Claude" in answer
    await rt.close("deleted")


async def test_analyst_reads_parquet_and_tsv(tmp_path):
    df = pd.DataFrame({"a": [1, 2, 3], "b": [0.5, None, 2.5], "c": ["x", "y", "z"]})
    buf = io.BytesIO()
    df.to_parquet(buf)
    rt = make_runtime(tmp_path)
    for name, data in (("t.parquet", buf.getvalue()), ("u.tsv", df.to_csv(sep="\t", index=False).encode())):
        meta = rt.store.add_file(name, data, "application/octet-stream")
        await rt.mount_file(meta, None)  # default path /mnt/session/uploads/<file_id>: no extension
    await rt.send([text_message("profile both")])
    await wait_idle(rt)
    outputs = {f["filename"]: f for f in rt.store.files_for_scope(rt.sid) if f["downloadable"]}
    for stem, source in (("t", df), ("u", pd.read_csv(io.StringIO(df.to_csv(sep="\t", index=False)), sep="\t"))):
        profile = pd.read_csv(io.BytesIO(rt.store.file_bytes(outputs[f"{stem}_profile.csv"]["id"])))
        assert_profile_matches(profile, source)
    await rt.close("deleted")


async def test_analyst_without_files_says_it_is_an_offline_emulator(tmp_path):
    rt = make_runtime(tmp_path)
    await rt.send([text_message("What is the meaning of life?")])
    await wait_idle(rt)
    assert answer_text(rt) == NO_FILES_TEXT
    assert "agent.tool_use" not in [e["type"] for e in rt.events]
    await rt.close("deleted")


async def test_analyst_calls_custom_tools_the_prompt_mentions(tmp_path):
    tool = {"type": "custom", "name": "lookup_rate", "description": "FX rate.",
            "input_schema": {"type": "object", "properties": {"currency": {"type": "string"},
                                                              "days": {"type": "integer"}},
                             "required": ["currency", "days"]}}
    rt = make_runtime(tmp_path, agent=make_agent([{"type": "agent_toolset_20260401"}, tool]))
    await rt.send([text_message("Use lookup_rate for 'EUR' over 30 days")])
    idle = await wait_idle(rt, any_idle=True)
    [use] = [e for e in rt.events if e["type"] == "agent.custom_tool_use"]
    assert idle["stop_reason"]["event_ids"] == [use["id"]]
    assert use["input"] == {"currency": "EUR", "days": 30}
    mark = len(rt.events)
    await rt.send([{"type": "user.custom_tool_result", "custom_tool_use_id": use["id"],
                    "content": [{"type": "text", "text": "1.08"}]}])
    await wait_idle(rt, after=mark)
    assert 'lookup_rate({"currency": "EUR", "days": 30})` returned: 1.08' in answer_text(rt)
    await rt.close("deleted")


def test_plausible_args_uses_defaults_enums_and_types():
    schema = {"type": "object", "required": ["a", "b", "c", "d", "e"],
              "properties": {"a": {"type": "string", "default": "dflt"}, "b": {"type": "string", "enum": ["x", "y"]},
                             "c": {"type": "number"}, "d": {"type": "boolean"}, "e": {"type": "array"}}}
    assert plausible_args(schema, "rate 2.5") == {"a": "dflt", "b": "x", "c": 2.5, "d": True, "e": []}


def test_parse_directive_strips_the_line():
    assert parse_directive("[[emulator: scenario tools]]\nplease") == ("scenario tools", "please")
    assert parse_directive("no directive") == (None, "no directive")


async def test_brain_selection_directive_metadata_and_config(tmp_path):
    rt = make_runtime(tmp_path, agent=make_agent(metadata={"emulator_brain": "echo"}))
    await rt.send([text_message("parrot me")])
    await wait_idle(rt)
    assert answer_text(rt) == "parrot me"
    mark = len(rt.events)
    await rt.send([text_message("[[emulator: scenario hello]]\nhi")])
    await wait_idle(rt, after=mark)
    assert "hello" in answer_text(rt) and "scenario" in answer_text(rt)
    mark = len(rt.events)
    await rt.send([text_message("[[emulator: scenario no_such_thing]]")])
    await wait_idle(rt, after=mark)
    assert "unknown scenario 'no_such_thing'" in answer_text(rt) and "tools" in answer_text(rt)
    await rt.close("deleted")
    rt2 = make_runtime(tmp_path, brain="echo")
    await rt2.send([text_message("[[EMULATOR: echo]]\n\nsaid back")])
    await wait_idle(rt2)
    assert answer_text(rt2) == "said back"
    assert json.dumps(rt2.events)  # wire dicts are plain JSON
    await rt2.close("deleted")


async def test_two_tables_with_one_name_keep_separate_outputs(tmp_path):
    rt = make_runtime(tmp_path)
    for content in (b"x\n1\n2\n", b"y,z\n3,4\n"):
        meta = rt.store.add_file("data.csv", content, "text/csv")
        await rt.mount_file(meta, None)
    await rt.send([text_message("profile")])
    await wait_idle(rt)
    names = sorted(f["filename"] for f in rt.store.files_for_scope(rt.sid) if f["downloadable"])
    assert names == ["data_2_hist.png", "data_2_profile.csv", "data_hist.png", "data_profile.csv"]
    await rt.close("deleted")


def test_a_self_hosted_session_profiles_the_local_paths_its_prompt_names() -> None:
    from nb_agents.emulator.brains.analyst import local_tables
    from nb_agents.emulator.brains.profile_script import LOCAL_OUTPUTS, profile_command

    prompt = ("Profile `readings` (a pandas DataFrame saved in the working folder at `inputs/readings.parquet`)."
              "\n\n### Input `readings` (pandas DataFrame) at `inputs/readings.parquet`\n`notes.md` is not a table")
    assert local_tables(prompt) == [{"filename": "readings.parquet", "mount_path": "inputs/readings.parquet"}]
    command = profile_command("inputs/readings.parquet", "readings.parquet", out=LOCAL_OUTPUTS)
    assert 'out = "outputs/"' in command and "/mnt/session" not in command
