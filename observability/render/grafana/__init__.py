"""Grafana: correlated dashboards (overview and one per service) and data-source provisioning.

- ``queries``: PromQL built from catalog metrics (rates, quantiles, ratios), apart from layout;
- ``style``: the house style on grafanalib (exemplars on targets, data links, modern JSON);
- ``correlation``: links from a panel to the logs (Kibana, Explore) of its time range;
- ``overview`` and ``service``: what each dashboard shows; ``layout``: where, on the grid;
- ``files``: dashboard JSON, ConfigMaps, and the panel queries the checks read;
- ``provisioning``: the data sources and the dashboard provider, locally and on Kubernetes.
"""
