"""The fault proxy: forwards bytes, follows keep-alive requests, cuts matching responses mid-frame."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route
from tcp_proxy import TcpProxy

FRAMES = 40
STREAM = "/v1/sessions/sesn_1/events/stream"


def _frame(i: int) -> bytes:
    pad = "x" * (20 + i % 7)
    return f'event: agent.message\ndata: {{"type":"agent.message","i":{i},"pad":"{pad}"}}\n\n'.encode()


class _Upstream:
    """A Starlette SSE server in a daemon thread; counts streams that are still open."""

    def __init__(self) -> None:
        self.open_streams = 0
        self.closed_streams = threading.Event()

        async def stream(request: Request) -> StreamingResponse:
            forever = request.query_params.get("forever") == "1"

            async def frames():  # type: ignore[no-untyped-def]
                self.open_streams += 1
                try:
                    i = 0
                    while forever or i < FRAMES:
                        yield _frame(i)
                        i += 1
                        await asyncio.sleep(0.01 if forever else 0)
                finally:
                    self.open_streams -= 1
                    self.closed_streams.set()

            return StreamingResponse(frames(), media_type="text/event-stream")

        async def echo(request: Request) -> JSONResponse:
            return JSONResponse({"received": len(await request.body())})

        app = Starlette(routes=[Route(STREAM, stream), Route("/v1/echo", echo, methods=["POST"])])
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "upstream did not start"
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def upstream():  # type: ignore[no-untyped-def]
    up = _Upstream()
    yield up
    up.stop()


def _request(sock: socket.socket, method: str, path: str, body: bytes = b"", close: bool = True) -> None:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
    head += "Connection: close\r\n" if close else ""
    sock.sendall(head.encode() + b"\r\n" + body)


def _read_all(sock: socket.socket) -> tuple[bytes, bytes]:
    """(response head, raw body) read until the peer closes or resets."""
    data = bytearray()
    sock.settimeout(10)
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    return head, body


def _get_stream(port: int, path: str = STREAM) -> tuple[bytes, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        _request(sock, "GET", path)
        return _read_all(sock)


@pytest.fixture(scope="module")
def full_body(upstream):  # type: ignore[no-untyped-def]
    """The uncut raw body (chunked framing included), fetched directly from the upstream."""
    head, body = _get_stream(upstream.port)
    assert b"200 OK" in head and body.endswith(b"0\r\n\r\n")
    return body


def test_passes_through_when_nothing_matches(upstream, full_body) -> None:  # type: ignore[no-untyped-def]
    with TcpProxy(("127.0.0.1", upstream.port), match=r"/nothing") as proxy:
        head, body = _get_stream(proxy.port)
        assert body == full_body
        assert proxy.cuts == [] and proxy.requests == [("GET", STREAM)]


@pytest.mark.parametrize("offset", [1, 7, 150, 333])
def test_cuts_after_exactly_n_body_bytes_mid_frame(upstream, full_body, offset) -> None:  # type: ignore[no-untyped-def]
    with TcpProxy(f"http://127.0.0.1:{upstream.port}", offsets=[offset]) as proxy:
        head, body = _get_stream(proxy.port)
    assert b"200 OK" in head
    assert body == full_body[:offset]
    assert not body.endswith(b"\n\n"), "this offset must land inside a frame"
    [cut] = proxy.cuts
    assert (cut.method, cut.path, cut.offset) == ("GET", STREAM, offset)
    assert cut.tail == body[-64:]


def test_seeded_offsets_are_reproducible_and_mostly_mid_frame(upstream, full_body) -> None:  # type: ignore[no-untyped-def]
    def offsets(seed: int) -> list[int]:
        with TcpProxy(("127.0.0.1", upstream.port), seed=seed, cut_range=(1, len(full_body) - 1)) as proxy:
            _, body = _get_stream(proxy.port)
            assert body == full_body[: proxy.cuts[0].offset]
            return [c.offset for c in proxy.cuts]

    trials = [offsets(seed) for seed in range(12)]
    assert trials[:3] == [offsets(seed) for seed in range(3)]
    assert len({t[0] for t in trials}) > 8
    mid = [t[0] for t in trials if not full_body[: t[0]].endswith(b"\n\n")]
    assert len(mid) >= 10


def test_only_matching_requests_on_a_keep_alive_connection_are_cut(upstream, full_body) -> None:  # type: ignore[no-untyped-def]
    with TcpProxy(("127.0.0.1", upstream.port), offsets=[100]) as proxy:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
            # a POST whose body contains a fake request line: it must not confuse the parser
            payload = f"GET {STREAM} HTTP/1.1\r\n\r\n".encode() * 3
            _request(sock, "POST", "/v1/echo", payload, close=False)
            reply = b""
            while not reply.endswith(b"}"):
                reply += sock.recv(4096)
            assert reply.startswith(b"HTTP/1.1 200") and f'{{"received":{len(payload)}}}'.encode() in reply
            _request(sock, "GET", STREAM)
            _, body = _read_all(sock)
        assert body == full_body[:100]
        assert proxy.requests == [("POST", "/v1/echo"), ("GET", STREAM)]
        assert [c.path for c in proxy.cuts] == [STREAM]


def test_max_cuts_then_pass_through(upstream, full_body) -> None:  # type: ignore[no-untyped-def]
    with TcpProxy(("127.0.0.1", upstream.port), seed=5, max_cuts=2) as proxy:
        bodies = [_get_stream(proxy.port)[1] for _ in range(3)]
    assert [len(b) for b in bodies[:2]] == [c.offset for c in proxy.cuts]
    assert bodies[2] == full_body


def test_cut_closes_the_upstream_side_too(upstream) -> None:  # type: ignore[no-untyped-def]
    upstream.closed_streams.clear()
    with TcpProxy(("127.0.0.1", upstream.port), offsets=[500]) as proxy:
        _, body = _get_stream(proxy.port, STREAM + "?forever=1")
        assert len(body) == 500
        assert upstream.closed_streams.wait(5), "the server's stream was not closed by the cut"
    deadline = time.monotonic() + 5
    while upstream.open_streams and time.monotonic() < deadline:
        time.sleep(0.02)
    assert upstream.open_streams == 0


def test_reset_mode_and_no_threads_left(upstream, full_body) -> None:  # type: ignore[no-untyped-def]
    proxy = TcpProxy(("127.0.0.1", upstream.port), offsets=[64], reset=True)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
        _request(sock, "GET", STREAM)
        with pytest.raises(ConnectionResetError):
            data = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    proxy.close()
    assert proxy.live_threads == 0
