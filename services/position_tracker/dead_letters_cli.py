"""`fleet-dead-letters`: list, show, replay and purge the archived dead letters.

Reads the tracker's settings from the environment (``MONGODB_URL``, ``MONGODB_DATABASE``,
``BROKER_URL``, ``POSITION_QUEUE``), so it runs beside the tracker with nothing else to set;
options override them. Exit status 0, 1 when something asked for does not exist or failed, 2
for a usage error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TypeVar

import click
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from services.common.broker import BrokerConnection, BrokerUnavailable, queue_destination
from services.position_tracker.dead_letters import DeadLetter, DeadLetterArchive
from services.position_tracker.settings import TrackerSettings

T = TypeVar("T")

#: How long to wait for the broker before a replay gives up.
CONNECT_TIMEOUT_S = 10.0


class Context:
    def __init__(self, settings: TrackerSettings) -> None:
        self.settings = settings
        self._client: MongoClient[dict] | None = None

    @property
    def archive(self) -> DeadLetterArchive:
        if self._client is None:
            self._client = MongoClient(
                self.settings.mongodb_url, tz_aware=True, timeoutMS=10_000,
                appname="fleet-dead-letters",
            )  # fmt: skip
        return DeadLetterArchive(self._client[self.settings.mongodb_database])


def _moment(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _shown(body: bytes, width: int | None = None) -> str:
    """A body for a terminal: its text when it is UTF-8 without control bytes, else escaped."""
    try:
        text = body.decode("utf-8")
        printable = not any(ord(c) < 32 and c not in "\t\n\r" for c in text)
    except UnicodeDecodeError:
        printable = False
    shown = text if printable else repr(body)[2:-1]
    if width is not None and len(shown) > width:
        return shown[: width - 1] + "…"
    return shown


def _summary(letter: DeadLetter) -> dict[str, object]:
    return {
        "id": letter.id,
        "archived_at": letter.archived_at.isoformat(),
        "reason": letter.reason,
        "detail": letter.detail,
        "bytes": len(letter.body),
    }


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--mongodb-url", envvar="MONGODB_URL", help="Database URL (default: the tracker's).")
@click.option("--database", envvar="MONGODB_DATABASE", help="Database name (the tracker's).")
@click.option("--broker-url", envvar="BROKER_URL", help="Broker STOMP URL, for replay.")
@click.pass_context
def main(
    ctx: click.Context, mongodb_url: str | None, database: str | None, broker_url: str | None
) -> None:
    """The dead letters the position tracker refused, archived out of the broker."""
    overrides = {
        key: value
        for key, value in (
            ("mongodb_url", mongodb_url),
            ("mongodb_database", database),
            ("broker_url", broker_url),
        )
        if value
    }
    ctx.obj = Context(TrackerSettings(**overrides))  # type: ignore[arg-type]


@main.command("list")
@click.option("--reason", help="Only this reason (bad_json, teleport, ...).")
@click.option(
    "--since", callback=_moment, help="Archived at or after (ISO 8601; UTC if no offset)."
)
@click.option("--limit", default=50, show_default=True, help="Most shown, newest first (0: all).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_obj
def list_letters(
    obj: Context, reason: str | None, since: datetime | None, limit: int, as_json: bool
) -> None:
    """Dead letters, newest first."""
    letters = _database(lambda: obj.archive.find(reason, since, limit))
    if as_json:
        for letter in letters:
            click.echo(json.dumps(_summary(letter)))
        return
    for letter in letters:
        stamp = letter.archived_at.strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"{letter.id}  {stamp}  {letter.reason:<22} {_shown(letter.body, 60)}")
    click.echo(f"{len(letters)} dead letter(s)", err=True)


@main.command()
@click.argument("letter_id")
@click.option("--raw", is_flag=True, help="Write the body's exact bytes to stdout, nothing else.")
@click.pass_obj
def show(obj: Context, letter_id: str, raw: bool) -> None:
    """One dead letter: its headers and body."""
    letter = _one(obj, letter_id)
    if raw:
        sys.stdout.buffer.write(letter.body)
        sys.stdout.buffer.flush()
        return
    for name, value in sorted(letter.headers.items()):
        click.echo(f"{name}: {value}")
    click.echo(f"archived-at: {letter.archived_at.isoformat()}")
    click.echo("")
    click.echo(_shown(letter.body))


@main.command()
@click.argument("letter_ids", nargs=-1)
@click.option("--reason", help="Every dead letter of this reason.")
@click.option("--queue", help="Send to this queue (default: where each came from).")
@click.pass_obj
def replay(
    obj: Context, letter_ids: tuple[str, ...], reason: str | None, queue: str | None
) -> None:
    """Send dead letters again (after a fix), byte for byte with their producer's headers; each
    leaves the archive once the broker confirmed it."""
    if bool(letter_ids) == bool(reason):
        raise click.UsageError("give dead-letter ids or --reason, not both")
    letters = (
        [_one(obj, i) for i in letter_ids]
        if letter_ids
        else _database(lambda: obj.archive.find(reason, limit=0))
    )
    with _broker(obj.settings) as broker:
        for letter in letters:
            target = queue or letter.original_destination or obj.settings.position_queue
            broker.send(
                queue_destination(target), _replay_body(letter.body), letter.producer_headers
            )
            _database(lambda letter=letter: obj.archive.delete(letter.id))
            click.echo(f"replayed {letter.id} to {target}")
    click.echo(f"{len(letters)} dead letter(s) replayed", err=True)


@main.command()
@click.option("--reason", help="Only this reason.")
@click.option("--before", callback=_moment, help="Only archived before (ISO 8601).")
@click.option("--all", "everything", is_flag=True, help="Every dead letter.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def purge(
    obj: Context, reason: str | None, before: datetime | None, everything: bool, yes: bool
) -> None:
    """Delete archived dead letters (by reason, age, or --all)."""
    if not (reason or before or everything):
        raise click.UsageError("say what to purge: --reason, --before or --all")
    if not yes:
        click.confirm("Delete these dead letters for good?", abort=True)
    removed = _database(lambda: obj.archive.purge(reason, before))
    click.echo(f"{removed} dead letter(s) purged")


def _replay_body(body: bytes) -> str | bytes:
    """Text when it is UTF-8 without NUL (sent as a text message, as producers send positions);
    otherwise the bytes, sent with their length."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return body
    return body if "\x00" in text else text


def _one(obj: Context, letter_id: str) -> DeadLetter:
    letter = _database(lambda: obj.archive.get(letter_id))
    if letter is None:
        click.echo(f"fleet-dead-letters: no dead letter {letter_id!r}", err=True)
        sys.exit(1)
    return letter


def _database(work: Callable[[], T]) -> T:
    """``work()``; a database failure ends the command with one line and status 1."""
    try:
        return work()
    except PyMongoError as exc:
        click.echo(f"fleet-dead-letters: the database failed: {exc}", err=True)
        sys.exit(1)


@contextmanager
def _broker(settings: TrackerSettings) -> Iterator[BrokerConnection]:
    broker = BrokerConnection(settings, "fleet-dead-letters")
    broker.start()
    try:
        if not broker.wait_connected(CONNECT_TIMEOUT_S):
            click.echo(
                f"fleet-dead-letters: cannot reach the broker at {settings.broker_url}", err=True
            )
            sys.exit(1)
        yield broker
    except (BrokerUnavailable, TimeoutError) as exc:
        click.echo(f"fleet-dead-letters: the broker failed: {exc}", err=True)
        sys.exit(1)
    finally:
        broker.stop()
