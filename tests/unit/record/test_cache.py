"""Run-All cache: what changes the key, what counts as a hit, what the view says."""

from __future__ import annotations

from cassette_events import PNG, turn_events

from nb_agents.config import Options
from nb_agents.record.cache import DEFAULT_CACHE_DIR, RunCache, cache_key, cache_notice
from nb_agents.record.cassette import load_cassette

OPTS = {"model": "claude-sonnet-4-6", "system": "", "verbose": False, "out": "run"}
INPUTS = {"sales": "ab" * 32}


def test_key_depends_on_prompt_relevant_options_inputs_and_parent():
    base = cache_key("Plot sales", OPTS, INPUTS)
    assert base == cache_key("Plot sales", dict(reversed(list(OPTS.items()))), dict(INPUTS))
    assert len(base) == 64
    changed = [
        cache_key("Plot sales!", OPTS, INPUTS),
        cache_key("Plot sales", {**OPTS, "model": "claude-opus-4-7"}, INPUTS),
        cache_key("Plot sales", {**OPTS, "system": "Be brief"}, INPUTS),
        cache_key("Plot sales", {**OPTS, "offline": True}, INPUTS),
        cache_key("Plot sales", {**OPTS, "some_future_option": 1}, INPUTS),
        cache_key("Plot sales", OPTS, {"sales": "cd" * 32}),
        cache_key("Plot sales", OPTS, {**INPUTS, "extra.csv": "ef" * 32}),
        cache_key("Plot sales", OPTS, INPUTS, parent="0" * 64),
        cache_key("Plot sales", OPTS, INPUTS, backend="emulator"),
        cache_key("Plot sales", OPTS, INPUTS, backend="service"),
    ]
    assert base not in changed and len(set(changed)) == len(changed)
    # display and storage options never change what the agent does
    same = {**OPTS, "verbose": True, "quiet": True, "out": "other", "timeout": 30.0, "record_dir": "x",
            "cache_dir": "y", "refresh": True, "outputs_dir": "z", "deltas": False}
    assert cache_key("Plot sales", same, INPUTS) == base


def test_key_accepts_the_resolved_options_dataclass():
    a = Options(model="claude-sonnet-4-6", verbose=False)
    b = Options(model="claude-sonnet-4-6", verbose=True)
    c = Options(model="claude-opus-4-7")
    assert cache_key("p", a) == cache_key("p", b) != cache_key("p", c)


def _store(cache: RunCache, key: str, stop_reason="end_turn", with_file=True):
    rec = cache.recorder(key, meta={"backend": "emulator", "prompt": "Plot sales"})
    for e in turn_events():
        rec.on_event(e)
    if with_file:
        rec.add_file("chart.png", PNG)
    return rec.close({"text": "done", "stop_reason": stop_reason, "cost_usd": 0.0425})


def test_only_a_complete_recorded_run_is_a_hit(tmp_path):
    cache = RunCache(tmp_path / "cache")
    key = cache.key("Plot sales", OPTS, INPUTS)
    assert cache.lookup(key) is None
    path = _store(cache, key)
    assert cache.lookup(key) == path and path.parent == tmp_path / "cache"
    assert load_cassette(path).header["cache_key"] == key
    assert (tmp_path / "cache" / ".gitignore").read_text() == "*\n"
    assert cache.lookup(cache.key("Plot sales again", OPTS, INPUTS)) is None

    interrupted = cache.key("Interrupted", OPTS, INPUTS)
    _store(cache, interrupted, stop_reason="interrupted")
    assert cache.lookup(interrupted) is None

    (tmp_path / "cache" / f"{key[:32]}.files" / "chart.png").write_bytes(b"tampered")
    assert cache.lookup(key) is None  # cannot reproduce the outputs: run for real
    _store(cache, key)
    assert cache.lookup(key) == path
    assert cache.clear() == 2 and cache.lookup(key) is None


def test_a_file_under_the_wrong_name_is_a_miss(tmp_path):
    cache = RunCache(tmp_path)
    key, other = cache.key("a"), cache.key("b")
    _store(cache, key, with_file=False)
    cache.path_for(key).rename(cache.path_for(other))
    assert cache.lookup(other) is None
    cache.path_for(other).write_text("garbage")
    assert cache.lookup(other) is None


def test_the_key_includes_the_current_backend(monkeypatch):
    from nb_agents.api import client

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-000000000")
    cache = RunCache("unused")
    with client.using_emulator(None):
        assert cache.key("p") == cache_key("p", backend="service")
    with client.using_emulator(type("Emu", (), {"base_url": "http://127.0.0.1:9"})()):
        assert cache.key("p") == cache_key("p", backend="emulator") != cache_key("p", backend="service")


def test_default_directory_is_next_to_the_notebook(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert RunCache().directory == tmp_path / DEFAULT_CACHE_DIR


def test_notice_names_the_original_date_and_cost(tmp_path):
    cache = RunCache(tmp_path)
    key = cache.key("x")
    cas = load_cassette(_store(cache, key))
    text = cache_notice(cas)
    assert text.startswith("Replayed from cache (recorded " + cas.created_at[:10])
    assert "original cost $0.0425" in text and "--refresh" in text
