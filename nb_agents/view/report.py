"""Listings for people: a `Report` (text shown, data indexable) and a titled `Table` (text and
HTML). What `%agent` subcommands return, and what listing methods of the Python API return
(`nb_agents.memory(NAME).list()`), so both show the same thing."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

__all__ = ["Report", "Table"]


class Report:
    """What status/sessions/cost/config return: shown as text, indexable like its data."""

    def __init__(self, text: str, data: Any) -> None:
        self.text, self.data = text, data

    def __getitem__(self, key: Any) -> Any:
        return self.data[key]

    def __iter__(self) -> Any:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return self.text

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.text)


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
