"""The fire drills: for an alert, the real fault that should raise it on the local stack, the
traffic that makes the fault visible, and where its log records are."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from services.stack import api


@dataclass(frozen=True)
class Drill:
    """One alert's drill. ``fault`` causes the fault for the duration of its block."""

    alert: str
    fault: Callable[[], AbstractContextManager[None]]
    what: str
    #: The Lucene query of the fault's log records (the service's logs of that moment).
    logs: str
    #: Severity of the alert instance to wait for (page or ticket of an SLO: ``critical``).
    severity: str = ""


def _stopped(*names: str) -> Callable[[], AbstractContextManager[None]]:
    return lambda: api.outage(*names)


DRILLS: tuple[Drill, ...] = (
    # the SLO first: the other faults make the API fail too, and so burn its budget
    Drill(
        "ApiAvailabilityBudgetBurn",
        _stopped("position-tracker"),
        "the position tracker stopped: every API call answers 5xx (a fast burn)",
        'service.name:"api-gateway" AND log.level:(error OR warning)',
        severity="critical",
    ),
    Drill(
        "DatabaseDown",
        _stopped("ferretdb"),
        "the database (FerretDB) stopped",
        # the tracker's own records (its snapshot reads) carry no trace; the API's do
        'service.name:("position-tracker" OR "api-gateway") AND log.level:(error OR warning)',
    ),
    Drill(
        "SimulatorBrokerDisconnected",
        _stopped("activemq"),
        "the broker (ActiveMQ) stopped",
        'service.name:"position-simulator" AND log.level:(error OR warning)',
    ),
)


def drill_named(name: str) -> Drill:
    for drill in DRILLS:
        if drill.alert == name:
            return drill
    known = ", ".join(d.alert for d in DRILLS)
    raise api.StackError(f"no drill for alert {name!r} (drills: {known})")
