"""Glue between a session's turn and `files.FileSync`.

Inputs are the DataFrames named by `{{name}}` plus `--files` paths. Before the send they are
uploaded and mounted (at session creation when the session is new, else with
`resources.add`); in the prompt each `{{df}}` becomes a short reference to its mount path and
the schema cards are appended. After the turn, outputs are pulled into
`<outputs_dir>/<session>/` and become `run.outputs`. `--dry-run` only plans (no upload).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..config import Options
from ..egress import NO_METER, EgressMeter
from ..events import event_type
from ..files import FileSync, Outputs, written_output_paths
from ..transcript import Attached
from .interpolate import Interpolated, interpolate

if TYPE_CHECKING:
    from ..files.sync import Outputs

__all__ = ["SessionFiles", "attached", "collect_inputs", "settle_for", "typed_parts"]


def collect_inputs(prepared: Interpolated, files: Iterable[Any] | None) -> dict[str, Any]:
    """name -> object: each interpolated DataFrame by its expression, each path by itself."""
    inputs: dict[str, Any] = dict(prepared.frames)
    for item in files or ():
        inputs[str(item)] = item
    return inputs


def attached(prep: Any) -> tuple[Attached, ...]:
    """Every input of a prepared batch as the transcript shows it (name, kind, mount path)."""
    if prep is None:
        return ()
    return tuple(Attached(spec.name, spec.kind, mount.mount_path) for spec, mount in prep.entries)


def typed_parts(text: str, namespace: Mapping[str, Any], inputs: Iterable[Attached],
                interpolated: bool) -> tuple[str | Attached, ...]:
    """What the user wrote: text pieces (other `{{name}}`s interpolated as they are sent) and, for
    each `{{df}}` of an attached input, that input (the view shows it as a chip)."""
    if not interpolated:
        return (text,)
    by_name = {a.name: a for a in inputs}
    mark = f"\ue000{secrets.token_hex(8)}"  # a private-use marker no prompt holds

    def frame_text(ref: Any) -> str:
        return f"{mark}{ref.expr}{mark}" if ref.expr in by_name else f"`{ref.expr}`"

    body = interpolate(text, namespace, frame_text=frame_text).text
    pieces = re.split(f"{re.escape(mark)}(.*?){re.escape(mark)}", body, flags=re.S)
    # re.split alternates text, captured name, text...
    parts = [by_name[p] if i % 2 else p for i, p in enumerate(pieces)]
    return tuple(p for p in parts if p != "")


class SessionFiles:
    """One per AgentSession; holds the FileSync (upload dedupe per session, outputs folder)."""

    def __init__(self, session_name: str, meter: EgressMeter = NO_METER) -> None:
        self.session_name = session_name
        self.meter = meter  # the session's: counts every upload (egress.py)
        self.sync: Any = None
        self.pending: list[tuple[str | None, str]] = []  # (session id, cards) of `%agent upload`s
        self.local: Any = None  # local.LocalRun while the session runs in local mode (no sync at all)

    @property
    def outputs_root(self) -> Any:
        """Where this session's outputs are: the working folder in local mode, else the pull folder."""
        if self.local is not None:
            return self.local.folder.root
        return self.sync.outputs_root if self.sync is not None else None

    def announce(self, prep: Any) -> None:
        """Cards of inputs mounted between turns (`%agent upload`): the next prompt carries them."""
        self.pending.append((prep.session_id, prep.cards))

    def with_pending(self, text: str, session_id: str | None) -> str:
        """`text` plus the cards announced for this session (each is sent once)."""
        cards = [c for sid, c in self.pending if sid == session_id]
        self.pending = []
        return "\n\n".join([text, *cards]) if cards else text

    def _sync_for(self, client: Any, opts: Options) -> Any:
        if self.sync is None or self.sync.client is not client:
            self.sync = FileSync(client, outputs_dir=opts.outputs_dir, session_name=self.session_name,
                                 meter=self.meter)
        return self.sync

    def plan(self, inputs: Mapping[str, Any], opts: Options, session_id: str | None) -> tuple[str, ...]:
        """`--dry-run`: what would be sent, without serializing or uploading anything."""
        if not inputs:
            return ()

        sync = self.sync or FileSync(None, outputs_dir=opts.outputs_dir, session_name=self.session_name)
        rows = sync.plan(dict(inputs), session_id=session_id, fmt=opts.file_format)
        return tuple(f"{r.name} ({r.kind}, {r.status})" for r in rows)

    def prepare(self, client: Any, opts: Options, inputs: Mapping[str, Any], session_id: str | None) -> Any:
        if not inputs:
            return None
        sync = self._sync_for(client, opts)
        return sync.prepare(dict(inputs), session_id=session_id, fmt=opts.file_format, sample=opts.sample_rows)

    def bind(self, prep: Any, created: Any) -> None:
        if prep is not None and not prep.local:
            self.sync.bind(prep, created)

    def discard(self, prep: Any) -> None:
        if prep is not None and not prep.local:
            self.sync.discard(prep)

    @staticmethod
    def prompt(text: str, namespace: Mapping[str, Any], prep: Any, interpolated: bool) -> str:
        """The prompt with `{{df}}` -> its mount reference, and the input cards appended."""
        mounts = {spec.name: (spec.kind, mount.mount_path) for spec, mount in prep.entries}
        where = "saved in the working folder at" if prep.local else "mounted at"

        def frame_text(ref: Any) -> str:
            kind, path = mounts.get(ref.expr, ("DataFrame", None))
            return f"`{ref.expr}` (a {kind} {where} `{path}`)" if path else f"`{ref.expr}`"

        body = interpolate(text, namespace, frame_text=frame_text).text if interpolated else text
        return f"{body}\n\n{prep.cards}"

    def pull(self, client: Any, opts: Options, session_id: str, events: list[Any]) -> Outputs:
        """Download the turn's outputs (`.errors`: files that failed). Only turns that used a
        built-in tool can have written any, so a plain answer skips the listing; and the
        `pull_settle` wait for unannounced outputs is spent only when a bash command may
        have written some (see `settle_for`). In local mode the outputs are the files the turn
        wrote in the working folder: nothing is listed or downloaded."""
        if self.local is not None:
            return self.local.outputs()
        if not opts.pull_outputs or not any(event_type(e) == "agent.tool_use" for e in events):
            return Outputs()
        sync = self._sync_for(client, opts)
        return sync.pull(session_id, written_paths=written_output_paths(events), settle=settle_for(events, opts))

    def pull_again(self, client: Any, opts: Options, session_id: str, events: list[Any]) -> Outputs:
        """`%agent pull`: download every output again (force), waiting for nothing."""
        return self._sync_for(client, opts).pull(session_id, written_paths=written_output_paths(events),
                                                 force=True, settle=0.0)


def settle_for(events: Iterable[Any], opts: Options) -> float:
    """How long to wait for outputs nobody announced. `write`/`edit` name their paths (the pull
    waits for exactly those); a `bash` command can write anywhere, but only a turn whose tool
    inputs mention the outputs folder (a command, or a script written for one) is likely to
    have: such a turn waits `opts.pull_settle` (the service indexes outputs 1-3 s late), any
    other lists once."""
    uses = [e for e in events if event_type(e) == "agent.tool_use"]
    if not any(getattr(e, "name", None) == "bash" for e in uses):
        return 0.0
    text = " ".join(json.dumps(getattr(e, "input", None) or {}, default=str) for e in uses)
    return opts.pull_settle if "outputs" in text else 0.0
