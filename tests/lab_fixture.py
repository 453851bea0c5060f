"""Start `mesh-zenodo lab --gateway ...` as a user would, in a clean Jupyter environment,
for the browser tests; and the headless Chromium they drive (Debian's, via Playwright)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from storage_fixture import free_port

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class LabProcess:
    """A running Lab: ``url``; ``root`` is the CS3 folder it shows; ``tmp`` holds its
    Jupyter config, data and runtime folders and its log."""

    def __init__(self, process: subprocess.Popen, url: str, root: str, tmp: Path) -> None:
        self.process, self.url, self.root, self.tmp = process, url, root, tmp

    @property
    def log(self) -> str:
        return (self.tmp / "lab.log").read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=90)  # Jupyter shuts its kernels down first; slow on a loaded machine
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_lab(gateway: str, root: str, tmp: Path, config: dict | None = None, timeout: float = 60) -> LabProcess:
    """Lab signed in to the CS3 gateway as einstein (password from the environment, as
    documented), showing the CS3 folder ``root``; ``config`` goes to its server config."""
    config_dir = tmp / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(config or {}))
    port = free_port()
    env = dict(
        os.environ,
        MESH_ZENODO_CS3_PASSWORD="relativity",
        JUPYTER_CONFIG_DIR=str(config_dir),
        JUPYTER_DATA_DIR=str(tmp / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
    )
    with open(tmp / "lab.log", "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "mesh_zenodo.cli", "lab", "--gateway", gateway,
                "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=",
                "--ServerApp.password=", "--allow-root", f"--CS3ContentsManager.root_path={root}",
                f"--ServerApp.root_dir={tmp}",
            ],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=tmp,
        )
    lab = LabProcess(process, f"http://127.0.0.1:{port}", root, tmp)
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"{lab.url}/api/status", timeout=2)
            return lab
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(lab.log) from None
            time.sleep(0.3)
