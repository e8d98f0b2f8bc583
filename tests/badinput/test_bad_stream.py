"""Bad input, part 4: what comes back is strange — broken SSE frames, unknown or incomplete events,
huge, binary or non-UTF-8 tool output, hostile markdown and file names, a tool nobody answers.

Each run ends (no hang, no traceback), what arrived is kept, and the rendering is safe."""

from __future__ import annotations

import json
import re
import time
import types
from pathlib import Path
from typing import Any

from hostile_server import HostileProxy

import nb_agents.api.client as nb_client
from nb_agents.view import render_text, static_bundle

ECHO = "[[emulator: echo]]\n"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # C0 controls but \t and \n (ESC is \x1b)


def cell(ip: Any, line: str, body: str) -> Any:
    return ip.run_cell_magic("agent", line, body)


def _tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every start tag (name, attributes) a browser would build from `html`."""
    from html.parser import HTMLParser

    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Collect().feed(html)
    return found


def notes(run: Any) -> list[str]:
    return [i.text for i in run.transcript.items if type(i).__name__ == "Notice"]


def test_malformed_sse_frame(ip: Any, emu: Any, scenario: Any, exit_stack: Any) -> None:
    garbled: list[bytes] = []

    def garble(line: bytes) -> bytes:
        if line.startswith(b"data:") and b'"agent.message"' in line and not garbled:
            garbled.append(line)
            return b"data: {not json at all\n"
        return line

    with HostileProxy(emu.base_url, sse=garble) as proxy:
        exit_stack.enter_context(nb_client.using_emulator(types.SimpleNamespace(base_url=proxy.base_url)))
        # The delay: the message must come on the stream, after the backfill (else the backfill
        # alone ends the turn and the broken frame is never read).
        cell(ip, "-o r", scenario([{"delay": 0.5}, {"say": "survive a broken frame"}]) + "go")
    run = ip.user_ns["r"]
    assert garbled, "the proxy never saw the frame to break"
    assert run.text == "survive a broken frame" and run.stop_reason == "end_turn"
    assert any(n.startswith("reconnecting… (") for n in notes(run))


def test_unknown_event_type_is_passed_over(ip: Any, scenario: Any) -> None:
    cell(ip, "-o r", scenario([{"event": {"type": "agent.future_thing", "foo": 1}}, {"say": "after"}]) + "go")
    run = ip.user_ns["r"]
    assert run.text == "after" and run.stop_reason == "end_turn"
    assert run.transcript.unknown_count == 1
    assert "future_thing" not in render_text(run.transcript)


def test_events_with_missing_fields(ip: Any, scenario: Any) -> None:
    steps = [{"event": {"type": "agent.message"}}, {"event": {"type": "agent.tool_use"}}, {"say": "after"}]
    cell(ip, "-o r", scenario(steps) + "go")
    run = ip.user_ns["r"]
    assert run.stop_reason == "end_turn" and run.text == "after"  # the empty message adds nothing
    assert len(run.tool_calls) == 1  # kept, shown (named "?", closed by the idle)
    bundle = static_bundle(run.transcript)
    assert "after" in bundle["text/plain"] and "after" in bundle["text/html"]


def test_a_nameless_tool_use_is_not_shown_as_none_running(ip: Any, scenario: Any) -> None:
    cell(ip, "-o r", scenario([{"event": {"type": "agent.tool_use"}}, {"say": "after"}]) + "go")
    text = render_text(ip.user_ns["r"].transcript)
    assert "> None" not in text and "[running]" not in text


def test_huge_tool_output_is_bounded(ip: Any, scenario: Any) -> None:
    """100 MB printed by a tool: the SDK's toolset keeps its own limit of it (2.10: the last 100 KiB;
    2.17: the first 30,000 characters and a note naming the file with the rest), the view a few lines."""
    from anthropic.lib.tools.agent_toolset import BASH_OUTPUT_LIMIT

    steps = [
        {"tool": "bash", "input": {"command": "head -c 100000000 /dev/zero | tr '\\0' a"}},
        {"say": "done"},
    ]
    t0 = time.monotonic()
    cell(ip, "-o r", scenario(steps) + "go")
    run = ip.user_ns["r"]
    assert time.monotonic() - t0 < 30
    kept = len(run.tool_calls[0].result_text)
    assert run.text == "done" and 0.9 * BASH_OUTPUT_LIMIT < kept < BASH_OUTPUT_LIMIT + 1_000
    bundle = static_bundle(run.transcript)
    assert len(bundle["text/html"]) < 20_000 and len(bundle["text/plain"]) < 5_000


def test_binary_tool_output_is_shown_as_text(ip: Any, scenario: Any) -> None:
    steps = [{"tool": "bash", "input": {"command": "head -c 2000 /dev/urandom"}}, {"say": "ok"}]
    cell(ip, "-o r", scenario(steps) + "go")
    run = ip.user_ns["r"]
    result = run.tool_calls[0].result_text
    assert run.text == "ok" and "\ufffd" in result  # undecodable bytes became U+FFFD
    bundle = static_bundle(run.transcript, verbose=True)
    json.dumps(bundle)  # storable in a notebook (NUL and other controls are JSON-escaped)


def test_binary_tool_output_has_no_control_characters_in_html(ip: Any, scenario: Any) -> None:
    steps = [{"tool": "bash", "input": {"command": "printf 'a\\000b\\001c'"}}, {"say": "ok"}]
    cell(ip, "-o r", scenario(steps) + "go")
    html = static_bundle(ip.user_ns["r"].transcript, verbose=True)["text/html"]
    assert "a" in html and not CONTROL.search(html)


def test_terminal_escapes_in_tool_output_are_neutralised(ip: Any, scenario: Any, capsys: Any) -> None:
    steps = [
        {"tool": "bash", "input": {"command": "printf '\\033]0;pwned\\007\\033[2Jgone\\r'"}},
        {"say": "ok"},
    ]
    capsys.readouterr()
    cell(ip, "--verbose -o r", scenario(steps) + "go")
    printed = capsys.readouterr().out
    assert "gone" in printed
    assert not CONTROL.search(printed)


def test_non_utf8_output(ip: Any, scenario: Any) -> None:
    """Non-UTF-8 bytes: shown as U+FFFD in the tool result; an output file comes home byte for byte."""
    cmd = "printf 'caf\\xe9 \\xff end' | tee /mnt/session/outputs/latin1.txt"
    cell(ip, "-o r", scenario([{"tool": "bash", "input": {"command": cmd}}, {"say": "ok"}]) + "go")
    run = ip.user_ns["r"]
    assert run.tool_calls[0].result_text == "caf\ufffd \ufffd end"
    assert run.outputs["latin1.txt"].path.read_bytes() == b"caf\xe9 \xff end"


def test_hostile_markdown_and_html_in_agent_text(ip: Any, scenario: Any) -> None:
    text = (
        "<script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3)) "
        '<iframe src=\'http://evil\'></iframe> <a href="http://ok.example" onclick="alert(4)">a</a> **ok**'
    )
    cell(ip, "-o r", scenario([{"say": text}]) + "go")
    run = ip.user_ns["r"]
    assert run.text == text  # the data is kept verbatim
    html = run._repr_mimebundle_()
    html = html[0]["text/html"] if isinstance(html, tuple) else html["text/html"]
    body = html.split("</style>")[-1]
    assert "<strong>ok</strong>" in body
    tags = _tags(body)
    assert {"script", "img", "iframe", "style"}.isdisjoint(t for t, _ in tags), tags
    attrs = [(t, k, v or "") for t, a in tags for k, v in a]
    assert not [x for x in attrs if x[1].startswith("on") or "javascript:" in x[2].lower()], attrs
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body  # shown as text


def test_hostile_output_file_names_stay_in_the_outputs_folder(ip: Any, tmp_path: Path) -> None:
    cell(ip, "-o r", "[[emulator: scenario hostile_outputs]]\ngo")
    run = ip.user_ns["r"]
    root = (tmp_path / "outputs").resolve()
    assert run.outputs, "nothing was pulled"
    for name, artifact in run.outputs.items():
        path = artifact.path.resolve()
        assert path.is_relative_to(root), (name, path)
        assert "\x00" not in str(path) and ".." not in Path(name).parts
    assert not (tmp_path / "escape.txt").exists() and not Path("/tmp/escape.txt").exists()


def test_custom_tool_nobody_answers_is_shown_waiting(ip: Any, scenario: Any) -> None:
    t0 = time.monotonic()
    cell(ip, "-o r", scenario([{"custom_tool": "get_weather", "input": {"city": "Paris"}}]) + "go")
    run = ip.user_ns["r"]
    assert time.monotonic() - t0 < 10 and run.stop_reason == "requires_action"
    assert notes(run)[-1] == (
        "waiting: the agent needs custom tool `get_weather` (no function in this kernel answers it); "
        "the session stays idle until it gets an answer"
    )
