"""View hardening: control characters from tool output never reach HTML or text verbatim, a
nameless tool use shows as '?', and calls still open when the session stops are closed."""

from __future__ import annotations

import re

from transcript_builders import B

from nb_agents.events import event_from_json
from nb_agents.transcript import empty, fold_all
from nb_agents.view.html import render_html
from nb_agents.view.sanitize import neutralize_controls
from nb_agents.view.text import render_item_text, render_text

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def run(*events):
    return fold_all(empty(), events)


def test_controls_become_visible_pictures_and_crlf_a_newline():
    assert (
        neutralize_controls("a\x00b\x1b[2Jc\rd\x07\x7f\x9b") == "a\u2400b\u241b[2Jc\u240dd\u2407\u2421\ufffd"
    )
    assert neutralize_controls("one\r\ntwo\tthree\n") == "one\ntwo\tthree\n"
    assert neutralize_controls("a\r\r\nb\r") == "a\u240d\nb\u240d"  # only the CR right before a LF goes
    assert neutralize_controls("plain é ✓") == "plain é ✓"


def test_tool_output_controls_are_neutralised_in_html_and_text():
    b = B()
    use = b.tool_use("bash", {"command": "printf '\\033]0;pwned\\007'"})
    t = run(b.running(), use, b.tool_result(use.id, "\x1b]0;pwned\x07\x1b[2Jgone\r\x00"), b.idle())
    for out in (render_html(t, verbose=True), render_text(t, verbose=True), render_item_text(t.items[0])):
        assert "gone" in out and not CONTROL.search(out)
    assert "\u241b]0;pwned\u2407\u241b[2Jgone" in render_text(t, verbose=True)
    assert "gone\u240d\u2400" in render_html(t, verbose=True)


def test_a_nameless_tool_use_shows_a_question_mark_and_no_result_after_the_idle():
    b = B()
    nameless = event_from_json({"type": "agent.tool_use", "id": "sevt_X", "processed_at": b.stamp()})
    t = run(b.running(), nameless, b.msg("after"), b.idle())
    call = t.items[0]
    assert call.name == "" and call.status == "ended" and call.final
    text = render_text(t)
    assert "> ? " in text and "no result]" in text and "None" not in text and "[running]" not in text
    html = render_html(t).split("</style>")[-1]
    assert '<span class="nba-tn">?</span>' in html and "no result" in html and "running" not in html


def test_requires_action_keeps_calls_waiting_and_a_late_result_still_lands():
    b = B()
    custom = b.ev("agent.custom_tool_use", name="lookup", input={"key": "k"})
    t = run(b.running(), custom, b.idle("requires_action", event_ids=[custom.id]))
    assert t.items[0].status == "waiting"
    use = b.tool_use("bash", {"command": "sleep 9"})
    t = fold_all(t, [b.running(), use, b.idle()])
    assert t.get(use.id).status == "ended"
    t = fold_all(t, [b.tool_result(use.id, "late")])
    assert t.get(use.id).status == "done" and t.get(use.id).result_text == "late"


def test_termination_closes_open_calls():
    b = B()
    use = b.tool_use("bash", {"command": "sleep 9"})
    t = run(b.running(), use, b.ev("session.status_terminated"))
    assert t.items[0].status == "ended" and "no result" in render_text(t)
