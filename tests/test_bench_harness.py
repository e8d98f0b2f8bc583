"""bench/run_all.py collects RESULT lines and reports failures; bench_load_time measures for real."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCH / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


run_all = _load("run_all")
load_time = _load("bench_load_time")


def _script(folder: Path, name: str, body: str) -> None:
    (folder / f"bench_{name}.py").write_text(body)


def test_run_all_collects_figures_and_reports_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _script(
        tmp_path,
        "a_ok",
        'print("hello")\nprint(\'RESULT {"bench": "a", "metric": "m", "value": 1.5, "unit": "ms", "target": "<= 2", "met": true}\')\n',
    )
    _script(
        tmp_path,
        "b_miss",
        'print(\'RESULT {"bench": "b", "metric": "r", "value": 3, "unit": "x", "met": false}\')\n',
    )
    _script(tmp_path, "c_crash", "raise SystemExit(3)\n")
    _script(tmp_path, "d_silent", 'print("no figures")\n')
    _script(tmp_path, "e_hang", "import time\ntime.sleep(60)\n")
    out = tmp_path / "out"
    code = run_all.main(["--dir", str(tmp_path), "--out", str(out), "--timeout", "3"])
    assert code == 1
    data = json.loads((out / "results.json").read_text())
    assert [(r["bench"], r["value"], r.get("met")) for r in data["results"]] == [
        ("a", 1.5, True),
        ("b", 3, False),
    ]
    assert data["errors"] == {
        "bench_c_crash.py": "exit status 3",
        "bench_d_silent.py": "printed no RESULT line",
        "bench_e_hang.py": "killed after 3 s",
    }
    md = (out / "results.md").read_text()
    assert "| a | m | 1.5 | ms | <= 2 | yes |" in md and "| b | r | 3 | x |  | **no** |" in md
    assert "Measured on" in md and "cores" in md and "Rerun: `make bench`" in md
    assert "  hello" in capsys.readouterr().out


def test_run_all_filter_and_rerun_command(tmp_path: Path) -> None:
    _script(tmp_path, "x", 'print(\'RESULT {"bench": "x", "metric": "m", "value": 1, "unit": "s"}\')\n')
    _script(tmp_path, "y", "raise SystemExit(1)\n")
    out = tmp_path / "out"
    assert run_all.main(["--dir", str(tmp_path), "--out", str(out), "-k", "x"]) == 0
    assert "Rerun: `python bench/run_all.py -k x`" in (out / "results.md").read_text()
    assert run_all.main(["--dir", str(tmp_path), "--out", str(out), "-k", "nothing"]) == 1


def test_load_ext_in_a_fresh_process_is_fast_and_lazy() -> None:
    result = load_time.probe("load_ext")
    assert result["heavy"] == [], "%load_ext must not import anthropic/pandas/ipywidgets"
    assert 0 < float(result["seconds"]) < 1.0  # type: ignore[arg-type]
    line = load_time.result_line("ratio", 0.01, "x", met=True)
    assert json.loads(line.removeprefix("RESULT ")) == {
        "bench": "load_time", "metric": "ratio", "value": 0.01, "unit": "x", "met": True,
    }  # fmt: skip
