"""The pandas/matplotlib program the analyst runs in the sandbox through the bash tool.

It is real code executed by `python3` inside the session's sandbox: it writes
`<stem>_profile.csv` (one row per column: name, dtype, count, nulls, mean, std, min,
max) and `<stem>_hist.png` to /mnt/session/outputs/, and prints a JSON summary on its
last line, which the analyst turns into its markdown answer.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath

__all__ = ["profile_command", "output_stem", "table_kind", "PROFILE_COLUMNS", "OUTPUTS", "LOCAL_OUTPUTS"]

OUTPUTS = "/mnt/session/outputs/"
LOCAL_OUTPUTS = "outputs/"
PROFILE_COLUMNS = ["name", "dtype", "count", "nulls", "mean", "std", "min", "max"]

_SCRIPT = r'''
import json
import os
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

src, kind, stem = __SRC__, __KIND__, __STEM__
out = __OUT__
os.makedirs(out, exist_ok=True)
df = pd.read_parquet(src) if kind == "parquet" else pd.read_csv(src, sep="\t" if kind == "tsv" else ",")
num = df.select_dtypes("number")
rows = []
for col in df.columns:
    s = df[col]
    numeric = col in num.columns
    rows.append({"name": str(col), "dtype": str(s.dtype), "count": int(s.count()), "nulls": int(s.isna().sum()),
                 "mean": s.mean() if numeric else None, "std": s.std() if numeric else None,
                 "min": s.min() if numeric else None, "max": s.max() if numeric else None})
profile = pd.DataFrame(rows, columns=__COLUMNS__)
profile.to_csv(out + stem + "_profile.csv", index=False)
cols = list(num.columns)[:12]
if cols:
    num[cols].hist(bins=20, figsize=(min(4 * len(cols), 12), 3 * ((len(cols) + 2) // 3)), layout=(-1, min(3, len(cols))))
    fig = plt.gcf()
else:
    fig, ax = plt.subplots(figsize=(4, 2))
    ax.text(0.5, 0.5, "no numeric columns", ha="center", va="center")
    ax.axis("off")
fig.suptitle(stem)
fig.tight_layout()
fig.savefig(out + stem + "_hist.png", dpi=72)
summary = {"rows": int(df.shape[0]), "columns": int(df.shape[1]), "dtypes": {str(c): str(t) for c, t in df.dtypes.items()},
           "nulls": {str(c): int(n) for c, n in df.isna().sum().items() if n},
           "numeric": {str(c): {"mean": num[c].mean(), "std": num[c].std(), "min": num[c].min(), "max": num[c].max()} for c in num.columns},
           "duplicates": int(df.duplicated().sum()),
           "files": [out + stem + "_profile.csv", out + stem + "_hist.png"]}
print(json.dumps(summary, default=lambda v: None if v != v else (v.item() if hasattr(v, "item") else str(v))))
'''


def table_kind(filename: str) -> str | None:
    """csv | tsv | parquet, from a file name; None when it is not a table."""
    suffix = PurePosixPath(filename.lower()).suffix
    return {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet"}.get(suffix)


def output_stem(filename: str) -> str:
    stem = PurePosixPath(filename).stem or "table"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "table"


def profile_command(mount_path: str, filename: str, stem: str | None = None, out: str = OUTPUTS) -> str:
    """The bash command; `out` is where the files go (a self-hosted session: `outputs/` in its folder)."""
    script = (_SCRIPT.replace("__SRC__", json.dumps(mount_path))
              .replace("__OUT__", json.dumps(out))
              .replace("__KIND__", json.dumps(table_kind(filename) or "csv"))
              .replace("__STEM__", json.dumps(stem or output_stem(filename)))
              .replace("__COLUMNS__", json.dumps(PROFILE_COLUMNS)))
    return f"python3 - <<'PY'\n{script.strip()}\nPY"
