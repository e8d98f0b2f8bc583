"""Glue between a session's turn and `files.FileSync` (issue 4's module).

Inputs are the DataFrames named by `{{name}}` plus `--files` paths. Before the send they are
uploaded and mounted (at session creation when the session is new, else with
`resources.add`); in the prompt each `{{df}}` becomes a short reference to its mount path and
the schema cards are appended. After the turn, outputs are pulled into
`<outputs_dir>/<session>/` and become `run.outputs`. `--dry-run` only plans (no upload).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .config import Options
from .interpolate import Interpolated, interpolate

__all__ = ["SessionFiles", "collect_inputs"]


def collect_inputs(prepared: Interpolated, files: Iterable[Any] | None) -> dict[str, Any]:
    """name -> object: each interpolated DataFrame by its expression, each path by itself."""
    inputs: dict[str, Any] = dict(prepared.frames)
    for item in files or ():
        inputs[str(item)] = item
    return inputs


class SessionFiles:
    """One per AgentSession; holds the FileSync (upload dedupe per session, outputs folder)."""

    def __init__(self, session_name: str) -> None:
        self.session_name = session_name
        self.sync: Any = None

    def _sync_for(self, client: Any, opts: Options) -> Any:
        from .files import FileSync

        if self.sync is None or self.sync.client is not client:
            self.sync = FileSync(client, outputs_dir=opts.outputs_dir, session_name=self.session_name)
        return self.sync

    def plan(self, inputs: Mapping[str, Any], opts: Options, session_id: str | None) -> tuple[str, ...]:
        """`--dry-run`: what would be sent, without serializing or uploading anything."""
        if not inputs:
            return ()
        from .files import FileSync

        sync = self.sync or FileSync(None, outputs_dir=opts.outputs_dir, session_name=self.session_name)
        return tuple(f"{r.name} ({r.kind}, {r.status})" for r in sync.plan(dict(inputs), session_id=session_id))

    def prepare(self, client: Any, opts: Options, inputs: Mapping[str, Any], session_id: str | None) -> Any:
        if not inputs:
            return None
        sync = self._sync_for(client, opts)
        return sync.prepare(dict(inputs), session_id=session_id, sample=opts.sample_rows)

    def bind(self, prep: Any, created: Any) -> None:
        if prep is not None:
            self.sync.bind(prep, created)

    def discard(self, prep: Any) -> None:
        if prep is not None:
            self.sync.discard(prep)

    @staticmethod
    def prompt(text: str, namespace: Mapping[str, Any], prep: Any, interpolated: bool) -> str:
        """The prompt with `{{df}}` -> its mount reference, and the input cards appended."""
        mounts = {spec.name: (spec.kind, mount.mount_path) for spec, mount in prep.entries}

        def frame_text(ref: Any) -> str:
            kind, path = mounts.get(ref.expr, ("DataFrame", None))
            return f"`{ref.expr}` (a {kind} mounted at `{path}`)" if path else f"`{ref.expr}`"

        body = interpolate(text, namespace, frame_text=frame_text).text if interpolated else text
        return f"{body}\n\n{prep.cards}"

    def pull(self, client: Any, opts: Options, session_id: str, events: list[Any]) -> dict[str, Any]:
        """Download the turn's outputs. Only turns that used a tool can have written any, so a
        plain answer skips the listing (and its 1-3 s indexing wait)."""
        if not any(getattr(e, "type", None) == "agent.tool_use" for e in events):
            return {}
        from .files import written_output_paths

        sync = self._sync_for(client, opts)
        return dict(sync.pull(session_id, written_paths=written_output_paths(events)))
