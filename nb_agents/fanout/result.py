"""`MapResult`: what `nb_agents.map` returns — a table with one row per item, and `.retry_failed()`.

The table is a pandas DataFrame indexed by the item key, with the columns `item, status, text,
outputs, cost_usd, session_id, error, attempts` (status: done, failed, interrupted,
"skipped: budget", "skipped: stopped"). Attribute access and indexing go to the table
(`result.status.value_counts()`, `result["text"]`), so it reads like a DataFrame. Failures are
isolated: every item keeps its row. `.retry_failed()` runs only the items that did not end
"done", with the same template and settings, and returns a new `MapResult` with all rows.
`.egress` is what each item sent to the API (egress.py), one row per item that started.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..egress import Egress, EgressReport
from .items import DONE, Item

__all__ = ["MapResult", "COLUMNS"]

COLUMNS = ["item", "status", "text", "outputs", "cost_usd", "session_id", "error", "attempts"]


class MapResult:
    def __init__(self, items: list[Item], fanout: Any) -> None:
        self.items = list(items)
        self._fanout = fanout
        self._table: Any = None

    @property
    def table(self) -> Any:
        """The result as a pandas DataFrame (built once)."""
        if self._table is None:
            import pandas as pd

            rows = [item.row() for item in self.items]
            index = pd.Index([item.key for item in self.items], name="key")
            self._table = pd.DataFrame(rows, columns=COLUMNS, index=index)
        return self._table

    def to_frame(self) -> Any:
        return self.table.copy()

    @property
    def runs(self) -> dict[Any, Any]:
        """The `Run` of every item that got one, by key. A key the table repeats (a DataFrame whose
        index labels repeat) maps to the list of its rows' runs, in row order, like `table.loc`."""
        counts: dict[Any, int] = {}
        for item in self.items:
            counts[item.key] = counts.get(item.key, 0) + 1
        runs: dict[Any, Any] = {}
        for item in self.items:
            if item.run is None:
                continue
            if counts[item.key] > 1:
                runs.setdefault(item.key, []).append(item.run)
            else:
                runs[item.key] = item.run
        return runs

    @property
    def failed(self) -> Any:
        """The rows that did not end "done"."""
        return self.table[self.table["status"] != DONE]

    @property
    def cost_usd(self) -> float:
        return float(sum(item.cost_usd or 0.0 for item in self.items))

    @property
    def egress(self) -> EgressReport:
        """What each item sent to the API (one row per item that started, all its attempts: its
        session's rows added up, labelled by the item's key) and the total."""
        rows = []
        for item in self.items:
            meter = getattr(item.session, "egress", None)
            if meter is not None:
                rows.append(replace(sum(meter.rows(), Egress()), label=str(item.key)))
        return EgressReport(f"nb_agents.map: egress of {len(rows)} item{'s' if len(rows) != 1 else ''}", tuple(rows))

    def retry_failed(self, *, include_skipped: bool = True, **overrides: Any) -> MapResult:
        """Run again, in one call, every item that did not end "done" ("skipped" ones too unless
        `include_skipped=False`); keyword overrides: concurrency=, max_usd=, retries=, keep=, live=."""
        def wanted(item: Item) -> bool:
            return item.status != DONE and (include_skipped or not item.status.startswith("skipped"))

        again = [item for item in self.items if wanted(item)]
        if not again:
            return MapResult(self.items, self._fanout)
        old = self._fanout
        settings = {
            "concurrency": old.concurrency, "max_usd": old.max_usd, "retries": old.retries, "keep": old.keep,
            "files": old.files, "namespace": old.namespace, "interpolate": old.interpolate, "live": old.live,
            "name": old.name, "options": old.options,
        }
        settings.update(overrides)
        fan = type(old)(old.template, [(item.key, item.value) for item in again], **settings)
        for new, item in zip(fan.items, again, strict=True):
            new.index = item.index  # same session name, same outputs folder
        fan.start()
        fresh = {item.index: item for item in fan.wait().items}
        return MapResult([fresh.get(item.index, item) for item in self.items], fan)

    # -- reads like the table ----------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.table, name)

    def __getitem__(self, key: Any) -> Any:
        return self.table[key]

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Any:
        return iter(self.table)

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for item in self.items:
            counts[item.status] = counts.get(item.status, 0) + 1
        parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        return f"{len(self.items)} items: {parts}; cost ${self.cost_usd:.4f}"

    def __repr__(self) -> str:
        return f"<MapResult {self.summary()}>\n{self._text_table()}"

    def _shown(self) -> Any:
        return self.table[["status", "text", "cost_usd", "error", "attempts"]]

    def _text_table(self) -> str:
        return str(self._shown().to_string(max_rows=20, max_colwidth=50))

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        import html

        table = self._shown().to_html(max_rows=20, escape=True)
        head = f"<div><b>nb_agents.map</b>: {html.escape(self.summary())}</div>"
        return {"text/plain": repr(self), "text/html": f"<div class='nba-map-result'>{head}{table}</div>"}
