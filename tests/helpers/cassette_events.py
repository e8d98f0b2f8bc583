"""Realistic event sequences (docs: /work/shared/event-sequences.md §1, §2) for the cassette,
replay, cache, provenance and export tests. Built as wire JSON, turned into SDK models."""

from __future__ import annotations

import base64
import itertools

from nb_agents.events import event_from_json

# A 1x1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def _ids(start=1):
    return (f"sevt_{n:02d}" for n in itertools.count(start))


def turn_json(prompt="Profile sales.csv", answer="Revenue **grew** 12% in March.", *, bash="python -c 'print(6*7)'",
              bash_out="42\n", image=False, session_thread="sthr_P", id_start=1, bash_error=False):
    """One turn: a bash call (plus a write call), then a streamed answer."""
    ids = _ids(id_start)
    clock = (f"2026-11-25T04:00:{s:02d}.000001Z" for s in itertools.count(1))
    tu, tw, m1, m2, msg = (next(ids) for _ in range(5))
    result = [{"type": "text", "text": bash_out}]
    if image:
        result.append({"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                    "data": base64.b64encode(PNG).decode()}})
    half = len(answer) // 2
    ev = [
        {"type": "session.status_running", "id": next(ids), "processed_at": next(clock)},
        {"type": "session.thread_status_running", "id": next(ids), "processed_at": next(clock),
         "session_thread_id": session_thread, "agent_name": "nb-agents"},
        {"type": "user.message", "id": next(ids), "processed_at": next(clock),
         "content": [{"type": "text", "text": prompt}]},
        {"type": "span.model_request_start", "id": m1, "processed_at": next(clock)},
        {"type": "agent.tool_use", "id": tu, "name": "bash", "input": {"command": bash},
         "evaluated_permission": "allow", "session_thread_id": None, "processed_at": next(clock)},
        {"type": "agent.tool_use", "id": tw, "name": "write",
         "input": {"file_path": "/mnt/session/outputs/notes.txt", "content": "hello\n"},
         "evaluated_permission": "allow", "session_thread_id": None, "processed_at": next(clock)},
        _span_end(next(ids), m1, next(clock), 120, 30),
        {"type": "agent.tool_result", "id": next(ids), "tool_use_id": tu, "content": result,
         "is_error": bash_error, "processed_at": next(clock)},
        {"type": "agent.tool_result", "id": next(ids), "tool_use_id": tw,
         "content": [{"type": "text", "text": "File written"}], "is_error": False, "processed_at": next(clock)},
        {"type": "span.model_request_start", "id": m2, "processed_at": next(clock)},
        {"type": "event_start", "event": {"type": "agent.message", "id": msg}},
        {"type": "event_delta", "event_id": msg,
         "delta": {"type": "content_delta", "index": 0, "content": {"type": "text", "text": answer[:half]}}},
        {"type": "event_delta", "event_id": msg,
         "delta": {"type": "content_delta", "index": 0, "content": {"type": "text", "text": answer[half:]}}},
        {"type": "agent.message", "id": msg, "content": [{"type": "text", "text": answer}],
         "processed_at": next(clock)},
        _span_end(next(ids), m2, next(clock), 200, 50),
        {"type": "session.thread_status_idle", "id": next(ids), "processed_at": next(clock),
         "session_thread_id": session_thread, "agent_name": "nb-agents", "stop_reason": {"type": "end_turn"}},
        {"type": "session.usage", "id": next(ids), "processed_at": next(clock), "budget": None,
         "usage": {"input_tokens": 320, "output_tokens": 80, "cache_read_input_tokens": 0,
                   "list_cost": {"amount": "1", "currency": "USD"}, "active_seconds": 4.5}},
        {"type": "session.status_idle", "id": next(ids), "processed_at": next(clock),
         "stop_reason": {"type": "end_turn"}},
    ]
    return ev


def _span_end(eid, start_id, at, inp, out):
    return {"type": "span.model_request_end", "id": eid, "processed_at": at, "model_request_start_id": start_id,
            "is_error": False, "model_usage": {"input_tokens": inp, "output_tokens": out,
                                               "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}}


def turn_events(**kw):
    return [event_from_json(e) for e in turn_json(**kw)]
