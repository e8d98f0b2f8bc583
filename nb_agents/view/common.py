"""What the HTML and text renderers say in common: status labels, one-line stop
explanations, tool-call digests and number formatting. Pure functions, no markup."""

from __future__ import annotations

import json

from ..transcript import Attached, Prompt, Thinking, ToolCall, Transcript

__all__ = [
    "status_of",
    "stop_explanation",
    "retry_explanation",
    "tool_digest",
    "tool_tag",
    "tool_state",
    "truncate",
    "fmt_size",
    "fmt_seconds",
    "fmt_usd",
    "footer_parts",
    "settled_count",
    "full_tools",
    "pretty_input",
    "elapsed",
    "prompt_parts",
    "added_summary",
    "input_line",
]

# Tool I/O kept in the view (the full values stay in run.tool_calls).
INPUT_CHARS = 400
RESULT_CHARS = 800
VERBOSE_RESULT_CHARS = 6000
DIGEST_CHARS = 80
BRIEF_DIGEST_CHARS = 40
# Older tool calls are shown as one line so long transcripts stay small when saved
# (the widget state and the static copy both hold the transcript: < 150 KB for 2,000 events).
FULL_TAIL = 8
TOOL_FINAL_STATES = ("done", "error", "denied", "ended")


def status_of(t: Transcript) -> tuple[str, str]:
    """(css key, label) of the run's state for the status line."""
    if t.status in ("terminated", "deleted"):
        return "error", "session deleted" if t.status == "deleted" else "terminated"
    if t.status == "idle":
        if t.interrupted:
            return "interrupted", "interrupted"
        return {
            "requires_action": ("waiting", "waiting for input"),
            "retries_exhausted": ("error", "error: retries exhausted"),
            "budget_reached": ("stopped", "budget reached"),
            "refusal": ("stopped", "refused"),
        }.get(t.stop_reason or "", ("idle", "idle"))
    if t.status == "rescheduling":
        return "rescheduling", "rescheduling after an error"
    if t.status != "running":
        return "running", "starting"
    last = t.items[-1] if t.items else None
    if isinstance(last, Thinking):  # agent.thinking carries no text: say it here
        return "running", "running · thinking…"
    if isinstance(last, ToolCall) and last.status == "running":
        return "running", f"running · {tool_name(last)}"
    return "running", "running"


def stop_explanation(t: Transcript) -> str | None:
    """One line explaining an unusual end of the turn, or None."""
    if t.status == "terminated":
        err = t.last_error
        why = f": {err.message}" if err and err.message else ""
        return f"The session was terminated{why}. Start a new session to continue."
    if t.status == "deleted":
        return "The session was deleted."
    if t.status != "idle" or t.interrupted:
        return None
    if t.stop_reason == "refusal":
        d = dict(t.stop_details or {})
        cat = f" ({d['category']})" if d.get("category") else ""
        why = f": {d['explanation']}" if d.get("explanation") else "."
        return f"The model declined to continue{cat}{why}"
    if t.stop_reason == "budget_reached":
        spent = f" (spent {fmt_usd(t.cost_usd)})" if t.cost_usd is not None else ""
        cap = f" of {fmt_usd(t.budget_usd)}" if t.budget_usd is not None else ""
        return (
            f"Stopped: the session budget{cap} was reached{spent}. "
            "Raise it with `%agent budget [NAME] USD` (or remove it: `%agent budget [NAME] none`) to continue."
        )
    if t.stop_reason == "retries_exhausted":
        return (
            "Stopped: the turn failed after repeated errors (retries exhausted). Send a new prompt to retry."
        )
    if t.stop_reason == "requires_action":
        n = len(t.pending_action_ids)
        return f"Waiting on {n} pending action{'s' if n != 1 else ''} (tool results or confirmations)."
    return None


def retry_explanation(retry_status: str | None, error_type: str | None = None) -> str:
    # Repository and MCP errors never stop the turn: say what the agent has to do without.
    if error_type and error_type.startswith("repository_") and retry_status != "terminal":
        return "the session continues without this repository"
    if error_type in ("mcp_connection_failed_error", "mcp_authentication_failed_error") and retry_status != "terminal":
        return "the session continues without this MCP server's tools"
    return {
        "retrying": "retrying automatically",
        "exhausted": "retries exhausted, the turn ended",
        "terminal": "unrecoverable, the session will terminate",
    }.get(retry_status or "", "")


_DIGEST_KEYS = ("command", "file_path", "pattern", "url", "query", "path")


def tool_digest(call: ToolCall, limit: int = DIGEST_CHARS) -> str:
    """A compact one-line summary of a tool call's input."""
    for key in _DIGEST_KEYS:
        value = call.input.get(key)
        if isinstance(value, str) and value:
            return truncate(" ".join(value.split()), limit)[0]
    if not call.input:
        return ""
    return truncate(json.dumps(call.input, ensure_ascii=False, default=str), limit)[0]


MEMORY_ROOT = "/mnt/memory/"


def tool_tag(call: ToolCall) -> str | None:
    """What the row names after the tool: an MCP call's server, or "memory" for a call that reads
    or writes a mounted memory store (a path or a command under `/mnt/memory/`)."""
    if call.server:
        return call.server
    touches = any(isinstance(call.input.get(k), str) and MEMORY_ROOT in call.input[k] for k in _DIGEST_KEYS)
    return "memory" if touches else None


def tool_name(call: ToolCall) -> str:
    """The tool's name, or '?' for a tool use that came without one."""
    return call.name or "?"


def tool_state(call: ToolCall) -> str:
    """A short human word for a tool call's status."""
    if call.status == "waiting":
        if call.kind == "custom":
            return "waiting for the kernel to answer"
        return "waiting for confirmation (allow / deny)"
    if call.status == "denied":
        return f"denied: {call.deny_message}" if call.deny_message else "denied"
    if call.status == "ended":  # still open when the session stopped (see transcript.fold._idle)
        return "no result"
    return {"running": "running", "error": "error", "done": "done"}.get(call.status, call.status)


def truncate(text: str, limit: int) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    return text[: max(0, limit - 1)] + "…", True


def pretty_input(call: ToolCall) -> str:
    """The input as shown in the expanded row: bash commands verbatim, else JSON."""
    if set(call.input) <= {"command", "timeout_ms", "restart"} and isinstance(call.input.get("command"), str):
        return str(call.input["command"])
    return json.dumps(call.input, ensure_ascii=False, indent=1, default=str)


def fmt_size(n: int | None) -> str:
    """A byte count for people, in SI units ("12 B", "21.4 kB", "1.5 MB"); "?" when unknown."""
    if n is None:
        return "?"
    if n < 1000:
        return f"{n} B"
    for unit in ("kB", "MB", "GB"):
        n /= 1000.0  # type: ignore[assignment]
        if n < 1000 or unit == "GB":
            return f"{n:.1f} {unit}"
    return f"{n} B"  # pragma: no cover


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return ""
    if s < 60:
        return f"{s:.1f} s"
    m, sec = divmod(int(round(s)), 60)
    if m < 60:
        return f"{m} min {sec:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def fmt_usd(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"${x:,.2f}" if x >= 0.1 or x == 0 else f"${x:.4f}".rstrip("0")


def footer_parts(t: Transcript, now: float | None = None) -> list[str]:
    """Tokens, cost (against the budget when there is one) and wall time."""
    u = t.usage
    parts = [f"{u.input_tokens:,} in · {u.output_tokens:,} out tokens"]
    if u.cache_read_input_tokens or u.cache_creation_input_tokens:
        parts.append(f"cache {u.cache_read_input_tokens:,} read · {u.cache_creation_input_tokens:,} written")
    if t.cost_usd is not None and t.budget_usd is not None:
        parts.append(f"{fmt_usd(t.cost_usd)} of {fmt_usd(t.budget_usd)} budget")
    elif t.cost_usd is not None:
        parts.append(fmt_usd(t.cost_usd))
    elif t.budget_usd is not None:
        parts.append(f"budget {fmt_usd(t.budget_usd)}")
    parts.append(fmt_seconds(elapsed(t, now)))
    return parts


def elapsed(t: Transcript, now: float | None = None) -> float:
    if now is None or t.started_at is None or t.ended_at is not None:
        return t.elapsed
    return max(0.0, now - t.started_at)


def settled_count(t: Transcript) -> int:
    """How many leading items are final (will not change any more while the turn runs)."""
    for pos, item in enumerate(t.items):
        if not item.final:
            return pos
    return len(t.items)


def full_tools(t: Transcript, verbose: bool) -> frozenset[str]:
    """Ids of the tool calls shown with their input/result (the last FULL_TAIL ones)."""
    ids = [i.id for i in t.items if isinstance(i, ToolCall)]
    return frozenset(ids if verbose else ids[-FULL_TAIL:])


# What the user wrote is shown up to this many chars (a chip counts its name).
USER_CHARS = 2000
# The text sent for the agent (cards, mount notes) is kept up to this many chars in the view.
SENT_CHARS = 6000


def prompt_parts(prompt: Prompt, limit: int = USER_CHARS) -> tuple[tuple[str | Attached, ...], int]:
    """The prompt's parts cut to `limit` chars of text, and how many chars were left out."""
    out: list[str | Attached] = []
    left, dropped = limit, 0
    for part in prompt.parts:
        if isinstance(part, Attached):
            if left > 0:
                out.append(part)
            continue
        if left <= 0:
            dropped += len(part)
            continue
        piece, cut = truncate(part, left)
        out.append(piece)
        dropped += len(part) - len(piece) + 1 if cut else 0
        left -= len(part)
    return tuple(out), dropped


def added_summary(prompt: Prompt) -> str:
    """The one line under which the text added for the agent is folded."""
    names = [a.name for a in prompt.inputs]
    what = f"how to read {names[0]}" if len(names) == 1 else f"how to read {len(names)} inputs" if names else "notes"
    return f"+ text added for the agent ({what})"


def input_line(a: Attached) -> str:
    """One attached input: its name, its kind and where it is mounted."""
    where = f" at {a.mount_path}" if a.mount_path else ""
    return f"{a.name} ({a.kind}){where}"
