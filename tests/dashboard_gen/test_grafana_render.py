"""Grafana rendering, full expected output on small cases: the PromQL builders, the correlation
URLs, the grid, one whole panel and dashboard, the fixture shop's dashboards, provisioning."""

from __future__ import annotations

import json

import pytest
import yaml

from observability.artifacts import render_all
from observability.catalog.common import PROCESS_CPU
from observability.catalog.slo import eq
from observability.render.grafana import correlation, queries
from observability.render.grafana.dashboard import dashboard_text
from observability.render.grafana.files import dashboard_files, dashboard_specs
from observability.render.grafana.layout import Grid
from observability.render.grafana.model import TIMESERIES, DashboardSpec, PanelSpec, Section
from observability.render.grafana.provisioning import datasources, provisioning_files
from observability.render.grafana.queries import Scope
from observability.render.provenance import Origin
from tests.dashboard_gen import shop

ONE = Scope()
MANY = Scope(many=True)
SEL = '{job="${service}",env=~"${env}"}'


def test_counter_rate_is_a_sum_of_rates_over_the_rate_interval():
    q = queries.counter_rate(shop.RECEIVED, ONE, ("channel",))
    assert q.expr == (f"sum by (channel) (rate(shop_orders_received_total{SEL}[$__rate_interval]))")
    assert (q.legend, q.unit, q.exemplar) == ("{{channel}}", "cps", False)
    assert queries.counter_rate(PROCESS_CPU, ONE).unit == "percentunit"
    assert queries.counter_rate(shop.REQUESTS, ONE).expr == (
        f"sum(rate(http_server_request_duration_seconds_count{SEL}[$__rate_interval]))"
    )
    assert queries.counter_rate(shop.REQUESTS, ONE).unit == "reqps"


def test_scope_many_and_literal():
    assert MANY.labels() == '{job=~"${service}",env=~"${env}"}'
    assert Scope(service="shop").labels((eq("a", "b"),)) == '{job="shop",env=~"${env}",a="b"}'


def test_quantiles_keep_le_and_carry_exemplars_of_the_metric():
    p50, p99 = queries.quantiles(shop.REQUESTS, ONE, levels=(0.5, 0.99))
    assert p99.expr == (
        "histogram_quantile(0.99, sum by (le) "
        f"(rate(http_server_request_duration_seconds_bucket{SEL}[$__rate_interval])))"
    )
    assert (p50.legend, p99.legend, p99.unit, p99.exemplar) == ("p50", "p99", "s", True)
    (by_job,) = queries.quantiles(shop.REQUESTS, MANY, ("job",), (0.99,))
    assert "sum by (le, job)" in by_job.expr
    assert by_job.legend == "{{job}} p99"


def test_error_ratio_is_zero_not_empty_without_errors():
    q = queries.error_ratio(shop.REQUESTS, (eq("status_class", "5xx"),), ONE)
    total = f"sum(rate(http_server_request_duration_seconds_count{SEL}[$__rate_interval]))"
    failed = (
        "sum(rate(http_server_request_duration_seconds_count"
        '{job="${service}",env=~"${env}",status_class="5xx"}[$__rate_interval]))'
    )
    assert q.expr == f"(\n  {failed}\n  or\n  {total} * 0\n)\n/\n{total}"
    assert q.unit == "percentunit"


def test_heatmap_gauge_age_and_up():
    h = queries.heatmap(shop.REQUESTS, ONE)
    assert (h.format, h.legend, h.exemplar, h.unit) == ("heatmap", "{{le}}", True, "s")
    assert h.expr.startswith("sum by (le) (rate(http_server_request_duration_seconds_bucket")
    assert queries.age(shop.LAST_ORDER, ONE).expr == (
        f"time() - max(shop_last_order_timestamp_seconds{SEL})"
    )
    assert queries.signal(shop.LAST_ORDER, ONE)[0].unit == "s"
    assert queries.up(ONE).expr == f"sum(up{SEL})"


def test_firing_alerts_is_an_instant_table():
    q = queries.firing_alerts()
    assert q.expr == (
        'sum by (alertname, severity, job) (ALERTS{alertstate="firing",job=~"${service}"})'
    )
    assert (q.format, q.instant) == ("table", True)


def test_kibana_discover_url_has_the_panel_time_range_the_data_view_and_the_service():
    class C:
        kibana_url = "http://kibana:5601/"

    url = correlation.kibana_discover_url(C(), 'service.name:"${service}"')  # type: ignore[arg-type]
    assert url == (
        "http://kibana:5601/app/discover#/"
        "?_g=(time:(from:'${__from:date:iso}',to:'${__to:date:iso}'))"
        "&_a=(dataSource:(dataViewId:'fleet-logs',type:dataView),"
        "query:(language:kuery,query:'service.name:%22${service}%22'))"
    )


def test_rison_escapes_quotes():
    assert correlation._rison_string("it's!") == "'it!'s!!'"


def test_explore_url_decodes_to_a_logs_query_on_the_panel_range():
    from urllib.parse import parse_qs, urlsplit

    url = correlation.explore_logs_url('service.name:"shop"')
    assert url.startswith("/explore?schemaVersion=1&orgId=1&panes=")
    panes = json.loads(parse_qs(urlsplit(url).query)["panes"][0])
    assert panes == {
        "correlate": {
            "datasource": "${logs}",
            "queries": [
                {
                    "bucketAggs": [],
                    "datasource": {"type": "elasticsearch", "uid": "${logs}"},
                    "metrics": [{"id": "1", "type": "logs"}],
                    "query": 'service.name:"shop"',
                    "refId": "A",
                    "timeField": "@timestamp",
                }
            ],
            "range": {"from": "${__from}", "to": "${__to}"},
        }
    }


def test_grid_wraps_and_rows_start_a_new_line():
    grid = Grid()
    assert grid.row().to_json_data() == {"h": 1, "w": 24, "x": 0, "y": 0}
    placed = [grid.place(w, 8).to_json_data() for w in (8, 8, 10)]
    assert placed == [
        {"h": 8, "w": 8, "x": 0, "y": 1},
        {"h": 8, "w": 8, "x": 8, "y": 1},
        {"h": 8, "w": 10, "x": 0, "y": 9},
    ]
    assert grid.row().to_json_data() == {"h": 1, "w": 24, "x": 0, "y": 17}
    with pytest.raises(ValueError, match="1 to 24 columns"):
        grid.place(25, 8)


ORIGIN = Origin("tests.dashboard_gen.shop", "ServiceCatalog", "shop")


def _tiny() -> DashboardSpec:
    panel = PanelSpec(
        "Orders",
        TIMESERIES,
        "Orders received.",
        ORIGIN,
        (queries.counter_rate(shop.RECEIVED, ONE),),
        width=24,
    )
    return DashboardSpec(
        key="shop",
        title="Fleet / shop",
        description="A shop.",
        services=("shop",),
        sections=(Section("Orders", (panel,)),),
        modules=frozenset({"tests.dashboard_gen.shop"}),
    )


EXPECTED_PANEL = {
    "datasource": {"type": "prometheus", "uid": "${prometheus}"},
    "description": "Orders received.\n\ngenerated-from: tests.dashboard_gen.shop ServiceCatalog shop",
    "fieldConfig": {
        "defaults": {
            "color": {"mode": "palette-classic"},
            "custom": {
                "axisLabel": "",
                "axisPlacement": "auto",
                "barAlignment": 0,
                "drawStyle": "line",
                "fillOpacity": 10,
                "gradientMode": "none",
                "hideFrom": {"legend": False, "tooltip": False, "viz": False},
                "lineInterpolation": "linear",
                "lineWidth": 1,
                "pointSize": 5,
                "scaleDistribution": {"log": 2, "type": "linear"},
                "showPoints": "never",
                "spanNulls": False,
                "stacking": {},
                "thresholdsStyle": {"mode": "off"},
            },
            "links": [],
            "mappings": [],
            "thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": None}]},
            "unit": "cps",
        },
        "overrides": [],
    },
    "gridPos": {"h": 8, "w": 24, "x": 0, "y": 1},
    "hideTimeOverride": False,
    "id": 2,
    "links": [],
    "maxDataPoints": 100,
    "options": {
        "legend": {"calcs": [], "displayMode": "list", "placement": "bottom"},
        "tooltip": {"mode": "multi", "sort": "none"},
    },
    "targets": [
        {
            "datasource": {"type": "prometheus", "uid": "${prometheus}"},
            "editorMode": "code",
            "exemplar": False,
            "expr": f"sum(rate(shop_orders_received_total{SEL}[$__rate_interval]))",
            "format": "time_series",
            "instant": False,
            "legendFormat": "rate",
            "range": True,
            "refId": "A",
        }
    ],
    "title": "Orders",
    "transformations": [],
    "transparent": False,
    "type": "timeseries",
}


def test_a_whole_small_dashboard(shop_config):
    data = json.loads(dashboard_text(_tiny(), shop_config))
    row, panel = data.pop("panels")
    assert row == {
        "collapsed": False,
        "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0},
        "id": 1,
        "panels": [],
        "title": "Orders",
        "type": "row",
    }
    assert panel == EXPECTED_PANEL
    variables = data["templating"].pop("list")
    assert [
        (v["name"], v["type"], v.get("query"), v["current"].get("value")) for v in variables
    ] == [
        ("prometheus", "datasource", "prometheus", "prometheus"),
        ("logs", "datasource", "elasticsearch", "fleet-logs"),
        ("traces", "datasource", "jaeger", "jaeger"),
        ("env", "query", "label_values(up, env)", "$__all"),
        ("service", "custom", "shop", "shop"),
    ]
    assert variables[-1]["hide"] == 2  # one service: the variable only names it
    assert data == {
        "annotations": {"list": []},
        "description": "A shop. Generated by dashboard-gen from tests.dashboard_gen.shop. "
        "Do not edit. Regenerate with: dashboard-gen generate",
        "editable": False,
        "graphTooltip": 1,
        "links": [],
        "refresh": "30s",
        "schemaVersion": 39,
        "tags": ["dashboard-gen", "fleetman"],
        "templating": {},
        "time": {"from": "now-1h", "to": "now"},
        "timepicker": {
            "hidden": False,
            "refresh_intervals": ["5s", "10s", "30s", "1m", "5m", "15m", "30m", "1h", "2h", "1d"],
        },
        "timezone": "utc",
        "title": "Fleet / shop",
        "uid": "fleet-shop",
        "version": 1,
    }


def test_correlated_panels_carry_the_three_links_as_panel_and_data_links(shop_config):
    spec = _tiny()
    panel = spec.sections[0].panels[0]
    linked = DashboardSpec(
        **{
            **spec.__dict__,
            "sections": (Section("x", (PanelSpec(**{**panel.__dict__, "correlate": True}),)),),
        }
    )
    data = json.loads(dashboard_text(linked, shop_config))["panels"][1]
    assert [link["title"] for link in data["links"]] == list(correlation.LINK_TITLES)
    assert [link["title"] for link in data["fieldConfig"]["defaults"]["links"]] == list(
        correlation.LINK_TITLES
    )
    assert all(link["targetBlank"] for link in data["links"])


def test_the_shop_gets_an_overview_and_its_own_dashboard(shop_platform, shop_config):
    layout = {
        spec.key: [(s.title, [(p.title, p.kind, p.width) for p in s.panels]) for s in spec.sections]
        for spec in dashboard_specs(shop_platform)
    }
    assert layout == {
        "overview": [
            (
                "Service level objectives",
                [
                    ("shop orders (objective 99.9%)", "stat", 6),
                    ("shop latency (objective 99%)", "stat", 6),
                    ("shop freshness (objective 99%)", "stat", 6),
                ],
            ),
            ("Alerts", [("Firing alerts", "table", 24)]),
            (
                "Services (RED)",
                [
                    ("Request rate", "timeseries", 8),
                    ("Error ratio (5xx)", "timeseries", 8),
                    ("Latency p99", "timeseries", 8),
                ],
            ),
        ],
        "shop": [
            (
                "Requests",
                [
                    ("Up", "stat", 3),
                    ("Request rate", "timeseries", 7),
                    ("Error ratio (5xx)", "timeseries", 7),
                    ("Latency percentiles", "timeseries", 7),
                ],
            ),
            ("Latency and resources", [("Latency heatmap", "heatmap", 12)]),
            (
                "shop signals",
                [
                    ("Shop orders received", "timeseries", 8),
                    ("Shop orders placed", "timeseries", 8),
                    ("Shop orders rejected", "timeseries", 8),
                    ("Shop last order age", "timeseries", 8),
                ],
            ),
            ("Logs", [("Logs", "logs", 24)]),
        ],
    }
    files = dashboard_files(shop_platform, shop_config)
    assert sorted(files) == [
        "dashboards/grafana/fleet-overview.json",
        "dashboards/grafana/fleet-shop.json",
    ]
    logs = json.loads(files["dashboards/grafana/fleet-shop.json"])["panels"][-1]
    assert logs["type"] == "logs"
    assert logs["targets"][0]["query"] == 'service.name:"${service}"'
    assert logs["datasource"] == {"type": "elasticsearch", "uid": "${logs}"}


def test_slo_panels_read_sloths_records(shop_platform):
    overview = dashboard_specs(shop_platform)[0]
    slo = overview.sections[0].panels[0]
    ids = '{sloth_id="shop-orders", sloth_service="shop", sloth_slo="orders"}'
    assert [q.expr for q in slo.queries] == [
        f"1 - slo:sli_error:ratio_rate30d{ids}",
        f"slo:period_error_budget_remaining:ratio{ids}",
    ]


def test_output_is_deterministic_sorted_and_has_no_noise(repo_platform, repo_config):
    first = dashboard_files(repo_platform, repo_config)
    assert first == dashboard_files(repo_platform, repo_config)
    for text in first.values():
        data = json.loads(text)
        assert text == json.dumps(data, sort_keys=True, indent=2) + "\n"
        assert "id" not in data and "null" not in text.replace('"value": null', "")
        assert data["version"] == 1


def test_provisioning_wires_exemplars_logs_and_traces_with_one_uid_each():
    prometheus, logs, jaeger = datasources("http://p", "http://e", "http://j", "15s")
    assert prometheus["jsonData"]["exemplarTraceIdDestinations"] == [
        {"name": "trace_id", "datasourceUid": "jaeger"}
    ]
    assert prometheus["jsonData"]["timeInterval"] == "15s"
    assert logs["uid"] == "fleet-logs"
    assert {
        k: logs["jsonData"][k] for k in ("index", "timeField", "logMessageField", "logLevelField")
    } == {
        "index": "fleet-logs*",
        "timeField": "@timestamp",
        "logMessageField": "message",
        "logLevelField": "log.level",
    }
    assert logs["jsonData"]["dataLinks"] == [
        {"datasourceUid": "jaeger", "field": "trace.id", "url": "${__value.raw}"}
    ]
    assert jaeger["jsonData"]["tracesToLogsV2"]["datasourceUid"] == "fleet-logs"
    assert jaeger["jsonData"]["tracesToLogsV2"]["query"] == 'trace.id:"${__trace.traceId}"'


def test_local_provisioning_files(repo_config):
    files = provisioning_files(repo_config)
    sources = yaml.safe_load(files["dashboards/provisioning/datasources.yaml"])
    assert [(s["uid"], s["url"]) for s in sources["datasources"]] == [
        ("prometheus", "http://127.0.0.1:9090"),
        ("fleet-logs", "http://127.0.0.1:9200"),
        ("jaeger", "http://127.0.0.1:16686"),
    ]
    provider = yaml.safe_load(files["dashboards/provisioning/dashboards.yaml"])
    assert provider["providers"][0]["options"]["path"] == "dashboards/grafana"


def test_kubernetes_gets_dashboard_and_datasource_configmaps_in_the_kustomization(
    repo_files, repo_config
):
    """Data sources are shared; dashboards are each cluster's (their links are)."""
    cluster = "k8s/overlays/dev/monitoring/generated"
    kustomizations = {
        folder: yaml.safe_load(repo_files[f"{folder}/kustomization.yaml"])
        for folder in ("k8s/monitoring", cluster)
    }
    maps = {
        p: yaml.safe_load(t)
        for p, t in repo_files.items()
        if "/grafana-" in p and not p.startswith("k8s/overlays/aws/")
    }
    assert set(maps) == {
        "k8s/monitoring/grafana-datasources.yaml",
        *(
            f"{cluster}/grafana-dashboard-{k}.yaml"
            for k in (
                "overview",
                "position-tracker",
                "api-gateway",
                "position-simulator",
                "fluent-bit",  # the one component that runs in the clusters
            )
        ),
    }
    for path, body in maps.items():
        folder, _, name = path.rpartition("/")
        assert name in kustomizations[folder]["resources"]
        assert body["kind"] == "ConfigMap"
        assert len(repo_files[path].encode()) < 256 * 1024  # kubectl apply's annotation limit
    overview = maps[f"{cluster}/grafana-dashboard-overview.yaml"]
    assert overview["metadata"]["labels"]["grafana_dashboard"] == "1"
    # the local dashboard, with the cluster's Kibana in its links
    dev = next(c for c in repo_config.clusters if c.name == "dev")
    local = repo_files["dashboards/grafana/fleet-overview.json"]
    assert overview["data"]["fleet-overview.json"] == local.replace(
        repo_config.kibana_url, dev.kibana_url
    )
    sources = maps["k8s/monitoring/grafana-datasources.yaml"]
    assert sources["metadata"]["labels"]["grafana_datasource"] == "1"
    urls = [
        s["url"]
        for s in yaml.safe_load(sources["data"]["fleetman-datasources.yaml"])["datasources"]
    ]
    assert urls == [
        "http://kube-prometheus-stack-prometheus.monitoring:9090",
        "http://elasticsearch-logging.logging:9200",
        "http://jaeger.default:16686",
    ]


def test_render_all_includes_the_dashboards(shop_platform, shop_config):
    files = render_all(shop_platform, shop_config)
    assert "dashboards/grafana/fleet-shop.json" in files
    assert "dashboards/provisioning/datasources.yaml" in files
