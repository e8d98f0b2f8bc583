"""The runtime tests drive SessionRuntime on asyncio: one event loop per test (function scope,
so no runtime task outlives its test), shadowing the session-wide `anyio_backend`."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
