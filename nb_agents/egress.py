"""Egress: what left the kernel for the API — counted where nb_agents sends, shown per turn and per session.

`EgressMeter` (one per `AgentSession`, thread-safe) is the one place that counts. It is called
at the two points where a session's data goes out (plus `AgentSession.send_interrupt`, an
interrupt sent outside any turn, which carries no data):
- `api.EventLoop.send` / `AsyncEventLoop.asend` (every event a turn sends: the prompt
  (`user.message`), an outcome (`user.define_outcome`), custom-tool results, tool confirmations,
  interrupts) — once per attempt put on the wire: a resend after a cut counts again (`resends`);
- `files.FileSync` uploads (DataFrames named by `{{df}}`, `--files`, `%agent upload`) — once per
  upload call, the payload's bytes (whatever the answer: an upload that failed may have gone out).
So the figures are what was sent, an upper bound when an attempt failed; nothing is guessed from
what the server echoes. A kernel that uploads nothing (a local-mode session) reports 0 files by
construction. A sender that is not one of these two (a tool worker serving a local session, tool
answers sent by hand through `tools.ActionHandler.send`) counts through `sent()` / `tool_result()` too.

Sizes: an event counts as its compact JSON in UTF-8 (what the request body holds for it; the HTTP
headers and the `{"events": [...]}` envelope are not counted); a prompt also counts its characters;
a file counts its payload bytes. Tool results and confirmations are grouped by tool name, learnt
from the agent's calls (`observe`). Not counted, on purpose: set-up, not data — the agent's
configuration (model, system prompt, tool schemas) and the environment's, sent when they are
created or changed (custom tools' schemas with the session's creation; `%agent config` shows
them); reads (listing events, downloading outputs), which send no data of the user's.

Rows: `begin(label)` opens a turn's row before its uploads; `finish()` closes it and returns the
turn's `Egress` (`run.egress`). A send with no open row (`%agent upload` or `%agent interrupt`
between turns) opens a "between turns" row. A replayed run (a cassette, a Run-All cache hit) sent
nothing: its `Egress` says so (`source="replayed"`). `report()` is `%agent egress NAME`: every row
so far (a turn still running included) and their total. Nothing here holds or shows what was sent:
only sizes, counts, tool and file names, and a label scrubbed and cut to a few words.
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .events import event_to_json, event_type, get_field
from .scrub import scrub_text
from .view import fmt_size
from .view.report import Table

__all__ = ["Egress", "EgressMeter", "EgressReport", "FileEgress", "ToolEgress", "NOTHING_SENT", "NO_METER", "REPLAYED",
           "event_bytes"]

LABEL_CHARS = 40
SENT, REPLAYED_SOURCE, NONE_SOURCE = "sent", "replayed", "none"
_CALL_TYPES = frozenset({"agent.custom_tool_use", "agent.tool_use", "agent.mcp_tool_use"})
_TOOL_ANSWERS = {  # event type -> (the key naming the call, what the row says)
    "user.custom_tool_result": ("custom_tool_use_id", "result"),
    "user.tool_result": ("tool_use_id", "result"),
    "user.tool_confirmation": ("tool_use_id", "confirmation"),
}


def event_bytes(event: Any) -> int:
    """The size of one event as it goes out: its compact JSON, UTF-8."""
    wire = event if isinstance(event, Mapping) else event_to_json(event)
    return len(json.dumps(wire, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8"))


def _text_chars(value: Any) -> int:
    """Characters of every `text` / `description` / `content` string in an event (what a person wrote)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Mapping):
        return sum(_text_chars(v) for k, v in value.items() if k in ("text", "description", "content", "rubric"))
    if isinstance(value, (list, tuple)):
        return sum(_text_chars(v) for v in value)
    return 0


def _label(text: str) -> str:
    """A few words of `text`, secrets scrubbed, on one line: enough to tell the turns apart."""
    one = " ".join(scrub_text(text).split())
    return one if len(one) <= LABEL_CHARS else one[: LABEL_CHARS - 1] + "…"


@dataclass(frozen=True)
class ToolEgress:
    """Tool answers sent for one tool: `kind` is "result" or "confirmation"."""

    name: str
    kind: str
    count: int
    bytes: int


@dataclass(frozen=True)
class FileEgress:
    """One upload: the input's name (`{{df}}` expression or path), its kind and the file sent."""

    name: str
    kind: str
    filename: str
    bytes: int


@dataclass(frozen=True)
class Egress:
    """What one turn sent to the API (`run.egress`); `a + b` adds two up (a session's total).

    `source`: "sent" (a live turn), "replayed" (a cassette or cache replay: nothing was sent),
    "none" (a run rebuilt from the server's history: this kernel sent nothing for it)."""

    label: str = ""
    source: str = SENT
    prompt_chars: int = 0
    prompt_bytes: int = 0
    outcome_chars: int = 0
    outcome_bytes: int = 0
    tools: tuple[ToolEgress, ...] = ()
    files: tuple[FileEgress, ...] = ()
    control_events: int = 0
    control_bytes: int = 0
    sends: int = 0
    resends: int = 0
    note: str = ""
    running: bool = False

    # -- figures ---------------------------------------------------------------------------
    @property
    def tool_bytes(self) -> int:
        return sum(t.bytes for t in self.tools)

    @property
    def tool_bytes_by_name(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in self.tools:
            out[t.name] = out.get(t.name, 0) + t.bytes
        return out

    @property
    def files_uploaded(self) -> int:
        return len(self.files)

    @property
    def upload_bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    @property
    def total_bytes(self) -> int:
        return self.prompt_bytes + self.outcome_bytes + self.tool_bytes + self.upload_bytes + self.control_bytes

    @property
    def nothing_sent(self) -> bool:
        return self.sends == 0 and not self.files

    def __add__(self, other: Egress) -> Egress:
        return Egress(
            label="total",
            source=SENT if SENT in (self.source, other.source) else self.source,
            prompt_chars=self.prompt_chars + other.prompt_chars,
            prompt_bytes=self.prompt_bytes + other.prompt_bytes,
            outcome_chars=self.outcome_chars + other.outcome_chars,
            outcome_bytes=self.outcome_bytes + other.outcome_bytes,
            tools=_merge_tools(self.tools + other.tools),
            files=self.files + other.files,
            control_events=self.control_events + other.control_events,
            control_bytes=self.control_bytes + other.control_bytes,
            sends=self.sends + other.sends,
            resends=self.resends + other.resends,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data (sizes, counts and names only), e.g. for `json.dumps` or a DataFrame row."""
        return {
            "label": self.label, "source": self.source,
            "prompt": {"chars": self.prompt_chars, "bytes": self.prompt_bytes},
            "outcome": {"chars": self.outcome_chars, "bytes": self.outcome_bytes},
            "tool_results": {t.name: {"calls": t.count, "bytes": t.bytes} for t in self.tools if t.kind == "result"},
            "tool_confirmations": {t.name: {"count": t.count, "bytes": t.bytes}
                                   for t in self.tools if t.kind == "confirmation"},
            "files": [{"name": f.name, "kind": f.kind, "filename": f.filename, "bytes": f.bytes} for f in self.files],
            "files_uploaded": self.files_uploaded, "upload_bytes": self.upload_bytes,
            "control": {"events": self.control_events, "bytes": self.control_bytes},
            "sends": self.sends, "resends": self.resends, "total_bytes": self.total_bytes,
            "note": self.note, "running": self.running,
        }

    # -- display -----------------------------------------------------------------------------
    def headline(self) -> str:
        if self.source != SENT:
            why = "replayed" if self.source == REPLAYED_SOURCE else "not run by this kernel"
            return f"nothing sent ({why})"
        files = f"{self.files_uploaded} file{'s' if self.files_uploaded != 1 else ''} uploaded"
        if self.files:
            files += f" ({fmt_size(self.upload_bytes)})"
        return f"{fmt_size(self.total_bytes)} sent: {files}"

    def lines(self) -> list[str]:
        """The breakdown, one fact a line (text/plain and the HTML share it)."""
        if self.source != SENT:
            return []
        out = [] if self.outcome_bytes and not self.prompt_bytes else [
            f"prompt: {self.prompt_chars:,} chars, {fmt_size(self.prompt_bytes)}"]
        if self.outcome_bytes:
            out.append(f"outcome + rubric: {self.outcome_chars:,} chars, {fmt_size(self.outcome_bytes)}")
        for t in self.tools:
            what = f"{t.count} call{'s' if t.count != 1 else ''}" if t.kind == "result" else f"{t.count} confirmation" \
                + ("s" if t.count != 1 else "")
            out.append(f"tool {t.kind}s `{t.name}`: {what}, {fmt_size(t.bytes)}")
        for f in self.files:
            out.append(f"file {f.name} ({f.kind}) as {f.filename}: {fmt_size(f.bytes)}")
        if self.control_events:
            out.append(f"control events (interrupts): {self.control_events}, {fmt_size(self.control_bytes)}")
        if self.resends:
            out.append(f"resent after a failed attempt: {self.resends} (counted each time they went out)")
        if self.note:
            out.append(self.note)
        return out

    def __repr__(self) -> str:
        head = f"egress{f' of {self.label!r}' if self.label else ''}: {self.headline()}"
        return "\n".join([head, *(f"  {line}" for line in self.lines())])

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in self.lines())
        head = f"<b>egress</b>{' of <code>' + html.escape(self.label) + '</code>' if self.label else ''}: "
        return (f"<div class='nba-egress'>{head}{html.escape(self.headline())}"
                f"{f'<ul>{items}</ul>' if items else ''}</div>")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": repr(self), "text/html": self._repr_html_()}


NOTHING_SENT = Egress(source=NONE_SOURCE)
REPLAYED = Egress(source=REPLAYED_SOURCE, label="replayed")


def _merge_tools(tools: Iterable[ToolEgress]) -> tuple[ToolEgress, ...]:
    merged: dict[tuple[str, str], ToolEgress] = {}
    for t in tools:
        old = merged.get((t.name, t.kind))
        merged[(t.name, t.kind)] = t if old is None else replace(old, count=old.count + t.count,
                                                                   bytes=old.bytes + t.bytes)
    return tuple(merged.values())


@dataclass(frozen=True)
class EgressReport:
    """`%agent egress NAME`: a session's rows (one per turn) and their total."""

    title: str
    rows: tuple[Egress, ...] = ()

    @property
    def total(self) -> Egress:
        total = Egress(label="total")
        for row in self.rows:
            total = total + row
        return total

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "turns": [r.to_dict() for r in self.rows], "total": self.total.to_dict()}

    def _table(self) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
        head: tuple[str, ...] = ("turn", "what", "prompt", "tool results", "files", "total")
        rows: list[tuple[str, ...]] = []
        for i, r in enumerate(self.rows, 1):
            label = r.label + (" (running)" if r.running else "") + (f" — {r.note}" if r.note else "")
            if r.source != SENT:
                rows.append((str(i), label, r.headline(), "", "", "0 B"))
                continue
            files = f"{r.files_uploaded} ({fmt_size(r.upload_bytes)})" if r.files else "0"
            rows.append((str(i), label, fmt_size(r.prompt_bytes + r.outcome_bytes), fmt_size(r.tool_bytes), files,
                         fmt_size(r.total_bytes)))
        return head, rows

    def _notes(self) -> list[str]:
        total = self.total
        notes = [f"total: {total.headline()}"]
        notes += [f"  {line}" for line in total.lines()] if total.source == SENT and self.rows else []
        return notes

    def as_table(self) -> Table:
        """The report as the package's one text/HTML table (`view.report.Table`)."""
        head, rows = self._table()
        return Table(self.title, head, rows, self, notes=self._notes() if rows else ["nothing sent yet"])

    def __repr__(self) -> str:
        return self.as_table().text

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))

    def _repr_html_(self) -> str:
        return self._repr_mimebundle_()["text/html"]

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return self.as_table()._repr_mimebundle_()


@dataclass
class _Tally:
    """An open row: what has gone out since `begin` (mutable, under the meter's lock)."""

    label: str
    note: str = ""
    prompt: list[int] = field(default_factory=lambda: [0, 0])
    outcome: list[int] = field(default_factory=lambda: [0, 0])
    tools: list[ToolEgress] = field(default_factory=list)
    files: list[FileEgress] = field(default_factory=list)
    control: list[int] = field(default_factory=lambda: [0, 0])
    sends: int = 0
    resends: int = 0

    def freeze(self, *, running: bool = False) -> Egress:
        return Egress(
            label=self.label, prompt_chars=self.prompt[0], prompt_bytes=self.prompt[1],
            outcome_chars=self.outcome[0], outcome_bytes=self.outcome[1], tools=_merge_tools(self.tools),
            files=tuple(self.files), control_events=self.control[0], control_bytes=self.control[1],
            sends=self.sends, resends=self.resends, note=self.note, running=running,
        )

    @property
    def empty(self) -> bool:
        return self.sends == 0 and not self.files and not self.tools


BETWEEN_TURNS = "(between turns)"


class EgressMeter:
    """Counts what one session sends, turn by turn (see the module docstring). Thread-safe: a
    background run's worker, upload threads and the main thread may count at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: list[Egress] = []
        self._open: _Tally | None = None
        self._names: dict[str, str] = {}  # call id -> tool name

    # -- rows --------------------------------------------------------------------------------
    def begin(self, label: str) -> None:
        """A turn starts (before its uploads): open its row. A row still open is closed first —
        an upload or interrupt between turns, or a turn that failed before it was read."""
        with self._lock:
            self._close_open(note="the turn stopped before it was read")
            self._open = _Tally(_label(label) or "(no prompt)")

    def finish(self) -> Egress:
        """The turn is over: close its row and return it (an empty row when nothing was opened:
        following a turn started elsewhere)."""
        with self._lock:
            tally = self._open or _Tally("(follow)")
            self._open = None
            row = tally.freeze()
            self._rows.append(row)
            return row

    def abandon(self, note: str) -> None:
        """The turn failed without a Run: its row (if anything went out) is kept with `note`."""
        with self._lock:
            self._close_open(note)

    def replayed(self, label: str) -> Egress:
        """A row for a run replayed instead of sent (a Run-All cache hit); returns it."""
        row = replace(REPLAYED, label=_label(label) or "replayed")
        with self._lock:
            self._close_open(note="the turn stopped before it was read")
            self._rows.append(row)
        return row

    def _close_open(self, note: str) -> None:
        tally, self._open = self._open, None
        if tally is not None and not tally.empty:
            if tally.label != BETWEEN_TURNS and note:
                tally.note = note
            self._rows.append(tally.freeze())

    def _tally(self) -> _Tally:
        if self._open is None:
            self._open = _Tally(BETWEEN_TURNS)
        return self._open

    def rows(self) -> tuple[Egress, ...]:
        """Every row so far; an open one last, marked running."""
        with self._lock:
            tally = self._open
            open_row = () if tally is None or tally.empty else (tally.freeze(running=tally.label != BETWEEN_TURNS),)
            return (*self._rows, *open_row)

    def report(self, title: str) -> EgressReport:
        return EgressReport(title, self.rows())

    # -- counting ----------------------------------------------------------------------------
    def observe(self, event: Any) -> None:
        """Learn the tool name of an agent's call (its answers are counted under that name)."""
        if event_type(event) in _CALL_TYPES:
            call_id, name = get_field(event, "id"), get_field(event, "name")
            if call_id and name:
                self._names[str(call_id)] = str(name)

    def sent(self, events: Iterable[Any], *, resend: bool = False) -> None:
        """One request carrying `events` went out (`resend`: it repeats a failed attempt)."""
        with self._lock:
            tally = self._tally()
            tally.sends += 1
            tally.resends += int(resend)
            for event in events:
                self._count(tally, event)

    def _count(self, tally: _Tally, event: Any) -> None:
        etype, size = event_type(event), event_bytes(event)
        if etype == "user.message":
            tally.prompt[0] += _text_chars(get_field(event, "content"))
            tally.prompt[1] += size
        elif etype == "user.define_outcome":
            tally.outcome[0] += _text_chars({"description": get_field(event, "description"),
                                             "rubric": get_field(event, "rubric")})
            tally.outcome[1] += size
        elif etype in _TOOL_ANSWERS:
            key, kind = _TOOL_ANSWERS[etype]
            name = self._names.get(str(get_field(event, key)), "(unknown tool)")
            tally.tools.append(ToolEgress(name, kind, 1, size))
        else:
            tally.control[0] += 1
            tally.control[1] += size

    def tool_result(self, name: str, nbytes: int) -> None:
        """A tool result sent by another path than the event loop (a local tool worker)."""
        with self._lock:
            self._tally().tools.append(ToolEgress(name, "result", 1, int(nbytes)))

    def uploaded(self, name: str, kind: str, filename: str, nbytes: int) -> None:
        """One upload call put `nbytes` of `name` (as `filename`) on the wire."""
        with self._lock:
            self._tally().files.append(FileEgress(name, kind, filename, int(nbytes)))


class _NoMeter(EgressMeter):
    """Counts nothing (a loop or a file sync used outside a session)."""

    def sent(self, events: Iterable[Any], *, resend: bool = False) -> None:
        return None

    def uploaded(self, name: str, kind: str, filename: str, nbytes: int) -> None:
        return None

    def tool_result(self, name: str, nbytes: int) -> None:
        return None


NO_METER = _NoMeter()
