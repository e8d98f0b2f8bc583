"""The `%agent` subcommands for files and budgets: outputs, pull, upload, budget, cost, egress [NAME].

Each is `func(magics, argv)`, listed in `COMMANDS`. They work on a named session's
`SessionFiles` (files.FileSync underneath) and on tools/budget.py;
what they show is a `Table`: text/plain + text/html, indexable like its data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..api import api_call
from ..errors import ConfigError, FileSyncError, SessionError, did_you_mean
from ..tools import NO_SERVER_BUDGET, cents, list_cost_usd, raise_budget, session_cost
from ..view import fmt_size
from .args import name_arg, session_or_fail, sub_parser
from .report import Table
from .session_commands import all_costs

__all__: list[str] = []


def _started(name: str) -> Any:
    sess = session_or_fail(name)
    if sess.session_id is None:
        raise SessionError(f"session {name!r} has not started yet: run a %%agent cell first")
    return sess


def _size(n: int | None) -> str:
    return "-" if n is None else fmt_size(n)


def _artifact_row(art: Any, status: str | None = None) -> tuple[str, ...]:
    row = (art.name, art.mime, _size(art.size), art.sha256[:12])
    return row if status is None else (row[0], status, *row[1:])


def cmd_outputs(m: Any, argv: list[str]) -> Table:
    """%agent outputs [NAME]

    output files pulled so far (path, type, size, sha256)"""
    name = name_arg(argv, "%agent outputs [NAME]")
    sess = session_or_fail(name)
    sync = sess.files.sync
    arts = dict(sorted(sync.outputs().items())) if sync is not None else {}
    if not arts:
        return Table(
            f"session {name!r}: no outputs pulled yet (`%agent pull {name}` downloads them)", (), [], {}
        )
    title = f"session {name!r}: {len(arts)} output{'s' if len(arts) != 1 else ''} in {sync.outputs_root}"
    rows = [_artifact_row(a) for a in arts.values()]
    return Table(title, ("path", "mime", "size", "sha256"), rows, arts)


def cmd_pull(m: Any, argv: list[str]) -> Table:
    """%agent pull [NAME]

    download the session's outputs again; shows what changed"""
    name = name_arg(argv, "%agent pull [NAME]")
    sess = _started(name)
    opts = sess.options()
    client = sess.connect(opts)
    sync = sess.files.sync
    before = {n: a.sha256 for n, a in sync.outputs().items()} if sync is not None else {}
    got = sess.files.pull_again(client, opts, str(sess.session_id), list(sess.events))
    rows = []
    for rel, art in sorted(got.items()):
        status = "new" if rel not in before else "unchanged" if before[rel] == art.sha256 else "changed"
        rows.append(_artifact_row(art, status))
    changed = sum(r[1] != "unchanged" for r in rows)
    title = f"session {name!r}: {len(rows)} output{'s' if len(rows) != 1 else ''} pulled, {changed} new or changed"
    notes = [f"not downloaded: {e}" for e in got.errors]
    return Table(title, ("path", "status", "mime", "size", "sha256"), rows, dict(got), notes)


def _upload_input(m: Any, what: str) -> Any:
    """A kernel variable by that name, else an existing path."""
    ns = m.shell.user_ns
    if what in ns:
        return ns[what]
    if Path(what).expanduser().exists():
        return str(Path(what).expanduser())
    names = [k for k in ns if not k.startswith("_")]
    raise FileSyncError(f"%agent upload: no variable or file named {what!r}{did_you_mean(what, names)}")


def cmd_upload(m: Any, argv: list[str]) -> Table:
    """%agent upload VAR|PATH [-s NAME] [--format csv]

    upload and mount into a running session"""
    parser = sub_parser("upload")
    parser.add_argument("what", metavar="VARIABLE|PATH")
    parser.add_argument("--session", "-s", default="default")
    parser.add_argument("--format", choices=("parquet", "csv"), default=None)
    args = parser.parse_args(argv)
    sess = _started(args.session)
    obj = _upload_input(m, args.what)
    opts = sess.options(**({"file_format": args.format} if args.format else {}))
    prep = sess.files.prepare(sess.connect(opts), opts, {args.what: obj}, str(sess.session_id))
    sess.files.announce(prep)
    rows = [(r.name, r.kind, r.status, _size(r.size), r.mount_path or "-") for r in prep.report]
    paths = ", ".join(f"`{r.mount_path}`" for r in prep.report if r.mount_path)
    title = f"session {args.session!r}: {args.what} mounted"
    note = f"mounted at {paths}; its card goes with the next prompt of this session"
    return Table(title, ("name", "kind", "status", "size", "mount path"), rows, prep.report, [note])


def _usd(value: str) -> float | None:
    if value.lower() in ("none", "off"):
        return None
    try:
        cents(value)
    except ConfigError:
        raise ConfigError(
            f"%agent budget: {value!r} is not an amount of dollars (e.g. 2.50) or `none`"
        ) from None
    return float(value)


def cmd_budget(m: Any, argv: list[str]) -> None:
    """%agent budget [NAME] USD|none

    raise, lower or remove a session's budget"""
    if len(argv) not in (1, 2):
        raise ConfigError("usage: %agent budget [NAME] USD|none")
    name, value = (argv[0], argv[1]) if len(argv) == 2 else ("default", argv[0])
    usd = _usd(value)
    sess = _started(name)
    client = sess.connect()
    if api_call(client.beta.sessions.retrieve, str(sess.session_id)).budget is None:
        raise ConfigError(f"session {name!r} was created without a budget; {NO_SERVER_BUDGET}")
    updated = api_call(raise_budget, client, str(sess.session_id), usd)
    # The client-side guard of later turns follows the new cap (0 = none), not the old one.
    sess.defaults["max_usd"] = usd or 0.0
    spent = list_cost_usd(getattr(updated, "usage", None))
    so_far = f" (spent ${spent:.2f} so far)" if spent is not None else ""
    what = "budget removed" if usd is None else f"budget set to ${usd:.2f}"
    print(
        f"session {name!r} ({sess.session_id}): {what}{so_far}; a run paused by its budget resumes by itself"
    )


def cmd_cost(m: Any, argv: list[str]) -> Any:
    """%agent cost [NAME]

    cost of every session and the total, or one session's usage"""
    if not argv:
        return all_costs()
    name = name_arg(argv, "%agent cost [NAME]")
    sess = _started(name)
    return api_call(session_cost, sess.connect(), str(sess.session_id))


def cmd_egress(m: Any, argv: list[str]) -> Any:
    """%agent egress [NAME]

    what the session sent to the API, per turn: prompt, tool results per tool, files uploaded (sizes only)"""
    name = name_arg(argv, "%agent egress [NAME]")
    sess = session_or_fail(name)
    return sess.egress.report(f"egress of session {name!r} ({sess.session_id or 'not started'})")
