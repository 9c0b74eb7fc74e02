"""The machine: root or not, Debian or not, apt packages, system users, Java 17."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
from functools import cache
from pathlib import Path

from services.stack.errors import StackError

_apt_updated = False


def is_root() -> bool:
    return os.geteuid() == 0


@cache
def is_debian() -> bool:
    return Path("/etc/debian_version").exists() and shutil.which("apt-get") is not None


def can_install_packages() -> bool:
    """True when we may install apt packages ourselves (root on Debian)."""
    return is_root() and is_debian()


def apt_install(packages: list[str], why: str) -> None:
    """Install Debian packages, or stop with the exact command a person should run."""
    if not packages:
        return
    if not can_install_packages():
        raise StackError(
            f"{why}: missing {' '.join(packages)}; install it with "
            f"`sudo apt-get install {' '.join(packages)}` and run again"
        )
    global _apt_updated
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if not _apt_updated:
        print("  apt-get update", flush=True)
        _run_apt(["apt-get", "update"], env, why)
        _apt_updated = True
    print(f"  apt-get install {' '.join(packages)}", flush=True)
    _run_apt(["apt-get", "install", "-y", "--no-install-recommends", *packages], env, why)


def _run_apt(cmd: list[str], env: dict[str, str], why: str) -> None:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["?"]
        raise StackError(f"{why}: `{' '.join(cmd)}` failed: {last[0]}")


def ensure_command(command: str, package: str, why: str) -> str:
    """The path of `command`, installing Debian `package` first when it is missing."""
    found = shutil.which(command)
    if found is None:
        apt_install([package], why)
        found = shutil.which(command)
        if found is None:
            raise StackError(f"{why}: {package} installed but `{command}` is still not found")
    return found


def ensure_system_user(name: str, why: str) -> None:
    """Create a system user (no login, no home) when running as root; no-op otherwise."""
    if not is_root() or user_exists(name):
        return
    cmd = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise StackError(f"{why}: cannot create system user {name}: {proc.stderr.strip()}")


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def chown_tree(path: Path, user: str) -> None:
    """Give `path` and everything below it to `user` (root only; no-op otherwise)."""
    if not is_root():
        return
    entry = pwd.getpwnam(user)
    for folder, dirs, files in os.walk(path):
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(folder, name), entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def check_reachable_by(path: Path, user: str, why: str) -> None:
    """Stop with a clear reason when `user` cannot reach `path` (a folder above it lacks +x)."""
    if not is_root():
        return
    entry = pwd.getpwnam(user)
    groups = {entry.pw_gid} | {g.gr_gid for g in grp.getgrall() if user in g.gr_mem}
    for folder in [path, *path.parents]:
        st = folder.stat()
        if st.st_uid == entry.pw_uid:
            ok = bool(st.st_mode & 0o100)
        elif st.st_gid in groups:
            ok = bool(st.st_mode & 0o010)
        else:
            ok = bool(st.st_mode & 0o001)
        if not ok:
            raise StackError(
                f"{why}: user {user} cannot enter {folder} (mode {oct(st.st_mode & 0o777)}); "
                f"run `chmod o+x {folder}` or set FLEET_STACK_DIR to a folder it can reach"
            )


def find_java_home(major: int = 17) -> Path | None:
    """A Java home of version `major` (else the newest >= it), or None; installs nothing.

    Order: the Debian OpenJDK of that version, `$JAVA_HOME`, then the `java` on PATH.
    """
    candidates = sorted(Path("/usr/lib/jvm").glob(f"java-{major}-openjdk-*"))
    if os.environ.get("JAVA_HOME"):
        candidates.append(Path(os.environ["JAVA_HOME"]))
    on_path = shutil.which("java")
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent.parent)
    for home in candidates:
        found = _java_major(home / "bin" / "java")
        if found is not None and found >= major:
            return home
    return None


def java_home(major: int = 17, why: str = "java") -> Path:
    """`find_java_home`, installing Debian `openjdk-<major>-jre-headless` when none is found."""
    home = find_java_home(major)
    if home is None:
        apt_install([f"openjdk-{major}-jre-headless"], f"{why} needs Java {major}")
        _java_major.cache_clear()
        home = find_java_home(major)
    if home is None:
        raise StackError(f"{why} needs Java {major}: none found under /usr/lib/jvm or on PATH")
    return home


def java_home_or_default(major: int = 17) -> Path:
    """For program lines: the Java home found, else Debian's usual path (`install` checks)."""
    return find_java_home(major) or Path(f"/usr/lib/jvm/java-{major}-openjdk-amd64")


@cache
def _java_major(java: Path) -> int | None:
    if not java.exists():
        return None
    proc = subprocess.run([str(java), "-version"], capture_output=True, text=True, check=False)
    for line in proc.stderr.splitlines():
        if "version" in line and '"' in line:
            version = line.split('"')[1]
            head = version.split(".")[0]
            if head == "1":
                head = version.split(".")[1]
            return int(head) if head.isdigit() else None
    return None
