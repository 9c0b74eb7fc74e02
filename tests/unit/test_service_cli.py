"""The services' one command-line style (services/common/cli.py): every setting is a flag and an
environment variable, documented in ``--help`` from its settings class; the command line wins
over the environment; a bad value exits 2 naming the setting."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any, Literal, get_origin

import pytest
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from services.api_gateway import __main__ as gateway_main
from services.api_gateway.settings import GatewaySettings
from services.position_simulator import __main__ as simulator_main
from services.position_simulator.settings import ReplayOptions, SimulatorSettings
from services.position_tracker import __main__ as tracker_main
from services.position_tracker.settings import TrackerSettings

#: service -> (its entry point's ``parse_args``, its settings classes)
SERVICES: dict[str, tuple[Callable[[Sequence[str]], Any], tuple[type[BaseSettings], ...]]] = {
    "position-tracker": (tracker_main.parse_args, (TrackerSettings,)),
    "api-gateway": (gateway_main.parse_args, (GatewaySettings,)),
    "position-simulator": (simulator_main.parse_args, (SimulatorSettings, ReplayOptions)),
}
#: service -> field, its value in the environment, on the command line, and a bad value
OVERRIDES = {
    "position-tracker": ("batch_max", "10", "20", "lots"),
    "api-gateway": ("upstream_timeout_seconds", "1.5", "3", "0"),
    "position-simulator": ("rate", "2", "5", "-1"),
}


def env_name(cls: type[BaseSettings], field: str) -> str:
    return f"{cls.model_config.get('env_prefix', '')}{field}".upper()


def flag(field: str) -> str:
    return "--" + field.replace("_", "-")


def settings_of(service: str, argv: Sequence[str]) -> dict[str, Any]:
    """Every setting's value (from all the service's classes) after parsing ``argv``."""
    parsed = SERVICES[service][0](argv)
    found = parsed if isinstance(parsed, tuple) else (parsed,)
    return {name: value for settings in found for name, value in settings}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No setting from the environment of the test run; a wide terminal for ``--help``."""
    for _, classes in SERVICES.values():
        for cls in classes:
            for field in cls.model_fields:
                monkeypatch.delenv(env_name(cls, field), raising=False)
    monkeypatch.setenv("COLUMNS", "100")


def help_entries(service: str, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """``--help``'s entries by flag, each with its whitespace collapsed (argparse wraps them)."""
    with pytest.raises(SystemExit) as exit_info:
        SERVICES[service][0](["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    options = text.split("\noptions:\n", 1)[1]
    entries = re.split(r"\n(?=  -)", options)
    return {entry.split()[0].rstrip(","): " ".join(entry.split()) for entry in entries}


def shown_default(info: FieldInfo) -> str:
    """The default as ``--help`` shows it: an enum field's by name, a Literal's as typed."""
    value = info.default
    if isinstance(value, Enum) and get_origin(info.annotation) is not Literal:
        return value.name
    return str(value)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_help_documents_every_setting(service: str, capsys: pytest.CaptureFixture[str]) -> None:
    entries = help_entries(service, capsys)
    documented = 0
    for cls in SERVICES[service][1]:
        for field, info in cls.model_fields.items():
            assert info.description, f"{cls.__name__}.{field} has no description"
            entry = entries.get(flag(field))
            assert entry, f"{flag(field)} is not in {service} --help"
            assert " ".join(info.description.split()) in entry
            assert f"(default: {shown_default(info)})" in entry
            assert f"[env: {env_name(cls, field)}]" in entry
            documented += 1
    assert documented == len(entries) - 1  # and nothing else but -h


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_defaults_without_options_or_environment(service: str) -> None:
    found = settings_of(service, [])
    for cls in SERVICES[service][1]:
        for field, info in cls.model_fields.items():
            assert found[field] == info.default, field


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_the_environment_over_the_default_and_the_flag_over_both(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    field, from_env, from_flag, _ = OVERRIDES[service]
    (cls,) = [c for c in SERVICES[service][1] if field in c.model_fields]
    monkeypatch.setenv(env_name(cls, field), from_env)
    assert settings_of(service, [])[field] == float(from_env)
    assert settings_of(service, [flag(field), from_flag])[field] == float(from_flag)
    assert settings_of(service, [f"{flag(field)}={from_flag}"])[field] == float(from_flag)


@pytest.mark.parametrize("service", sorted(SERVICES))
@pytest.mark.parametrize("source", ["flag", "environment"])
def test_a_bad_value_exits_2_naming_the_setting(
    service: str, source: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    field, _, _, bad = OVERRIDES[service]
    (cls,) = [c for c in SERVICES[service][1] if field in c.model_fields]
    argv = [flag(field), bad] if source == "flag" else []
    if source == "environment":
        monkeypatch.setenv(env_name(cls, field), bad)
    with pytest.raises(SystemExit) as exit_info:
        settings_of(service, argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err  # one line, no traceback
    assert err.startswith(f"{service}: error: {flag(field)} / {env_name(cls, field)}: "), err
    assert repr(bad) in err


def test_a_check_across_settings_exits_2_with_its_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        gateway_main.parse_args(["--upstream-max-concurrency", "101"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        "api-gateway: error: UPSTREAM_MAX_CONCURRENCY (101) exceeds UPSTREAM_MAX_CONNECTIONS (100)\n"
    )


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_an_unknown_flag_exits_2(service: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        settings_of(service, ["--no-such-setting", "1"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --no-such-setting" in capsys.readouterr().err


def test_the_simulator_keeps_its_queue_option(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSITION_QUEUE", "fromEnvironment")
    assert settings_of("position-simulator", [])["position_queue"] == "fromEnvironment"
    assert settings_of("position-simulator", ["--queue", "q"])["position_queue"] == "q"
    assert settings_of("position-simulator", ["--position-queue", "p"])["position_queue"] == "p"


def test_an_optional_setting_takes_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMULATOR_VEHICLES", "3")
    assert settings_of("position-simulator", [])["vehicles"] == 3
    assert settings_of("position-simulator", ["--vehicles", "None"])["vehicles"] is None
    assert settings_of("position-tracker", ["--max-age-hours", "2"])["max_age_hours"] == 2.0
