"""What the services share about positions: the message formats, the geodesy, the served JSON.

The simulator writes position messages, the tracker parses them and serves positions, the
gateway passes them on: each imports this package, never another service (``lint-imports``).
"""
