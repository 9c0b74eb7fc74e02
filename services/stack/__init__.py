"""The local stack: every infrastructure component real, on loopback, under supervisord.

Layout (one job per module):

- `paths`: where state, logs, data, caches and generated configs live (`.stack/`).
- `system`: root/Debian/apt checks, system users, Java.
- `downloads`, `gotools`: cached downloads and `go install`-ed tools (`ensure_tool`).
- `ports`, `health`: who holds a port, and whether a component answers.
- `components/`: one module per component (install, supervisor program, ports, health).
- `supervisor`: supervisord.conf and the XML-RPC conversation with supervisord.
- `stack`: `up` / `down` / `status`.
- `api`: the small Python API used by tests and other tools; `cli`: `fleet-stack`.
"""
