"""Run-All cache on the emulator: a repeated cell replays and creates no session; a change runs for real."""

from __future__ import annotations

from nb_agents.record import ReplayRun, RunCache, run_cached
from nb_agents.sessions import get_session, registry

ECHO = "[[emulator: echo]]\n"


def _live(prompt, name="cached"):
    def run_live(recorder):
        session = get_session(name)
        session.listeners.append(recorder.on_event)
        try:
            return session.ask(prompt, new=True, live=False, interpolate=False)
        finally:
            session.listeners.remove(recorder.on_event)

    return run_live


def test_a_repeated_cell_replays_without_a_new_session(emu, tmp_path, monkeypatch):
    monkeypatch.setenv("NB_AGENTS_VIEW", "text")
    registry().clear()
    cache = RunCache(tmp_path / ".nb_agents_cache")
    prompt = ECHO + "cached hello"
    key = cache.key(prompt, {"model": "claude-sonnet-4-6"})

    first = run_cached(cache, key, _live(prompt), view=False)
    assert not isinstance(first, ReplayRun) and first.text == "cached hello"
    assert cache.lookup(key) is not None
    sessions, turns = emu.stats["sessions_created"], emu.stats["turns"]

    again = run_cached(cache, key, _live(prompt), view=False)
    assert isinstance(again, ReplayRun)
    assert (emu.stats["sessions_created"], emu.stats["turns"]) == (sessions, turns)  # nothing new on the server
    assert (again.text, again.usage, again.cost_usd, again.session_id) == (
        first.text, first.usage, first.cost_usd, first.session_id)
    notice = next(i.text for i in again.transcript.items if type(i).__name__ == "Notice")
    assert notice.startswith("Replayed from cache (recorded ") and "original cost $" in notice

    changed_prompt = ECHO + "cached hello, changed"
    changed = run_cached(cache, cache.key(changed_prompt, {"model": "claude-sonnet-4-6"}), _live(changed_prompt),
                         view=False)
    assert not isinstance(changed, ReplayRun) and emu.stats["turns"] == turns + 1

    refreshed = run_cached(cache, key, _live(prompt), refresh=True, view=False)
    assert not isinstance(refreshed, ReplayRun) and emu.stats["turns"] == turns + 2
    assert emu.stats["sessions_created"] == sessions + 2
    registry().clear()
