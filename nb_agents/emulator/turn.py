"""One turn of a session: from `session.status_running` to `session.status_idle`.

`drive(rt)` runs turns while user events are queued. A `Turn` takes the queued messages
(emitting their processed copies), asks a brain to respond, and gives brains the
primitives they are made of: `model()` (one model request: span, streamed message,
thinking, tool uses, then the tools run or the session pauses for the client), `sleep()`,
and the control steps in `turn_control.py` (errors, refusal, threads, outcomes).
Interrupts are cooperative: checked before each model request, between deltas, in
sleeps and after tools finish (an interrupt never cuts a running tool).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

from .calls import Call
from .common import new_id
from .inbox import message_text
from .permissions import evaluate_permission
from .turn_control import Interrupted, TurnControl, TurnOver

__all__ = ["drive", "Turn", "Interrupted", "TurnOver", "DELTA_DELAY"]

log = logging.getLogger(__name__)
DELTA_DELAY = 0.004  # seconds between streamed text chunks
INTERRUPTED_TEXT = "Tool execution was interrupted before completion. Please retry."


async def drive(rt: Any) -> None:
    """Run turns while work is queued (messages sent after an interrupt start the next turn)."""
    while rt.inbox and not rt.closed and rt.session.get("status") != "terminated":
        await Turn(rt).run()


def _chunks(text: str) -> list[str]:
    words = re.findall(r"\S+\s*|\s+", text)
    return ["".join(words[i : i + 3]) for i in range(0, len(words), 3)] or [text]


class Turn(TurnControl):
    def __init__(self, rt: Any) -> None:
        self.rt = rt
        self.carry: list[dict[str, Any]] = []  # messages folded in mid-turn, answered before idle
        self.waiting: list[Call] = []
        self.prompt = ""

    # -- what brains read --------------------------------------------------------------
    @property
    def sandbox(self) -> Any:
        return self.rt.sandbox

    @property
    def files(self) -> list[dict[str, Any]]:
        return self.rt.mounts

    @property
    def custom_tools(self) -> list[dict[str, Any]]:
        return [t for t in self.rt.agent.get("tools") or [] if t.get("type") == "custom"]

    def tool_enabled(self, name: str) -> bool:
        return evaluate_permission(self.rt.agent, name, {})[0] != "deny"

    # -- the turn ----------------------------------------------------------------------
    async def run(self) -> None:
        rt = self.rt
        rt.count("turns")
        if rt.interrupt:  # it came after the previous turn's last checkpoint: nothing left to stop
            rt.interrupt = None
        rt.resume()
        stop: dict[str, Any] = {"type": "end_turn"}
        details = None
        try:
            while batch := self.carry + self.take_inbox():
                self.carry = []
                await self.respond(batch)
        except Interrupted:
            self.settle_interrupted()
        except TurnOver as over:
            if over.terminated:
                return
            stop, details = over.stop_reason, over.stop_details
        except Exception as exc:  # an emulator bug must not leave the session running forever
            log.exception("emulator turn failed")
            rt.emit({"type": "session.error", "error": {
                "type": "unknown_error", "message": f"Emulator internal error: {exc!r}",
                "retry_status": {"type": "exhausted"}}})
            rt.inbox.clear()
            stop = {"type": "retries_exhausted"}
        rt.idle(stop, details)

    def take_inbox(self) -> list[dict[str, Any]]:
        """Pop queued user events, emitting each processed copy (same id as its echo)."""
        rt = self.rt
        if rt.interrupt:
            raise Interrupted()
        taken, rt.inbox = rt.inbox, []
        persisted = []
        for echo in taken:
            event = rt.emit({k: v for k, v in echo.items() if k != "processed_at"})
            if event["type"] == "user.message":
                rt.meter.add_input(message_text(event["content"]))
            persisted.append(event)
        return persisted

    async def respond(self, batch: list[dict[str, Any]]) -> None:
        from .brains import pick_brain

        messages = [e for e in batch if e["type"] == "user.message"]
        if messages:
            brain, self.prompt = pick_brain(self.rt, "\n\n".join(message_text(m["content"]) for m in messages))
            await brain.respond(self, self.prompt)
        for outcome in (e for e in batch if e["type"] == "user.define_outcome"):
            await self.run_outcome(outcome)

    # -- primitives ------------------------------------------------------------------------
    async def checkpoint(self) -> None:
        if self.rt.interrupt:
            raise Interrupted()

    async def wait_for(self, done: Any, *, interruptible: bool = True) -> None:
        rt = self.rt
        while not done():
            if interruptible and rt.interrupt:
                raise Interrupted()
            rt.wake.clear()
            await rt.wake.wait()

    async def sleep(self, seconds: float) -> None:
        """Sleep, waking early to honour an interrupt."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, float(seconds))
        while (remaining := deadline - loop.time()) > 0:
            await self.checkpoint()
            self.rt.wake.clear()
            try:
                await asyncio.wait_for(self.rt.wake.wait(), remaining)
            except asyncio.TimeoutError:
                pass
        await self.checkpoint()

    async def model(self, text: str | None = None, *, thinking: bool = False,
                    calls: list[dict[str, Any]] | tuple[dict[str, Any], ...] = ()) -> list[dict[str, Any]]:
        """One model request. Returns one result dict per call: name, input, content, is_error, text."""
        rt = self.rt
        await self.checkpoint()
        self.carry += self.take_inbox()  # messages sent meanwhile fold in at the request boundary
        await self.check_budget()
        start = rt.emit({"type": "span.model_request_start"})
        rt.count("model_requests")
        try:
            await self.sleep(getattr(rt.config, "turn_delay", 0.0) or 0.0)
            if thinking:
                await self._think()
            if text:
                await self._stream_message(text)
        except Interrupted:
            rt.emit({"type": "span.model_request_end", "model_request_start_id": start["id"], "is_error": True,
                     "model_usage": rt.meter.request("", thinking=thinking)})
            raise
        made = [self._tool_use(spec) for spec in calls]
        output = (text or "") + "".join(json.dumps(c.input) for c in made)
        rt.emit({"type": "span.model_request_end", "model_request_start_id": start["id"], "is_error": False,
                 "model_usage": rt.meter.request(output, thinking=thinking)})
        return await self._run_calls(made)

    async def _think(self) -> None:
        thinking_id = new_id("sevt")
        self.rt.broadcast({"type": "event_start", "event": {"type": "agent.thinking", "id": thinking_id}},
                          "agent.thinking")
        self.rt.emit({"type": "agent.thinking", "id": thinking_id})

    async def _stream_message(self, text: str) -> None:
        rt = self.rt
        message_id = new_id("sevt")
        rt.broadcast({"type": "event_start", "event": {"type": "agent.message", "id": message_id}}, "agent.message")
        for chunk in _chunks(text):
            await self.checkpoint()
            rt.broadcast({"type": "event_delta", "event_id": message_id, "delta": {
                "type": "content_delta", "index": 0, "content": {"type": "text", "text": chunk}}}, "agent.message")
            await asyncio.sleep(DELTA_DELAY)
        await self.checkpoint()
        rt.emit({"type": "agent.message", "id": message_id, "content": [{"type": "text", "text": text}]})

    # -- tools -----------------------------------------------------------------------------
    def _tool_use(self, spec: dict[str, Any]) -> Call:
        rt = self.rt
        name, tool_input = spec["name"], dict(spec.get("input") or {})
        custom_names = {t["name"] for t in self.custom_tools}
        if spec.get("mcp_server"):  # an MCP server's tool (surface.py)
            from .surface import mcp_tool_use

            call = mcp_tool_use(self, spec, Call)
        elif spec.get("custom") or (name in custom_names and not spec.get("builtin")):
            event = rt.emit({"type": "agent.custom_tool_use", "name": name, "input": tool_input,
                             "session_thread_id": None})
            call = Call(event["id"], name, tool_input, "custom")
        else:
            permission, evaluation = evaluate_permission(rt.agent, name, tool_input, spec.get("permission"))
            extra = {"evaluation": evaluation} if evaluation else {}
            event = rt.emit({"type": "agent.tool_use", "name": name, "input": tool_input,
                             "evaluated_permission": permission, **extra, "session_thread_id": None})
            kind = "remote" if rt.self_hosted else "builtin"
            call = Call(event["id"], name, tool_input, kind, permission=permission)
            call.denial = self._denial_text(name, evaluation)
        rt.calls[call.id] = call
        return call

    @staticmethod
    def _denial_text(name: str, evaluation: dict[str, Any] | None) -> str:
        if evaluation is None:
            return f"Tool {name} is not enabled for this agent."
        reason = (evaluation.get("evaluated_permission") or {}).get("reason_code", "high_risk")
        return f"Permission to use {name} was denied by the auto permission policy ({reason})."

    async def _run_calls(self, made: list[Call]) -> list[dict[str, Any]]:
        results: dict[str, dict[str, Any]] = {}
        for call in made:
            if call.kind in ("builtin", "mcp") and call.permission == "allow":
                results[call.id] = await self._execute(call)
            elif call.permission == "deny" and call.kind != "custom":
                results[call.id] = self._synthetic(call, call.denial)
        pending = [c for c in made if not c.answered]
        if pending:
            await self._requires_action(pending)
        for call in made:
            if call.id in results:
                continue
            if call.kind == "custom":
                results[call.id] = self._outcome(call, call.result or {})
            elif call.permission == "ask" and call.decision == "deny":
                message = f"Permission to use {call.name} has been rejected."
                if call.deny_message:
                    message += f" Rejection message: {call.deny_message}"
                results[call.id] = self._synthetic(call, message)
            elif call.kind == "remote":
                await self.wait_for(lambda c=call: c.result is not None)
                results[call.id] = self._outcome(call, call.result or {})
            else:
                results[call.id] = await self._execute(call)
        await self.checkpoint()  # an interrupt waits for running tools, then applies
        return [results[c.id] for c in made]

    async def _requires_action(self, pending: list[Call]) -> None:
        rt = self.rt
        self.waiting = pending
        for call in pending:
            call.waiting = True
        rt.pause = "requires_action"
        rt.idle({"type": "requires_action", "event_ids": [c.id for c in pending]})
        try:
            await self.wait_for(lambda: all(c.answered for c in pending))
        finally:
            rt.pause = None
            for call in pending:
                call.waiting = False
        self.waiting = []
        rt.resume()

    async def _execute(self, call: Call) -> dict[str, Any]:
        rt = self.rt
        if call.kind == "mcp":
            from .surface import mcp_execute

            return mcp_execute(self, call)
        run = await rt.sandbox.run_tool(call.name, call.input)
        rt.count("tool_executions")
        rt.emit({"type": "agent.tool_result", "tool_use_id": call.id, "content": run["content"],
                 "is_error": run["is_error"]})
        rt.meter.add_input(run["text"])
        rt.index_outputs()  # hosted indexes outputs at write time
        call.resolved = True
        return {"name": call.name, "input": call.input, **run}

    def _synthetic(self, call: Call, text: str) -> dict[str, Any]:
        if call.kind == "mcp":
            from .surface import mcp_synthetic

            return mcp_synthetic(self, call, text)
        content = [{"type": "text", "text": text}]
        self.rt.emit({"type": "agent.tool_result", "tool_use_id": call.id, "content": content, "is_error": True})
        call.resolved = True
        return {"name": call.name, "input": call.input, "content": content, "is_error": True, "text": text}

    @staticmethod
    def _outcome(call: Call, result: dict[str, Any]) -> dict[str, Any]:
        content = list(result.get("content") or [])
        return {"name": call.name, "input": call.input, "content": content,
                "is_error": bool(result.get("is_error")), "text": message_text(content)}

    def settle_interrupted(self) -> None:
        """Pending asks get an error result; the interrupt is persisted; an active outcome ends."""
        rt = self.rt
        for call in self.waiting:
            if call.kind != "custom" and not call.answered:
                self._synthetic(call, INTERRUPTED_TEXT)
            call.resolved = True
        self.waiting = []
        echo = rt.interrupt or {"id": new_id("sevt"), "session_thread_id": None}
        rt.interrupt = None
        rt.emit({"type": "user.interrupt", "id": echo["id"], "session_thread_id": echo.get("session_thread_id")})
        self.end_outcome_interrupted()
