"""Ports: the configured port of each component, and who already holds a port."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

HOST = "127.0.0.1"


def port_env(component: str, label: str = "") -> str:
    """The env variable that overrides a component's port, e.g. FLEET_NGINX_PORT."""
    parts = [component, label, "port"] if label else [component, "port"]
    return "FLEET_" + "_".join(p.upper().replace("-", "_") for p in parts)


def configured_port(component: str, default: int, label: str = "") -> int:
    value = os.environ.get(port_env(component, label))
    return int(value) if value else default


def port_in_use(port: int, host: str = HOST) -> bool:
    """True when `host:port` cannot be bound because something else listens there."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def describe_owner(port: int) -> str:
    """'port 9200 already in use by pid 1234 (java)', as precisely as /proc allows."""
    for pid in _listening_pids(port):
        return f"port {port} already in use by pid {pid} ({_process_name(pid)})"
    return f"port {port} already in use"


def _listening_pids(port: int) -> list[int]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A = LISTEN
                inodes.add(inode)
    if not inodes:
        return []
    targets = {f"socket:[{inode}]" for inode in inodes}
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in targets:
                    pids.append(int(proc.name))
                    break
        except OSError:
            continue
    return sorted(pids)


def _process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"
