"""Leaflet from the npm registry: ``npm ci`` into ``services/webapp/node_modules`` when needed.

nginx serves ``node_modules/leaflet/dist`` under ``/vendor/leaflet-<version>/`` (no bundler, no
CDN); the image does the same ``npm ci`` in a build stage.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE_JSON = HERE / "package.json"
LOCKFILE = HERE / "package-lock.json"
NODE_MODULES = HERE / "node_modules"
#: Written after a successful ``npm ci``: the lockfile's digest it installed.
STAMP = NODE_MODULES / ".installed-from-lockfile"


class VendorError(RuntimeError):
    """``npm ci`` failed (the message names the command and its last line of output)."""


def leaflet_version(package_json: Path = PACKAGE_JSON) -> str:
    """The exact Leaflet version package.json pins (and the page's vendor URL names)."""
    return json.loads(package_json.read_text())["dependencies"]["leaflet"]


def _digest(lockfile: Path) -> str:
    return hashlib.sha256(lockfile.read_bytes()).hexdigest()


def is_installed(webapp: Path = HERE) -> bool:
    stamp = webapp / "node_modules" / STAMP.name
    dist = webapp / "node_modules" / "leaflet" / "dist" / "leaflet.js"
    lockfile = webapp / LOCKFILE.name
    return dist.exists() and stamp.exists() and stamp.read_text() == _digest(lockfile)


def ensure_node_modules(npm: str, cache_dir: Path, webapp: Path = HERE) -> bool:
    """``npm ci`` unless node_modules already holds what the lockfile says; True if it ran."""
    if is_installed(webapp):
        return False
    command = [
        npm, "ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund",
        "--prefer-offline", "--cache", str(cache_dir),
    ]  # fmt: skip
    proc = subprocess.run(command, cwd=webapp, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["?"]
        raise VendorError(f"`{' '.join(command)}` in {webapp} failed: {last[0]}")
    (webapp / "node_modules" / STAMP.name).write_text(_digest(webapp / LOCKFILE.name))
    return True
