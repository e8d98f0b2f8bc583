"""The `requires_action` handler: answer custom tool calls and confirmations, exactly once.

When a session goes idle with `requires_action`, the stream loop hands the pending events to
`ActionHandler.resolve`, which runs the kernel's custom tools (each in a daemon worker thread,
bounded by its timeout and the run's deadline) and asks a prompter about `always_ask` calls.
It returns the `user.custom_tool_result` / `user.tool_confirmation` params for the loop to send.

Exactly-once: a call id is executed at most once per handler (results are cached), never when
the session history already holds an answer for it, and returned for sending only once unless
the caller reports the send failed (`release`). Reconnects and backfills therefore neither run
a tool twice nor leave one unanswered.

Answers sent outside a turn's event loop (`respond`, `requires_action_hook` without `send=`) go
out through `ActionHandler.send`, which counts them in the handler's `meter` (the session's
`EgressMeter`, egress.py) as the loop's own send does: `run.egress` / `%agent egress` show them.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..egress import NO_METER, EgressMeter
from ..events import get_field
from .approvals import ConfirmationRequest, Decision, Prompter
from .custom import DEFAULT_TOOL_TIMEOUT, KernelTool, as_tool
from .ledger import KERNEL_LEDGER, ActionContext, Ledger
from .results import error_content, to_content

__all__ = [
    "DEFAULT_APPROVAL_TIMEOUT",
    "KERNEL_LEDGER",
    "ActionContext",
    "ActionHandler",
    "Ledger",
    "requires_action_hook",
]

DEFAULT_APPROVAL_TIMEOUT = 300.0
_CONFIRMABLE = {"agent.tool_use", "agent.mcp_tool_use"}
_ANSWER_KEYS = {
    "user.custom_tool_result": "custom_tool_use_id",
    "user.tool_confirmation": "tool_use_id",
    "user.tool_result": "tool_use_id",
    "agent.tool_result": "tool_use_id",
    "agent.mcp_tool_result": "mcp_tool_use_id",
}


@dataclass
class _Call:
    event: Any
    tool: KernelTool
    timeout: float | None
    done: threading.Event
    box: dict[str, Any]


class ActionHandler:
    """Answers the pending actions it owns; see the module docstring for the guarantees."""

    def __init__(
        self,
        tools: Iterable[Any] = (),
        *,
        prompter: Prompter | None = None,
        tool_timeout: float | None = DEFAULT_TOOL_TIMEOUT,
        approval_timeout: float | None = DEFAULT_APPROVAL_TIMEOUT,
        ledger: Ledger | None = None,
        meter: EgressMeter = NO_METER,
    ) -> None:
        self.tools: dict[str, KernelTool] = {t.name: t for t in map(as_tool, tools)}
        self.meter = meter  # the session's (set by AgentSession): what `send` puts on the wire is counted
        self.prompter = prompter
        self.tool_timeout = tool_timeout
        self.approval_timeout = approval_timeout
        self.executions: Counter[str] = Counter()
        ledger = ledger if ledger is not None else Ledger()
        self.ledger = ledger
        self._results = ledger.results
        self._delivered = ledger.delivered
        self._lock = ledger.lock

    # -- ownership -------------------------------------------------------------------------
    def owns(self, event: Any) -> bool:
        kind = get_field(event, "type")
        if kind == "agent.custom_tool_use":
            return get_field(event, "name") in self.tools
        if kind in _CONFIRMABLE:
            return self.prompter is not None and get_field(event, "evaluated_permission") == "ask"
        return False

    def unowned(self, pending: Sequence[Any]) -> list[Any]:
        """Pending calls this handler will not answer (the view shows them as waiting)."""
        return [e for e in pending if not self.owns(e)]

    def unanswered(self, pending: Sequence[Any], history: Iterable[Any] = ()) -> list[Any]:
        """Pending calls nobody has answered: not in `history`, not sent by this handler.

        After `resolve` + send, keep reading when this is empty (a re-emitted or stale
        `requires_action` idle is then not a reason to stop); stop, shown as waiting, otherwise.
        """
        with self._lock:
            done = self.answered_ids(history) | self._delivered
        return [e for e in pending if get_field(e, "id") not in done]

    @staticmethod
    def answered_ids(history: Iterable[Any]) -> set[str]:
        """Call ids the session history already holds an answer (or a result) for."""
        ids = set()
        for event in history:
            key = _ANSWER_KEYS.get(get_field(event, "type"))
            if key and get_field(event, key):
                ids.add(get_field(event, key))
        return ids

    # -- resolution ------------------------------------------------------------------------
    def resolve(self, pending: Sequence[Any], ctx: ActionContext | None = None) -> list[dict[str, Any]]:
        """Params to send for every owned, still unanswered pending call (in pending order)."""
        ctx = ctx or ActionContext()
        with self._lock:
            answered = self.answered_ids(ctx.history) | self._delivered
            todo = [e for e in pending if self.owns(e) and get_field(e, "id") not in answered]
            todo = list({get_field(e, "id"): e for e in todo}.values())
            fresh = [e for e in todo if get_field(e, "id") not in self._results]
            customs = [e for e in fresh if get_field(e, "type") == "agent.custom_tool_use"]
            self._results.update(self._run_tools(customs, ctx))
            for event in fresh:
                if get_field(event, "type") in _CONFIRMABLE:
                    self._results[get_field(event, "id")] = self._confirm(event, ctx)
            out = [self._results[get_field(e, "id")] for e in todo]
            self._delivered.update(get_field(e, "id") for e in todo)
            self.ledger.trim()
            return out

    def release(self, params: Iterable[dict[str, Any]]) -> None:
        """The send of these params failed: return them again (cached, not re-run) next time."""
        with self._lock:
            for p in params:
                self._delivered.discard(p.get("custom_tool_use_id") or p.get("tool_use_id") or "")

    def refused(self, params: Iterable[dict[str, Any]], reason: str) -> list[dict[str, Any]]:
        """The API refused these answers (a 4xx for their content): custom tool results become
        error results saying why (cached in their place, returned for sending); confirmations
        are returned as they were. The agent is told instead of waiting for ever."""
        out = []
        with self._lock:
            for p in params:
                call_id = p.get("custom_tool_use_id")
                if p.get("type") == "user.custom_tool_result" and call_id:
                    text = f"the tool ran, but its result could not be sent: {reason}"
                    p = self._results[call_id] = _result(call_id, [{"type": "text", "text": text}], True)
                out.append(p)
                self._delivered.add(call_id or p.get("tool_use_id") or "")
        return out

    def respond(
        self, client: Any, session_id: str, pending: Sequence[Any], ctx: ActionContext | None = None
    ) -> list[dict[str, Any]]:
        """`resolve` and send in one step (used by the Python API and tests)."""
        params = self.resolve(pending, ctx)
        if params:
            self.send(client, session_id, params)
        return params

    def send(self, client: Any, session_id: str, params: list[dict[str, Any]],
             via: Callable[[list[dict[str, Any]]], Any] | None = None) -> None:
        """Send answers `resolve` returned. `via` is the caller's own send (`EventLoop.send`, which
        counts what it sends); without one, `events.send`, counted by `meter` as it goes out (a
        failed attempt too: it may have reached the server). A failed send gives the answers back
        (`release`)."""
        try:
            if via is not None:
                via(params)
            else:
                self.meter.sent(params)
                client.beta.sessions.events.send(session_id, events=params)
        except BaseException:
            self.release(params)
            raise

    # -- custom tools ----------------------------------------------------------------------
    def _run_tools(self, events: list[Any], ctx: ActionContext) -> dict[str, dict[str, Any]]:
        calls = [self._start(e, ctx) for e in events]
        results = {}
        for call in calls:
            results[get_field(call.event, "id")] = self._finish(call, ctx)
        return results

    def _start(self, event: Any, ctx: ActionContext) -> _Call:
        kt = self.tools[get_field(event, "name")]
        limit = kt.timeout if kt.timeout is not None else self.tool_timeout
        call = _Call(event, kt, ctx.remaining(limit), threading.Event(), {})
        call.box["deadline"] = None if call.timeout is None else time.monotonic() + call.timeout
        run_ctx = contextvars.copy_context()  # prints inside the tool land in the running cell
        self.executions[kt.name] += 1
        # Daemon threads: a tool that never returns must not keep the kernel from exiting.
        threading.Thread(
            target=run_ctx.run,
            args=(_execute, kt, get_field(event, "input") or {}, call),
            name=f"nb-agents-tool-{kt.name}",
            daemon=True,
        ).start()
        return call

    def _finish(self, call: _Call, ctx: ActionContext) -> dict[str, Any]:
        deadline = call.box["deadline"]
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        name, call_id = call.tool.name, get_field(call.event, "id")
        if not call.done.wait(wait):
            ctx.notice(f"Tool {name} timed out after {call.timeout:.3g} s; the agent was told.", "warning")
            text = f"TimeoutError: tool {name} did not finish within {call.timeout:.3g} s"
            return _result(call_id, [{"type": "text", "text": text}], True)
        if "error" in call.box:  # the tool row shows the error; no extra notice
            return _result(call_id, error_content(call.box["error"]), True)
        return _result(call_id, call.box["content"], False)

    # -- confirmations ---------------------------------------------------------------------
    def _confirm(self, event: Any, ctx: ActionContext) -> dict[str, Any]:
        evaluation = get_field(event, "evaluation")
        verdict = get_field(evaluation, "evaluated_permission") if evaluation is not None else None
        request = ConfirmationRequest(
            tool_use_id=get_field(event, "id"),
            name=get_field(event, "name") or "?",
            input=get_field(event, "input"),
            server=get_field(event, "mcp_server_name"),
            reason=get_field(verdict, "reason_code") if verdict is not None else None,
        )
        timeout = ctx.remaining(self.approval_timeout)
        try:
            assert self.prompter is not None  # owns() checked it
            decision = self.prompter.ask(request, timeout)
        except Exception as exc:  # a broken prompter must not leave the call pending
            decision = Decision(allow=False, message=f"Approval failed ({type(exc).__name__}); denied.")
        if decision.timed_out:
            ctx.notice(f"No answer for {request.name} within {timeout or 0:.0f} s: denied.", "warning")
        params: dict[str, Any] = {
            "type": "user.tool_confirmation",
            "tool_use_id": request.tool_use_id,
            "result": "allow" if decision.allow else "deny",
        }
        if not decision.allow and decision.message:
            params["deny_message"] = decision.message
        return params


def _result(call_id: str, content: list[dict[str, Any]], is_error: bool) -> dict[str, Any]:
    return {
        "type": "user.custom_tool_result",
        "custom_tool_use_id": call_id,
        "content": content,
        "is_error": is_error,
    }


def _execute(kt: KernelTool, tool_input: Any, call: _Call) -> None:
    try:
        call.box["content"] = to_content(kt.run(tool_input))
    except BaseException as exc:  # reported to the agent as is_error, never re-raised in the kernel
        call.box["error"] = exc
    finally:
        call.done.set()


def requires_action_hook(
    handler: ActionHandler,
    client: Any,
    session_id: str,
    *,
    send: Callable[[list[dict[str, Any]]], Any] | None = None,
    deadline: float | None = None,
    on_notice: Callable[[str, str], Any] | None = None,
) -> Callable[[Any], bool]:
    """`EventLoop(on_requires_action=...)`: answer a `requires_action` idle; True = keep reading.

    The pending events and the authoritative history come from `events.list` (a backfilled idle
    may precede, in the local view, an answer another client already sent). `send` defaults to
    `events.send`, counted in the handler's `meter` (`ActionHandler.send`); pass `EventLoop.send`
    so the loop dedupes the echo (and counts it). False (stop, shown as waiting) when a pending
    call is not ours.
    """

    def hook(idle_event: Any) -> bool:
        ids = [str(i) for i in (get_field(get_field(idle_event, "stop_reason"), "event_ids") or [])]
        history = list(client.beta.sessions.events.list(session_id, limit=1000, order="asc"))
        by_id = {str(get_field(e, "id")): e for e in history}
        pending = [by_id[i] for i in ids if i in by_id]
        ctx = ActionContext(history=history, deadline=deadline, on_notice=on_notice)
        params = handler.resolve(pending, ctx)
        if params:
            handler.send(client, session_id, params, via=send)
        waiting = handler.unanswered(pending, history)
        if waiting or len(pending) < len(ids):
            names = ", ".join(str(get_field(e, "name")) for e in waiting) or "unknown calls"
            ctx.notice(f"Waiting on {names}: not answered by this kernel.", "warning")
            return False
        return True

    return hook
