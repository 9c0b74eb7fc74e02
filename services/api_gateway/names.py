"""Vehicle names from the URL, checked before anything reaches the tracker."""

from __future__ import annotations

from services.common.errors import ProblemError
from services.positions.messages import vehicle_name_problem

#: Path segments that URL normalisation would resolve ("/vehicles/.." is "/").
_DOT_SEGMENTS = frozenset({".", ".."})


def name_problem(name: str) -> str | None:
    """Why ``name`` is refused: the tracker's rule (1-100 characters, no control characters,
    no leading ``$``, no slash), and no dot segment."""
    if name in _DOT_SEGMENTS:
        return f"vehicle name {name!r} is a relative path segment"
    return vehicle_name_problem(name)


def checked_name(name: str) -> str:
    """``name``, or a 400 problem saying what is wrong with it."""
    problem = name_problem(name)
    if problem is not None:
        raise ProblemError(400, "Bad Request", problem)
    return name
