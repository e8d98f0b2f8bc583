"""Pure plain-text rendering of a Transcript (terminal IPython, `text/plain` fallbacks).

`render_text(t, verbose=, quiet=)` gives the whole transcript; `render_items` renders a
slice of items so a terminal view can print them as they complete.
"""

from __future__ import annotations

from typing import Any

from ..transcript import Transcript
from ..transcript import items as ti
from . import common as c
from .sanitize import neutralize_controls

__all__ = ["render_text", "render_compact", "render_items", "render_item_text", "status_line", "footer_line"]

COMPACT_OVER = 8_000  # chars: a longer plain-text copy is saved in its compact form


def render_text(
    t: Transcript, *, verbose: bool = False, quiet: bool = False, now: float | None = None
) -> str:
    if quiet:
        why = c.stop_explanation(t)
        return neutralize_controls("\n".join(p for p in (t.text, why) if p))
    parts = [status_line(t, now=now), render_items(t, verbose=verbose), footer_line(t, now=now)]
    return "\n".join(p for p in parts if p)


def render_compact(t: Transcript, *, verbose: bool = False, quiet: bool = False, limit: int = COMPACT_OVER) -> str:
    """The `text/plain` copy saved with a notebook. Every notebook frontend shows the `text/html`
    copy instead, so past `limit` chars this is bounded rather than a third copy of the
    transcript: the status, the prompts, then from the end backwards the agent's messages,
    errors, warnings and one line for each of the last few tool calls, as many as fit in
    `limit`; a line counts what was left out; the footer."""
    full = render_text(t, verbose=verbose, quiet=quiet)
    if quiet or len(full) <= limit:
        return full
    tail = c.full_tools(t, False)
    kept: list[str] = []
    budget, left = limit, {"messages": 0, "tool calls": 0}
    for item in reversed(t.items):
        text = _compact_item(item, tail)
        if isinstance(item, ti.UserMessage):
            kept.append(text)  # the prompts always
        elif text and (len(text) < budget or budget == limit):
            kept.append(c.truncate(text, limit)[0])  # the last item always (cut to the limit)
            budget -= min(len(text), limit) + 1
        else:
            if text:
                budget = 0  # list nothing earlier: what is listed is the end of the run, in one piece
            if isinstance(item, (ti.AgentMessage, ti.ToolCall)):
                left["messages" if isinstance(item, ti.AgentMessage) else "tool calls"] += 1
    note = ", ".join(f"{n:,} {kind}" for kind, n in left.items() if n)
    lines = [status_line(t)] + ([f"(not listed here: {note}; the HTML copy shows every item)"] if note else [])
    return neutralize_controls("\n".join(lines + kept[::-1] + [footer_line(t)]))


def _compact_item(item: Any, tail: frozenset[str]) -> str:
    if isinstance(item, ti.ToolCall):
        return render_item_text(item, full=False) if item.id in tail else ""
    if isinstance(item, (ti.UserMessage, ti.AgentMessage, ti.ErrorItem)) or (isinstance(item, ti.Notice) and item.level != "info"):
        return render_item_text(item)
    return ""


def status_line(t: Transcript, *, now: float | None = None) -> str:
    _, label = c.status_of(t)
    bits = [f"[{label}]"]
    if t.offline:
        bits.append("(offline emulator)")
    if t.title:
        bits.append(t.title)
    if t.started_at is not None:
        bits.append(c.fmt_seconds(c.elapsed(t, now)))
    return neutralize_controls(" ".join(bits))


def footer_line(t: Transcript, *, now: float | None = None) -> str:
    why = c.stop_explanation(t)
    line = "-- " + " · ".join(c.footer_parts(t, now))
    return neutralize_controls(f"{why}\n{line}" if why else line)


def render_items(t: Transcript, *, verbose: bool = False, start: int = 0, stop: int | None = None) -> str:
    full = c.full_tools(t, verbose)
    lines = []
    for item in t.items[start:stop]:
        text = render_item_text(item, verbose=verbose, full=not isinstance(item, ti.ToolCall) or item.id in full)
        if text:
            lines.append(text)
    return "\n".join(lines)


def render_item_text(item: Any, *, verbose: bool = False, full: bool = True) -> str:
    return neutralize_controls(_item_text(item, verbose, full))


def _item_text(item: Any, verbose: bool, full: bool) -> str:
    if isinstance(item, ti.ToolCall):
        return _tool(item, verbose, full)
    if isinstance(item, ti.AgentMessage):
        tail = " ▍" if item.streaming else (" (interrupted)" if item.interrupted else "")
        return _indent(item.thread_id, item.text + tail)
    fn = _TEXT.get(type(item))
    return fn(item) if fn else ""


def _indent(thread_id: str | None, text: str) -> str:
    if not thread_id:
        return text
    return "\n".join(f"  | {line}" for line in f"[{thread_id}] {text}".splitlines())


def _tool(call: ti.ToolCall, verbose: bool, full: bool) -> str:
    meta = [c.fmt_seconds(call.duration)] if call.duration is not None else []
    meta.append(c.tool_state(call))
    tag = c.tool_tag(call)
    server = f" ({tag})" if tag else ""
    digest = c.tool_digest(call, c.DIGEST_CHARS if full else c.BRIEF_DIGEST_CHARS)
    head = f"> {c.tool_name(call)}{server} {digest}  [{' · '.join(meta)}]"
    if not full or not call.result_text:
        return _indent(call.thread_id, head)
    if not verbose and not call.is_error:
        first, _ = c.truncate((call.result_text.strip().splitlines() or [""])[0], c.DIGEST_CHARS)
        return _indent(call.thread_id, f"{head}\n    {first}" if first else head)
    shown, cut = c.truncate(call.result_text, c.VERBOSE_RESULT_CHARS if verbose else c.RESULT_CHARS)
    body = "\n".join("    " + line for line in shown.splitlines())
    more = f"\n    (showing {len(shown) - 1:,} of {len(call.result_text):,} chars)" if cut else ""
    return _indent(call.thread_id, f"{head}\n{body}{more}" if body else head)


def _user(m: ti.UserMessage) -> str:
    who = "system" if m.role == "system" else "you"
    head = f"{who}{' (queued)' if m.queued else ''}: "
    if m.prompt is None:
        return head + c.truncate(m.text, c.USER_CHARS)[0]
    parts, dropped = c.prompt_parts(m.prompt)
    typed = "".join(p if isinstance(p, str) else "{{" + p.name + "}}" for p in parts)
    more = f" (+{dropped:,} chars)" if dropped else ""
    lines = [head + typed + more] + [f"  + {c.input_line(a)}" for a in m.prompt.inputs]
    return "\n".join(lines)


def _error(e: ti.ErrorItem) -> str:
    retry = c.retry_explanation(e.retry_status, e.error_type)
    return f"! Error {e.error_type}: {e.message}" + (f" ({retry})" if retry else "")


def _thread_message(m: ti.ThreadMessage) -> str:
    arrow = "->" if m.direction == "sent" else "<-"
    return f"  {arrow} {m.agent_name or m.thread_id}: {m.text}"


def _outcome(o: ti.OutcomeItem) -> str:
    its = f", {o.iterations} evaluation(s)" if o.iterations else ""
    why = f": {o.explanation}" if o.explanation else ""
    return f"Outcome '{o.description}' — {o.result}{its}{why}"


_TEXT: dict[type, Any] = {
    ti.UserMessage: _user,
    ti.Thinking: lambda t: "",  # a progress signal only; nothing to print in text
    ti.ErrorItem: _error,
    ti.Notice: lambda n: f"({n.level}) {n.text}" if n.level != "info" else f"({n.text})",
    ti.ThreadItem: lambda th: (
        f"  thread {th.agent_name}: {th.status}" + (f" ({th.stop_reason})" if th.stop_reason else "")
    ),
    ti.ThreadMessage: _thread_message,
    ti.OutcomeItem: _outcome,
    ti.ImageItem: lambda img: f"[image {img.name}: {img.mime}, {c.fmt_size(len(img.data))}]",
    ti.InputsItem: lambda inp: (
        "inputs: " + ", ".join(f"{r.name} ({c.fmt_size(r.size)}, {r.status})" for r in inp.rows)
    ),
}
