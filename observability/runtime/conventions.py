"""Which OpenTelemetry semantic conventions the spans the services make themselves follow.

The OpenTelemetry instrumentations (FastAPI, pymongo) name their span attributes after the HTTP
and database conventions ``OTEL_SEMCONV_STABILITY_OPT_IN`` selects: the old ones by default,
the stable ones with ``http`` or ``database``, both with ``http/dup`` or ``database/dup``. The
spans made here (the gateway's upstream call, the tracker's batch write) read the variable the
same way, so every span of a trace uses the same names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

OPT_IN_VARIABLE = "OTEL_SEMCONV_STABILITY_OPT_IN"

#: What every deployment of the platform sets (local stack, Kubernetes, compose; the tests too):
#: the stable HTTP and database conventions, whose names the services' JSON logs already use
#: (``http.request.method``, ``http.response.status_code``).
DEPLOYED_CONVENTIONS: Mapping[str, str] = {OPT_IN_VARIABLE: "http,database"}


@dataclass(frozen=True)
class Conventions:
    """The attribute names to write for one kind of call: the old ones, the stable ones, or
    both."""

    old: bool
    stable: bool


def conventions(signal: str, opt_in: str | None = None) -> Conventions:
    """The conventions of ``signal`` (``http`` or ``database``) as the instrumentations read
    ``opt_in``, by default the environment's ``OTEL_SEMCONV_STABILITY_OPT_IN``."""
    opt_in = os.environ.get(OPT_IN_VARIABLE, "") if opt_in is None else opt_in
    values = {value.strip() for value in opt_in.split(",")}
    stable = bool(values & {signal, f"{signal}/dup"})
    return Conventions(old=f"{signal}/dup" in values or not stable, stable=stable)
