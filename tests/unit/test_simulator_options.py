"""The simulator's options: command line over environment over defaults."""

import pytest

from services.position_simulator.__main__ import parse_args
from services.position_simulator.settings import PACKAGED_TRACKS
from services.positions.formats import BodyFormat

ENV = (
    "SIMULATOR_TRACKS",
    "SIMULATOR_VEHICLES",
    "SIMULATOR_RATE",
    "SIMULATOR_SPEEDUP",
    "SIMULATOR_SEED",
    "SIMULATOR_FORMAT",
    "POSITION_QUEUE",
    "HTTP_PORT",
    "BROKER_URL",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def test_defaults():
    settings, options = parse_args([])
    assert settings.http_port == 8002
    assert settings.position_queue == "positionQueue"
    assert settings.broker_url == "stomp://127.0.0.1:61613"
    assert options.tracks == PACKAGED_TRACKS
    assert options.vehicles is None and options.seed is None
    assert (options.rate, options.speedup, options.format) == (1.0, 1.0, BodyFormat.JSON)


def test_every_option_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SIMULATOR_TRACKS", str(tmp_path))
    monkeypatch.setenv("SIMULATOR_VEHICLES", "3")
    monkeypatch.setenv("SIMULATOR_RATE", "5")
    monkeypatch.setenv("SIMULATOR_SPEEDUP", "10")
    monkeypatch.setenv("SIMULATOR_SEED", "42")
    monkeypatch.setenv("SIMULATOR_FORMAT", "fleetman")
    monkeypatch.setenv("POSITION_QUEUE", "otherQueue")
    settings, options = parse_args([])
    assert (options.tracks, options.vehicles, options.rate) == (tmp_path, 3, 5.0)
    assert (options.speedup, options.seed, options.format) == (10.0, 42, BodyFormat.FLEETMAN)
    assert settings.position_queue == "otherQueue"


def test_the_command_line_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("SIMULATOR_RATE", "5")
    monkeypatch.setenv("POSITION_QUEUE", "otherQueue")
    settings, options = parse_args(
        ["--rate", "20", "--vehicles", "2", "--format", "fleetman", "--queue", "q", "--seed", "1"]
    )
    assert (options.rate, options.vehicles, options.format, options.seed) == (
        20.0,
        2,
        BodyFormat.FLEETMAN,
        1,
    )
    assert settings.position_queue == "q"


@pytest.mark.parametrize(
    "argv",
    [
        ["--rate", "0"],
        ["--rate", "5000"],
        ["--speedup", "-2"],
        ["--vehicles", "0"],
        ["--format", "xml"],
        ["--skip-probability", "1"],
        ["--rate", "fast"],
    ],
)
def test_bad_options_exit_with_usage(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)
    assert exit_info.value.code == 2
    assert "position-simulator" in capsys.readouterr().err


def test_bad_environment_exits_with_usage(monkeypatch, capsys):
    monkeypatch.setenv("SIMULATOR_SPEEDUP", "0")
    with pytest.raises(SystemExit):
        parse_args([])
    assert "speedup" in capsys.readouterr().err
