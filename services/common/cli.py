"""One command line for every service: each setting is a flag and an environment variable.

The flags come from the settings classes, through pydantic-settings' own CLI source
(``CliSettingsSource``): field ``batch_max`` is ``--batch-max``, and its ``--help`` entry is the
field's description, its default and its environment variable (``[env: BATCH_MAX]``, with the
class's prefix, if any). The command line wins over the environment, the environment over the
default. A bad value ends the program with status 2 and one line per bad setting, naming its
flag and its variable; so does an unknown flag (after the usage line, as argparse does).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings, CliSettingsSource

EPILOG = """\
Every option is also an environment variable (in brackets): an option given on the
command line wins over the environment, which wins over the default."""


def settings_parser(
    prog: str,
    doc: str,
    classes: Sequence[type[BaseSettings]],
    shortcuts: Mapping[str, str | list[str]] | None = None,
) -> tuple[argparse.ArgumentParser, list[CliSettingsSource[Any]]]:
    """One argparse parser holding every field of ``classes``, and each class's CLI source.

    ``shortcuts`` maps a flag (without its dashes) to other names for it: ``{"position-queue":
    "queue"}`` also accepts ``--queue``.
    """
    parser = argparse.ArgumentParser(
        prog=prog,
        description=doc.strip(),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    sources: list[CliSettingsSource[Any]] = [
        CliSettingsSource(
            cls,
            root_parser=parser,
            cli_kebab_case=True,
            cli_show_env_vars=True,
            cli_hide_none_type=True,
            cli_avoid_json=True,
            cli_shortcuts=shortcuts,
        )
        for cls in classes
    ]
    return parser, sources


def parse_settings(
    prog: str,
    doc: str,
    classes: Sequence[type[BaseSettings]],
    argv: Sequence[str] | None = None,
    shortcuts: Mapping[str, str | list[str]] | None = None,
) -> tuple[BaseSettings, ...]:
    """Each class's settings from ``argv`` (default: ``sys.argv[1:]``), the environment and the
    defaults, in that order. ``--help`` prints every setting and exits 0; a bad value exits 2."""
    parser, sources = settings_parser(prog, doc, classes, shortcuts)
    namespace = parser.parse_args(argv)
    found: list[BaseSettings] = []
    problems: list[str] = []
    for cls, source in zip(classes, sources, strict=True):
        try:
            found.append(cls(_cli_settings_source=source(parsed_args=namespace)))
        except ValidationError as exc:
            problems += _problems(exc, source)
    if problems:
        parser.exit(2, "".join(f"{prog}: error: {line}\n" for line in problems))
    return tuple(found)


def _problems(error: ValidationError, source: CliSettingsSource[Any]) -> list[str]:
    """One line per bad setting: its flag and variable, what is wrong, the value given."""
    lines = []
    for problem in error.errors(include_url=False):
        message = problem["msg"].removeprefix("Value error, ")
        if not problem["loc"]:  # a check across settings names them in its message
            lines.append(message)
            continue
        field = str(problem["loc"][0])
        names = [f"--{field.replace('_', '-')}", *source.env_var_names.get(field, ())]
        lines.append(f"{' / '.join(names)}: {message} (got {problem['input']!r})")
    return lines
