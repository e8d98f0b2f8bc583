"""The control steps of a turn beyond plain model requests: budget pauses, session errors
with their retry status, rescheduling, refusal, termination, subagent threads, outcome
evaluations and raw events. `Turn` (turn.py) inherits them; brains call them.
"""

from __future__ import annotations

from typing import Any

from .common import new_id, now_iso

__all__ = ["Interrupted", "TurnOver", "TurnControl", "ERROR_DEFAULTS"]

ERROR_DEFAULTS: dict[str, dict[str, Any]] = {
    "mcp_connection_failed_error": {"mcp_server_name": "example-mcp"},
    "mcp_authentication_failed_error": {"mcp_server_name": "example-mcp"},
    "credential_host_unreachable_error": {"credential_id": "vcrd_01emulator", "vault_id": "vlt_01emulator"},
}
_TERMINAL_OUTCOMES = ("satisfied", "max_iterations_reached", "failed", "interrupted")


class Interrupted(Exception):
    """A user.interrupt applies: the turn stops at this point."""


class TurnOver(Exception):
    """The turn ends early: with an idle `stop_reason`, or terminated (no idle)."""

    def __init__(self, stop_reason: dict[str, Any] | None = None, stop_details: dict[str, Any] | None = None,
                 *, terminated: bool = False) -> None:
        super().__init__(stop_reason)
        self.stop_reason = stop_reason or {"type": "end_turn"}
        self.stop_details = stop_details
        self.terminated = terminated


class TurnControl:
    rt: Any

    async def sleep(self, seconds: float) -> None:  # provided by Turn
        raise NotImplementedError

    async def wait_for(self, done: Any, *, interruptible: bool = True) -> None:  # provided by Turn
        raise NotImplementedError

    def emit(self, event: dict[str, Any]) -> dict[str, Any]:
        """Persist a raw event (id and processed_at filled in): the scenario escape hatch."""
        return self.rt.emit(dict(event))

    async def check_budget(self) -> None:
        """Before each model request: at the cap, idle with budget_reached until raised or removed."""
        rt = self.rt
        if not rt.over_budget():
            return
        rt.pause = "budget_reached"
        rt.idle({"type": "budget_reached"})
        try:
            await self.wait_for(lambda: not rt.over_budget(), interruptible=False)
        finally:
            rt.pause = None
        rt.resume()

    def _failed_request(self) -> None:
        start = self.rt.emit({"type": "span.model_request_start"})
        self.rt.emit({"type": "span.model_request_end", "model_request_start_id": start["id"], "is_error": True,
                      "model_usage": self.rt.meter.request("")})

    async def error(self, error_type: str = "model_overloaded_error", retry_status: str = "retrying",
                    message: str | None = None, **extra: Any) -> None:
        """A session.error. retrying: reschedule and carry on; exhausted: the turn is dead
        (queued inputs are flushed); terminal: the session terminates."""
        rt = self.rt
        error = {"type": error_type, "message": message or f"Emulated {error_type.replace('_', ' ')}.",
                 "retry_status": {"type": retry_status}, **ERROR_DEFAULTS.get(error_type, {}), **extra}
        if retry_status != "terminal" and not error_type.startswith("repository_"):
            self._failed_request()
        rt.emit({"type": "session.error", "error": error})
        if retry_status == "retrying":
            if not error_type.startswith("repository_"):  # repository errors: the session just continues
                await self.reschedule()
            return
        rt.inbox.clear()
        if retry_status == "exhausted":
            raise TurnOver({"type": "retries_exhausted"})
        await self.terminate()

    async def reschedule(self, seconds: float = 0.05) -> None:
        rt = self.rt
        rt.set_status("rescheduling")
        rt.emit({"type": "session.status_rescheduled"})
        await self.sleep(seconds)
        rt.set_status("running")
        rt.emit({"type": "session.status_running"})

    async def refusal(self, category: str | None = "general_harms", explanation: str | None = None) -> None:
        """A model request that ends in a refusal (no agent.message); the turn ends."""
        self._empty_request()
        details = {"type": "refusal", "category": category,
                   "explanation": explanation or "The emulated model declined this request."}
        raise TurnOver({"type": "refusal"}, details)

    def _empty_request(self) -> None:
        start = self.rt.emit({"type": "span.model_request_start"})
        self.rt.emit({"type": "span.model_request_end", "model_request_start_id": start["id"], "is_error": False,
                      "model_usage": self.rt.meter.request("")})

    async def terminate(self) -> None:
        rt = self.rt
        rt.inbox.clear()
        rt.index_outputs()
        rt.set_status("terminated")
        rt.emit({"type": "session.status_terminated"})
        raise TurnOver(terminated=True)

    async def thread(self, agent_name: str = "reviewer", message: str = "Please review this.",
                     reply: str = "Reviewed: looks good.", *, terminate: bool = False) -> str:
        """A subagent delegation as the primary stream sees it; returns the child thread id."""
        rt = self.rt
        tid = new_id("sthr")
        text = [{"type": "text", "text": message}]
        rt.emit({"type": "session.thread_created", "session_thread_id": tid, "agent_name": agent_name,
                 "workflow_run_id": None})
        rt.emit({"type": "agent.thread_message_sent", "to_session_thread_id": tid, "to_agent_name": agent_name,
                 "content": text})
        rt.emit({"type": "session.thread_status_running", "session_thread_id": tid, "agent_name": agent_name})
        await self.sleep(0.02)
        rt.emit({"type": "session.thread_status_idle", "session_thread_id": tid, "agent_name": agent_name,
                 "stop_reason": {"type": "end_turn"}})
        rt.emit({"type": "agent.thread_message_received", "from_session_thread_id": tid,
                 "from_agent_name": agent_name, "content": [{"type": "text", "text": reply}]})
        rt.meter.add_input(reply)
        if terminate:
            rt.emit({"type": "session.thread_status_terminated", "session_thread_id": tid, "agent_name": agent_name})
        return tid

    # -- outcomes ----------------------------------------------------------------------------
    async def run_outcome(self, event: dict[str, Any]) -> None:
        """A user.define_outcome: the brain works on the description, then it is graded."""
        from .brains import ScenarioBrain, pick_brain

        rt = self.rt
        record = {"type": "outcome_evaluation", "outcome_id": event["outcome_id"],
                  "description": event["description"], "iteration": 0, "result": "running",
                  "explanation": None, "completed_at": None}
        rt.session["outcome_evaluations"].append(record)
        rt.outcome = dict(record, max_iterations=event.get("max_iterations") or 3)
        brain, prompt = pick_brain(rt, event["description"])
        await brain.respond(self, prompt)
        if rt.outcome is not None and rt.outcome["max_iterations"] > 1 and not isinstance(brain, ScenarioBrain):
            # The built-in grader shows the whole loop: one revision, then the verdict
            # (a scenario grades with its own `outcome` steps).
            await self.evaluate_outcome("needs_revision", "A first pass: check the work against every rubric "
                                        "item once more (offline emulator grader).")
            await brain.respond(self, prompt)
        if rt.outcome is not None:  # the brain did not grade it: the emulator's grader accepts
            await self.evaluate_outcome("satisfied", "The deliverable meets the rubric (offline emulator grader).")

    def _outcome_record(self) -> dict[str, Any]:
        rt = self.rt
        if rt.outcome is None:  # a scenario evaluates without a define_outcome: make an implicit one
            rt.outcome = {"type": "outcome_evaluation", "outcome_id": new_id("outc"), "description": "",
                          "iteration": 0, "result": "running", "explanation": None, "completed_at": None,
                          "max_iterations": 3}
            rt.session["outcome_evaluations"].append({k: v for k, v in rt.outcome.items() if k != "max_iterations"})
        return rt.outcome  # type: ignore[no-any-return]

    def _sync_record(self) -> None:
        outcome = self.rt.outcome
        for record in self.rt.session["outcome_evaluations"]:
            if record["outcome_id"] == outcome["outcome_id"]:
                record.update({k: v for k, v in outcome.items() if k != "max_iterations"})

    async def evaluate_outcome(self, result: str = "satisfied", explanation: str = "") -> None:
        rt = self.rt
        outcome = self._outcome_record()
        ids = {"outcome_id": outcome["outcome_id"], "iteration": outcome["iteration"]}
        start = rt.emit({"type": "span.outcome_evaluation_start", **ids})
        outcome["result"] = "evaluating"
        self._sync_record()
        rt.emit({"type": "span.outcome_evaluation_ongoing", **ids})
        await self.sleep(0.01)
        rt.emit({"type": "span.outcome_evaluation_end", **ids, "outcome_evaluation_start_id": start["id"],
                 "result": result, "explanation": explanation or f"Outcome {result}.",
                 "usage": rt.meter.request(explanation)})
        outcome["explanation"] = explanation or None
        if result == "needs_revision":
            outcome["iteration"] += 1
            outcome["result"] = "running"
        else:
            outcome["result"], outcome["completed_at"] = result, now_iso()
        self._sync_record()
        if result in _TERMINAL_OUTCOMES:
            rt.outcome = None

    def end_outcome_interrupted(self) -> None:
        rt = self.rt
        outcome = rt.outcome
        if outcome is None:
            return
        rt.emit({"type": "span.outcome_evaluation_end", "outcome_id": outcome["outcome_id"],
                 "iteration": outcome["iteration"], "outcome_evaluation_start_id": "", "result": "interrupted",
                 "explanation": "The outcome was interrupted.", "usage": rt.meter.request("")})
        outcome.update(result="interrupted", completed_at=now_iso())
        self._sync_record()
        rt.outcome = None
