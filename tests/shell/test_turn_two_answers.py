"""Turn stop rule: two custom tool calls answered in one send. The emulator applies the answers
one at a time and re-emits the `requires_action` idle for the second call in between; the turn
must keep reading (nothing is left unanswered), not stop and show the call as waiting."""

from __future__ import annotations

from nb_agents.transcript import Notice


def test_two_calls_answered_in_one_send_end_the_turn_normally(ip, scenario):
    calls = []

    def get_weather(city: str) -> str:
        """Weather of a city."""
        calls.append(city)
        return f"sunny in {city}"

    ip.user_ns["get_weather"] = get_weather
    steps = [
        {
            "tools": [
                {"custom_tool": "get_weather", "input": {"city": "Paris"}},
                {"custom_tool": "get_weather", "input": {"city": "Rome"}},
            ]
        },
        {"say": "Both answered."},
    ]
    ip.run_cell_magic("agent", "--tools get_weather --timeout 30 -o r", scenario(steps) + "go")
    run = ip.user_ns["r"]
    assert sorted(calls) == ["Paris", "Rome"]
    assert run.stop_reason == "end_turn" and run.text == "Both answered." and not run.interrupted
    assert [c.status for c in run.tool_calls] == ["done", "done"]
    notes = [i.text for i in run.transcript.items if isinstance(i, Notice)]
    assert not any(n.startswith("waiting:") for n in notes), notes
    idles = [e for e in run.events if e.type == "session.status_idle"]
    assert [i.stop_reason.type for i in idles][-1] == "end_turn"
