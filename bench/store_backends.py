"""The servers ``store_layouts.py`` measures: FerretDB 1.24.2 (stock and patched) on SQLite, and on
PostgreSQL; each on its own port with its data in the benchmark's folder, stopped at the end.

- *stock*: FerretDB v1.24.2 exactly as published, built once into the stack's cache as
  ``ferretdb-stock`` (the stack's own build machinery, without our patches);
- *patched*: the stack's binary (``<cache>/bin/ferretdb``, built with ``fleet-stack up``);
- *pg*: the patched binary with ``--handler=pg`` on a PostgreSQL cluster of our own (``initdb``
  and ``pg_ctl`` of the Debian package, as the ``postgres`` user, on a free port). Patch 0001
  only touches the SQLite backend; 0002 (the update command) is needed here too: FerretDB's
  PostgreSQL pool holds 50 connections, so the stock binary hangs on the tracker's commands of
  50 update statements (measured: 10 statements return, 50 never do).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pymongo
from pymongo import MongoClient, UpdateOne
from pymongo.errors import PyMongoError

from services.stack.gotools import GO_TOOLS, GoTool, go_binary, go_env, prepare_source
from services.stack.locks import locked
from services.stack.paths import StackPaths, stack_paths

HOST = "127.0.0.1"
STOCK_NAME = "ferretdb-stock"
#: FerretDB v1.24.2 as published: no patches, its own version.txt.
STOCK = GoTool(
    "github.com/FerretDB/FerretDB/cmd/ferretdb",
    "v1.24.2",
    module="github.com/FerretDB/FerretDB",
    source_files=(("build/version/version.txt", "v1.24.2\n"),),
)
#: A commit is not synced to disk before it is acknowledged (the WAL writer syncs within 200 ms):
#: the durability the stack gives FerretDB's SQLite (WAL, ``synchronous(normal)``) and MongoDB's
#: default write concern (journal synced every 100 ms), instead of an fsync per statement.
DURABILITY = "-c synchronous_commit=off"
#: Where the Debian package puts PostgreSQL's server programs.
PSQL = ("psql", "-X", "-A", "-t", "-U", "postgres", "-v", "ON_ERROR_STOP=1")
PG_BINDIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def stock_ferretdb(paths: StackPaths | None = None) -> Path:
    """``<cache>/bin/ferretdb-stock``: FerretDB v1.24.2 unpatched, built once (a minute or two)."""
    paths = paths or stack_paths()
    binary = paths.bin / STOCK_NAME
    stamp = paths.bin / f".{STOCK_NAME}.version"
    if binary.exists() and stamp.exists() and stamp.read_text().strip() == STOCK.build_id:
        return binary
    with locked(paths.cache / ".go-install.lock"):
        log(f"building {STOCK.spec} (stock, no patches) into {binary}")
        workdir = paths.build / f"go-{STOCK_NAME}"
        prepare_source(STOCK, workdir, paths)
        output = paths.bin / f".{STOCK_NAME}.new"
        subprocess.run(
            [go_binary(), "build", "-trimpath", "-o", str(output), "./cmd/ferretdb"],
            cwd=workdir,
            env=go_env(paths),
            check=True,
            capture_output=True,
        )
        os.replace(output, binary)
        stamp.write_text(STOCK.build_id + "\n")
        shutil.rmtree(workdir, ignore_errors=True)
    return binary


def patched_ferretdb(paths: StackPaths | None = None) -> Path:
    """The stack's patched build (``fleet-stack up`` builds it)."""
    paths = paths or stack_paths()
    binary = paths.bin / GO_TOOLS["ferretdb"].name
    if not binary.exists():
        raise SystemExit(f"{binary} is missing: run `.venv/bin/fleet-stack up` once to build it")
    return binary


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_for_mongo(url: str, process: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"FerretDB exited ({process.returncode}) before answering at {url}")
        client: MongoClient[dict[str, object]] = MongoClient(url, serverSelectionTimeoutMS=500)
        try:
            client.admin.command("ping")
            return
        except PyMongoError:
            time.sleep(0.2)
        finally:
            client.close()
    raise RuntimeError(f"FerretDB did not answer at {url} within {timeout_s:.0f} s")


@dataclass
class FerretDB:
    """A FerretDB process of ours: ``url`` for pymongo, ``stop()`` ends it (and only it)."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_ferretdb(binary: Path, backend_args: list[str], log_path: Path) -> FerretDB:
    port = free_port()
    command = [
        str(binary),
        *backend_args,
        f"--listen-addr={HOST}:{port}",
        "--telemetry=disable",
        "--debug-addr=-",
        "--state-dir=-",
        "--log-level=warn",
    ]
    with log_path.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"mongodb://{HOST}:{port}/"
    try:
        wait_for_mongo(url, process)
    except Exception:
        FerretDB(process, url, log_path).stop()
        raise
    return FerretDB(process, url, log_path)


def sqlite_args(data: Path) -> list[str]:
    """As the stack runs it (``components/ferretdb``)."""
    data.mkdir(parents=True, exist_ok=True)
    return ["--handler=sqlite", f"--sqlite-url=file:{data}/?_pragma=synchronous(normal)"]


@dataclass
class Postgres:
    """A PostgreSQL cluster of ours under ``folder`` (owned by ``postgres``), on ``port``."""

    bindir: Path
    folder: Path
    port: int

    def url(self, database: str) -> str:
        return f"postgres://postgres@{HOST}:{self.port}/{database}"

    def create_database(self, database: str) -> None:
        self.psql(f"CREATE DATABASE {database}", "postgres")

    def psql(self, sql: str, database: str) -> str:
        """Run SQL as the ``postgres`` user; returns its unaligned output."""
        proc = subprocess.run(
            [*PSQL, "-h", HOST, "-p", str(self.port), "-d", database, "-c", sql],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"psql failed: {proc.stderr.strip()}")
        return proc.stdout.strip()


def _as_postgres(command: list[str]) -> None:
    subprocess.run(
        ["runuser", "-u", "postgres", "--", *command],
        check=True,
        capture_output=True,
        cwd="/tmp",
    )


@contextlib.contextmanager
def postgres_cluster(folder: Path) -> Iterator[Postgres]:
    """A fresh cluster in ``folder`` (trust authentication, local only), stopped at the end. Needs the Debian ``postgresql`` package and root (to become
    ``postgres``)."""
    if not PG_BINDIRS:
        raise RuntimeError("PostgreSQL is not installed: apt-get install -y postgresql")
    bindir = PG_BINDIRS[0]
    user = pwd.getpwnam("postgres")
    folder.mkdir(parents=True, exist_ok=True)
    os.chown(folder, user.pw_uid, user.pw_gid)
    data = folder / "data"
    port = free_port()
    _as_postgres(
        [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
    )
    options = f"-p {port} -k {folder} -c listen_addresses={HOST} {DURABILITY}"
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-w"]
    _as_postgres([*pg_ctl, "-l", str(folder / "server.log"), "-o", options, "start"])
    try:
        yield Postgres(bindir, folder, port)
    finally:
        _as_postgres([*pg_ctl, "-m", "fast", "stop"])


# -- the backends as the benchmark sees them ---------------------------------------------------
class Backend:
    """A FerretDB server of ours, started and stopped by the benchmark."""

    name = ""
    title = ""

    def __init__(self, binary: Path, folder: Path) -> None:
        self.binary = binary
        self.folder = folder
        self.server: FerretDB | None = None

    @property
    def url(self) -> str:
        assert self.server is not None, f"{self.name} is not running"
        return self.server.url

    def args(self) -> list[str]:
        raise NotImplementedError

    def start(self, binary: Path | None = None) -> None:
        self.server = start_ferretdb(
            binary or self.binary, self.args(), self.folder / "ferretdb.log"
        )

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def restart(self, binary: Path | None = None) -> None:
        self.stop()
        self.start(binary)

    def prepare(self, database: str, collections: list[str]) -> None:
        """Before a fill: nothing to do on SQLite."""

    def settle(self) -> None:
        """After a fill, before measuring: nothing to do on SQLite."""


class Sqlite(Backend):
    """FerretDB on SQLite, as the stack runs it."""

    def __init__(self, name: str, title: str, binary: Path, folder: Path) -> None:
        super().__init__(binary, folder)
        self.name, self.title = name, title

    def args(self) -> list[str]:
        return sqlite_args(self.folder / "data")


class PostgreSQL(Backend):
    """FerretDB on a PostgreSQL database of its own (named after the backend) in our cluster.

    With ``gin``, the workaround of FerretDB issue #4646: GIN indexes on ``_jsonb -> '_id'`` (and
    on ``-> 'vehicle'`` for the one-document-per-position layout), created in PostgreSQL itself
    on every collection before it is written. FerretDB creates a btree index on ``_jsonb ->
    '_id'``, which serves its ``UPDATE``/``DELETE ... WHERE _jsonb->'_id' = $1`` but not its
    queries (``WHERE _jsonb->$1 @> $2``: containment, which only a GIN index serves)."""

    GIN_FIELDS: dict[str, tuple[str, ...]] = {"positions": ("_id", "vehicle")}

    def __init__(self, name: str, binary: Path, cluster: Postgres, *, gin: bool) -> None:
        super().__init__(binary, cluster.folder / name)
        self.name = name
        self.cluster = cluster
        self.gin = gin
        self.database = name.replace("-", "_")
        self.title = "FerretDB 1.24.2 on PostgreSQL 15" + (" + GIN indexes (#4646)" if gin else "")
        cluster.create_database(self.database)

    def args(self) -> list[str]:
        return ["--handler=pg", f"--postgresql-url={self.cluster.url(self.database)}"]

    def psql(self, sql: str) -> str:
        return self.cluster.psql(sql, self.database)

    def tables(self, database: str) -> dict[str, str]:
        """The collections of FerretDB's ``database`` (a PostgreSQL schema) -> their tables."""
        rows = self.psql(
            f"SELECT _jsonb->>'_id', _jsonb->>'table' FROM {database}._ferretdb_database_metadata"
        )
        return dict(line.split("|", 1) for line in rows.splitlines() if "|" in line)

    def create_gin(self, database: str, collections: list[str]) -> None:
        tables = self.tables(database)
        for collection in collections:
            table = tables[collection]
            for field in self.GIN_FIELDS.get(collection, ("_id",)):
                self.psql(
                    f"CREATE INDEX {table}_{field.strip('_')}_gin ON {database}.{table} "
                    f"USING gin ((_jsonb -> '{field}'))"
                )

    def prepare(self, database: str, collections: list[str]) -> None:
        """With ``gin``: the collections created now, their GIN indexes, then FerretDB restarted
        (each of its connections caches the plan of each query: one planned before the index
        existed keeps scanning, measured: 47 ms instead of 0.7 ms by _id on 200,000 documents)."""
        if not self.gin:
            return
        client: MongoClient[dict[str, object]] = MongoClient(self.url)
        try:
            existing = set(client[database].list_collection_names())
            for name in collections:
                if name not in existing:
                    client[database].create_collection(name)
        finally:
            client.close()
        self.create_gin(database, collections)
        self.restart()

    def settle(self) -> None:
        """After a fill: statistics up to date, as autovacuum would have them."""
        self.psql("VACUUM ANALYZE")


def update_command_hangs(binary: Path, backend: Backend, statements: int, wait_s: float) -> bool:
    """Whether ``binary`` on ``backend``'s database leaves an update command of ``statements``
    statements unanswered for ``wait_s`` (the deadlock patch 0002 fixes)."""
    probe = start_ferretdb(binary, backend.args(), backend.folder / "ferretdb-probe.log")
    client: MongoClient[dict[str, object]] = MongoClient(probe.url)
    try:
        collection = client["probe"]["updates"]
        collection.insert_many([{"_id": i} for i in range(statements)])
        updates = [UpdateOne({"_id": i}, {"$set": {"n": 1}}) for i in range(statements)]
        try:
            with pymongo.timeout(wait_s):
                collection.bulk_write(updates, ordered=False)
        except PyMongoError as exc:
            if exc.timeout:
                return True
            raise
        client.drop_database("probe")
        return False
    finally:
        client.close()
        probe.stop()
