"""What each Python service image installs: its virtualenv's size and distributions, with the
Dockerfile's own install command (the service's workspace member and its closure, uv.lock's
versions), beside what every image installed before the split (one wheel with everything).

    .venv/bin/python bench/image_sizes.py            # before = the last commit with one wheel
    .venv/bin/python bench/image_sizes.py --before REV

The venv is what the image's last stage copies (/opt/fleetman), so its size is the image's
Python layer; the base image (python:3.11-slim) is the same for all and left out. Sizes are of
the files on disk, bytecode included (UV_COMPILE_BYTECODE=1, as the Dockerfile sets).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).parent / "uv"
SERVICES = ("position_simulator", "position_tracker", "api_gateway")
#: The last commit whose images installed the one wheel of the whole project.
ONE_WHEEL = "ac8cc48"


def install_command() -> str:
    """The Dockerfile's RUN that installs the service (tests/packaging runs the same)."""
    text = (REPO / "services" / "Dockerfile").read_text()
    (line,) = [line for line in text.splitlines() if line.startswith("RUN uv sync")]
    return line.removeprefix("RUN ")


def measure(venv: Path) -> tuple[int, int]:
    """Bytes on disk and the number of distributions in ``venv``."""
    size = sum(f.stat().st_size for f in venv.rglob("*") if f.is_file() and not f.is_symlink())
    site = next(venv.glob("lib/python*/site-packages"))
    return size, len(list(site.glob("*.dist-info")))


def sync(command: str, cwd: Path, venv: Path, service: str = "") -> None:
    env = {
        **os.environ,
        "SERVICE": service,
        "UV_PROJECT_ENVIRONMENT": str(venv),
        "UV_PYTHON": sys.executable,
        "UV_COMPILE_BYTECODE": "1",
    }
    env.pop("VIRTUAL_ENV", None)
    subprocess.run(
        ["sh", "-c", command.replace("uv sync", f"{UV} sync --quiet")], cwd=cwd, env=env, check=True
    )


def before(revision: str, scratch: Path) -> tuple[int, int]:
    """The one-wheel image of ``revision``: its project with every runtime dependency."""
    tree = scratch / "before"
    subprocess.run(
        ["git", "worktree", "add", "--detach", "--quiet", str(tree), revision], cwd=REPO, check=True
    )
    try:
        sync("uv sync --frozen --no-dev --no-editable", tree, scratch / "before-venv")
        return measure(scratch / "before-venv")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=REPO, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--before", default=ONE_WHEEL, help="the revision of the one-wheel images (%(default)s)"
    )
    args = parser.parse_args()
    rows: list[tuple[str, int, int]] = []
    with tempfile.TemporaryDirectory(prefix="image-sizes-") as folder:
        scratch = Path(folder)
        print(f"measuring every image of {args.before} ...", file=sys.stderr)
        rows.append((f"every image before ({args.before})", *before(args.before, scratch)))
        for service in SERVICES:
            print(f"measuring {service} ...", file=sys.stderr)
            venv = scratch / service
            sync(install_command(), REPO, venv, service)
            rows.append((service, *measure(venv)))
    reference = rows[0][1]
    print("| image | installed (MB) | distributions | vs before |")
    print("|---|---:|---:|---:|")
    for name, size, count in rows:
        print(f"| {name} | {size / 1e6:.0f} | {count} | {size / reference:.0%} |")


if __name__ == "__main__":
    main()
