# pint (cloudflare/pint v0.87.0) configuration for the generated rule files, run offline:
#   pint --offline --config alerts/.pint.hcl lint alerts/rules/*.yml
# The checks that need a live Prometheus are skipped offline; every other check runs, except:

checks {
  disabled = [
    # Sloth's layout, kept so Sloth's Grafana dashboards work: every SLO records the same series
    # names (slo:sli_error:ratio_rate5m, slo:period_burn_rate:ratio, ...) told apart by their
    # sloth_id label, in per-SLO groups. pint resolves a dependency by metric name only, so each
    # SLO's rules look as if they used the groups of every other SLO. That rules within an SLO
    # use recordings of its own other groups is Sloth's design (one evaluation of lag at most);
    # dashboard-gen's promql/metric-closure check proves each selector resolves.
    "rule/dependency",
  ]
}
