"""The flusher both live views write through: latest state only, rate bound, final state, stop."""

from __future__ import annotations

import threading
import time

from nb_agents.view.flusher import Flusher, on_main_thread, set_values


class Recorder:
    """A view's write callback: records what it shows, when, and from which thread."""

    def __init__(self) -> None:
        self.shown: list[object] = []
        self.times: list[float] = []
        self.threads: set[str] = set()
        self.news: list[bool] = []

    def __call__(self, state: object, news: bool) -> bool:
        self.news.append(news)
        if self.shown and self.shown[-1] == state:
            return False
        self.shown.append(state)
        self.times.append(time.monotonic())
        self.threads.add(threading.current_thread().name)
        return True


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return False


def test_many_puts_from_many_threads_are_written_at_a_bounded_rate_by_one_thread():
    write = Recorder()
    flusher = Flusher(write, 0, min_interval=0.05, name="test-flusher")
    flusher.start()

    def feed(k: int) -> None:
        end = time.monotonic() + 0.6
        i = 0
        while time.monotonic() < end:
            flusher.put((k, i))
            i += 1
            time.sleep(0.0005)

    feeders = [threading.Thread(target=feed, args=(k,)) for k in range(4)]
    for th in feeders:
        th.start()
    for th in feeders:
        th.join(timeout=10)
    time.sleep(0.1)
    assert write.threads == {"test-flusher"}  # one writer
    assert 3 <= flusher.sync_count <= 0.7 / 0.05 + 2
    gaps = [b - a for a, b in zip(write.times, write.times[1:], strict=False)]
    assert min(gaps) >= 0.05 * 0.9  # at most one write per min_interval
    flusher.stop()
    assert not flusher.thread.is_alive()


def test_the_final_state_is_always_written_by_stop_on_the_callers_thread():
    write = Recorder()
    flusher = Flusher(write, "first", min_interval=10.0)  # the thread would wait 10 s
    flusher.start()
    flusher.put("a")
    assert wait_for(lambda: write.shown == ["a"])
    flusher.put("b")
    flusher.put("final")
    started = time.monotonic()
    assert flusher.stop()
    assert time.monotonic() - started < 1.0  # stop does not wait out the interval
    assert write.shown == ["a", "final"] and flusher.latest == "final"
    assert threading.current_thread().name in write.threads
    assert not flusher.thread.is_alive() and flusher.stopped
    assert not flusher.stop()  # idempotent: nothing new to write
    flusher.put("late")  # after stop: stored, never written by a thread
    time.sleep(0.05)
    assert write.shown == ["a", "final"]
    flusher.start()  # never restarts
    assert not flusher.thread.is_alive()


def test_stop_without_a_thread_still_writes_the_final_state():
    write = Recorder()
    flusher = Flusher(write, "first")
    flusher.put("final")
    flusher.stop()
    assert write.shown == ["final"] and flusher.thread is None


def test_the_first_change_after_a_quiet_spell_is_written_at_once_then_the_rest_of_the_interval():
    write = Recorder()
    flusher = Flusher(write, 0, min_interval=0.3)
    assert flusher.flush() and write.shown == [0]  # a synchronous write (display) ...
    flusher.start()
    started = time.monotonic()
    flusher.put(1)
    assert wait_for(lambda: write.shown == [0, 1], timeout=1.0)
    assert time.monotonic() - started < 0.2  # ... does not delay the first change
    flusher.put(2)
    flusher.put(3)  # same interval: one write shows the latest
    assert wait_for(lambda: write.shown[-1] == 3, timeout=2.0)
    assert write.shown == [0, 1, 3] and write.times[2] - write.times[1] >= 0.25
    time.sleep(0.35)
    assert flusher.sync_count == 3  # nothing new, no tick: no write
    flusher.stop()


def test_a_tick_wakes_the_flusher_without_news():
    write = Recorder()
    flusher = Flusher(write, "same", min_interval=0.01, tick=0.05)
    flusher.start()
    assert wait_for(lambda: write.news.count(False) >= 2, timeout=2.0)
    flusher.stop()
    assert write.news[-1] is True  # the final write is news


def test_set_values_sends_one_batch():
    events: list[str] = []

    class Widget:
        def __init__(self, name: str) -> None:
            self.name = name

        def hold_sync(self):
            widget = self

            class Hold:
                def __enter__(self):
                    events.append(f"hold {widget.name}")

                def __exit__(self, *exc):
                    events.append(f"sync {widget.name}")

            return Hold()

        def __setattr__(self, key, value):
            if key == "value":
                events.append(f"set {self.name}={value}")
            object.__setattr__(self, key, value)

    a, b = Widget("a"), Widget("b")
    set_values([(a, "1"), (b, "2")])
    assert events == ["hold a", "hold b", "set a=1", "set b=2", "sync b", "sync a"]
    assert (a.value, b.value) == ("1", "2")


def test_on_main_thread():
    assert on_main_thread()
    seen: list[bool] = []
    th = threading.Thread(target=lambda: seen.append(on_main_thread()))
    th.start()
    th.join()
    assert seen == [False]
