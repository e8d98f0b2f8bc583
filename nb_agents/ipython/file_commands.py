"""The `%agent` subcommands for files and budgets: outputs, pull, upload, budget, cost [NAME].

Each is `func(magics, argv)`, registered in `magics.SUBCOMMANDS` (imported by subcommands.py).
They work on a named session's `SessionFiles` (files.FileSync underneath) and on budget.py;
what they show is a `Table`: text/plain + text/html, indexable like its data.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError, FileSyncError, SessionError, did_you_mean
from .magics import _name_arg, _session_or_fail, register_subcommand, sub_parser
from .session_commands import Report
from .session_commands import _cost as _all_costs

__all__ = ["Table"]


class Table(Report):
    """A titled table (`rows` of strings under `header`) over `data` (e.g. name -> Artifact)."""

    def __init__(
        self,
        title: str,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        data: Any,
        notes: Sequence[str] = (),
    ) -> None:
        self.title, self.header, self.rows, self.notes = (
            title,
            tuple(header),
            [tuple(r) for r in rows],
            tuple(notes),
        )
        super().__init__(self._text(), data)

    def _text(self) -> str:
        if not self.rows:
            return "\n".join([self.title, *self.notes])
        widths = [max(len(str(r[i])) for r in [self.header, *self.rows]) for i in range(len(self.header))]
        lines = [
            "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
            for r in [self.header, *self.rows]
        ]
        return "\n".join([self.title, *lines, *self.notes])

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        head = "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h in self.header)
        body = "".join(
            "<tr>" + "".join(f"<td><code>{html.escape(str(c))}</code></td>" for c in r) + "</tr>"
            for r in self.rows
        )
        table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>" if self.rows else ""
        notes = "".join(f"<div>{html.escape(n)}</div>" for n in self.notes)
        return {
            "text/plain": self.text,
            "text/html": f"<div><b>{html.escape(self.title)}</b>{table}{notes}</div>",
        }


def _started(name: str) -> Any:
    sess = _session_or_fail(name)
    if sess.session_id is None:
        raise SessionError(f"session {name!r} has not started yet: run a %%agent cell first")
    return sess


def _size(n: int | None) -> str:
    from ..files.artifacts import human_size

    return "-" if n is None else human_size(n)


def _artifact_row(art: Any, status: str | None = None) -> tuple[str, ...]:
    row = (art.name, art.mime, _size(art.size), art.sha256[:12])
    return row if status is None else (row[0], status, *row[1:])


def _outputs(m: Any, argv: list[str]) -> Table:
    name = _name_arg(argv, "%agent outputs [NAME]")
    sess = _session_or_fail(name)
    sync = sess.files.sync
    arts = dict(sorted(sync.outputs().items())) if sync is not None else {}
    if not arts:
        return Table(
            f"session {name!r}: no outputs pulled yet (`%agent pull {name}` downloads them)", (), [], {}
        )
    title = f"session {name!r}: {len(arts)} output{'s' if len(arts) != 1 else ''} in {sync.outputs_root}"
    rows = [_artifact_row(a) for a in arts.values()]
    return Table(title, ("path", "mime", "size", "sha256"), rows, arts)


def _pull(m: Any, argv: list[str]) -> Table:
    """Download every output again (force) and say which ones are new or changed."""
    name = _name_arg(argv, "%agent pull [NAME]")
    sess = _started(name)
    opts = sess.options()
    client = sess._client(opts)
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


def _upload(m: Any, argv: list[str]) -> Table:
    parser = sub_parser("upload")
    parser.add_argument("what", metavar="VARIABLE|PATH")
    parser.add_argument("--session", "-s", default="default")
    parser.add_argument("--format", choices=("parquet", "csv"), default=None)
    args = parser.parse_args(argv)
    sess = _started(args.session)
    obj = _upload_input(m, args.what)
    opts = sess.options(**({"file_format": args.format} if args.format else {}))
    prep = sess.files.prepare(sess._client(opts), opts, {args.what: obj}, str(sess.session_id))
    sess.files.announce(prep)
    rows = [(r.name, r.kind, r.status, _size(r.size), r.mount_path or "-") for r in prep.report]
    paths = ", ".join(f"`{r.mount_path}`" for r in prep.report if r.mount_path)
    title = f"session {args.session!r}: {args.what} mounted"
    note = f"mounted at {paths}; its card goes with the next prompt of this session"
    return Table(title, ("name", "kind", "status", "size", "mount path"), rows, prep.report, [note])


def _usd(value: str) -> float | None:
    from ..tools.budget import cents

    if value.lower() in ("none", "off"):
        return None
    try:
        cents(value)
    except ConfigError:
        raise ConfigError(
            f"%agent budget: {value!r} is not an amount of dollars (e.g. 2.50) or `none`"
        ) from None
    return float(value)


def _budget(m: Any, argv: list[str]) -> None:
    from ..api.client import api_call
    from ..tools.budget import list_cost_usd, raise_budget

    if len(argv) not in (1, 2):
        raise ConfigError("usage: %agent budget [NAME] USD|none")
    name, value = (argv[0], argv[1]) if len(argv) == 2 else ("default", argv[0])
    usd = _usd(value)
    sess = _started(name)
    updated = api_call(raise_budget, sess._client(sess.options()), str(sess.session_id), usd)
    # The client-side guard of later turns follows the new cap (0 = none), not the old one.
    sess.defaults["max_usd"] = usd or 0.0
    spent = list_cost_usd(getattr(updated, "usage", None))
    so_far = f" (spent ${spent:.2f} so far)" if spent is not None else ""
    what = "budget removed" if usd is None else f"budget set to ${usd:.2f}"
    print(
        f"session {name!r} ({sess.session_id}): {what}{so_far}; a run paused by its budget resumes by itself"
    )


def _cost(m: Any, argv: list[str]) -> Any:
    """`%agent cost`: every session and the total; `%agent cost NAME`: that session's usage."""
    if not argv:
        return _all_costs(m, argv)
    from ..api.client import api_call
    from ..tools.budget import session_cost

    name = _name_arg(argv, "%agent cost [NAME]")
    sess = _started(name)
    return api_call(session_cost, sess._client(sess.options()), str(sess.session_id))


for _name, _func, _usage, _help_text in [
    ("outputs", _outputs, "%agent outputs [NAME]", "output files pulled so far (path, type, size, sha256)"),
    ("pull", _pull, "%agent pull [NAME]", "download the session's outputs again; shows what changed"),
    (
        "upload",
        _upload,
        "%agent upload VAR|PATH [-s NAME] [--format csv]",
        "upload and mount into a running session",
    ),
    ("budget", _budget, "%agent budget [NAME] USD|none", "raise, lower or remove a session's budget"),
    ("cost", _cost, "%agent cost [NAME]", "cost of every session and the total, or one session's usage"),
]:
    register_subcommand(_name, _func, _usage, _help_text)
