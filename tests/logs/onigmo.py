"""Onigmo, the regex engine Fluent Bit uses, through Ruby (Debian ``ruby``: its Regexp is
Onigmo): match lines with the exact pattern string Fluent Bit gets, and read times with the
strptime formats Fluent Bit gets."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

_SCRIPT = r"""
require "json"
require "time"
request = JSON.parse(STDIN.read)
regexp = Regexp.new(request["pattern"])
matches = request["lines"].map do |line|
  m = regexp.match(line)
  m ? m.names.to_h { |name| [name, m[name]] } : nil
end
times = request["times"].map do |value, format|
  begin
    Time.strptime(value, format).utc.iso8601(3)
  rescue ArgumentError
    nil
  end
end
puts JSON.generate({"engine" => "#{RUBY_ENGINE} #{RUBY_VERSION}", "matches" => matches, "times" => times})
"""


def ruby() -> Path:
    found = shutil.which("ruby")
    if found:
        return Path(found)
    from services.stack.api import ensure_tool

    return ensure_tool("ruby")


def run(
    pattern: str, lines: list[str], times: list[tuple[str, str]] | None = None
) -> dict[str, list]:
    """``matches``: per line, group name -> capture (None: the group took no part), or None
    when the line does not match; ``times``: each (value, format) as ISO UTC, or None."""
    request = json.dumps({"pattern": pattern, "lines": lines, "times": times or []})
    proc = subprocess.run(
        [str(ruby()), "-e", _SCRIPT],
        input=request,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)
