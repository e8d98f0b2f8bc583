"""Record/replay, the Run-All cache and provenance, wired into sessions, turns and `%%agent`.

The modules wired here (cassette, playback, cache, provenance) know nothing of sessions; this
one knows both sides and is called from small hooks, so session.py / turn.py / ipython/cells.py stay
about their own work:
- `Turn.begin` -> `turn_recorder(turn)`: the cassette of `--record PATH` or `AgentMagic.record_dir`;
- `Turn.complete` -> `stamp(run, turn)`: the provenance facts only the session knows
  (agent id and version, environment id, model, input hashes, backend);
- `AgentSession.ask` -> `ask_cached(...)` when `--cache` / `--refresh` / `AgentMagic.cache`;
- `%%agent --replay PATH` -> `replay_cell(...)`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..api import backend_kind
from ..config import resolve_options
from ..errors import ConfigError
from ..files import clean_component, expand_inputs
from ..record import (
    Recorder,
    RunCache,
    check_writable,
    files_dir,
    load_cassette,
    outputs_dir_of,
    replay,
    run_cached,
)
from .context import split_keywords, user_namespace, want_live
from .files import collect_inputs

if TYPE_CHECKING:
    from ..config import Options
    from .session import AgentSession
    from .turn import Turn

__all__ = [
    "ask_cached", "check_output_paths", "key_options", "recorder_meta", "remote_ids", "replay_cell", "stamp", "turn_recorder",
    "wants_cache",
]


# -- what a turn knows about itself ------------------------------------------------------------
def remote_ids(session: AgentSession) -> dict[str, Any]:
    """Agent id/version and environment id of the server session (kept from its creation)."""
    remote = getattr(session, "remote", None)
    if remote is None or str(getattr(remote, "id", "")) != str(session.session_id):
        return {"agent_id": None, "agent_version": None, "environment_id": None}
    agent = getattr(remote, "agent", None)
    return {
        "agent_id": getattr(agent, "id", None),
        "agent_version": getattr(agent, "version", None),
        "environment_id": getattr(remote, "environment_id", None),
    }


def key_options(opts: Options, tool_flags: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The options as a plain dict (without `sources`: where a value came from changes nothing),
    plus the cell's tool flags, which are not options but change what the agent may do."""
    data = {f.name: getattr(opts, f.name) for f in dataclasses.fields(opts) if f.name != "sources"}
    if tool_flags:
        data["tool_flags"] = dict(tool_flags)
    return data


def _facts(turn: Turn) -> dict[str, Any]:
    """What a turn's cassette header and its Run's provenance share."""
    prep = getattr(turn, "inputs", None)
    return {
        "session_id": turn.session.session_id,
        "session_name": turn.session.name,
        "model": turn.opts.model,
        **remote_ids(turn.session),
        "input_hashes": dict(prep.digests) if prep is not None else {},
    }


def recorder_meta(turn: Turn) -> dict[str, Any]:
    """The cassette header fields docs/replay.md lists, for this turn."""
    prep = getattr(turn, "inputs", None)
    rows = [{"name": r.name, "size": r.size, "status": r.status} for r in prep.report] if prep is not None else []
    def listed(a: Any) -> dict[str, Any]:
        return {"name": a.name, "kind": a.kind, "mount_path": a.mount_path}

    you = {"typed": [p if isinstance(p, str) else listed(p) for p in turn.typed],
           "attached": [listed(a) for a in turn.attached]} if turn.typed else {}
    return {**_facts(turn), "prompt": turn.text or "", "options": key_options(turn.opts), "inputs": rows,
            "backend": backend_kind(), **you}


def turn_recorder(turn: Turn) -> Recorder | None:
    """The turn's Recorder: `--record PATH` for this cell, else one file per run in `record_dir`."""
    path = getattr(turn, "record_path", None)
    if not path and turn.opts.record_dir:

        stamp_ = time.strftime("%Y%m%d-%H%M%S")
        name = clean_component(turn.session.name) or "session"
        path = Path(turn.opts.record_dir) / f"{name}-{stamp_}-{len(turn.session.runs) + 1}.jsonl"
    if not path:
        return None
    return Recorder(path, meta=recorder_meta(turn))


def check_output_paths(opts: Options, record: str | None, *, cache: bool = False) -> None:
    """Every file a turn will write can be written (one-line `ConfigError` otherwise): checked
    before anything is uploaded, created or sent, so a bad path never costs a turn."""
    if record:
        check_writable(record, "--record", suffix=".jsonl")
    if opts.record_dir:
        check_writable(Path(opts.record_dir) / "run.jsonl", "record_dir")
    if opts.pull_outputs:
        check_writable(Path(opts.outputs_dir) / "session" / "output", "outputs_dir")
    if cache:
        check_writable(RunCache(opts.cache_dir or None).path_for("entry"), "cache_dir")


def stamp(run: Any, turn: Turn) -> Any:
    """Give the Run the provenance facts only the session knows (Run.provenance reads them)."""
    for key, value in _facts(turn).items():
        if key not in ("session_id", "session_name"):
            setattr(run, key, value)
    run.backend = backend_kind()
    # An uncached turn is part of the conversation too: a later cached cell must miss when it
    # changed (ask_cached overwrites this with the real key for cached turns).
    session = turn.session
    chain = f"{getattr(session, 'last_cache_key', None)}\0{turn.text}".encode("utf-8", "replace")
    session.last_cache_key = hashlib.sha256(chain).hexdigest()
    return run


# -- the Run-All cache -------------------------------------------------------------------------
def wants_cache(session: AgentSession, overrides: Mapping[str, Any], refresh: bool) -> bool:
    """`--refresh` implies the cache (it replaces the entry); else the `cache` option decides."""
    if refresh:
        return True
    if overrides.get("cache") is not None:
        return bool(overrides["cache"])
    return bool(session.options().cache)


def ask_cached(session: AgentSession, prompt: str, *, refresh: bool = False,
               namespace: Mapping[str, Any] | None = None, interpolate: bool = True, files: Any = None,
               live: bool | None = None, new: bool = False, record: str | None = None, **overrides: Any) -> Any:
    """`session.ask` through the cache: the key is computed before anything is uploaded or
    created, so a hit replays the recorded run and touches no server at all."""

    session.check_free()
    option_kw, tool_kw = split_keywords(overrides)
    opts = session.options(**option_kw)
    check_output_paths(opts, record, cache=True)
    if namespace is None and interpolate:
        namespace = user_namespace()
    cache = RunCache(opts.cache_dir or None)
    key = _key(session, cache, prompt, opts, tool_kw, namespace, interpolate, files, new)

    def run_live(recorder: Recorder) -> Any:
        turn = session.prepare_turn(prompt, namespace=namespace, interpolate=interpolate, files=files, live=live,
                                    new=new, record=record, **overrides)
        recorder.meta.update(recorder_meta(turn))
        session.listeners.append(recorder.on_event)
        try:
            run = turn.run()
        finally:
            session.listeners.remove(recorder.on_event)
        session.runs.append(run)
        return run


    run = run_cached(cache, key, run_live, refresh=refresh, view=want_live(live), verbose=opts.verbose,
                     quiet=opts.quiet, outputs_dir=Path(opts.outputs_dir) / (clean_component(session.name) or "default"))
    if getattr(run, "replayed", False):
        run.egress = session.egress.replayed(prompt)  # nothing was sent: the session's report says so
        if new:
            session.new()  # the user asked for a fresh conversation: the next real turn starts one
        session.runs.append(run)
        if record:
            _copy_cassette(run.cassette.path, Path(record))
    session.last_cache_key = key
    return run


def _key(session: AgentSession, cache: Any, prompt: str, opts: Options, tool_kw: dict[str, Any],
         namespace: Mapping[str, Any] | None, interpolate: bool, files: Any, new: bool) -> str:
    """Key of (interpolated prompt, options, input content hashes, previous turn's key)."""

    prepared = session.prepare_prompt(prompt, namespace if namespace is not None else {}, interpolate)
    inputs = collect_inputs(prepared, [files] if isinstance(files, str) else files)
    digests = {s.name: s.digest for s in expand_inputs(inputs, fmt=opts.file_format)} if inputs else {}
    parent = None if new else getattr(session, "last_cache_key", None)
    return str(cache.key(prepared.text, key_options(opts, tool_kw), digests, parent=parent))


def _copy_cassette(source: Path, target: Path) -> None:
    """`--record PATH` on a cache hit: the recording is the cached one, copied with its files."""
    if target.suffix != ".jsonl":
        target = target.with_name(target.name + ".jsonl")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    if files_dir(source).is_dir():
        shutil.rmtree(files_dir(target), ignore_errors=True)
        shutil.copytree(files_dir(source), files_dir(target))


# -- %%agent --replay --------------------------------------------------------------------------
def replay_cell(args: Any) -> Any:
    """`%%agent --replay PATH [--speed X | --instant]`: play a cassette into the live view."""

    if args.instant and args.speed is not None:
        raise ConfigError("%%agent: use --speed X or --instant, not both")
    clash = [flag for flag, given in (("--record", args.record), ("--cache", args.cache), ("--refresh", args.refresh),
                                      ("--bg", args.bg), ("--map", args.map), ("--dry-run", args.dry_run)) if given]
    if clash:
        raise ConfigError(f"%%agent: --replay plays a recording; it cannot be combined with {clash[0]}")
    opts = resolve_options({"verbose": True if args.verbose else None, "quiet": True if args.quiet else None})
    cas = load_cassette(args.replay)
    where = Path(opts.outputs_dir) / outputs_dir_of(cas).name
    speed = None if args.instant else (1.0 if args.speed is None else args.speed)
    return replay(cas, speed=speed, view=True, outputs_dir=where, verbose=opts.verbose, quiet=opts.quiet)
