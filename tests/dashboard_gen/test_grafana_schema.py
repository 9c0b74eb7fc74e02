"""Every dashboard validates against Grafana's dashboard schema, as published in the npm
package @grafana/schema (installed into the git-ignored cache when missing)."""

from __future__ import annotations

import json

import pytest

from observability.checks import grafana_schema
from observability.checks.grafana_schema import schema_errors, validator


@pytest.fixture(scope="session")
def check(repo_config):
    return validator(repo_config.root)  # installs @grafana/schema with npm on first use


def test_the_schema_is_grafanas_pinned_one(repo_config, check):
    path = grafana_schema.ensure_schema(repo_config.root)
    assert path.parent.name == "13.2.3-2.4.0"
    assert check.schema["$ref"] == "#/definitions/Dashboard"
    assert check.schema["definitions"]["Panel"]["additionalProperties"] is False


def test_every_dashboard_validates(repo_files, check):
    dashboards = {p: t for p, t in repo_files.items() if p.startswith("dashboards/grafana/")}
    assert len(dashboards) == 7  # the overview, 3 services, 3 components
    for path, text in dashboards.items():
        assert (path, schema_errors(check, json.loads(text))) == (path, [])


def test_the_shop_dashboards_validate(shop_platform, shop_config, check):
    from observability.render.grafana.files import dashboard_files

    for text in dashboard_files(shop_platform, shop_config).values():
        assert schema_errors(check, json.loads(text)) == []


def test_legacy_and_mistyped_keys_are_refused(repo_files, check):
    board = json.loads(repo_files["dashboards/grafana/fleet-overview.json"])
    board["panels"][1]["span"] = 4
    board["panels"][1]["fieldConfig"]["defaults"]["thresholds"]["steps"] = [{"color": "red"}]
    board["rows"] = []
    assert schema_errors(check, board) == [
        ("(root)", "Additional properties are not allowed ('rows' was unexpected)"),
        ("panels/1", "Additional properties are not allowed ('span' was unexpected)"),
        ("panels/1/fieldConfig/defaults/thresholds/steps/0", "'value' is a required property"),
    ]


def test_the_lint_check_validates_too(repo_platform, repo_config, check):
    from observability.checks.base import build_context

    assert list(grafana_schema.run(build_context(repo_platform, repo_config))) == []
