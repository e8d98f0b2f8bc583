"""A small seeded TCP proxy that cuts HTTP responses at chosen byte offsets.

It sits on 127.0.0.1 in front of a server (the emulator), forwards bytes both ways, and
for requests whose path matches a pattern (the SSE stream path by default) it cuts the
connection in both directions after a chosen number of response *body* bytes (the raw
bytes after the response head, chunk-size lines included, so a cut lands anywhere:
between frames, mid-line, mid-JSON, mid-chunk header). Offsets come from an explicit
list, or are drawn from a seeded RNG so that every trial of a fault test is reproducible.

It speaks just enough HTTP/1.1 to follow requests on a keep-alive connection (request
heads and `Content-Length` bodies), so only the matching requests are cut. A request
with a chunked body makes the proxy stop parsing that connection (it then only forwards).
It is test tooling: not for production use, and it never touches the network beyond 127.0.0.1.
"""

from __future__ import annotations

import random
import re
import socket
import struct
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["CutRecord", "TcpProxy"]

_REQUEST_LINE = re.compile(rb"^([A-Z]+) (\S+) HTTP/1\.[01]$")
_HEAD_END = b"\r\n\r\n"
_MAX_HEAD = 65536


@dataclass(frozen=True)
class CutRecord:
    """One cut: which request, how many body bytes went through, and the bytes around the cut."""

    conn_id: int
    method: str
    path: str
    offset: int  # body bytes the client received before the cut
    tail: bytes  # the last (up to 64) body bytes the client received


@dataclass
class _Conn:
    """State shared by the two pump threads of one proxied connection."""

    conn_id: int
    client: socket.socket
    upstream: socket.socket
    lock: threading.Lock = field(default_factory=threading.Lock)
    armed: tuple[str, str, int] | None = None  # (method, path, offset) of the request to cut
    head_seen: bool = False
    head_buf: bytearray = field(default_factory=bytearray)
    body_sent: int = 0
    tail: bytearray = field(default_factory=bytearray)
    cut: bool = False


class TcpProxy:
    """`with TcpProxy(upstream_url, seed=3) as proxy: client(base_url=proxy.base_url)`.

    - `match`: regex searched in the request path; only those responses are cut.
    - `offsets`: explicit body-byte offsets, used in order for the matching requests;
      otherwise each offset is drawn from `random.Random(seed)` in `cut_range` (inclusive).
    - `max_cuts`: arm at most this many matching requests, then pass everything through (so a
      client's reconnect can finish the run). `None` means no limit.
    - `reset`: end cut connections with a TCP RST instead of a FIN.
    """

    def __init__(
        self,
        upstream: str | tuple[str, int],
        *,
        match: str = r"/events/stream",
        seed: int | None = 0,
        offsets: Iterable[int] | None = None,
        cut_range: tuple[int, int] = (1, 4096),
        max_cuts: int | None = 1,
        reset: bool = False,
    ) -> None:
        if isinstance(upstream, str):
            parts = urlsplit(upstream)
            upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.upstream = upstream
        self._match = re.compile(match)
        self._offsets = list(offsets) if offsets is not None else None
        self._rng = random.Random(seed)
        self._range = cut_range
        self._max_cuts = max_cuts
        self._reset = reset
        self._lock = threading.Lock()
        self._armed_count = 0
        self._conns: list[_Conn] = []
        self._threads: list[threading.Thread] = []
        self.cuts: list[CutRecord] = []
        self.requests: list[tuple[str, str]] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)  # so that close() ends the accept loop promptly
        self.port: int = self._listener.getsockname()[1]
        self._closed = threading.Event()
        self._spawn(self._accept_loop, "tcp-proxy-accept")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop accepting, close every connection and join every thread (bounded)."""
        self._closed.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept() at once on Linux
        except OSError:
            pass
        _close(self._listener)
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            self._finish(conn)
        for thread in list(self._threads):
            thread.join(timeout=5)

    @property
    def armed_bodies(self) -> list[tuple[str, int]]:
        """(path, body bytes forwarded so far) for every request that was armed for a cut.

        Arm with a huge offset to measure how long an uncut response is."""
        with self._lock:
            conns = list(self._conns)
        return [(c.armed[1], c.body_sent) for c in conns if c.armed is not None]

    @property
    def live_threads(self) -> int:
        return sum(t.is_alive() for t in self._threads)

    # -- plumbing -----------------------------------------------------------------------

    def _spawn(self, target, name: str, *args: object) -> None:  # type: ignore[no-untyped-def]
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                upstream = socket.create_connection(self.upstream, timeout=10)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                conn = _Conn(len(self._conns), client, upstream)
                self._conns.append(conn)
            self._spawn(self._pump_requests, f"tcp-proxy-c2u-{conn.conn_id}", conn)
            self._spawn(self._pump_responses, f"tcp-proxy-u2c-{conn.conn_id}", conn)

    def _next_offset(self) -> int | None:
        with self._lock:
            if self._max_cuts is not None and self._armed_count >= self._max_cuts:
                return None
            if self._offsets is not None:
                if self._armed_count >= len(self._offsets):
                    return None
                offset = self._offsets[self._armed_count]
            else:
                offset = self._rng.randint(*self._range)
            self._armed_count += 1
            return offset

    # -- client -> upstream: follow request boundaries, arm cuts --------------------------

    def _pump_requests(self, conn: _Conn) -> None:
        buf = bytearray()
        body_left = 0
        parsing = True
        while True:
            data = _recv(conn.client)
            if not data:
                break
            if parsing:
                buf += data
                out = bytearray()
                while parsing and buf:
                    if body_left:
                        take = min(body_left, len(buf))
                        out += buf[:take]
                        del buf[:take]
                        body_left -= take
                        continue
                    end = buf.find(_HEAD_END)
                    if end < 0:
                        parsing = len(buf) <= _MAX_HEAD
                        break
                    head = bytes(buf[: end + 4])
                    del buf[: end + 4]
                    body_left, parsing = self._on_request_head(conn, head)
                    out += head
                if not parsing:
                    out += buf
                    buf.clear()
                data = bytes(out)
            if data and not _sendall(conn.upstream, data):
                break
        self._finish(conn)

    def _on_request_head(self, conn: _Conn, head: bytes) -> tuple[int, bool]:
        """Arm a cut when the request matches; return (body length, keep parsing?)."""
        lines = head.split(b"\r\n")
        found = _REQUEST_LINE.match(lines[0])
        if not found:
            return 0, False
        method, path = found.group(1).decode(), found.group(2).decode("latin-1")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        with self._lock:
            self.requests.append((method, path))
        offset = self._next_offset() if self._match.search(path) else None
        with conn.lock:
            # armed before the head is forwarded, so the response can never outrun it
            conn.armed = (method, path, offset) if offset is not None else None
            conn.head_seen = False
            conn.head_buf.clear()
            conn.body_sent = 0
            conn.tail.clear()
        if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
            return 0, False
        return int(headers.get(b"content-length", b"0") or 0), True

    # -- upstream -> client: count body bytes of an armed response, cut ----------------

    def _pump_responses(self, conn: _Conn) -> None:
        while True:
            data = _recv(conn.upstream)
            if not data:
                break
            with conn.lock:
                data, cut_now = self._clip(conn, data)
            if data and not _sendall(conn.client, data):
                break
            if cut_now:
                self._cut(conn)
                return
        self._finish(conn)

    def _clip(self, conn: _Conn, data: bytes) -> tuple[bytes, bool]:
        """The part of `data` to forward, and whether the cut happens after it."""
        if conn.armed is None:
            return data, False
        head_part = b""
        if not conn.head_seen:
            conn.head_buf += data
            end = conn.head_buf.find(_HEAD_END)
            if end < 0:
                return data, False
            conn.head_seen = True
            body = bytes(conn.head_buf[end + 4 :])
            head_part = data[: len(data) - len(body)]
            data = body
        room = conn.armed[2] - conn.body_sent
        if len(data) < room:
            self._count(conn, data)
            return head_part + data, False
        data = data[:room]
        self._count(conn, data)
        return head_part + data, True

    @staticmethod
    def _count(conn: _Conn, data: bytes) -> None:
        conn.body_sent += len(data)
        conn.tail += data
        del conn.tail[:-64]

    def _cut(self, conn: _Conn) -> None:
        assert conn.armed is not None
        method, path, _ = conn.armed
        with self._lock:
            self.cuts.append(CutRecord(conn.conn_id, method, path, conn.body_sent, bytes(conn.tail)))
        conn.cut = True
        if self._reset:
            # SO_LINGER 0: close() sends an RST instead of a FIN
            conn.client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._finish(conn)

    def _finish(self, conn: _Conn) -> None:
        """Close both directions. shutdown() (not close alone) wakes the other pump's recv."""
        for sock in (conn.client, conn.upstream):
            # SHUT_RD only for a reset client socket: SHUT_WR would send a FIN before the RST
            how = socket.SHUT_RD if (self._reset and conn.cut and sock is conn.client) else socket.SHUT_RDWR
            try:
                sock.shutdown(how)
            except OSError:
                pass
            _close(sock)


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


def _sendall(sock: socket.socket, data: bytes) -> bool:
    try:
        sock.sendall(data)
        return True
    except OSError:
        return False


def _close(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass
