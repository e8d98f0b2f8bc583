"""`python -m nb_agents.emulator --port N`: serve the emulator until Ctrl-C.

The first line on stdout is the base URL (`--port 0` picks a free port), so scripts can read it:
`ANTHROPIC_BASE_URL=$(...)`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import uvicorn

from .handle import bind_socket, make_config
from .server import create_app

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m nb_agents.emulator", description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=8765, help="port to listen on (0: pick a free one)")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--brain", default="analyst", help="default brain: analyst | echo | scenario:NAME")
    p.add_argument("--scenario-dir", action="append", default=[], type=Path, help="extra scenario directory")
    p.add_argument("--turn-delay", type=float, default=0.0, help="seconds added to every model request")
    p.add_argument("--sandbox-root", type=Path, default=None, help="where session sandboxes live")
    p.add_argument("--latency", type=float, default=0.0,
                   help="seconds added before every request is answered (a network's round trip)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nb_agents_emulator_") as tmp:
        config = make_config(
            args.brain,
            {"latency": args.latency} if args.latency else None,
            scenario_dirs=args.scenario_dir,
            turn_delay=args.turn_delay,
            sandbox_root=args.sandbox_root or Path(tmp),
        )
        try:
            sock = bind_socket(args.host, args.port)
        except OSError as exc:
            print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
            return 2
        host, port = sock.getsockname()[:2]
        print(f"http://{host}:{port}", flush=True)
        print(
            f"nb_agents emulator: export ANTHROPIC_BASE_URL=http://{host}:{port} (Ctrl-C stops)",
            file=sys.stderr,
        )
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(config), log_level="warning", access_log=False, timeout_graceful_shutdown=3
            )
        )
        try:
            server.run(sockets=[sock])
        except KeyboardInterrupt:
            pass  # uvicorn re-raises the Ctrl-C it handled; the shutdown was already clean
    return 0


if __name__ == "__main__":
    sys.exit(main())
