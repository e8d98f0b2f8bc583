"""%%agent through a real InteractiveShell against the emulator: every option."""

from __future__ import annotations

import pytest

from nb_agents.errors import AgentAPIError, ConfigError, InterpolationError, NoBackendError
from nb_agents.run import DryRun, Run

ECHO = "[[emulator: echo]]\n"


def cell(ip, line, body):
    return ip.run_cell_magic("agent", line, body)


def test_a_cell_runs_a_turn_and_returns_a_run(ip, capsys):
    assert cell(ip, "--out r", ECHO + "hello agent") is None
    run = ip.user_ns["r"]
    assert isinstance(run, Run) and ip.user_ns["_agent"] is run
    assert run.text == "hello agent"
    assert run.stop_reason == "end_turn" and run.session_id.startswith("sesn_")
    assert run.elapsed > 0 and run.usage.output_tokens > 0
    assert [m.text for m in run.messages] == ["hello agent"]
    assert run.tool_calls == [] and run.outputs == {}
    types = [e.type for e in run.events]
    assert types[0] == "session.status_running" and types[-1] == "session.status_idle"
    assert "user.message" in types and "agent.message" in types
    bundle = run._repr_mimebundle_()
    assert "hello agent" in bundle["text/plain"] and "hello agent" in bundle["text/html"]
    assert "hello agent" in capsys.readouterr().out  # the text-mode live view printed it
    assert run.transcript.offline is True


def test_cells_continue_the_session_new_and_named_sessions(ip, emu):
    cell(ip, "-o a", ECHO + "one")
    cell(ip, "-o b", ECHO + "two")
    a, b = ip.user_ns["a"], ip.user_ns["b"]
    assert a.session_id == b.session_id and b.text == "two"
    cell(ip, "--new -o c", ECHO + "three")
    assert ip.user_ns["c"].session_id != a.session_id
    cell(ip, "--session other -o d", ECHO + "four")
    cell(ip, "-s other -o e", ECHO + "five")
    d, e = ip.user_ns["d"], ip.user_ns["e"]
    assert d.session_id == e.session_id != ip.user_ns["c"].session_id
    # the old turn's idle never ends a new turn early: each run holds only its own messages
    assert [m.text for m in e.messages] == ["five"]


def test_agent_and_environment_are_reused_and_updated_by_version(ip, emu):
    from nb_agents.api import make_client

    cell(ip, "-o a", ECHO + "x")
    cell(ip, "--new -o b", ECHO + "y")
    client = make_client()
    agents = [a for a in client.beta.agents.list() if a.name == "nb-agents"]
    envs = [e for e in client.beta.environments.list() if e.name == "nb-agents"]
    assert len(agents) == 1 and len(envs) == 1
    version = agents[0].version
    cell(ip, "--new --model claude-opus-4-7 -o c", ECHO + "z")
    agents = [a for a in client.beta.agents.list() if a.name == "nb-agents"]
    assert len(agents) == 1 and agents[0].version == version + 1
    assert agents[0].model.id == "claude-opus-4-7"
    # a new process finds the same agent again by name + config hash (no new version)
    from nb_agents.api import client as client_mod

    client_mod._cache.clear()
    cell(ip, "--new --model claude-opus-4-7 -o d", ECHO + "w")
    agents = [a for a in client.beta.agents.list() if a.name == "nb-agents"]
    assert len(agents) == 1 and agents[0].version == version + 1


def test_system_title_agent_environment_flags(ip, emu):
    from nb_agents.api import make_client

    cell(ip, "--new --system 'Be brief.' --title 'my title' -o r", ECHO + "x")
    client = make_client()
    remote = client.beta.sessions.retrieve(ip.user_ns["r"].session_id)
    assert remote.title == "my title" and remote.agent.system == "Be brief."
    agent_id, env_id = remote.agent.id, remote.environment_id
    cell(ip, f"--new --agent {agent_id} --environment {env_id} -o s", ECHO + "y")
    other = client.beta.sessions.retrieve(ip.user_ns["s"].session_id)
    assert other.id != remote.id and other.agent.id == agent_id and other.environment_id == env_id


def test_quiet_and_verbose_reach_the_run_and_view(ip, capsys):
    cell(ip, "--quiet -o q", ECHO + "only the answer")
    assert ip.user_ns["q"].quiet is True
    assert "only the answer" in capsys.readouterr().out
    cell(ip, "--verbose -o v", ECHO + "more")
    assert ip.user_ns["v"].verbose is True


LINES_CMD = "printf 'first line\\nsecond line\\nthird line\\n'"


def test_verbose_shows_whole_tool_results_in_the_terminal(ip, scenario, capsys):
    steps = [{"tool": "bash", "input": {"command": LINES_CMD}}, {"say": "ok"}]
    capsys.readouterr()
    cell(ip, "-o q", scenario(steps, "brief") + "go")
    brief = capsys.readouterr().out
    # the command itself names every line: look for result lines (indented under the call)
    assert "\n    first line" in brief and "\n    third line" not in brief  # a result's first line only
    cell(ip, "--verbose -o v", scenario(steps, "full") + "go")
    full = capsys.readouterr().out
    assert "    first line\n    second line\n    third line" in full  # the whole result
    assert "\n    third line" in ip.user_ns["v"]._repr_mimebundle_()["text/plain"]
    assert "\n    third line" not in ip.user_ns["q"]._repr_mimebundle_()["text/plain"]


def test_verbose_reaches_the_saved_text_copy(ip, scenario, monkeypatch):
    from IPython.utils.capture import capture_output

    monkeypatch.setenv("NB_AGENTS_VIEW", "widget")
    steps = [{"tool": "bash", "input": {"command": LINES_CMD}}, {"say": "ok"}]
    saved = {}
    for flags in ("", "--verbose"):
        with capture_output() as cap:
            cell(ip, f"{flags} -o r", scenario(steps, f"s{len(flags)}") + "go")
        [static] = [o.data for o in cap.outputs if "text/plain" in o.data and "text/html" in o.data]
        saved[flags] = static["text/plain"]
    assert "\n    first line" in saved[""] and "\n    third line" not in saved[""]
    assert "first line\n    second line\n    third line" in saved["--verbose"]


def test_interpolation_in_cells(ip):
    ip.user_ns["city"] = "Lyon"
    ip.user_ns["cfg"] = {"year": 2024}
    cell(ip, "-o r", ECHO + "weather in {{city}} for {{cfg['year']}}; code {x: 1}")
    assert ip.user_ns["r"].text == "weather in Lyon for 2024; code {x: 1}"
    cell(ip, "--no-interpolate -o r", ECHO + "keep {{city}}")
    assert ip.user_ns["r"].text == "keep {{city}}"
    with pytest.raises(InterpolationError, match=r"did you mean 'city'"):
        cell(ip, "", "about {{ctiy}}")


def test_dry_run_spends_nothing(ip, emu):
    import pandas as pd

    ip.user_ns["sales"] = pd.DataFrame({"m": [1, 2], "rev": [3.0, 4.0]})
    before = emu.stats["requests"]
    result = cell(ip, "--dry-run", "Profile {{sales}} in {{sales.shape}}")
    assert isinstance(result, DryRun)
    assert emu.stats["requests"] == before
    assert result.uploads == ("sales (pandas DataFrame, will upload)",) and "(2, 2)" in result.prompt
    assert "nothing sent" in repr(result) and "text/html" in result._repr_mimebundle_()


def test_unknown_flag_and_empty_cell_are_one_line_errors(ip):
    with pytest.raises(ConfigError, match=r"unknown option --modle \(did you mean '--model'\?\)"):
        cell(ip, "--modle x", "hi")
    with pytest.raises(ConfigError, match="cell is empty"):
        cell(ip, "", "   \n")
    with pytest.raises(ConfigError, match="timeout"):
        cell(ip, "--timeout soon", "hi")


def test_errors_show_as_one_line_in_a_cell(ip, capsys):
    ip.run_cell("%%agent --agent agent_doesnotexist --new\nhi")
    out = capsys.readouterr()
    text = out.out + out.err
    assert "API error 404" in text and "Traceback" not in text


def test_short_errors_false_shows_tracebacks(ip):
    ip.run_line_magic("config", "AgentMagic.short_errors = False")
    try:
        with pytest.raises(RuntimeError, match="API error 404") as info:
            cell(ip, "--agent agent_doesnotexist --new", "hi")
        assert isinstance(info.value.__cause__, Exception)
    finally:
        ip.run_line_magic("config", "AgentMagic.short_errors = True")


def test_no_backend_is_one_line(ip, emu, monkeypatch):
    from nb_agents.api import client

    with client.using_emulator(None), pytest.raises(NoBackendError, match="ANTHROPIC_API_KEY.*%agent offline"):
        cell(ip, "-s nobackend", "hi")


def test_api_errors_are_agent_api_errors(ip):
    with pytest.raises(AgentAPIError, match=r"API error 404 \(not_found_error\).*\[request_id: "):
        cell(ip, "--agent agent_doesnotexist --new", "hi")


def test_config_traits_feed_the_cell(ip, emu):
    ip.run_line_magic("config", "AgentMagic.title = 'from config'")
    try:
        cell(ip, "--new -o r", ECHO + "x")
        from nb_agents.api import make_client

        assert make_client().beta.sessions.retrieve(ip.user_ns["r"].session_id).title == "from config"
    finally:
        ip.run_line_magic("config", "AgentMagic.title = ''")


def test_dataframes_are_uploaded_and_outputs_come_back(ip, emu, tmp_path, monkeypatch):
    import pandas as pd

    monkeypatch.chdir(tmp_path)
    ip.user_ns["sales"] = pd.DataFrame({"month": ["2024-01", "2024-02", "2024-03"], "revenue": [1.0, 2.5, 4.0]})
    cell(ip, "-o run", "[[emulator: analyst]]\nProfile {{sales}} please.")
    run = ip.user_ns["run"]
    sent = run.transcript.user_messages[0].text
    assert "`sales` (a pandas DataFrame mounted at `/mnt/session/uploads/sales.parquet`)" in sent
    assert "### Input `sales`" in sent  # the schema card
    assert run.stop_reason == "end_turn" and run.tool_calls
    assert run.outputs, run.text
    for artifact in run.outputs.values():
        assert artifact.path.is_file() and str(artifact.path).startswith(str(tmp_path / "agent_outputs" / "default"))
    tables = [a for a in run.outputs.values() if a.path.suffix == ".csv"]
    assert tables and tables[0].load().shape[0] >= 1
    # the same, unchanged frame is not uploaded again on the next cell
    uploads = emu.stats["uploads"]
    cell(ip, "-o again", "[[emulator: echo]]\nstill {{sales}}")
    assert emu.stats["uploads"] == uploads


def test_files_and_sample_flags(ip, emu, tmp_path):
    data = tmp_path / "notes.txt"
    data.write_text("hello")
    result = cell(ip, f"--dry-run --files {data} --sample 0", "read it")
    assert result.uploads == (f"{data} (file, will upload)",)
    cell(ip, f"--files {data} --sample 0 -o r", "[[emulator: echo]]\nread it")
    sent = ip.user_ns["r"].transcript.user_messages[0].text
    assert "/mnt/session/uploads/notes.txt" in sent


def test_config_magic_lists_every_option_with_help(ip, capsys):
    ip.run_line_magic("config", "AgentMagic")
    out = capsys.readouterr().out
    for name in ("model", "system", "timeout", "short_errors", "outputs_dir", "offline", "record_dir"):
        assert f"AgentMagic.{name}" in out
    assert "Interrupt a foreground run after this many seconds" in out


def test_hostile_agent_text_is_sanitized_in_the_static_copy(ip):
    hostile = (
        "<script>alert(1)</script> <img src=x onerror=alert(2)> "
        "[click](javascript:alert(3)) <b onclick='x()'>bold</b>"
    )
    from html.parser import HTMLParser

    cell(ip, "--no-interpolate -o r", ECHO + hostile)
    tags: list[tuple[str, list]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append((tag, attrs))

    Collect().feed(ip.user_ns["r"]._repr_mimebundle_()["text/html"])
    assert tags and not [t for t, _ in tags if t in ("script", "img", "iframe")]
    attrs = [(k, v or "") for _, a in tags for k, v in a]
    assert not [k for k, _ in attrs if k.startswith("on")]
    assert not [v for k, v in attrs if k in ("href", "src") and v.strip().lower().startswith("javascript")]


def test_one_line_errors_through_run_cell(ip, capsys):
    ip.run_cell("%%agent --modle x\nhi")
    err = capsys.readouterr().err
    assert err.strip() == "ConfigError: %%agent: unknown option --modle (did you mean '--model'?)"


def test_changing_the_model_mid_session_says_it_needs_a_new_session(ip):
    from nb_agents.transcript import Notice

    cell(ip, "-o a", ECHO + "one")
    cell(ip, "--model claude-opus-4-7 -o b", ECHO + "two")
    b = ip.user_ns["b"]
    assert b.session_id == ip.user_ns["a"].session_id
    notes = [i.text for i in b.transcript.items if isinstance(i, Notice)]
    assert any("keeps model claude-sonnet-4-6" in n and "--new" in n for n in notes)
    cell(ip, "--new --model claude-opus-4-7 -o c", ECHO + "three")
    assert not [i for i in ip.user_ns["c"].transcript.items if isinstance(i, Notice)]


def test_widget_view_holds_the_final_transcript(ip, monkeypatch):
    import nb_agents.view.widget as widget_mod
    from nb_agents.sessions import Turn

    monkeypatch.setenv("NB_AGENTS_VIEW", "widget")
    views = []

    class Recording(widget_mod.LiveView):
        def __init__(self, *args, **kw):
            super().__init__(*args, **kw)
            views.append(self)

    monkeypatch.setattr(Turn, "view_class", Recording)
    cell(ip, "-o r", ECHO + "shown in the widget")
    (view,) = views
    assert view.mode == "widget" and view.widget is not None
    html = "".join(getattr(child, "value", "") for child in view.widget.children)
    assert "shown in the widget" in html and "offline emulator" in html.lower()
    assert 1 <= view.sync_count <= 20
