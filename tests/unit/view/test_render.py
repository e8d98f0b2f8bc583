"""The pure renderers: what the status line, items and footer say, in HTML and text."""

from __future__ import annotations

import base64

from html_checks import assert_safe, tags_of
from transcript_builders import B, text_blocks

from nb_agents.transcript import empty, fold_all, with_image, with_inputs, with_notice
from nb_agents.view import common
from nb_agents.view.html import render_body, render_header, render_html, render_item
from nb_agents.view.text import render_text

NOW = 1795579300.0  # a fixed "now" for the elapsed time of running transcripts


def run(*events, **meta):
    return fold_all(empty(**meta), events)


def test_status_line_states():
    b = B()
    assert "starting" in render_header(empty())
    t = run(b.running(), offline=True, title="My analysis")
    header = render_header(t, now=t.started_at + 12.34)
    assert "nba-running" in header and ">running<" in header and "offline emulator" in header
    assert "My analysis" in header and "12.3 s" in header
    assert ">idle<" in render_header(run(b.running(), b.idle()))
    assert "rescheduling" in render_header(run(b.running(), b.ev("session.status_rescheduled")))
    assert "nba-error" in render_header(run(b.running(), b.ev("session.status_terminated")))
    assert ">interrupted<" in render_header(run(b.running(), b.ev("user.interrupt", id=""), b.idle()))
    assert "waiting for input" in render_header(run(b.idle("requires_action", event_ids=["sevt_x"])))
    assert "error: retries exhausted" in render_header(run(b.idle("retries_exhausted")))


def test_user_and_agent_messages_render_markdown_and_a_streaming_cursor():
    b = B()
    t = run(b.running(), b.user("Plot <revenue>"), b.start("sevt_m"), b.delta("sevt_m", "Revenue **grew**"))
    html = render_html(t, now=NOW).split("</style>", 1)[1]
    assert "Plot &lt;revenue&gt;" in html and "Revenue <strong>grew</strong>" in html and "nba-cur" in html
    t = fold_all(t, [b.msg("Revenue **grew** 12%", id="sevt_m"), b.idle()])
    html = render_html(t).split("</style>", 1)[1]
    assert "nba-cur" not in html and "12%" in html


def test_tool_call_row_shows_name_input_result_size_and_duration():
    b = B()
    use = b.tool_use("bash", {"command": "python analyze.py --all"})
    long_result = "line\n" * 10_000
    t = run(b.running(), use, b.tool_result(use.id, long_result))
    html = render_html(t)
    assert '<details class="nba-t nba-t-done">' in html
    assert "<summary>" in html and ">bash<" in html and "<code>python analyze.py --all</code>" in html
    assert "2.0 s" in html and "50.0 kB" in html and "done" in html
    assert f"of {len(long_result):,} chars" in html and len(html) < 10_000
    assert '<details class="nba-t nba-t-done" open>' in render_html(t, verbose=True)


def test_tool_error_denied_and_waiting_prompts():
    b = B()
    bad = b.tool_use("bash", {"command": "false"})
    ask = b.tool_use("write", {"file_path": "/mnt/session/outputs/a.txt", "content": "x"}, permission="ask")
    custom = b.ev("agent.custom_tool_use", name="lookup", input={"key": "k"})
    denied = b.tool_use("bash", {"command": "rm -rf /"}, permission="deny")
    t = run(bad, b.tool_result(bad.id, "exit 1", is_error=True), ask, custom, denied)
    html = render_html(t)
    assert "nba-t-error" in html and "nba-t-denied" in html
    assert "waiting for confirmation (allow / deny)" in html and "waiting for the kernel to answer" in html
    assert "<code>/mnt/session/outputs/a.txt</code>" in html
    text = render_text(t)
    assert "> bash false" in text and "exit 1" in text and "waiting for the kernel to answer" in text


def test_session_error_shows_its_retry_status():
    b = B()
    html = render_html(run(b.error("model_overloaded_error", "Overloaded", "retrying")))
    assert "Error model_overloaded_error: Overloaded" in html and "retrying automatically" in html
    assert "(retries exhausted, the turn ended)" in render_text(run(b.error(retry="exhausted")))


def test_unusual_ends_are_explained_in_one_line():
    b = B()
    refusal = run(
        b.idle(
            "refusal", stop_details={"type": "refusal", "category": "cyber", "explanation": "Not allowed."}
        )
    )
    assert "The model declined to continue (cyber): Not allowed." in render_html(refusal)
    budget = run(b.usage(1, 1, cents="503", budget="500"), b.idle("budget_reached"))
    assert "the session budget of $5.00 was reached (spent $5.03)" in render_html(budget)
    assert "retries exhausted" in render_text(run(b.idle("retries_exhausted")))
    assert "The session was terminated: billing" in render_html(
        run(b.error("billing_error", "billing", "terminal"), b.ev("session.status_terminated"))
    )
    assert common.stop_explanation(run(b.idle())) is None


def test_footer_has_tokens_cost_budget_and_time():
    b = B()
    t = run(
        b.running(),
        b.span_start(),
        b.span_end(1200, 345, cr=10),
        b.usage(1200, 345, cents="7", budget="1000", cache_read_input_tokens=10),
        b.idle(),
    )
    html = render_html(t)
    assert (
        "1,200 in · 345 out tokens" in html and "cache 10 read" in html and "$0.07 of $10.00 budget" in html
    )
    assert "4.0 s" in html
    assert "$0.07" in render_text(t)


def test_images_are_inline_and_odd_mimes_are_not():
    png = b"\x89PNG\r\n\x1a\n"
    t = with_image(empty(), "chart.png", "image/png", png)
    t = with_image(t, "x.bin", 'image/png" onerror="alert(1)', b"zz")
    html = render_html(t)
    assert f'src="data:image/png;base64,{base64.b64encode(png).decode()}"' in html and "chart.png" in html
    assert html.count("<img") == 1 and "onerror=&quot;" in html  # the odd mime is escaped text


def test_notices_inputs_threads_and_outcomes():
    b = B()
    t = run(
        b.ev("session.thread_created", session_thread_id="sthr_C", agent_name="reviewer"),
        b.ev(
            "agent.thread_message_received",
            from_session_thread_id="sthr_C",
            from_agent_name="reviewer",
            content=text_blocks("**LGTM**"),
        ),
        b.ev(
            "user.define_outcome",
            outcome_id="outc_1",
            description="a chart",
            rubric={"type": "text", "content": "r"},
        ),
    )
    t = with_inputs(with_notice(t, "Uploaded 1 file", "info"), [("sales.csv", 12_000, "uploaded")])
    html = render_html(t)
    assert (
        "thread <b>reviewer</b>" in html
        and "<strong>LGTM</strong>" in html
        and "Outcome <i>a chart</i>" in html
    )
    assert "Uploaded 1 file" in html and "sales.csv" in html and "12.0 kB, uploaded" in html
    text = render_text(t)
    assert "<- reviewer: **LGTM**" in text and "inputs: sales.csv (12.0 kB, uploaded)" in text


def test_quiet_shows_only_the_final_answer():
    b = B()
    use = b.tool_use()
    t = run(b.running(), b.user("q"), use, b.tool_result(use.id), b.msg("The **answer**"), b.idle())
    html = render_html(t, quiet=True)
    assert (
        "<strong>answer</strong>" in html and "nba-t" not in html.split("</style>")[1] and "you" not in html
    )
    assert render_text(t, quiet=True) == "The **answer**"


def test_text_rendering():
    b = B()
    use = b.tool_use("bash", {"command": "ls"})
    t = run(
        b.running(),
        b.user("list files"),
        use,
        b.tool_result(use.id, "a.csv\nb.csv"),
        b.msg("Two files."),
        b.idle(),
        offline=True,
    )
    text = render_text(t)
    lines = text.splitlines()
    assert lines[0].startswith("[idle] (offline emulator)")
    assert (
        "you: list files" in lines
        and "Two files." in lines
        and any(line.startswith("> bash ls") for line in lines)
    )
    assert lines[-1].startswith("-- 0 in · 0 out tokens")
    # a result's first line by default, all of it with `verbose` (the command does not name the files)
    assert "    a.csv" in lines and "b.csv" not in text
    assert "    a.csv\n    b.csv\nTwo files." in render_text(t, verbose=True)


def test_hostile_strings_everywhere_are_escaped():
    evil = '<script>alert(1)</script><img src=x onerror=alert(1)>"\'><a href="javascript:x">'
    b = B()
    use = b.tool_use(evil, {"command": evil})
    t = run(
        b.user(evil),
        b.msg(evil + " [x](javascript:alert(1))"),
        use,
        b.tool_result(use.id, evil, is_error=True),
        b.error(evil, evil, evil),
        b.ev("session.thread_created", session_thread_id=evil, agent_name=evil),
        title=evil,
    )
    t = with_inputs(with_notice(t, evil, evil), [(evil, 1, evil)])
    for verbose in (False, True):
        html = render_html(t, verbose=verbose, now=NOW)
        assert_safe(html.split("</style>", 1)[1], allow=("details",))
        assert all(tag != "script" for tag, _ in tags_of(html))


def test_old_tool_calls_collapse_to_one_line():
    b = B()
    events = []
    for n in range(common.FULL_TAIL + 5):
        use = b.tool_use("bash", {"command": f"echo {n}"})
        events += [use, b.tool_result(use.id, f"out {n}")]
    t = run(*events)
    html = render_body(t)
    assert html.count("<details") == common.FULL_TAIL and html.count('<div class="nba-tl">') == 1
    assert html.count("\u2713 <b>bash</b> <code>echo") == 5
    assert render_body(t, verbose=True).count("<details") == common.FULL_TAIL + 5


def test_item_html_is_cached_per_item_object():
    b = B()
    t = run(b.msg("hello"))
    first = render_item(t.items[0])
    assert render_item(t.items[0]) is first
    assert render_item(run(b.msg("hello")).items[0]) == first


def test_the_status_line_says_what_the_agent_is_doing():
    b = B()
    t = run(b.running(), b.ev("agent.thinking"))
    assert "running · thinking…" in render_header(t)
    t = fold_all(t, [b.tool_use("bash")])
    assert "running · bash" in render_header(t) and "running · bash" in render_text(t)


def test_the_cursor_ends_the_last_paragraph():
    b = B()
    t = run(b.start("sevt_m"), b.delta("sevt_m", "First.\n\nSecond"))
    assert '<p>Second<span class="nba-cur"></span></p>' in render_body(t)


def test_one_byte_size_format_for_the_view_and_the_file_cards():
    """SI units, spelled as the file cards and docs/files.md show them ("21.4 kB")."""
    assert [common.fmt_size(n) for n in (0, 999, 1000, 21_400, 999_949, 1_500_000, 3 * 10**9, 5 * 10**12)] == [
        "0 B", "999 B", "1.0 kB", "21.4 kB", "999.9 kB", "1.5 MB", "3.0 GB", "5000.0 GB",
    ]
    assert common.fmt_size(None) == "?"
