"""The fire drills: per real fault, the alerts it must raise on the local stack, and which of
the log records the alert's logs link shows are the fault's.

Every symptom alert and every SLO's page alert that the local stack can raise is in a drill;
``NOT_DRILLED`` says why each remaining one is not.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.stack import api
from services.stack.drills.faults import Fault, poison, stalled, stopped

#: The records an engineer looks at first: the warnings and errors.
PROBLEMS = "log.level:(error OR warning)"
#: What uvicorn logs when a service stops.
SHUTDOWN = 'message:"Shutting down"'


@dataclass(frozen=True)
class Alarm:
    """An alert a drill must raise, and how its evidence is found."""

    alert: str
    #: The instance to wait for: ``critical`` for an SLO's page (its ticket is ``warning``).
    severity: str = ""
    #: The fault's records among those the logs link shows (Lucene), when not the drill's.
    records: str = ""
    #: Why no trace can lead from these records (none is required then); '' means one must.
    untraced: str = ""


@dataclass(frozen=True)
class Drill:
    name: str
    what: str
    fault: Fault
    alarms: tuple[Alarm, ...]
    #: The fault's records among those the logs link shows (Lucene). When the alert's dashboard
    #: has no logs link (the components'), this alone is the query, so it names the service.
    records: str = PROBLEMS

    @property
    def alerts(self) -> tuple[str, ...]:
        return tuple(a.alert for a in self.alarms)


def _stopped_alarms(service: str, *alerts: str) -> tuple[Alarm, ...]:
    """Alerts of a stopped service: its records are its shutdown, no request can be traced."""
    why = f"no request reaches a stopped {service}"
    return tuple(Alarm(alert, records=SHUTDOWN, untraced=why) for alert in alerts)


DRILLS: tuple[Drill, ...] = (
    Drill(
        "tracker-stopped",
        "the position tracker stopped: the API answers 5xx, nothing is stored",
        stopped("position-tracker"),
        (
            Alarm("ApiAvailabilityBudgetBurn", "critical"),
            Alarm("GatewayUpstreamErrors"),
            *_stopped_alarms(
                "tracker",
                "PositionTrackerDown",
                "PositionQueueUnconsumed",
                "PositionIngestBudgetBurnSLIAbsent",
                "PositionDataStaleSLIAbsent",
            ),
        ),
    ),
    Drill(
        "database-stopped",
        "the database (FerretDB) stopped: the tracker cannot store and stops consuming",
        stopped("ferretdb"),
        (
            Alarm("DatabaseDown"),
            Alarm("PositionsNotStored"),
            Alarm("PositionQueueBacklogGrowing"),
            Alarm("PositionDataStale", "critical"),
        ),
        # the tracker's own warnings (snapshot reads) carry no trace; the API's errors do
        records=PROBLEMS,
    ),
    Drill(
        "broker-stopped",
        "the broker (ActiveMQ) stopped: nothing is published",
        stopped("activemq"),
        (Alarm("SimulatorBrokerDisconnected"),),
    ),
    Drill(
        "simulator-stopped",
        "the position simulator stopped: no position arrives",
        stopped("position-simulator"),
        _stopped_alarms("simulator", "PositionSimulatorDown"),
    ),
    Drill(
        "gateway-stopped",
        "the API gateway stopped: the map gets 502 from nginx",
        stopped("api-gateway"),
        _stopped_alarms(
            "gateway",
            "ApiGatewayDown",
            "ApiAvailabilityBudgetBurnSLIAbsent",
            "ApiLatencyBudgetBurnSLIAbsent",
        ),
    ),
    Drill(
        "tracker-stalled",
        "the position tracker frozen 1 s in every 1.5 s: the API answers, late",
        stalled("position-tracker"),
        (Alarm("ApiLatencyBudgetBurn", "critical", records='url.path:"/api/vehicles"'),),
    ),
    Drill(
        "poison-messages",
        "3 messages a second that are not positions, beside the simulator's",
        poison(3.0),
        (Alarm("PositionsDeadLetterRateHigh"),),
        records='event.action:"position-dead-lettered"',
    ),
    Drill(
        "collector-stopped",
        "the OpenTelemetry collector stopped: no span, no log line is shipped",
        stopped("otelcol"),
        (
            Alarm(
                "OtelCollectorDown",
                untraced="the spans of that moment are the ones the services could not export",
            ),
        ),
        # what the services say while they cannot export their spans
        records="log.logger:opentelemetry.exporter* AND " + PROBLEMS,
    ),
    Drill(
        "log-store-stopped",
        "Elasticsearch stopped: log lines wait in the collector's queue",
        stopped("elasticsearch"),
        (Alarm("ElasticsearchDown"), Alarm("LogsNotShipping")),
        # every line written during the outage, shipped once it is back: none lost
        records="service.name:*",
    ),
)

#: The alerts no drill raises locally, and why.
NOT_DRILLED: dict[str, str] = {
    "PositionIngestBudgetBurn": (
        "the tracker stops consuming when it cannot store (DatabaseDown, PositionsNotStored), so "
        "no local fault makes it receive positions it then fails to store"
    ),
    "BrokerStoreFillingUp": "filling 80 % of the broker's store takes gigabytes of messages",
    "LogBufferFillingUp": "half of 100 queued batches takes a long log-store outage",
    "LogsDropped": "the collector drops lines only after its retries run out (losing logs)",
    "FluentBitNotShipping": "Fluent Bit runs in the clusters only",
    "FluentBitBufferFillingUp": "Fluent Bit runs in the clusters only",
    "FluentBitDroppingLogs": "Fluent Bit runs in the clusters only",
}


def drills_named(names: list[str]) -> list[Drill]:
    """The drills named (by drill or by one of their alerts), in catalog order; all if none."""
    if not names:
        return list(DRILLS)
    unknown = [n for n in names if not any(n == d.name or n in d.alerts for d in DRILLS)]
    if unknown:
        known = ", ".join(d.name for d in DRILLS)
        raise api.StackError(f"no drill named {', '.join(unknown)} (drills: {known})")
    return [d for d in DRILLS if d.name in names or set(d.alerts) & set(names)]
