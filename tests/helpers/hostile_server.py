"""A misbehaving API in front of the emulator: an HTTP forwarder that can corrupt what it relays.

`HostileProxy(upstream, html_500=..., sse=...)` listens on 127.0.0.1 and forwards every request to
the emulator, except that:
- requests matching a `canned` pattern (fnmatch on "METHOD /path") get that canned answer
  (status, content type, body; header `request-id: req_canned`) instead, e.g. `HTML_500`, an nginx-style error page where the API
  would answer JSON;
- the body of SSE streams passes line by line through `sse(line) -> line` (e.g. to garble one
  `data:` line), and is relayed without a length, ending with the connection.
Test tooling: 127.0.0.1 only, one thread per connection, HTTP/1.0 responses (closed after each).
"""

from __future__ import annotations

import fnmatch
import http.client
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

__all__ = ["HostileProxy", "HTML_500"]

HTML_500 = (
    500,
    "text/html",
    (
        b"<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n"
        b"<center><h1>500 Internal Server Error</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    ),
)
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class HostileProxy:
    def __init__(
        self,
        upstream: str,
        *,
        canned: dict[str, tuple[int, str, bytes]] | None = None,
        sse: Callable[[bytes], bytes] | None = None,
    ) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.canned = dict(canned or {})
        self.sse = sse or (lambda line: line)
        self.requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="hostile-proxy", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> HostileProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _relay(self) -> None:
                route = f"{self.command} {urlsplit(self.path).path}"
                proxy.requests.append(route)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                for pattern, (status, ctype, payload) in proxy.canned.items():
                    if fnmatch.fnmatchcase(route, pattern):
                        self.send_response(status)
                        self.send_header("content-type", ctype)
                        self.send_header("request-id", "req_canned")  # as the real API sends one
                        self.send_header("content-length", str(len(payload)))
                        self.end_headers()
                        self.wfile.write(payload)
                        return
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                self.send_response(resp.status)
                for key, value in resp.getheaders():
                    if key.lower() not in _HOP:
                        self.send_header(key, value)
                self.end_headers()
                try:
                    if "text/event-stream" in (resp.getheader("content-type") or ""):
                        while line := resp.readline():
                            self.wfile.write(proxy.sse(line))
                            self.wfile.flush()
                    else:
                        self.wfile.write(resp.read())
                except OSError:  # the client went away
                    pass
                finally:
                    conn.close()

            do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _relay

        return Handler
