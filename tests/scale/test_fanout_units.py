"""Pure parts of the fan-out: item normalisation, `{{item.field}}`, retry classification, progress."""

from __future__ import annotations

import time

import httpx2
import pandas as pd
import pytest

from nb_agents.api import backoff, is_retryable
from nb_agents.errors import AgentAPIError, ConfigError
from nb_agents.fanout.items import Fields, Item, files_for, normalize
from nb_agents.sessions import interpolate
from nb_agents.view import Progress, ProgressView


def test_normalize_every_kind():
    assert normalize(["a", "b"]) == [(0, "a"), (1, "b")]
    assert normalize(x for x in "ab") == [(0, "a"), (1, "b")]
    pairs = normalize({"k": {"n": 1}, "j": 2})
    assert pairs[0][0] == "k" and isinstance(pairs[0][1], Fields) and pairs[1] == ("j", 2)
    frame = pd.DataFrame({"a": [1, 2]}, index=["x", "y"])
    assert [(k, v.to_dict()) for k, v in normalize(frame)] == [("x", {"a": 1}), ("y", {"a": 2})]
    groups = normalize(pd.DataFrame({"g": ["p", "q", "p"], "v": [1, 2, 3]}).groupby("g"))
    assert [k for k, _ in groups] == ["p", "q"] and list(groups[0][1].v) == [1, 3]
    assert normalize(pd.Series([5, 6], index=["a", "b"])) == [("a", 5), ("b", 6)]
    for bad in ("text", 3):
        with pytest.raises(ConfigError):
            normalize(bad)


def test_fields_interpolate_by_attribute_and_key():
    item = Fields({"city": "Oslo", "pop": 0.7})
    text = interpolate("{{item.city}} / {{item['pop']}} / {{item}}", {"item": item}).text
    assert text == "Oslo / 0.7 / city: Oslo, pop: 0.7"
    with pytest.raises(Exception, match="did you mean 'city'"):
        interpolate("{{item.cty}}", {"item": item})


def test_files_for_each_form():
    assert files_for(None, 1, "x") is None
    assert files_for(["a.csv"], 1, "x") == ["a.csv"]
    assert files_for({1: "b.csv"}, 1, "x") == "b.csv" and files_for({1: "b.csv"}, 2, "x") is None
    assert files_for(lambda key, item: f"{item}-{key}.csv", 1, "x") == "x-1.csv"


def _status_error(cls, status):
    request = httpx2.Request("POST", "http://x/v1/sessions")
    return cls("boom", response=httpx2.Response(status, request=request), body=None)


def test_is_retryable():
    import anthropic

    assert is_retryable(_status_error(anthropic.RateLimitError, 429))
    assert is_retryable(_status_error(anthropic.InternalServerError, 503))
    assert is_retryable(anthropic.APIConnectionError(request=httpx2.Request("GET", "http://x")))
    assert not is_retryable(_status_error(anthropic.BadRequestError, 400))
    try:
        try:
            raise _status_error(anthropic.InternalServerError, 529)
        except anthropic.APIStatusError as exc:
            raise AgentAPIError("API error 529") from exc
    except AgentAPIError as wrapped:
        assert is_retryable(wrapped)
    assert is_retryable(AgentAPIError("could not send the message after 4 attempts: x", connection=True))
    assert not is_retryable(AgentAPIError("API error 400 (invalid_request_error): bad"))


def test_backoff_grows_and_is_capped():
    assert backoff(1, jitter=lambda: 0.5) == 0.5 and backoff(3, jitter=lambda: 0.5) == 2.0
    assert backoff(20, jitter=lambda: 1.0) == pytest.approx(12.0)


def _items(*statuses):
    items = []
    for i, status in enumerate(statuses):
        item = Item(i, i, i, status=status)
        item.started, item.finished = 0.0, (2.0 if status in ("done", "failed") else None)
        items.append(item)
    return items


def test_progress_counts_cost_and_eta():
    p = Progress.of(_items("done", "failed", "running", "pending", "pending", "skipped: budget"),
                    spent=0.05, elapsed=4.0, concurrency=2, max_usd=0.1)
    assert (p.done, p.failed, p.running, p.skipped, p.finished, p.total) == (1, 1, 1, 1, 3, 6)
    assert p.eta == pytest.approx(4.0)  # 3 left, 2 at a time, 2 s each
    line = p.line()
    assert "3/6 finished" in line and "$0.0500 of $0.1" in line and "ETA 4s" in line
    assert "width:33.3%" in p.html() or "width:16.7%" in p.html()


def test_progress_view_throttles_and_stop_button():
    first = Progress.of(_items("pending"), spent=0, elapsed=0, concurrency=1, max_usd=None)
    view = ProgressView(first, mode="widget", min_interval=0.05)
    stopped = []
    view.on_stop(lambda: stopped.append(True))
    view.display()  # starts the flusher (the one writer)
    t0 = time.monotonic()
    for i in range(200):
        view.update(Progress.of(_items("running"), spent=i, elapsed=i, concurrency=1, max_usd=None))
        time.sleep(0.002)
    spent = time.monotonic() - t0
    time.sleep(0.1)
    assert 1 <= view.sync_count <= spent / 0.05 + 3  # throttled: at most one sync per min_interval
    view._button.click()
    assert stopped == [True] and view._button.disabled
    final = Progress.of(_items("done"), spent=1.0, elapsed=5, concurrency=1, max_usd=None)
    view.finish(final)
    assert "1/1 finished" in view._html.value
    assert view._button.layout.display == "none"
