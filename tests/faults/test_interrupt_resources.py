"""Interrupt: Ctrl-C mid-stream -> the session is idle within 2 s, and nothing is left behind.

The agent is mid-turn (a message arrived, then a 30 s pause) when the interrupt comes, either as
a real SIGINT to the process (what the notebook's stop button does; the main thread is blocked
in the SSE read) or as a `KeyboardInterrupt` raised from inside the event loop. Measured: the
time from the interrupt to `ask()` returning with the session idle, and the threads and open
sockets of the process (client and server side: the emulator runs in this process) against a
baseline taken after a completed turn of the same session, i.e. with its HTTP pool warm.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from leak_kit import open_sockets, settled

import nb_agents
import nb_agents.api.client as nb_client
from nb_agents.emulator import Emulator
from nb_agents.sessions import forget

STEPS = [{"say": "Starting the long job."}, {"delay": 30}, {"say": "never shown"}]
IDLE_WITHIN = 2.0


@pytest.fixture
def long_turn(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    from IPython.testing.globalipapp import start_ipython

    start_ipython()  # the widget view displays through a shell, as in a kernel
    monkeypatch.setenv("NB_AGENTS_VIEW", "widget")  # so the view's flusher thread is counted too
    with Emulator(brain="scenario:long", scenarios={"long": STEPS}) as emu:
        with nb_client.using_emulator(emu):
            yield emu
    forget("intr")


@pytest.mark.parametrize("how", ["sigint", "keyboard_interrupt"])
def test_ctrl_c_mid_stream_is_idle_within_2_s_and_leaks_nothing(
    long_turn: Emulator, how: str, capsys: Any
) -> None:
    sess = nb_agents.session("intr")
    warm = sess.ask("[[emulator: echo]]\nwarm up", interpolate=False, live=True)
    assert warm.stop_reason == "end_turn"
    threads, sockets = set(threading.enumerate()), open_sockets()

    fired: list[float] = []
    arrived = threading.Event()

    def on_event(event: Any) -> None:
        if event.type == "agent.message" and not fired:
            if how == "keyboard_interrupt":
                fired.append(time.monotonic())
                raise KeyboardInterrupt
            arrived.set()

    def send_sigint() -> None:  # from another thread, once the agent is mid-turn
        if arrived.wait(10):
            time.sleep(0.3)  # the main thread is now blocked in the stream read
            fired.append(time.monotonic())
            os.kill(os.getpid(), signal.SIGINT)

    killer = threading.Thread(target=send_sigint, name="test-sigint")
    if how == "sigint":
        killer.start()
        threads.add(killer)
    sess.listeners.append(on_event)
    try:
        run = sess.ask("go", interpolate=False, live=True)
    finally:
        sess.listeners.remove(on_event)
        arrived.set()
        if killer.is_alive() or how == "sigint":
            killer.join(5)
    done = time.monotonic()

    assert fired, "the interrupt never fired"
    assert done - fired[0] < IDLE_WITHIN, f"idle only {done - fired[0]:.2f} s after Ctrl-C"
    assert run.interrupted and run.stop_reason == "interrupted"
    assert [m.text for m in run.messages] == ["Starting the long job."]  # what arrived is kept
    assert run.transcript.status == "idle"
    from nb_agents.view import render_text

    assert "Interrupted: the agent was stopped; everything received so far is kept." in render_text(
        run.transcript
    )
    extra, now = settled(threads, sockets, within=2.0)
    assert not extra, f"threads left behind: {extra}"
    assert now <= sockets, f"sockets left behind: {now} open, {sockets} before"
    with long_turn.client() as client:  # (after the count: this client opens sockets of its own)
        assert client.beta.sessions.retrieve(run.session_id).status == "idle"
    capsys.readouterr()
