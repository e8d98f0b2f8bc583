"""Pure HTML rendering of a Transcript: `render_html(t, verbose=, quiet=)`.

The page is three parts (status line, body of items, footer) so the live widget can
update each on its own; items are immutable, so each item's HTML is cached per item
object. Agent text goes through `sanitize.markdown_to_html`; every other string through
`sanitize.escape`; each rendered piece through `sanitize.neutralize_controls`.
"""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict
from typing import Any

from ..events import event_type
from ..transcript import Transcript
from ..transcript import items as ti
from . import common as c
from .sanitize import escape, markdown_to_html, neutralize_controls
from .style import style_tag

__all__ = [
    "ROOT_CLASS",
    "render_html",
    "render_header",
    "render_body",
    "render_footer",
    "render_item",
    "render_quiet",
]

# JupyterLab typesets $…$ in HTML outputs and widgets as LaTeX; prices are not math
ROOT_CLASS = "nba tex2jax_ignore mathjax_ignore"
_IMAGE_MIMES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"})
_CACHE_MAX = 8192
_cache: OrderedDict[tuple[int, bool, bool], tuple[Any, str]] = OrderedDict()
_cache_lock = threading.Lock()


def render_html(
    t: Transcript, *, verbose: bool = False, quiet: bool = False, now: float | None = None
) -> str:
    """The whole transcript as one self-contained HTML fragment (with its CSS)."""
    if quiet:
        inner = render_quiet(t)
    else:
        inner = render_header(t, now=now) + render_body(t, verbose=verbose) + render_footer(t, now=now)
    return f'{style_tag()}<div class="{ROOT_CLASS}">{inner}</div>'


def render_quiet(t: Transcript) -> str:
    """Final answer only (and the one-line reason when the turn ended abnormally)."""
    out = f'<div class="nba-m">{markdown_to_html(t.text)}</div>' if t.text else ""
    why = c.stop_explanation(t)
    return neutralize_controls(out + (f'<div class="nba-stop">{escape(why)}</div>' if why else ""))


def render_header(t: Transcript, *, now: float | None = None) -> str:
    key, label = c.status_of(t)
    parts = [f'<span class="nba-st nba-{key}">{escape(label)}</span>']
    if t.offline:
        parts.append('<span class="nba-badge">offline emulator</span>')
    if t.title:
        parts.append(f"<span>{escape(t.title)}</span>")
    if t.started_at is not None:
        parts.append(f'<span class="nba-dim">{escape(c.fmt_seconds(c.elapsed(t, now)))}</span>')
    return neutralize_controls(f'<div class="nba-h">{" ".join(parts)}</div>')


def render_footer(t: Transcript, *, now: float | None = None) -> str:
    why = c.stop_explanation(t)
    stop = f'<div class="nba-stop">{escape(why)}</div>' if why else ""
    footer = escape(" · ".join(c.footer_parts(t, now)))
    return neutralize_controls(f'{stop}<div class="nba-f">{footer}</div>')


def render_body(t: Transcript, *, verbose: bool = False, start: int = 0, stop: int | None = None) -> str:
    """The items `start:stop` (all by default), from the per-item cache. Runs of older
    tool calls, one line each, share one container to keep the markup small."""
    full = c.full_tools(t, verbose)
    out: list[str] = []
    brief: list[str] = []
    for item in t.items[start:stop]:
        is_full = _is_full(item, full)
        html = render_item(item, verbose=verbose, full=is_full)
        if not is_full:
            brief.append(html)
            continue
        if brief:
            out.append(f'<div class="nba-tl">{"".join(brief)}</div>')
            brief = []
        out.append(html)
    if brief:
        out.append(f'<div class="nba-tl">{"".join(brief)}</div>')
    return "".join(out)


def _is_full(item: Any, full: frozenset[str]) -> bool:
    return not isinstance(item, ti.ToolCall) or item.id in full


def render_item(item: Any, *, verbose: bool = False, full: bool = True) -> str:
    key = (id(item), verbose, full)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] is item:  # same object, not a recycled id
            _cache.move_to_end(key)
            return hit[1]
    html = neutralize_controls(_render(item, verbose, full))
    with _cache_lock:
        _cache[key] = (item, html)
        while len(_cache) > _CACHE_MAX:
            _cache.popitem(last=False)
    return html


def _render(item: Any, verbose: bool, full: bool) -> str:
    if isinstance(item, ti.ToolCall):
        return _tool(item, verbose, full)
    if isinstance(item, ti.AgentMessage):
        return _agent_message(item)
    renderer = _RENDERERS.get(type(item))
    return renderer(item) if renderer else ""


def _thread_label(thread_id: str | None) -> str:
    return f'<span class="nba-dim">[{escape(thread_id)}]</span> ' if thread_id else ""


def _agent_message(m: ti.AgentMessage) -> str:
    body = markdown_to_html(m.text)
    if any(c_type == "redacted" for c_type in (event_type(b) for b in m.blocks)):
        body += '<p class="nba-dim">(redacted content)</p>'
    if m.streaming:
        body = _with_cursor(body)
    if m.interrupted:
        body += '<p class="nba-dim">(message interrupted before it was complete)</p>'
    cls = "nba-m nba-sub" if m.thread_id else "nba-m"
    return f'<div class="{cls}">{_thread_label(m.thread_id)}{body}</div>'


def _with_cursor(body: str) -> str:
    """Put the typing cursor at the end of the last paragraph, not on a line of its own."""
    stripped = body.rstrip()
    if stripped.endswith("</p>"):
        return stripped[:-4] + '<span class="nba-cur"></span></p>'
    return body + '<span class="nba-cur"></span>'


def _user(m: ti.UserMessage) -> str:
    who = "system" if m.role == "system" else "you"
    queued = ' <span class="nba-dim">(queued)</span>' if m.queued else ""
    if m.prompt is not None:
        return f'<div class="nba-u"><b>{who}</b>{queued}: {_prompt(m.prompt)}</div>'
    text, cut = c.truncate(m.text, c.USER_CHARS)
    more = f' <span class="nba-dim">(+{len(m.text) - len(text) + 1:,} chars)</span>' if cut else ""
    return f'<div class="nba-u"><b>{who}</b>{queued}: {escape(text)}{more}</div>'


def _chip(a: ti.Attached) -> str:
    return f'<span class="nba-chip" title="{escape(c.input_line(a))}">{escape(a.name)}</span>'


def _prompt(p: ti.Prompt) -> str:
    """What the user wrote (each `{{df}}` a chip), and the text sent for the agent folded away."""
    parts, dropped = c.prompt_parts(p)
    typed = "".join(_chip(part) if isinstance(part, ti.Attached) else escape(part) for part in parts)
    if dropped:
        typed += f' <span class="nba-dim">(+{dropped:,} chars)</span>'
    if not p.added:
        return typed
    sent, cut = c.truncate(p.sent, c.SENT_CHARS)
    note = f'<div class="nba-dim">showing {len(sent) - 1:,} of {len(p.sent):,} chars</div>' if cut else ""
    rows = "".join(f"<li>{escape(c.input_line(a))}</li>" for a in p.inputs)
    listed = f'<ul class="nba-ins">{rows}</ul>' if rows else ""
    return (
        f'{typed}<details class="nba-sent"><summary>{escape(c.added_summary(p))}</summary>'
        f"{listed}<pre>{escape(sent, False)}</pre>{note}</details>"
    )


def _thinking(t: ti.Thinking) -> str:
    # agent.thinking carries no text: only an in-flight thought is worth a line
    return f'<div class="nba-th">{_thread_label(t.thread_id)}thinking…</div>' if t.pending else ""


def _tool_summary(call: ti.ToolCall, brief: bool) -> str:
    name = escape(c.tool_name(call), False)
    bits = [f"<b>{name}</b>" if brief else f'<span class="nba-tn">{name}</span>']
    tag = c.tool_tag(call)
    if tag:
        bits.append(f"({escape(tag, False)})")
    digest = c.tool_digest(call, c.BRIEF_DIGEST_CHARS if brief else c.DIGEST_CHARS)
    if digest:
        bits.append(f"<code>{escape(digest, False)}</code>")
    meta = [c.fmt_seconds(call.duration)] if call.duration is not None else []
    if call.result_text and not brief:
        meta.append(c.fmt_size(len(call.result_text.encode())))
    if call.status != "done":  # done is the check mark
        meta.append(escape(c.tool_state(call), False))
    if meta:
        bits.append(" · ".join(meta) if brief else f'<span class="nba-dim">{" · ".join(meta)}</span>')
    return _thread_label(call.thread_id) + " ".join(bits)


_MARKS = {"done": "\u2713", "error": "\u2717", "denied": "\u2717", "ended": "\u2013"}


def _tool(call: ti.ToolCall, verbose: bool, full: bool) -> str:
    if not full:  # one line inside a "nba-tl" run (see render_body)
        mark = _MARKS.get(call.status, "\u2026")
        return f"{mark} {_tool_summary(call, brief=True)}<br>"
    cls = f"nba-t nba-t-{call.status}" + (" nba-sub" if call.thread_id else "")
    limit = c.VERBOSE_RESULT_CHARS if verbose else c.RESULT_CHARS
    shown_in, _ = c.truncate(c.pretty_input(call), c.INPUT_CHARS * (4 if verbose else 1))
    body = f"<pre>{escape(shown_in, False)}</pre>" if call.input else ""
    if call.result_text:
        shown, cut = c.truncate(call.result_text, limit)
        note = f'<div class="nba-dim">showing {len(shown) - 1:,} of {len(call.result_text):,} chars</div>'
        body += f"<pre>{escape(shown, False)}</pre>{note if cut else ''}"
    elif call.status in c.TOOL_FINAL_STATES:
        body += '<div class="nba-dim">(no output)</div>'
    opened = " open" if verbose or call.status == "waiting" else ""
    return f'<details class="{cls}"{opened}><summary>{_tool_summary(call, brief=False)}</summary>{body}</details>'


def _error(e: ti.ErrorItem) -> str:
    retry = c.retry_explanation(e.retry_status, e.error_type)
    tail = f' <span class="nba-dim">({escape(retry)})</span>' if retry else ""
    return f'<div class="nba-e">Error {escape(e.error_type)}: {escape(e.message)}{tail}</div>'


def _notice(n: ti.Notice) -> str:
    return f'<div class="nba-n nba-n-{escape(n.level)}">{escape(n.text)}</div>'


def _thread(th: ti.ThreadItem) -> str:
    why = f" ({escape(th.stop_reason)})" if th.stop_reason else ""
    return f'<div class="nba-thr">thread <b>{escape(th.agent_name)}</b>: {escape(th.status)}{why}</div>'


def _thread_message(m: ti.ThreadMessage) -> str:
    arrow = "to" if m.direction == "sent" else "from"
    first, _ = c.truncate((m.text.strip().splitlines() or [""])[0], 100)
    return (
        f'<details class="nba-tm nba-sub"><summary>{arrow} <b>{escape(m.agent_name or m.thread_id)}</b>: '
        f'{escape(first)}</summary><div class="nba-m">{markdown_to_html(m.text)}</div></details>'
    )


def _outcome(o: ti.OutcomeItem) -> str:
    its = f", {o.iterations} evaluation{'s' if o.iterations != 1 else ''}" if o.iterations else ""
    why = f": {escape(o.explanation)}" if o.explanation else ""
    return f'<div class="nba-o">Outcome <i>{escape(o.description)}</i> — {escape(o.result)}{its}{why}</div>'


def _image(img: ti.ImageItem) -> str:
    if img.mime not in _IMAGE_MIMES:
        return (
            f'<div class="nba-n">{escape(img.name)} ({escape(img.mime)}, {c.fmt_size(len(img.data))})</div>'
        )
    data = base64.b64encode(img.data).decode()
    return (
        f'<figure class="nba-img"><img src="data:{img.mime};base64,{data}" alt="{escape(img.name)}">'
        f"<figcaption>{escape(img.name)}</figcaption></figure>"
    )


def _inputs(inp: ti.InputsItem) -> str:
    rows = [
        f"{escape(r.name)} <span class='nba-dim'>({c.fmt_size(r.size)}, {escape(r.status)})</span>"
        for r in inp.rows
    ]
    return f'<div class="nba-in">inputs: {" · ".join(rows)}</div>'


_RENDERERS: dict[type, Any] = {
    ti.UserMessage: _user,
    ti.Thinking: _thinking,
    ti.ErrorItem: _error,
    ti.Notice: _notice,
    ti.ThreadItem: _thread,
    ti.ThreadMessage: _thread_message,
    ti.OutcomeItem: _outcome,
    ti.ImageItem: _image,
    ti.InputsItem: _inputs,
}
