"""The Kibana saved searches, declared from the catalogs: each one a KQL query, its columns and
its sort, the services whose records it reads (for the closure check) and where it comes from.

- errors of every service: ``log.level:(error or critical)`` for the services that log a
  level; for one whose records have no level but a status (nginx's access log), the requests
  that failed (status >= 400);
- everything of one trace id (``trace.id:"PASTE-TRACE-ID"``: open it, put the id in the query);
- dead-lettered positions (the tracker's ``position-dead-lettered`` records);
- slow requests: nginx access lines that took ``SLOW_REQUEST_SECONDS`` or more.
"""

from __future__ import annotations

from dataclasses import dataclass

from observability.catalog.correlation import SERVICE_FIELD, SPAN_ID_FIELD, TRACE_ID_FIELD
from observability.catalog.logs import TIME_FIELD
from observability.catalog.service import Platform, ServiceCatalog
from observability.catalog.source import caller_source
from observability.render.provenance import Origin, of_service

LEVEL_FIELD = "log.level"
STATUS_FIELD = "http.response.status_code"
REQUEST_TIME_FIELD = "nginx.request_time"
#: nginx's micro-cache status (HIT, MISS, BYPASS...) of an access line; absent where no cache is used.
CACHE_STATUS_FIELD = "nginx.cache.status"
DEAD_LETTER_ACTION = "position-dead-lettered"
#: The service that dead-letters positions (and logs it with DEAD_LETTER_ACTION).
DEAD_LETTER_SERVICE = "position-tracker"
#: What the trace search holds in place of an id: the user replaces it (Kibana has no
#: parameters in saved searches); links use ``discover_url`` with the id instead.
TRACE_ID_PLACEHOLDER = "PASTE-TRACE-ID"
#: nginx's ``$request_time`` from which a request counts as slow, in seconds.
SLOW_REQUEST_SECONDS = 1
_ACCESS_COLUMNS = (
    "http.request.method",
    "url.original",
    STATUS_FIELD,
    REQUEST_TIME_FIELD,
    CACHE_STATUS_FIELD,
    TRACE_ID_FIELD,
)


@dataclass(frozen=True)
class SavedSearch:
    id: str
    title: str
    query: str
    columns: tuple[str, ...]
    sort: tuple[tuple[str, str], ...]
    #: The services whose records it is about (empty: any service's).
    services: tuple[str, ...]
    origin: Origin
    description: str

    @property
    def user(self) -> str:
        return f"Kibana search {self.id}"


def _module_origin(name: str) -> Origin:
    return Origin(__name__, "SavedSearch", name, caller_source(skip=(__name__,)))


def _errors(service: ServiceCatalog) -> SavedSearch | None:
    names = service.logs.names
    where = f'{SERVICE_FIELD}:"{service.name}"'
    if LEVEL_FIELD in names:
        query = f"{LEVEL_FIELD}:(error or critical) and {where}"
        columns = tuple(
            c
            for c in (LEVEL_FIELD, "log.logger", "message", "error.type", TRACE_ID_FIELD)
            if c in names
        )
        what = "records logged at error or critical"
    elif STATUS_FIELD in names:
        query = f"{where} and {STATUS_FIELD} >= 400"
        columns = tuple(c for c in _ACCESS_COLUMNS if c in names)
        what = "requests that failed (status 400 and above)"
    else:
        return None
    return SavedSearch(
        id=f"fleet-errors-{service.name}",
        title=f"{service.name}: errors",
        query=query,
        columns=columns,
        sort=((TIME_FIELD, "desc"),),
        services=(service.name,),
        origin=of_service(service),
        description=f"The {what} of {service.name}.",
    )


def saved_searches(platform: Platform) -> list[SavedSearch]:
    found = [s for s in (_errors(service) for service in platform.services) if s]
    found.append(
        SavedSearch(
            id="fleet-trace",
            title="One trace: every record of a trace id",
            query=f'{TRACE_ID_FIELD}:"{TRACE_ID_PLACEHOLDER}"',
            columns=(SERVICE_FIELD, "message", SPAN_ID_FIELD),
            sort=((TIME_FIELD, "asc"),),
            services=(),
            origin=_module_origin("fleet-trace"),
            description=(
                f"Every service's records of one trace, oldest first. Replace "
                f"{TRACE_ID_PLACEHOLDER} in the query with the trace id (32 hex digits) of an "
                "exemplar, a span or another record."
            ),
        )
    )
    for service in platform.services:
        if service.name != DEAD_LETTER_SERVICE:
            continue
        found.append(
            SavedSearch(
                id="fleet-dead-lettered",
                title="Dead-lettered positions",
                query=f'event.action:"{DEAD_LETTER_ACTION}"',
                columns=(
                    "vehicle.name",
                    "event.reason",
                    "fleet.message.format",
                    "messaging.message.id",
                    TRACE_ID_FIELD,
                ),
                sort=((TIME_FIELD, "desc"),),
                services=(service.name,),
                origin=of_service(service),
                description="Position messages the tracker refused and sent to the dead-letter "
                "queue, with the reason.",
            )
        )
    for service in platform.services:
        if {REQUEST_TIME_FIELD, STATUS_FIELD} <= service.logs.names:
            found.append(
                SavedSearch(
                    id=f"fleet-slow-requests-{service.name}",
                    title=f"{service.name}: slow requests",
                    query=(
                        f'{SERVICE_FIELD}:"{service.name}" and '
                        f"{REQUEST_TIME_FIELD} >= {SLOW_REQUEST_SECONDS}"
                    ),
                    columns=tuple(c for c in _ACCESS_COLUMNS if c in service.logs.names),
                    sort=((REQUEST_TIME_FIELD, "desc"), (TIME_FIELD, "desc")),
                    services=(service.name,),
                    origin=of_service(service),
                    description=f"Requests nginx took {SLOW_REQUEST_SECONDS} s or more to "
                    "answer, slowest first.",
                )
            )
    return found
