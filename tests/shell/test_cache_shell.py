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


def test_cache_new_on_a_hit_starts_a_fresh_conversation(ip, emu, tmp_path, monkeypatch):
    """Run All over `--cache --new` (replayed) then an uncached cell: that cell runs in a new
    server session, not in the conversation the replayed cell's recording came from."""
    from nb_agents.api import make_client

    monkeypatch.setenv("NB_AGENTS_CACHE_DIR", str(tmp_path / "cache"))
    ip.run_cell_magic("agent", "--cache --new -o a", ECHO + "one")
    ip.run_cell_magic("agent", "--cache -o b", ECHO + "two")
    first = ip.user_ns["a"].session_id
    assert ip.user_ns["b"].session_id == first  # a plain cell continues the conversation
    sessions = emu.stats["sessions_created"]
    ip.run_cell_magic("agent", "--cache --new -o a2", ECHO + "one")  # Run All: the first cell again
    assert isinstance(ip.user_ns["a2"], ReplayRun) and emu.stats["sessions_created"] == sessions
    ip.run_cell_magic("agent", "--cache -o c", ECHO + "three")  # not cached: runs for real
    run = ip.user_ns["c"]
    assert run.text == "three" and not isinstance(run, ReplayRun)
    assert run.session_id != first and emu.stats["sessions_created"] == sessions + 1
    said = [e for e in make_client().beta.sessions.events.list(run.session_id, limit=1000)
            if e.type == "user.message"]
    assert len(said) == 1  # a fresh conversation: only this cell's message
