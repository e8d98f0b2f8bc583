"""Run-All safety: a cache of recorded turns keyed by what determines their result.

The key hashes the final prompt (after `{{name}}` interpolation), the options that change
what the agent does, the content hashes of the inputs, and the key of the previous turn of
the same session (so a conversation's later cells miss when an earlier one changed). A hit is
a cassette in the cache folder (default `./.nb_agents_cache/`, i.e. next to the notebook, which
is the kernel's working directory); it is replayed instead of starting a session.
Only complete runs (`end_turn`) are served: an interrupted or failed run always runs again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..api import backend_kind
from ..events import jsonable
from .cassette import Cassette, CassetteError, Recorder, load_cassette

__all__ = ["DEFAULT_CACHE_DIR", "IGNORED_OPTIONS", "RunCache", "cache_key", "cache_notice", "run_cached"]

DEFAULT_CACHE_DIR = ".nb_agents_cache"
KEY_VERSION = 1

# Options that change how a run is shown or stored, never what the agent does. Everything
# else (model, system, tools, agent/environment config, backend, unknown new options) is in
# the key: an option we forgot to list here costs a cache miss, never a wrong answer.
IGNORED_OPTIONS = frozenset({
    "out", "verbose", "quiet", "deltas", "title", "timeout", "interrupt_wait", "short_errors",
    "outputs_dir", "record", "record_dir", "replay", "speed", "instant", "cache", "cache_dir",
    "refresh", "bg", "background", "dry_run", "sources", "session", "new",
})


def cache_key(prompt: str, options: Mapping[str, Any] | Any = None,
              input_hashes: Mapping[str, str] | None = None, *, parent: str | None = None,
              backend: str | None = None) -> str:
    """sha256 hex of (prompt, relevant options, input content hashes, previous turn's key, backend)."""
    opts = _options_dict(options)
    relevant = {k: jsonable(v) for k, v in sorted(opts.items()) if k not in IGNORED_OPTIONS}
    payload = {
        "v": KEY_VERSION,
        "prompt": prompt,
        "options": relevant,
        "inputs": dict(sorted((input_hashes or {}).items())),
        "parent": parent,
        "backend": backend,  # an emulator recording never answers for the service, nor the reverse
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _options_dict(options: Any) -> dict[str, Any]:
    if options is None:
        return {}
    if isinstance(options, Mapping):
        return dict(options)
    data = jsonable(options)  # an Options dataclass
    if not isinstance(data, dict):
        raise TypeError(f"options must be a mapping or a dataclass, not {type(options).__name__}")
    return data


class RunCache:
    """Cassettes by cache key in one folder."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory else Path.cwd() / DEFAULT_CACHE_DIR

    def key(self, prompt: str, options: Any = None, input_hashes: Mapping[str, str] | None = None, *,
            parent: str | None = None, backend: str | None = None) -> str:
        """`cache_key` for the current backend ("emulator" or "service") unless one is given."""
        return cache_key(prompt, options, input_hashes, parent=parent, backend=backend or backend_kind())

    def path_for(self, key: str) -> Path:
        return self.directory / f"{key[:32]}.jsonl"

    def lookup(self, key: str) -> Path | None:
        """The cassette to replay for `key`, or None (absent, unreadable or not a complete run)."""
        path = self.path_for(key)
        if not path.exists():
            return None
        try:
            cas = load_cassette(path)
            for f in cas.files:
                f.read()  # a missing or edited output means the entry cannot reproduce the run
        except CassetteError:
            return None
        if cas.header.get("cache_key") != key or cas.summary.get("stop_reason") != "end_turn":
            return None
        return path

    def recorder(self, key: str, *, meta: Mapping[str, Any] | None = None) -> Recorder:
        """A Recorder that writes the cache entry for `key` when closed with the finished Run."""
        self.directory.mkdir(parents=True, exist_ok=True)
        gitignore = self.directory / ".gitignore"
        if not gitignore.exists():
            # A cache is local state; teachers ship cassettes on purpose with --record.
            gitignore.write_text("*\n", encoding="utf-8")
        return Recorder(self.path_for(key), meta={**dict(meta or {}), "cache_key": key})

    def clear(self) -> int:
        """Delete every entry; returns how many cassettes were removed."""
        import shutil

        n = 0
        for p in self.directory.glob("*.jsonl"):
            p.unlink()
            shutil.rmtree(p.with_name(p.stem + ".files"), ignore_errors=True)
            n += 1
        return n


def cache_notice(cas: Cassette) -> str:
    """The line the view shows on a hit: original date and cost, and how to run for real."""
    when = cas.created_at[:16].replace("T", " ") or "an earlier run"
    cost = cas.summary.get("cost_usd")
    cost_txt = f", original cost ${cost:.4f}" if isinstance(cost, (int, float)) else ""
    return f"Replayed from cache (recorded {when} UTC{cost_txt}); no new session. Use --refresh to run again."


def run_cached(cache: RunCache, key: str, run_live: Callable[[Recorder], Any], *, refresh: bool = False,
               meta: Mapping[str, Any] | None = None, view: bool = True, outputs_dir: str | os.PathLike[str] | None = None, verbose: bool = False,
               quiet: bool = False) -> Any:
    """Replay the entry for `key` instantly, or call `run_live(recorder)` and store its Run.

    `run_live` runs the turn for real and must feed every event to `recorder.on_event` (e.g. via
    `AgentSession.listeners`); the entry is kept only when the run completed (`end_turn`).
    """
    hit = None if refresh else cache.lookup(key)
    if hit is not None:
        from .playback import replay

        cas = load_cassette(hit)
        return replay(cas, speed=None, view=view, outputs_dir=outputs_dir, notice=cache_notice(cas),
                      verbose=verbose, quiet=quiet)
    recorder = cache.recorder(key, meta=meta)
    try:
        run = run_live(recorder)
    except BaseException:
        recorder.abort()
        raise
    if getattr(run, "stop_reason", None) == "end_turn" and not getattr(run, "interrupted", False):
        recorder.close(run)
    else:
        recorder.abort()
    return run
