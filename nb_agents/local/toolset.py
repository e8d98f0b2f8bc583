"""The tools a local session's agent runs in this kernel, and the ledger that runs each call once.

`session_tools(spec, host)` is the SDK's `beta_agent_toolset_20260401` (bash, read, write, edit,
glob, grep) bound to an `AgentToolContext` on the session's working folder: the file tools are
confined to it plus `--allow-path` folders (the SDK resolves symlinks before it checks); bash
starts there, without the kernel's `ANTHROPIC_*` variables and with the kernel's Python first on
`PATH` (so `python3` has the notebook's packages). Each tool is wrapped (`_Guarded`) so that
- an interrupt of the cell stops the call (`WorkerHost.interrupt` cancels its scope; the SDK's
  bash session kills the command) and the agent gets "stopped by the user";
- a call is executed once: the SDK's runner dispatches an unanswered call again after a stream
  cut or a worker restart (its result may never have been posted). The `Ledger` keeps what each
  call returned; when the same call (tool + input) comes again in a session, one `events.list`
  (unless the kernel's own reading of the session already showed it as a new call: `Ledger.note`)
  tells whether every earlier run of it was answered — if not, this is the re-dispatch of one
  that was not, and its kept result is returned instead of running it again. A re-dispatch that
  comes while the first run still runs (a lease lost mid-call) waits for it, then does the same.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from dataclasses import dataclass
from typing import Any

from ..egress import NO_METER

__all__ = ["CUT_TEXT", "Ledger", "session_tools", "STOPPED_TEXT"]

STOPPED_TEXT = "stopped by the user (the notebook cell was interrupted)"
CUT_TEXT = ("stopped before it finished: the local worker let go of the session while this ran "
            "(a lost lease or a worker restart); it was not run again")


@dataclass(frozen=True)
class _Outcome:
    content: Any
    is_error: bool


@dataclass(frozen=True)
class _Inner:
    call: Any  # the SDK tool's own bound `call`


class Ledger:
    """(session id, tool, input) -> the outcomes of the runs so far, oldest first (kernel-wide)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs: dict[tuple[str, str, str], list[_Outcome]] = {}
        self.running: dict[tuple[str, str, str], Any] = {}  # key -> anyio.Event set when that run ends
        self.replayed = 0
        self.listed = 0  # history reads a repeated call needed
        # What the kernel's own reading of the session showed (Turn.on_event -> `note`): tool use id
        # -> key, and the answered ids. A repeated call the kernel already saw as a new, unanswered
        # call (and every earlier run of it answered) runs without reading the history.
        self.seen: dict[str, tuple[str, str, str]] = {}
        self.answered: set[str] = set()

    def record(self, key: tuple[str, str, str], outcome: _Outcome) -> None:
        with self.lock:
            self.runs.setdefault(key, []).append(outcome)

    def earlier(self, key: tuple[str, str, str]) -> list[_Outcome]:
        with self.lock:
            return list(self.runs.get(key, ()))

    def forget(self, session_id: str) -> None:
        with self.lock:
            for key in [k for k in self.runs if k[0] == session_id]:
                del self.runs[key]
            for event_id in [i for i, k in self.seen.items() if k[0] == session_id]:
                del self.seen[event_id]
                self.answered.discard(event_id)

    def note(self, session_id: str, event: Any) -> None:
        """One event of a local session, as the kernel read it."""
        kind = getattr(event, "type", None)
        with self.lock:
            if kind == "agent.tool_use":
                self.seen[event.id] = (session_id, event.name, _canonical(dict(event.input or {})))
            elif kind == "user.tool_result":
                self.answered.add(event.tool_use_id)

    def known_new(self, key: tuple[str, str, str], runs: int) -> bool:
        """Whether the kernel saw a call of `key` not answered yet while every earlier run was."""
        with self.lock:
            ids = [i for i, k in self.seen.items() if k == key]
            done = sum(1 for i in ids if i in self.answered)
            return done >= runs and len(ids) > done


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


async def _calls_so_far(client: Any, session_id: str, name: str, canon: str) -> tuple[int, int]:
    """(calls, answered calls) of `name` with this input in the session's history."""
    ids: set[str] = set()
    answered: set[str] = set()
    async for event in client.beta.sessions.events.list(session_id, limit=1000):
        kind = getattr(event, "type", None)
        if kind == "agent.tool_use" and event.name == name and _canonical(dict(event.input or {})) == canon:
            ids.add(event.id)
        elif kind == "user.tool_result":
            answered.add(event.tool_use_id)
    return len(ids), len(ids & answered)


async def _kernel_saw_it_new(ledger: Ledger, key: tuple[str, str, str], runs: int) -> bool:
    """The kernel reads the same stream a little later than the worker: give it a moment."""
    import anyio

    for _ in range(KERNEL_LAG_POLLS):
        if ledger.known_new(key, runs):
            return True
        await anyio.sleep(0.005)
    return ledger.known_new(key, runs)


KERNEL_LAG_POLLS = 10  # x 5 ms


class _Guarded:
    """The `call` of one SDK tool, made interruptible and run once per call (see the module
    docstring). It replaces the tool object's own `call`: the tool stays the SDK's object, so the
    runner's clean-up (the bash shell) and everything else about it are unchanged."""

    def __init__(self, tool: Any, spec: Any, host: Any) -> None:
        self.inner = _Inner(tool.call)
        self.name = tool.name
        self.spec = spec
        self.host = host
        tool.call = self.call

    def _sent(self, outcome: _Outcome) -> None:
        """The SDK's runner posts this outcome as the call's `user.tool_result`: count it as egress
        (what leaves the kernel in local mode is the tools' results), its content's JSON bytes."""
        getattr(self.spec, "meter", NO_METER).tool_result(self.name, len(_canonical(outcome.content).encode()))

    async def call(self, input: Any) -> Any:
        import anyio
        from anthropic.lib.tools import ToolError

        session_id = str(self.spec.session_id)
        key = (session_id, self.name, _canonical(dict(input or {})))
        ledger = self.host.ledger
        while key in ledger.running:  # the same call still runs (dispatched again after a lost lease)
            await ledger.running[key].wait()
        earlier = ledger.earlier(key)
        if earlier and not await _kernel_saw_it_new(ledger, key, len(earlier)):
            ledger.listed += 1
            calls, done = await _calls_so_far(self.host.client, session_id, self.name, key[2])
            # Every such call answered: this dispatch is stale (its result landed meanwhile). Fewer
            # answered than we ran: the first of ours without an answer is the one dispatched again.
            if calls == done or done < len(earlier):
                ledger.replayed += 1
                kept = earlier[min(done, len(earlier) - 1)] if calls != done else earlier[-1]
                self._sent(kept)
                if kept.is_error:
                    raise ToolError(kept.content)
                return kept.content
        scope = anyio.CancelScope()
        self.spec.running.add(scope)
        ledger.running[key] = ended = anyio.Event()
        outcome: _Outcome | None = None
        try:
            with scope:
                content = await self.inner.call(input)
                outcome = _Outcome(content, False)
        except ToolError as exc:
            outcome = _Outcome(exc.content, True)
            raise
        finally:
            self.spec.running.discard(scope)
            ledger.running.pop(key, None)
            ended.set()
            if outcome is None:  # stopped by the user (our scope) or by the SDK (e.g. a lost lease)
                outcome = _Outcome(f"{self.name}: {STOPPED_TEXT if scope.cancelled_caught else CUT_TEXT}", True)
            if outcome is not None:
                ledger.record(key, outcome)
                self._sent(outcome)
        if scope.cancelled_caught and self.name == "bash":
            # The user stopped it, not the model: the killed shell is replaced, so the next call runs.
            with anyio.CancelScope(shield=True):
                await self.inner.call({"restart": True})
        if outcome.is_error:
            raise ToolError(outcome.content)
        return outcome.content


def bash_environment() -> dict[str, str]:
    """The kernel's environment without `ANTHROPIC_*`, with the kernel's Python first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    bindir = os.path.dirname(sys.executable)
    env["PATH"] = os.pathsep.join([bindir, env.get("PATH", "")]) if bindir else env.get("PATH", "")
    env.setdefault("MPLBACKEND", "Agg")
    return env


def session_tools(spec: Any, host: Any) -> list[Any]:
    from anthropic.lib.tools.agent_toolset import AgentToolContext, beta_agent_toolset_20260401

    ctx = spec.ctx = AgentToolContext(workdir=spec.workdir, allowed_roots=list(spec.allow_paths),
                                      env=bash_environment())
    tools = beta_agent_toolset_20260401(ctx)
    for tool in tools:
        _Guarded(tool, spec, host)
    return tools
