"""Cached downloads: fetched once into the cache, verified, then never fetched again."""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path

from services.stack.errors import StackError


def fetch(url: str, dest: Path, *, sha1_url: str | None = None, why: str = "download") -> Path:
    """`dest` if present, else download `url` to it (atomically), checked against `sha1_url`."""
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    expected = _read_text(sha1_url, why).split()[0].lower() if sha1_url else None
    partial = dest.with_name(dest.name + ".part")
    print(f"  downloading {url}", flush=True)
    digest = hashlib.sha1()  # Maven Central publishes .sha1 next to every artifact
    try:
        with urllib.request.urlopen(url, timeout=60) as response, partial.open("wb") as out:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise StackError(f"{why}: download of {url} failed: {exc}") from None
    if expected and digest.hexdigest() != expected:
        partial.unlink(missing_ok=True)
        raise StackError(f"{why}: {url} does not match its published sha1 ({expected})")
    os.replace(partial, dest)
    return dest


def _read_text(url: str, why: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.read().decode()
    except (urllib.error.URLError, OSError) as exc:
        raise StackError(f"{why}: cannot read {url}: {exc}") from None
