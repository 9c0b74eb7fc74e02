"""The Alertmanager configuration: route by severity, group per alert and service, inhibit.

- ``critical`` → ``pager``, ``warning`` → ``tickets``, ``info`` → ``null`` (shown, never sent);
- grouped by alert name, service (``job``) and SLO, so a page and a ticket of one SLO share a
  notification group;
- a page of an SLO mutes its ticket; a service that is down mutes its other alerts.

The receivers have no integration here: locally alerts are read in Alertmanager's UI and API.
A deployment adds ``pagerduty_configs``/``slack_configs``/``webhook_configs`` to the three
receivers (the Kubernetes values file does), keeping their names.
"""

from __future__ import annotations

from observability.catalog.common import service_down_alert
from observability.catalog.correlation import SERVICE_LABEL
from observability.catalog.service import Platform
from observability.render.provenance import header
from observability.render.yamltext import Commented, dump

PATH = "alerts/alertmanager.yml"
RECEIVERS = {
    "critical": "pager",
    "warning": "tickets",
    "info": "null",
}
DEFAULT_RECEIVER = "null"
GROUP_BY = ["alertname", SERVICE_LABEL, "sloth_slo"]
_RECEIVER_NOTES = {
    "pager": "Pages a person now (critical). No integration locally; add pagerduty_configs.",
    "tickets": "Opens a ticket (warning). No integration locally; add webhook_configs or email.",
    "null": "Shown in Alertmanager, sent nowhere (info, and anything unrouted).",
}


def down_alert_names(platform: Platform) -> list[str]:
    """The service-down alert of each service that declares one."""
    names = []
    for service in platform.services:
        if service.metrics_port is None:
            continue
        name = service_down_alert(service.name, service.metrics_port).name
        if any(a.name == name for a in service.alerts):
            names.append(name)
    return sorted(names)


def alertmanager_config(platform: Platform) -> dict[str, object]:
    down = "|".join(down_alert_names(platform))
    inhibit: list[object] = [
        Commented(
            "A page of an SLO mutes its ticket: same SLO, already paged.",
            {
                "source_matchers": ['sloth_severity="page"'],
                "target_matchers": ['sloth_severity="ticket"'],
                "equal": ["sloth_id"],
            },
        )
    ]
    if down:
        inhibit.append(
            Commented(
                "A service that is down mutes its other alerts (they are consequences).",
                {
                    "source_matchers": [f'alertname=~"{down}"'],
                    "target_matchers": [f'alertname!~"{down}"'],
                    "equal": [SERVICE_LABEL],
                },
            )
        )
    return {
        "global": {"resolve_timeout": "5m"},
        "route": {
            "receiver": DEFAULT_RECEIVER,
            "group_by": GROUP_BY,
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": [
                {"receiver": receiver, "matchers": [f'severity="{severity}"']}
                for severity, receiver in RECEIVERS.items()
            ],
        },
        "inhibit_rules": inhibit,
        "receivers": [
            Commented(_RECEIVER_NOTES[name], {"name": name})
            for name in dict.fromkeys(RECEIVERS.values())
        ],
    }


def render_alertmanager(platform: Platform) -> str:
    modules = {s.source.module for s in platform.services if s.alerts or s.slos}
    return dump(alertmanager_config(platform), header=header(modules))
