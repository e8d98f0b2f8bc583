"""Execute the demo notebooks on the built-in emulator (the README's main command, `make demo`).

Copies `notebooks/` to the output folder (so data files and cassettes travel with them and
`agent_outputs/` lands beside the copies), executes every notebook there with nbclient, keeping
widget state, and prints each agent transcript (the static text fallback of the `%%agent` outputs).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path


def _transcripts(nb) -> list[str]:  # type: ignore[no-untyped-def]
    texts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        # The run's provenance metadata marks its transcript, whatever the cell says (`%agent wait`).
        for out in cell.get("outputs", []):
            meta = out.get("metadata", {}) or {}
            data = out.get("data", {}) or {}
            if "nb_agents" in meta and "text/plain" in data:
                texts.append(str(data["text/plain"]))
    return texts


def run(src: Path, dest: Path, timeout: int) -> int:
    import nbformat
    from nbclient import NotebookClient

    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "agent_outputs"))
    env_key = os.environ.pop("ANTHROPIC_API_KEY", None)  # the demo always runs on the emulator
    failures = 0
    try:
        for path in sorted(dest.glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            started = time.monotonic()
            client = NotebookClient(
                nb, timeout=timeout, kernel_name="python3", store_widget_state=True,
                resources={"metadata": {"path": str(dest)}},
            )
            try:
                client.execute()
                status = "ok"
            except Exception as exc:  # keep going: report every notebook
                status = f"FAILED: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                failures += 1
            nbformat.write(nb, path)
            print(f"\n=== {path.name}: {status} ({time.monotonic() - started:.1f} s) ===")
            for text in _transcripts(nb):
                print(text.rstrip())
                print("-" * 60)
    finally:
        if env_key is not None:
            os.environ["ANTHROPIC_API_KEY"] = env_key
    print(f"\nExecuted notebooks: {dest}/*.ipynb   agent outputs: {dest}/agent_outputs/")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", nargs="?", default="notebooks")
    parser.add_argument("dest", nargs="?", default="build/notebooks")
    parser.add_argument("--timeout", type=int, default=300)
    args = parser.parse_args(argv)
    return run(Path(args.src), Path(args.dest), args.timeout)


if __name__ == "__main__":
    sys.exit(main())
