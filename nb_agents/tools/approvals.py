"""Tool approvals: permission policies for the built-in toolset and the Allow/Deny prompters.

`toolset_param` turns `--ask bash,write` / `--ask-all` / `--auto` into the
`agent_toolset_20260401` entry (per-tool `always_ask`/`auto` policies). A call waiting for
confirmation is put to a prompter: `StdinPrompter` for a foreground run (the kernel cannot
process widget clicks while the cell runs, but it can answer an `input()` request) and
`ButtonPrompter` for a background run (ipywidgets buttons resolve a threading.Event). Both take
a timeout: nothing waits forever, and a timeout is a deny.
"""

from __future__ import annotations

import builtins
import contextvars
import difflib
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import ConfigError

__all__ = [
    "BUILTIN_TOOLS",
    "ButtonPrompter",
    "ConfirmationRequest",
    "Decision",
    "Prompter",
    "StdinPrompter",
    "parse_answer",
    "parse_tool_names",
    "toolset_param",
]

BUILTIN_TOOLS = ("bash", "read", "write", "edit", "glob", "grep", "web_fetch", "web_search")
_INPUT_PREVIEW = 600


def parse_tool_names(value: str | Sequence[str] | None, *, flag: str = "--ask") -> tuple[str, ...]:
    """`"bash,write"` or `["bash"]` -> validated built-in tool names (one-line error with a suggestion)."""
    if value is None:
        return ()
    parts = value.split(",") if isinstance(value, str) else list(value)
    names: list[str] = []
    for raw in parts:
        name = str(raw).strip()
        if not name:
            continue
        if name not in BUILTIN_TOOLS:
            close = difflib.get_close_matches(name, BUILTIN_TOOLS, n=1)
            hint = (
                f"did you mean {close[0]!r}?" if close else "built-in tools are " + ", ".join(BUILTIN_TOOLS)
            )
            raise ConfigError(f"{flag}: unknown built-in tool {name!r}; {hint}")
        if name not in names:
            names.append(name)
    return tuple(names)


def toolset_param(
    *, ask: Sequence[str] = (), ask_all: bool = False, auto: bool | Sequence[str] = False
) -> dict[str, Any]:
    """The `agent_toolset_20260401` entry with permission policies.

    `ask_all` / `auto=True` set the default policy; `ask` and an `auto` list set per-tool
    policies, and an explicit `--ask` wins over `auto` for the same tool.
    """
    toolset: dict[str, Any] = {"type": "agent_toolset_20260401"}
    if ask_all:
        toolset["default_config"] = {"permission_policy": {"type": "always_ask"}}
    elif auto is True:
        toolset["default_config"] = {"permission_policy": {"type": "auto"}}
    policies: dict[str, str] = {}
    if not isinstance(auto, bool):
        policies.update({name: "auto" for name in auto})
    if not ask_all:
        policies.update({name: "always_ask" for name in ask})
    if policies:
        toolset["configs"] = [
            {"name": name, "permission_policy": {"type": kind}} for name, kind in policies.items()
        ]
    return toolset


@dataclass(frozen=True)
class ConfirmationRequest:
    """A built-in or MCP tool call waiting for Allow / Deny."""

    tool_use_id: str
    name: str
    input: Any
    server: str | None = None
    reason: str | None = None

    def summary(self) -> str:
        who = f"{self.server}.{self.name}" if self.server else self.name
        try:
            shown = json.dumps(self.input, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            shown = repr(self.input)
        if len(shown) > _INPUT_PREVIEW:
            shown = shown[: _INPUT_PREVIEW - 3] + "..."
        why = f" ({self.reason})" if self.reason else ""
        return f"The agent wants to run {who}{why}: {shown}"


@dataclass(frozen=True)
class Decision:
    allow: bool
    message: str | None = None
    timed_out: bool = False


class Prompter(Protocol):
    def ask(self, request: ConfirmationRequest, timeout: float | None) -> Decision: ...


def parse_answer(text: str | None) -> Decision:
    """`y`/`yes`/`allow` allow; empty, `n`/`no`/`deny` deny; any other text denies with it as the message."""
    answer = (text or "").strip()
    low = answer.lower()
    if low in {"y", "yes", "a", "allow", "ok"}:
        return Decision(allow=True)
    if low in {"", "n", "no", "d", "deny"}:
        return Decision(allow=False)
    for prefix in ("n:", "no:", "deny:"):
        if low.startswith(prefix):
            return Decision(allow=False, message=answer[len(prefix) :].strip() or None)
    return Decision(allow=False, message=answer)


def _timed_out(timeout: float | None) -> Decision:
    return Decision(
        allow=False, message=f"No answer within {timeout or 0:.0f} s; denied automatically.", timed_out=True
    )


class StdinPrompter:
    """Foreground approvals through `input()` (Jupyter shows a text box; terminals read stdin)."""

    def __init__(
        self,
        input_fn: Callable[[str], str] | None = None,
        print_fn: Callable[[str], Any] | None = None,
    ) -> None:
        # Looked up at call time: ipykernel swaps builtins.input for its stdin request per cell.
        self._input = input_fn or (lambda prompt: builtins.input(prompt))
        self._print = print_fn or (lambda text: builtins.print(text, flush=True))

    def ask(self, request: ConfirmationRequest, timeout: float | None) -> Decision:
        self._print(request.summary())
        box: dict[str, Any] = {}
        done = threading.Event()
        ctx = contextvars.copy_context()  # ipykernel routes input() by the cell's context

        def read() -> None:
            try:
                box["answer"] = ctx.run(self._input, "Allow? [y]es / [n]o / or type a reason to deny: ")
            except BaseException as exc:  # EOFError without a stdin; any failure is a deny
                box["error"] = exc
            finally:
                done.set()

        # input() cannot be timed out in place, so it runs in a daemon thread we stop waiting for.
        threading.Thread(target=read, name="nb-agents-approval", daemon=True).start()
        if not done.wait(timeout):
            self._print("No answer in time: denied.")
            return _timed_out(timeout)
        if "error" in box:
            return Decision(
                allow=False, message=f"Could not ask for approval ({type(box['error']).__name__})."
            )
        decision = parse_answer(box.get("answer"))
        self._print("Allowed." if decision.allow else "Denied.")
        return decision


class ButtonPrompter:
    """Background approvals: one Allow / Deny row (+ deny message) per waiting call.

    Build it on the main thread and display `.widget` once (the live view embeds it); `ask()`
    may then run on any thread: it only adds/removes children and waits on an Event.
    """

    def __init__(self) -> None:
        import ipywidgets as w

        self._w = w
        self.widget = w.VBox([])
        self._lock = threading.Lock()
        self.rows: dict[str, Any] = {}

    def _row(self, request: ConfirmationRequest, answer: Callable[[Decision], None]) -> Any:
        w = self._w
        label = w.HTML()
        label.value = _escape(request.summary())
        allow = w.Button(description="Allow", button_style="success")
        deny = w.Button(description="Deny", button_style="danger")
        message = w.Text(placeholder="optional reason for denying")
        allow.on_click(lambda _b: answer(Decision(allow=True)))
        deny.on_click(lambda _b: answer(Decision(allow=False, message=message.value.strip() or None)))
        row = w.VBox([label, w.HBox([allow, deny, message])])
        row.allow_button, row.deny_button, row.message_text = allow, deny, message
        return row

    def ask(self, request: ConfirmationRequest, timeout: float | None) -> Decision:
        done = threading.Event()
        box: list[Decision] = []

        def answer(decision: Decision) -> None:
            if not box:  # the first click wins; later ones are ignored
                box.append(decision)
                done.set()

        row = self._row(request, answer)
        with self._lock:
            self.rows[request.tool_use_id] = row
            self.widget.children = tuple(self.widget.children) + (row,)
        try:
            finished = done.wait(timeout)
        finally:
            with self._lock:
                self.rows.pop(request.tool_use_id, None)
                self.widget.children = tuple(c for c in self.widget.children if c is not row)
                row.close()
        return box[0] if finished and box else _timed_out(timeout)


def _escape(text: str) -> str:
    import html

    return html.escape(text)
