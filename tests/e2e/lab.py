"""A throwaway JupyterLab (or Notebook 7) server for the browser tests.

`app="notebook"` starts Notebook 7 (`python -m notebook`) instead of JupyterLab; `theme` picks
the theme through the user settings of `@jupyterlab/apputils-extension:themes` in the server's
private settings dir (both apps read it), as a user's saved choice would. Started on 127.0.0.1 at a free port with a random token, in its own process group (so that
stopping it also stops its kernels), with private config/runtime/settings/workspace dirs:
the tests never read or write the user's Jupyter state, and the announcements ("news")
toast is disabled so that it cannot cover the notebook.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["LabServer", "free_port"]

REPO_ROOT = Path(__file__).resolve().parents[2]
_DISABLED = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}
_APPS = {"lab": ("jupyterlab", "LabApp", "lab/tree/"), "notebook": ("notebook", "JupyterNotebookApp", "notebooks/")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LabServer:
    """`with LabServer(root_dir, state_dir) as lab: page.goto(lab.url("agent.ipynb"))`."""

    def __init__(
        self, root_dir: Path, state_dir: Path, *, start_timeout: float = 60, app: str = "lab", theme: str = "light"
    ) -> None:
        module, app_class, self._tree = _APPS[app]
        self.app, self.theme = app, theme
        self.root_dir = root_dir
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.log_path = state_dir / "jupyterlab.log"
        env = self._environment(state_dir, THEMES[theme])
        cmd = [
            sys.executable, "-m", module, "--no-browser", "--allow-root",
            "--ip=127.0.0.1", f"--port={self.port}", "--port-retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root_dir}",
            f"--{app_class}.expose_app_in_browser=True", f"--{app_class}.workspaces_dir={state_dir / 'workspaces'}",
            *(["--LabApp.extension_manager=readonly"] if app == "lab" else []),
        ]  # fmt: skip
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd, cwd=root_dir, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            self._wait_ready(start_timeout)
        except BaseException:
            self.stop()
            raise

    @staticmethod
    def _environment(state_dir: Path, theme: str) -> dict[str, str]:
        config = state_dir / "config"
        (config / "labconfig").mkdir(parents=True, exist_ok=True)
        (config / "labconfig" / "page_config.json").write_text(json.dumps(_DISABLED))
        themes = state_dir / "settings" / "@jupyterlab" / "apputils-extension"
        themes.mkdir(parents=True, exist_ok=True)
        (themes / "themes.jupyterlab-settings").write_text(json.dumps({"theme": theme}))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "JUPYTER"))}
        env.update(
            JUPYTER_CONFIG_DIR=str(config),
            JUPYTER_RUNTIME_DIR=str(state_dir / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(state_dir / "settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(state_dir / "workspaces"),
            IPYTHONDIR=str(state_dir / "ipython"),
            MPLBACKEND="Agg",
            # the kernel imports nb_agents from this working tree, installed or not
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
            # the kernelspec says `python`: make it this venv's interpreter
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        return env

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited ({self.proc.returncode}):\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url("api/status", lab=False), timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        raise TimeoutError(f"jupyter lab did not answer within {timeout:.0f} s:\n{self.log()}")

    def url(self, path: str = "", *, lab: bool = True) -> str:
        prefix = self._tree if lab else ""
        return f"http://127.0.0.1:{self.port}/{prefix}{path}?token={self.token}"

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        """SIGTERM the whole process group (server and kernels), then SIGKILL if needed."""
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self._log.close()

    def __enter__(self) -> LabServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
