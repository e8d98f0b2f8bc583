"""The pure transcript fold: messages, previews, dedupe, usage, status (see transcript.py)."""

from __future__ import annotations

import copy
import time

from transcript_builders import B, text_blocks

from nb_agents.transcript import (
    AgentMessage,
    ImageItem,
    InputRow,
    InputsItem,
    Notice,
    Transcript,
    Usage,
    UserMessage,
    empty,
    fold,
    fold_all,
    with_image,
    with_inputs,
    with_notice,
)


def test_empty_takes_known_meta_and_keeps_the_rest():
    t = empty(offline=True, title="demo", session_id="sesn_1", agent_id="agent_9")
    assert t.offline and t.title == "demo" and t.session_id == "sesn_1"
    assert t.meta == {"agent_id": "agent_9"}
    assert t.items == () and t.status == "starting" and t.text == "" and t.elapsed == 0.0


def test_fold_never_mutates_its_input():
    b = B()
    t0 = fold_all(empty(), [b.running(), b.user("hi")])
    snapshot = copy.deepcopy(t0)
    t1 = fold(t0, b.msg("hello"))
    assert t1 is not t0 and t0 == snapshot and len(t0.items) == 1 and len(t1.items) == 2


def test_text_is_the_agent_messages_since_the_last_user_message():
    b = B()
    t = fold_all(
        empty(), [b.running(), b.user("one"), b.msg("first"), b.idle(), b.user("two"), b.msg("a"), b.msg("b")]
    )
    assert t.text == "a\n\nb"
    assert [m.text for m in t.messages] == ["first", "a", "b"]
    assert [m.text for m in t.user_messages] == ["one", "two"]


def test_deltas_stream_a_preview_that_the_buffered_message_replaces():
    b = B()
    t = fold_all(
        empty(),
        [b.running(), b.user("q"), b.start("sevt_m"), b.delta("sevt_m", "Hel"), b.delta("sevt_m", "lo")],
    )
    preview = t.items[-1]
    assert isinstance(preview, AgentMessage) and preview.streaming and preview.text == "Hello"
    assert t.text == "Hello"
    t = fold(t, b.msg("Hello, world", id="sevt_m"))
    final = t.items[-1]
    assert len(t.items) == 2 and not final.streaming and final.text == "Hello, world"
    assert t.messages == (final,)


def test_a_second_content_index_opens_a_new_block():
    b = B()
    t = fold_all(empty(), [b.start("sevt_m"), b.delta("sevt_m", "a"), b.delta("sevt_m", "b", index=1)])
    assert [blk.text for blk in t.items[0].blocks] == ["a", "b"]


def test_deltas_without_a_start_or_with_a_gap_are_ignored():
    b = B()
    t = fold(empty(), b.delta("sevt_unknown", "x"))
    assert t.items == () and t.event_count == 1
    t = fold_all(t, [b.start("sevt_m"), b.delta("sevt_m", "a"), b.delta("sevt_m", "zz", index=5)])
    assert t.items[-1].text == "a"


def test_a_request_that_ends_without_its_message_closes_the_preview_as_interrupted():
    b = B()
    t = fold_all(
        empty(), [b.span_start(), b.start("sevt_m"), b.delta("sevt_m", "partial"), b.span_end(is_error=True)]
    )
    item = t.items[-1]
    assert not item.streaming and item.interrupted and item.text == "partial"


def test_a_repeated_event_id_is_ignored():
    b = B()
    t = fold_all(empty(), [b.running(), b.user("q")])
    m = b.msg("hi")
    t1 = fold(t, m)
    t2 = fold(t1, m)
    assert t2 is t1 and t2.event_count == 3 and len(t2.items) == 2


def test_a_queued_user_message_becomes_processed_in_place():
    b = B()
    queued = b.user("later", id="sevt_q", queued=True)
    t = fold_all(empty(), [b.running(), queued])
    assert t.items[-1].queued and "sevt_q" in t.queued
    t = fold(t, b.user("later", id="sevt_q"))
    assert len(t.items) == 1 and not t.items[0].queued and "sevt_q" in t.seen and not t.queued
    assert fold(t, queued) is t  # a stale queued copy after the processed one changes nothing


def test_a_message_queued_behind_the_end_of_a_turn_moves_where_the_agent_took_it():
    """Sent while an earlier turn was finishing: what the agent said before taking the message is
    not its answer; the message (and the view's "you" block) moves to where it was processed."""
    b = B()
    t = fold_all(empty(), [b.running(), b.user("next", id="sevt_q", queued=True), b.msg("tail of the last turn"),
                           b.idle(), b.running(), b.user("next", id="sevt_q"), b.msg("the answer"), b.idle()])
    kinds = [(type(i).__name__, getattr(i, "text", None)) for i in t.items]
    assert kinds == [("AgentMessage", "tail of the last turn"), ("UserMessage", "next"), ("AgentMessage", "the answer")]
    assert t.text == "the answer" and not t.items[1].queued
    assert t.get("sevt_q") is t.items[1]  # the index follows the move


def test_builtin_tool_call_is_matched_with_its_result():
    b = B()
    use = b.tool_use("bash", {"command": "python -c 'print(42)'"})
    t = fold_all(empty(), [b.running(), use])
    call = t.tool_calls[0]
    assert (call.kind, call.status, call.permission, call.name) == ("builtin", "running", "allow", "bash")
    t = fold_all(t, [b.tool_result(use.id, "42\n")])
    call = t.tool_calls[0]
    assert call.status == "done" and call.result_text == "42\n" and call.duration == 2.0 and not call.is_error
    assert len(t.items) == 1


def test_a_tool_error_result_marks_the_call_as_error():
    b = B()
    use = b.tool_use()
    t = fold_all(empty(), [use, b.tool_result(use.id, "boom", is_error=True)])
    assert t.tool_calls[0].status == "error" and t.tool_calls[0].is_error


def test_ask_waits_then_allow_runs_the_tool():
    b = B()
    use = b.tool_use(permission="ask")
    t = fold_all(empty(), [use, b.idle("requires_action", event_ids=[use.id])])
    assert t.tool_calls[0].status == "waiting" and t.pending_action_ids == (use.id,)
    assert t.requires_action and not t.is_terminal
    confirm = b.ev("user.tool_confirmation", tool_use_id=use.id, result="allow", queued=True)
    t = fold_all(t, [confirm, b.running()])
    assert t.tool_calls[0].status == "running" and t.tool_calls[0].permission == "allow"
    t = fold_all(
        t,
        [
            b.tool_result(use.id, "done"),
            b.ev("user.tool_confirmation", id=confirm.id, tool_use_id=use.id, result="allow"),
        ],
    )
    assert t.tool_calls[0].status == "done"  # the processed copy of the confirmation does not reopen it


def test_deny_keeps_the_call_denied_through_its_synthetic_error_result():
    b = B()
    use = b.tool_use(permission="ask")
    deny = b.ev("user.tool_confirmation", tool_use_id=use.id, result="deny", deny_message="not today")
    t = fold_all(
        empty(),
        [use, deny, b.tool_result(use.id, "Permission to use bash has been rejected.", is_error=True)],
    )
    call = t.tool_calls[0]
    assert call.status == "denied" and call.deny_message == "not today" and call.is_error


def test_server_side_deny_is_denied():
    b = B()
    t = fold(empty(), b.tool_use(permission="deny"))
    assert t.tool_calls[0].status == "denied"


def test_mcp_and_custom_tools():
    b = B()
    mcp = b.ev("agent.mcp_tool_use", name="search", mcp_server_name="docs", input={"query": "x"})
    custom = b.ev("agent.custom_tool_use", name="get_weather", input={"city": "Paris"})
    t = fold_all(
        empty(),
        [mcp, b.ev("agent.mcp_tool_result", mcp_tool_use_id=mcp.id, content=text_blocks("found")), custom],
    )
    m, c = t.tool_calls
    assert (m.kind, m.server, m.status, m.result_text) == ("mcp", "docs", "done", "found")
    assert (c.kind, c.status) == ("custom", "waiting")
    t = fold(t, b.ev("user.custom_tool_result", custom_tool_use_id=custom.id, content=text_blocks("72F")))
    assert t.tool_calls[1].status == "done" and t.tool_calls[1].result_text == "72F"


def test_results_for_unknown_tool_uses_are_ignored():
    b = B()
    t = fold(empty(), b.tool_result("sevt_nope", "x"))
    assert t.items == () and t.unknown_count == 0


def test_span_usage_is_summed_and_session_usage_is_cumulative():
    b = B()
    t = fold_all(empty(), [b.span_start(), b.span_end(10, 5, cr=100, cw=7), b.span_start(), b.span_end(3, 2)])
    assert t.usage == Usage(13, 7, 100, 7) and t.model_requests == 2 and t.cost_usd is None
    cache = {"ephemeral_5m_input_tokens": 16661, "ephemeral_1h_input_tokens": 4}
    t = fold(
        t,
        b.usage(
            4,
            58,
            cents="459",
            budget="2500",
            cache_read_input_tokens=16600,
            cache_creation=cache,
            active_seconds=15.7,
        ),
    )
    assert t.usage == Usage(4, 58, 16600, 16665)
    assert t.cost_usd == 4.59 and t.budget_usd == 25.0 and t.active_seconds == 15.7
    assert t.usage.total_tokens == 4 + 58 + 16600 + 16665


def test_status_transitions_and_terminal_states():
    b = B()
    t = fold(empty(), b.running())
    assert t.status == "running" and t.is_running and t.started_at is not None
    t = fold_all(t, [b.error(retry="retrying"), b.ev("session.status_rescheduled")])
    assert t.status == "rescheduling" and not t.is_terminal
    assert t.errors[0].retry_status == "retrying" and t.errors[0].error_type == "model_overloaded_error"
    t = fold_all(t, [b.running(), b.idle()])
    assert t.status == "idle" and t.stop_reason == "end_turn" and t.is_terminal
    assert t.elapsed == t.ended_at - t.started_at == 4.0
    t = fold(t, b.ev("session.status_terminated"))
    assert t.status == "terminated" and t.is_terminal
    assert fold(empty(), b.ev("session.deleted")).status == "deleted"


def test_refusal_keeps_its_details():
    b = B()
    t = fold(
        empty(), b.idle("refusal", stop_details={"type": "refusal", "category": "cyber", "explanation": "no"})
    )
    assert t.stop_reason == "refusal" and t.stop_details == {
        "type": "refusal",
        "category": "cyber",
        "explanation": "no",
    }


def test_interrupt_sets_the_flag_and_a_new_user_message_clears_it():
    b = B()
    t = fold_all(
        empty(), [b.running(), b.ev("user.interrupt", id=""), b.ev("user.interrupt", id=""), b.idle()]
    )
    assert t.interrupted and sum(isinstance(i, Notice) for i in t.items) == 1
    assert fold(t, b.user("next")).interrupted is False


def test_threads_are_labelled_and_kept_out_of_the_final_answer():
    b = B()
    events = [
        b.running(),
        b.user("review this"),
        b.ev("session.thread_created", session_thread_id="sthr_C", agent_name="reviewer"),
        b.ev(
            "agent.thread_message_sent",
            to_session_thread_id="sthr_C",
            to_agent_name="reviewer",
            content=text_blocks("please"),
        ),
        b.ev("session.thread_status_running", session_thread_id="sthr_C", agent_name="reviewer"),
        b.ev(
            "session.thread_status_idle",
            session_thread_id="sthr_P",
            agent_name="main",
            stop_reason={"type": "end_turn"},
        ),
        b.tool_use(session_thread_id="sthr_C"),
        b.ev(
            "session.thread_status_idle",
            session_thread_id="sthr_C",
            agent_name="reviewer",
            stop_reason={"type": "end_turn"},
        ),
        b.ev(
            "agent.thread_message_received",
            from_session_thread_id="sthr_C",
            from_agent_name="reviewer",
            content=text_blocks("LGTM"),
        ),
        b.msg("The reviewer approved."),
    ]
    t = fold_all(empty(), events)
    thread = t.get("thread:sthr_C")
    assert thread.agent_name == "reviewer" and thread.status == "idle" and thread.stop_reason == "end_turn"
    assert t.get("thread:sthr_P") is None  # the primary thread's lifecycle is the session's
    assert t.tool_calls[0].thread_id == "sthr_C"
    sent, received = [i for i in t.items if type(i).__name__ == "ThreadMessage"]
    assert (sent.direction, sent.text, received.direction, received.text) == (
        "sent",
        "please",
        "received",
        "LGTM",
    )
    assert t.text == "The reviewer approved." and t.unknown_count == 0


def test_outcome_iterations_and_verdict():
    b = B()
    define = b.ev(
        "user.define_outcome",
        outcome_id="outc_1",
        description="a chart",
        rubric={"type": "text", "content": "r"},
        max_iterations=3,
    )
    usage = {
        "input_tokens": 1,
        "output_tokens": 1,
        "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 0,
    }
    events = [
        define,
        b.ev("span.outcome_evaluation_start", outcome_id="outc_1", iteration=0),
        b.ev("span.outcome_evaluation_ongoing", outcome_id="outc_1", iteration=0),
        b.ev(
            "span.outcome_evaluation_end",
            outcome_id="outc_1",
            iteration=0,
            outcome_evaluation_start_id="s",
            result="needs_revision",
            explanation="axis",
            usage=usage,
        ),
    ]
    t = fold_all(empty(), events)
    out = t.get("outcome:outc_1")
    assert (out.description, out.iterations, out.result, out.explanation, out.final) == (
        "a chart",
        1,
        "needs_revision",
        "axis",
        False,
    )
    t = fold_all(
        t,
        [
            b.ev("span.outcome_evaluation_start", outcome_id="outc_1", iteration=1),
            b.ev(
                "span.outcome_evaluation_end",
                outcome_id="outc_1",
                iteration=1,
                outcome_evaluation_start_id="s",
                result="satisfied",
                explanation="ok",
                usage=usage,
            ),
        ],
    )
    out = t.get("outcome:outc_1")
    assert out.iterations == 2 and out.result == "satisfied" and out.final and len(t.items) == 1


def test_session_updated_changes_budget_and_title():
    b = B()
    t = fold(
        empty(),
        b.ev(
            "session.updated",
            title="new",
            budget={"type": "limit", "max_list_cost": {"amount": "5000", "currency": "USD"}},
        ),
    )
    assert t.title == "new" and t.budget_usd == 50.0


def test_unknown_types_pass_through_and_are_counted():
    b = B()
    t = fold_all(empty(), [b.ev("session.brand_new_thing", foo=1), b.ev("agent.thread_context_compacted")])
    assert t.unknown_count == 1 and t.event_count == 2 and len(t.items) == 1


def test_system_message_is_not_a_user_turn():
    b = B()
    t = fold_all(empty(), [b.user("q"), b.msg("a"), b.ev("system.message", content=text_blocks("be brief"))])
    assert t.items[-1].role == "system" and t.text == "a" and len(t.user_messages) == 1


def test_wire_dicts_are_accepted():
    t = fold(
        empty(),
        {
            "type": "agent.message",
            "id": "sevt_1",
            "processed_at": "2026-11-25T04:00:00Z",
            "content": text_blocks("hi"),
        },
    )
    assert t.text == "hi"


def test_client_side_items():
    t = with_notice(empty(), "retrying the stream", "warning")
    t = with_image(t, "chart.png", "image/png", b"\x89PNG")
    t = with_inputs(
        t,
        [
            ("sales.csv", 1200, "uploaded"),
            {"name": "b.csv", "size": 10, "status": "unchanged"},
            InputRow("c", None, "uploaded"),
        ],
    )
    assert t.items[0] == Notice("retrying the stream", "warning")
    assert t.items[1] == ImageItem("chart.png", "image/png", b"\x89PNG")
    assert t.items[2] == InputsItem(
        (
            InputRow("sales.csv", 1200, "uploaded"),
            InputRow("b.csv", 10, "unchanged"),
            InputRow("c", None, "uploaded"),
        )
    )
    assert with_inputs(t, []) is t and t.images == (t.items[1],)


def test_two_thousand_events_fold_quickly():
    b = B()
    events = [b.running(), b.user("go")]
    for _ in range(390):
        use = b.tool_use()
        events += [b.span_start(), use, b.span_end(), b.tool_result(use.id, "x" * 200)]
    events += [b.msg("done"), b.idle()]
    start = time.perf_counter()
    t = fold_all(empty(), events)
    assert time.perf_counter() - start < 2.0
    assert isinstance(t, Transcript) and len(t.tool_calls) == 390 and t.event_count == len(events)
    assert isinstance(t.items[0], UserMessage)


def test_every_event_type_of_the_sdk_union_has_a_handler():
    import typing

    from anthropic.types.beta.sessions import BetaManagedAgentsStreamSessionEvents

    from nb_agents.transcript.fold import HANDLERS

    union = typing.get_args(BetaManagedAgentsStreamSessionEvents)[0]
    types = {typing.get_args(member.model_fields["type"].annotation)[0] for member in typing.get_args(union)}
    assert len(types) == 44 and types <= set(HANDLERS)


def test_with_prompt_gives_the_echo_of_the_sent_text_what_the_user_wrote():
    from nb_agents.transcript import Attached, with_prompt

    b = B()
    sales = Attached("sales", "pandas DataFrame", "/mnt/session/uploads/sales.parquet")
    t = with_prompt(empty(), "sent text", ["Sum ", sales], [sales, {"name": "a.txt", "kind": "file"}])
    t = fold_all(t, [b.user("other"), b.user("sent text", queued=True)])
    other, ours = t.user_messages
    assert other.prompt is None
    assert ours.prompt.typed == "Sum {{sales}}" and ours.prompt.added and ours.queued
    assert ours.prompt.inputs == (sales, Attached("a.txt", "file", None))
    # the processed echo keeps it; a prompt remembered after its echo is folded updates the item
    t = fold(t, b.user("sent text", id=ours.id))
    assert t.user_messages[1].prompt == ours.prompt and not t.user_messages[1].queued
    t2 = with_prompt(fold_all(empty(), [b.user("late")]), "late", ["la", "te"])
    assert t2.user_messages[0].prompt.typed == "late" and not t2.user_messages[0].prompt.added
