"""Start the local collector once Elasticsearch has the index templates.

    python -m observability.logs.collector_start --elasticsearch URL --templates DIR -- \\
        otelcol-fleet --config=dashboards/shipping/otelcol.yaml

Waits for Elasticsearch, applies the generated templates (``observability.logs.elasticsearch``),
then replaces itself with the collector (``exec``: supervisord's signals reach the collector).
If Elasticsearch does not come up in time the collector starts anyway: its exporter retries,
and the next start applies the templates.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import httpx

from observability.logs.elasticsearch import apply_templates, read_templates, wait_until_up


def _say(line: str) -> None:
    print(f"collector_start: {line}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elasticsearch", required=True, help="base URL")
    parser.add_argument("--templates", required=True, type=Path, help="folder of templates")
    parser.add_argument("--wait", type=float, default=300.0, help="seconds to wait for ES")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the collector command")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no collector command after --")
    if wait_until_up(args.elasticsearch, args.wait, _say):
        try:
            templates = read_templates(args.templates)
            apply_templates(args.elasticsearch, templates, say=_say)
            _say(f"index templates applied: {', '.join(sorted(templates)) or 'none'}")
        except (httpx.HTTPError, ValueError, OSError) as exc:
            _say(f"could not apply the index templates: {exc}")
    sys.stdout.flush()
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
