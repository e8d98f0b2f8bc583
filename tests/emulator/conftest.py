"""The runtime tests drive SessionRuntime on asyncio: one event loop per test (function scope,
so no runtime task outlives its test), shadowing the session-wide `anyio_backend`.

Every JSON response and SSE event any emulator sends during these tests is checked against the
shape the TypeScript SDK declares for its route (`nb_agents.emulator.sdk_shapes`): a missing
required key, a null where none is allowed, a wrong kind or an undeclared key fails the test.
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

    def __call__(self, route: str, node: Any, body: Any) -> None:
        found = sdk_shapes.problems(node, body)
        with self.lock:
            self.checked += 1
            if found:
                self.found.append(f"{route}: {found} in {json.dumps(body)[:300]}")

    def take(self) -> list[str]:
        with self.lock:
            found, self.found = self.found, []
        return found


@pytest.fixture(scope="session")
def wire_check() -> Iterator[WireCheck]:
    check = WireCheck()
    sdk_shapes.observers.append(check)
    yield check
    sdk_shapes.observers.remove(check)


@pytest.fixture(autouse=True)
def _responses_in_sdk_shape(wire_check: WireCheck) -> Iterator[None]:
    wire_check.take()
    yield
    found = wire_check.take()
    assert not found, "emulator responses off the TypeScript SDK's shapes:\n" + "\n".join(found[:20])
