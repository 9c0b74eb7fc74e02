"""A tiny renderer for config templates (the stack's, the web app's nginx config): `{{name}}`
placeholders, nothing else.

(Config languages such as nginx's, Spring's and YAML's own `${...}` are left untouched.)
"""

from __future__ import annotations

import re
from pathlib import Path

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


def render(template: str, **values: object) -> str:
    """Replace every `{{name}}`; a placeholder without a value is an error."""

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise KeyError(f"template placeholder {{{{{key}}}}} has no value")
        return str(values[key])

    return _PLACEHOLDER.sub(substitute, template)


def write_if_changed(path: Path, text: str) -> bool:
    """Write `text` unless the file already holds it (keeps mtimes and restarts quiet)."""
    if path.exists() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True
