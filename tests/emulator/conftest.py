"""The runtime tests drive SessionRuntime on asyncio: one event loop per test (function scope,
so no runtime task outlives its test), shadowing the session-wide `anyio_backend`.

Every JSON response and SSE event any emulator sends during these tests is checked against the
shape the TypeScript SDK declares for its route (`nb_agents.emulator.sdk_shapes`): a missing
required key, a null where none is allowed, a wrong kind or an undeclared key fails the test.
A test that makes the emulator send an off-shape event on purpose (a scenario `event` step) takes
the `wire_check` fixture and calls `wire_check.take()` (the problems found so far) before it ends.
Error bodies (4xx/5xx) are not checked here: see test_conformance.py.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from nb_agents.emulator import sdk_shapes


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class WireCheck:
    """Collects shape problems from every emulator in this process (the server threads call it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.found: list[str] = []
        self.checked = 0
        self.routes: set[str] = set()
        self.event_types: set[str] = set()

    def __call__(self, route: str, node: Any, body: Any) -> None:
        found = sdk_shapes.problems(node, body)
        with self.lock:
            self.checked += 1
            self.routes.add(route)
            if route == "SSE" and isinstance(body, dict):
                self.event_types.add(str(body.get("type")))
            elif route.endswith("/events") and isinstance(body, dict):  # listed or sent events
                self.event_types.update(
                    str(e.get("type")) for e in body.get("data", []) if isinstance(e, dict)
                )
            if found:
                self.found.append(f"{route}: {found} in {json.dumps(body)[:300]}")

    def take(self) -> list[str]:
        with self.lock:
            found, self.found = self.found, []
        return found


# Registered when this conftest is collected, so the other in-process tests of a whole-suite run
# are seen too; only the tests here fail on a problem (bad-input tests elsewhere send off-shape
# events on purpose): the others' problems are counted in the summary.
WIRE_CHECK = WireCheck()
sdk_shapes.observers.append(WIRE_CHECK)
_ELSEWHERE: list[str] = []


@pytest.fixture(scope="session")
def wire_check() -> WireCheck:
    return WIRE_CHECK


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """What the shape check saw: routes, and the streamed event types never produced."""
    if not WIRE_CHECK.checked:
        return
    union = sdk_shapes._resolve(sdk_shapes.event_shape())["union"]
    declared = {m["ref"] for m in union}
    seen = {
        m["ref"]
        for m in union
        if sdk_shapes._literal(sdk_shapes._resolve(m)["object"]["type"])
        in {(t,) for t in WIRE_CHECK.event_types}
    }
    terminalreporter.write_line(
        f"SDK shapes: {WIRE_CHECK.checked} responses/events checked on {len(WIRE_CHECK.routes)} routes; "
        f"{len(seen)} of {len(declared)} event types seen; not produced: "
        + ", ".join(sorted(n.removeprefix("BetaManagedAgents") for n in declared - seen))
    )
    elsewhere = _ELSEWHERE + WIRE_CHECK.take()
    if elsewhere:
        kinds = sorted({line.split(" in {", 1)[0] for line in elsewhere})
        terminalreporter.write_line(
            f"SDK shapes: {len(elsewhere)} off-shape responses/events during tests outside tests/emulator "
            "(not failures there; bad-input tests send some on purpose):"
        )
        for kind in kinds[:10]:
            terminalreporter.write_line(f"  {kind[:300]}")


@pytest.fixture(autouse=True)
def _responses_in_sdk_shape(wire_check: WireCheck) -> Iterator[None]:
    _ELSEWHERE.extend(wire_check.take())
    yield
    found = wire_check.take()
    assert not found, "emulator responses off the TypeScript SDK's shapes:\n" + "\n".join(found[:20])
