"""FerretDB v1.24.2 (MongoDB wire protocol) on its embedded SQLite backend, port 27017.

Built from source with our patches (`patches/*.patch`, listed in `gotools.GO_TOOLS`, where the
reasons and measurements are): lookups by _id use the _id index, and an update command of 100
statements or more no longer hangs its database. It reports itself as `v1.24.2-fleet.N`.
"""

from __future__ import annotations

import os
from pathlib import Path

from services.stack.components.base import Component, Context, Program
from services.stack.gotools import GO_TOOLS, ensure_go_tool, stamp_path
from services.stack.health import Health, mongo_ok
from services.stack.ports import HOST, configured_port

MONGODB_URL_ENV = "MONGODB_URL"


def external_mongodb_url() -> str | None:
    """`$MONGODB_URL` when it points somewhere other than the local FerretDB."""
    url = os.environ.get(MONGODB_URL_ENV)
    if not url or url == local_mongodb_url():
        return None
    return url


def local_mongodb_url() -> str:
    return f"mongodb://{HOST}:{configured_port('ferretdb', 27017)}/"


class FerretDB(Component):
    name = "ferretdb"
    title = "FerretDB 1.24 (MongoDB)"
    start_timeout = 60.0

    def ports(self) -> dict[str, int]:
        return {"mongodb": configured_port(self.name, 27017)}

    def skip_reason(self, ctx: Context) -> str | None:
        if external_mongodb_url():
            return f"{MONGODB_URL_ENV} points at another MongoDB"
        return None

    def install(self, ctx: Context) -> None:
        ensure_go_tool("ferretdb", ctx.paths)

    def prepare(self, ctx: Context) -> None:
        ctx.paths.data_dir(self.name).mkdir(parents=True, exist_ok=True)

    def program(self, ctx: Context) -> Program:
        data = ctx.paths.data_dir(self.name)
        # synchronous(normal): SQLite's WAL survives a crash of FerretDB (or of anything but the
        # machine) without an fsync per transaction, the durability of MongoDB's default write
        # concern (journal synced every 100 ms), instead of a sync per 100 documents inserted.
        return Program(
            command=[
                str(ctx.paths.bin / "ferretdb"),
                "--handler=sqlite",
                f"--sqlite-url=file:{data}/?_pragma=synchronous(normal)",
                f"--listen-addr={HOST}:{self.ports()['mongodb']}",
                "--telemetry=disable",
                "--debug-addr=-",
                "--state-dir=-",
                "--log-level=warn",
            ],
            directory=data,
        )

    def config_inputs(self, ctx: Context) -> list[Path]:
        # the build stamp names the version and the patches: a rebuilt binary is restarted
        return [stamp_path(GO_TOOLS["ferretdb"], ctx.paths)]

    def health(self, ctx: Context) -> Health:
        return mongo_ok(local_mongodb_url())
