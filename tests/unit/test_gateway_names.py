"""Vehicle names at the gateway: what is refused, and how accepted names are encoded."""

import pytest

from services.api_gateway.names import checked_name, name_problem
from services.api_gateway.upstream import segment
from services.common.errors import ProblemError


@pytest.mark.parametrize("name", ["City Truck", "Van #1? 100%", "Ünïcode", "x" * 100, "a.b", "..."])
def test_good_names(name):
    assert name_problem(name) is None
    assert checked_name(name) == name


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 101, "101 characters"),
        ("$where", "'$'"),
        ("tab\there", "control"),
        ("nul\x00", "control"),
        (".", "relative path segment"),
        ("..", "relative path segment"),
        ("a/b", "slash"),
        ("a\\b", "slash"),
    ],
)
def test_bad_names(name, why):
    assert why in (name_problem(name) or "")
    with pytest.raises(ProblemError) as error:
        checked_name(name)
    assert error.value.status == 400


@pytest.mark.parametrize(
    ("name", "encoded"),
    [
        ("City Truck", "City%20Truck"),
        ("Van #1? 100%", "Van%20%231%3F%20100%25"),
        ("a+b&c=d;e", "a%2Bb%26c%3Dd%3Be"),
        ("Ünï", "%C3%9Cn%C3%AF"),
        ("...", "..."),
    ],
)
def test_names_become_one_encoded_path_segment(name, encoded):
    assert segment(name) == encoded
